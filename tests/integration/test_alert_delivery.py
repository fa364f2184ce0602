"""Alerts reach their channels durably, signed, once, and never on a caller's time.

Real counterparts: a webhook receiver (``http.server`` in a thread), the
local SMTP inbox, the configured database (SQLite or PostgreSQL). The worker
runs one pass at a time (``deliver_due``) on a clock the test moves.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from chatgrid.admin import alerts as admin_alerts
from chatgrid.alerts import AlertEvent, ChannelKind, verify_signature
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest
from chatgrid.gateway.alert_delivery import AlertDelivery
from chatgrid.identity.models import BillingMode
from chatgrid.mail import mailer_from_settings
from chatgrid.providers.network import create_upstream_session
from chatgrid.settings import Settings
from chatgrid.store.tables import alert_channels, alert_deliveries, audit_log
from tests.support.canary import assert_found_nowhere
from tests.support.mail import mail_settings, running_inbox
from tests.support.webhooks import Receiver, running_receiver

START = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def event(org_id: str | None, key: str = "credential.broken:cred_1") -> AlertEvent:
    return AlertEvent(
        kind="credential.broken",
        org_id=org_id,
        dedupe_key=key,
        subject="ChatGrid: the org's OpenAI key was rejected",
        text="The upstream rejected the key fp_0123 (HTTP 401).",
        payload={"fingerprint": "fp_0123"},
    )


def one_pass(ctx: AppContext, clock: Clock, *, timeout: float = 10.0) -> int:
    """One worker pass on its own event loop and HTTP pool."""

    async def run() -> int:
        session = create_upstream_session(ctx.settings)
        try:
            worker = AlertDelivery(
                ctx, session, mailer_from_settings(ctx.settings), clock=clock, timeout=timeout
            )
            return await worker.deliver_due()
        finally:
            await session.close()

    return asyncio.run(run())


@pytest.fixture
def org(context: AppContext) -> str:
    return context.orgs.create("alerts-org", BillingMode.BYOK).id


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def add_webhook(ctx: AppContext, org_id: str | None, url: str) -> admin_alerts.AddedChannel:
    return admin_alerts.add_channel(ctx, org_id, Actor.cli(), ChannelKind.WEBHOOK, url)


def test_a_webhook_gets_the_alert_signed_with_its_secret(
    context: AppContext, org: str, receiver: Receiver
) -> None:
    added = add_webhook(context, org, receiver.url)
    assert added.signing_secret and added.signing_secret.startswith("whsec_")
    clock = Clock()
    assert context.alerts.enqueue(event(org), clock()) == 1
    assert one_pass(context, clock) == 1

    [got] = receiver.received
    assert got.path == "/hooks/alerts-secret-path"
    header = got.headers["x-chatgrid-signature"]
    assert verify_signature(added.signing_secret, got.body, header, now=int(clock().timestamp()))
    assert not verify_signature("whsec_other", got.body, header, now=int(clock().timestamp()))
    document = json.loads(got.body)
    assert document["event"] == "credential.broken" and document["org_id"] == org
    [logged] = context.alerts.deliveries(org)
    assert (logged.status, logged.attempts, logged.last_status_code) == ("delivered", 1, 200)
    assert document["id"] == logged.id == got.headers["x-chatgrid-delivery"]
    assert logged.last_response is not None and len(logged.last_response) == 500


def test_a_500_is_retried_with_backoff_and_the_log_shows_both_answers(
    context: AppContext, org: str
) -> None:
    with running_receiver([500, 200]) as receiver:
        add_webhook(context, org, receiver.url)
        clock = Clock()
        context.alerts.enqueue(event(org), clock())
        assert one_pass(context, clock) == 1
        [pending] = context.alerts.deliveries(org)
        assert (pending.status, pending.attempts, pending.last_status_code) == ("pending", 1, 500)
        assert pending.next_attempt_at == START + timedelta(seconds=30)

        clock.now = START + timedelta(seconds=29)
        assert one_pass(context, clock) == 0  # not due yet
        clock.now = START + timedelta(seconds=30)
        assert one_pass(context, clock) == 1

    [done] = context.alerts.deliveries(org)
    assert (done.status, done.attempts, done.last_status_code) == ("delivered", 2, 200)
    assert [a["status_code"] for a in done.attempt_log] == [500, 200]
    assert len(receiver.received) == 2
    assert receiver.received[0].body == receiver.received[1].body


def test_a_receiver_that_is_down_is_retried_then_failed_and_can_be_resent(
    context: AppContext, org: str
) -> None:
    with running_receiver() as gone:
        url = gone.url
    add_webhook(context, org, url)  # nothing listens there any more
    clock = Clock()
    context.alerts.enqueue(event(org), clock())
    for attempt in range(1, 9):
        assert one_pass(context, clock) == 1
        [row] = context.alerts.deliveries(org)
        assert row.attempts == attempt and row.last_status_code is None
        assert row.last_response and row.last_response.startswith("unreachable")
        clock.now = row.next_attempt_at
    assert row.status == "failed"
    clock.now += timedelta(days=1)
    assert one_pass(context, clock) == 0

    resent = admin_alerts.resend(context, org, Actor.cli(), row.id)
    assert (resent.status, resent.attempts) == ("pending", 0)
    assert len(resent.attempt_log) == 8  # the log is kept


def test_enqueueing_never_waits_on_a_down_or_slow_receiver(context: AppContext, org: str) -> None:
    with running_receiver() as slow:
        slow.hold = threading.Event()
        add_webhook(context, org, slow.url)
        with running_receiver() as gone:
            down_url = gone.url
        add_webhook(context, org, down_url)
        clock = Clock()
        # Enqueueing writes rows and returns: no receiver has been called.
        assert context.alerts.enqueue(event(org), clock()) == 2
        assert slow.received == [] and not slow.arrived.is_set()
        # The worker's pass gives up on the slow one at its timeout and reschedules it.
        assert one_pass(context, clock, timeout=0.5) == 2
        assert slow.arrived.is_set()
        rows = context.alerts.deliveries(org)
        assert all(r.status == "pending" and r.attempts == 1 for r in rows)
        reasons = sorted(str(r.last_response).split(" ")[0] for r in rows)
        assert reasons == ["no", "unreachable"]  # "no answer within 0.5 s"


def test_the_same_dedupe_key_twice_is_one_delivery_per_channel(
    context: AppContext, org: str, receiver: Receiver
) -> None:
    add_webhook(context, org, receiver.url)
    admin_alerts.add_channel(context, org, Actor.cli(), ChannelKind.SLACK, receiver.url)
    clock = Clock()
    assert context.alerts.enqueue(event(org), clock()) == 2
    assert context.alerts.enqueue(event(org), clock()) == 0
    assert len(context.alerts.deliveries(org)) == 2
    assert context.alerts.enqueue(event(org, key="credential.broken:cred_2"), clock()) == 2


def test_two_workers_on_one_database_deliver_a_due_alert_exactly_once(
    tmp_path: Path, context: AppContext, org: str, receiver: Receiver
) -> None:
    for n in range(5):
        add_webhook(context, org, receiver.url + f"/{n}")
    clock = Clock()
    context.alerts.enqueue(event(org), clock())
    other = AppContext.open(context.settings)
    try:

        async def both() -> list[int]:
            sessions = [create_upstream_session(context.settings) for _ in range(2)]
            workers = [
                AlertDelivery(ctx, s, None, clock=clock)
                for ctx, s in zip([context, other], sessions, strict=True)
            ]
            try:
                return list(await asyncio.gather(*(w.deliver_due() for w in workers)))
            finally:
                for s in sessions:
                    await s.close()

        counts = asyncio.run(both())
    finally:
        other.close()
    assert sum(counts) == 5
    assert sorted(r.path for r in receiver.received) == sorted(
        f"/hooks/alerts-secret-path/{n}" for n in range(5)
    )
    assert all(d.status == "delivered" for d in context.alerts.deliveries(org))


def test_slack_gets_one_text_field(context: AppContext, org: str, receiver: Receiver) -> None:
    added = admin_alerts.add_channel(context, org, Actor.cli(), ChannelKind.SLACK, receiver.url)
    assert added.signing_secret is None
    clock = Clock()
    context.alerts.enqueue(event(org), clock())
    one_pass(context, clock)
    [got] = receiver.received
    assert json.loads(got.body) == {"text": f"*{event(org).subject}*\n{event(org).text}"}
    assert "x-chatgrid-signature" not in got.headers


def test_an_email_channel_mails_through_smtp(tmp_path: Path, context: AppContext, org: str) -> None:
    with running_inbox() as (inbox, port):
        settings = Settings(**{**context.settings.model_dump(), **mail_settings(port)})
        ctx = AppContext.open(settings)
        try:
            admin_alerts.add_channel(ctx, org, Actor.cli(), ChannelKind.EMAIL, "Ops@Example.com")
            clock = Clock()
            ctx.alerts.enqueue(event(org), clock())
            assert one_pass(ctx, clock) == 1
            [row] = ctx.alerts.deliveries(org)
        finally:
            ctx.close()
    message = inbox.last_to("ops@example.com")
    assert message["Subject"] == event(org).subject
    assert row.status == "delivered"


def test_operator_channels_and_org_channels_are_apart(
    context: AppContext, org: str, receiver: Receiver
) -> None:
    add_webhook(context, None, receiver.url)
    other = context.orgs.create("alerts-other", BillingMode.BYOK).id
    clock = Clock()
    assert context.alerts.enqueue(event(org), clock()) == 0  # the org has no channel
    assert context.alerts.enqueue(event(None), clock()) == 1
    assert context.alerts.deliveries(org) == [] and len(context.alerts.deliveries(None)) == 1
    [channel] = context.alerts.channels(None)
    with pytest.raises(Exception, match="no such alert channel"):
        admin_alerts.remove_channel(context, other, Actor.cli(), channel.id)


def test_a_private_url_is_refused_unless_allowed(context: AppContext, org: str) -> None:
    settings = Settings(**{**context.settings.model_dump(), "allow_private_upstreams": False})
    ctx = AppContext.open(settings)
    try:
        for url in ("http://127.0.0.1:9/x", "http://localhost/x", "http://10.0.0.1/x", "ftp://x"):
            with pytest.raises(InvalidRequest):
                admin_alerts.add_channel(ctx, org, Actor.cli(), ChannelKind.WEBHOOK, url)
    finally:
        ctx.close()


def test_the_url_and_signing_secret_are_found_nowhere(
    context: AppContext, org: str, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    slack_url = receiver.url + "/T000/B000/canarySlackPath0123"
    added = add_webhook(context, org, receiver.url + "/canaryWebhookPath4567")
    admin_alerts.add_channel(context, org, Actor.cli(), ChannelKind.SLACK, slack_url)
    clock = Clock()
    context.alerts.enqueue(event(org), clock())
    one_pass(context, clock)
    [row] = [d for d in context.alerts.deliveries(org) if d.channel_kind is ChannelKind.WEBHOOK]
    admin_alerts.resend(context, org, Actor.cli(), row.id)
    listed = json.dumps(
        [c.public() for c in context.alerts.channels(org)]
        + [d.public() for d in context.alerts.deliveries(org)]
    )
    for channel in context.alerts.channels(org):
        admin_alerts.remove_channel(context, org, Actor.cli(), channel.id)
    assert len(receiver.received) == 2

    with context.engine.connect() as conn:
        rows = [
            repr(list(conn.execute(select(table)).all()))
            for table in (alert_channels, alert_deliveries, audit_log)
        ]
    assert added.signing_secret
    assert_found_nowhere(
        {
            "database": "\n".join(rows).encode(),
            "logs": caplog.text.encode(),
            "lists": listed.encode(),
        },
        {
            "webhook path": b"canaryWebhookPath4567",
            "slack path": b"canarySlackPath0123",
            "signing secret": added.signing_secret.encode(),
            "secret's tail": added.signing_secret[-12:].encode(),
        },
        may_be_empty=frozenset({"logs"}),
    )


def test_a_master_rotation_rewraps_the_sealed_url_and_retires_the_old_master(
    context: AppContext, org: str, receiver: Receiver
) -> None:
    from chatgrid.admin.keys import rotate_master

    added = add_webhook(context, org, receiver.url)
    before = context.alerts.master_versions()
    stale = AppContext.open(context.settings)  # a server started before the rotation
    try:
        result = rotate_master(context)
        assert result["rewrapped"] >= 1 and result["retired_versions"] == 1
        assert context.alerts.master_versions() == {result["master_key_version"]} != before
        clock = Clock()
        context.alerts.enqueue(event(org), clock())
        # Its ring lacks the new master: it reloads the ring when the URL does not open.
        assert one_pass(stale, clock) == 1
    finally:
        stale.close()
    [got] = receiver.received
    assert added.signing_secret
    assert verify_signature(
        added.signing_secret,
        got.body,
        got.headers["x-chatgrid-signature"],
        now=int(clock().timestamp()),
    )
