"""A trial ending within 3 days alerts the org's channels once per trial end.

The worker's scan runs on a clock the test moves; the alert goes through the
real queue to a real webhook receiver (``tests/support/webhooks.py``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from chatgrid.admin import alerts as admin_alerts
from chatgrid.alerts import ChannelKind
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.gateway.alert_delivery import AlertDelivery
from chatgrid.identity.models import BillingMode
from chatgrid.mail import mailer_from_settings
from chatgrid.providers.network import create_upstream_session
from chatgrid.store.tables import orgs
from tests.support.webhooks import Receiver, running_receiver

START = datetime(2031, 3, 1, 9, 30, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def org_with_trial(ctx: AppContext, name: str, ends: datetime, plan: str | None = None) -> str:
    org_id = ctx.orgs.create(name, BillingMode.BYOK).id
    with ctx.engine.begin() as conn:
        conn.execute(
            update(orgs).where(orgs.c.id == org_id).values(trial_ends_at=ends, plan_id=plan)
        )
    return org_id


def scan_and_deliver(ctx: AppContext, worker_clock: Clock, moves: list[timedelta]) -> list[int]:
    """One worker: scan at each clock move (starting at the clock's time), then deliver."""

    async def run() -> list[int]:
        session = create_upstream_session(ctx.settings)
        try:
            worker = AlertDelivery(
                ctx, session, mailer_from_settings(ctx.settings), clock=worker_clock
            )
            queued = []
            for move in moves:
                worker_clock.now += move
                queued.append(await worker.scan_schedules())
            await worker.deliver_due()
            return queued
        finally:
            await session.close()

    return asyncio.run(run())


def test_a_trial_ending_in_3_days_alerts_once_and_again_after_an_extension(
    context: AppContext, receiver: Receiver
) -> None:
    soon = org_with_trial(context, "soon-co", START + timedelta(days=2, hours=5))
    later = org_with_trial(context, "later-co", START + timedelta(days=5))
    paying = org_with_trial(context, "paying-co", START + timedelta(days=1), plan="plan_standard")
    for org_id in (soon, later, paying):
        admin_alerts.add_channel(context, org_id, Actor.cli(), ChannelKind.WEBHOOK, receiver.url)
    clock = Clock()

    # The first scan queues it; one 5 minutes later does not scan; one 11 minutes later
    # scans but finds it queued already.
    queued = scan_and_deliver(
        context, clock, [timedelta(0), timedelta(minutes=5), timedelta(minutes=6)]
    )
    assert queued == [1, 0, 0]
    [received] = receiver.received
    body = json.loads(received.body)
    assert (body["event"], body["org_id"]) == ("trial.ending", soon)
    assert body["subject"] == "ChatGrid: the free trial of soon-co ends in 2 days and 5 hours"
    assert "read-only until it is on a plan" in body["text"]

    # Two days on, later-co is within 3 days; and soon-co's trial, extended, alerts anew.
    with context.engine.begin() as conn:
        conn.execute(
            update(orgs)
            .where(orgs.c.id == soon)
            .values(trial_ends_at=START + timedelta(days=4, hours=1))
        )
    queued = scan_and_deliver(context, clock, [timedelta(days=2)])
    assert queued == [2]
    events = sorted(json.loads(r.body)["org_id"] for r in receiver.received[1:])
    assert events == sorted([soon, later])
    assert all(json.loads(r.body)["org_id"] != paying for r in receiver.received)
