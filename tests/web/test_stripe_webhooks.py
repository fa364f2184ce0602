"""Stripe's webhooks at ``POST /webhooks/stripe``, signed exactly as Stripe signs them.

Stripe's scheme: ``Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>" with the endpoint's whsec_ secret>``. A failed payment starts
the grace period (and alerts), a payment ends it; once the grace period is
over the org is read-only on the gateway; replays, twins, a wrong signature,
an old timestamp and events out of order are each handled once or refused.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from chatgrid.admin import alerts, billing, keys, payments, people
from chatgrid.alerts import ChannelKind
from chatgrid.audit import Actor, AuditFilter
from chatgrid.billing.seats import Month
from chatgrid.context import AppContext
from chatgrid.errors import PaymentOverdue
from chatgrid.gateway.workspace import WorkspaceGateway
from chatgrid.identity.models import BillingMode, Role
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.store.tables import metadata
from chatgrid.web.app import create_web_app
from tests.support.canary import assert_found_nowhere
from tests.support.processes import RunningProcess
from tests.support.stripe_events import event, signed_as_stripe
from tests.support.workspace_gateway import chat, run

ADMIN = Actor(None, "operator@example.com")
SECRET_KEY = "sk_test_" + secrets.token_hex(16)
WEBHOOK_SECRET = "whsec_" + secrets.token_hex(16)


def signed(body: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> dict[str, str]:
    return signed_as_stripe(body, secret, at)


def stripe_invoice(org_id: str, period: str, ref: str, attempt: int = 1) -> dict[str, Any]:
    return {
        "id": ref,
        "object": "invoice",
        "attempt_count": attempt,
        "metadata": {"chatgrid_org_id": org_id, "chatgrid_period": period},
    }


def last_month() -> str:
    this_month = Month.of(datetime.now(UTC))
    return str(Month.of(this_month.start - timedelta(days=1)))


@dataclass
class Shop:
    """The web app on a fresh database, with one org and its owner (no console sign-in needed)."""

    ctx: AppContext
    client: TestClient
    org: str
    member: str


@pytest.fixture
def shop(context: AppContext) -> Shop:
    org = people.create_org(context, f"shop-{secrets.token_hex(3)}", BillingMode.BYOK)
    owner = people.add_member(context, org.id, "owner@example.com", Role.OWNER)
    return Shop(context, TestClient(create_web_app(context)), org.id, owner.id)


def configure(shop: Shop, grace_days: int = 7) -> None:
    payments.set_stripe(
        shop.ctx,
        ADMIN,
        secret_key=SECRET_KEY,
        webhook_secret=WEBHOOK_SECRET,
        grace_days=grace_days,
    )


def post(client: TestClient, body: bytes, headers: dict[str, str]) -> Any:
    return client.post("/webhooks/stripe", content=body, headers=headers)


def test_a_failed_payment_starts_the_grace_period_once_and_a_payment_ends_it(shop: Shop) -> None:
    ctx, org = shop.ctx, shop.org
    configure(shop)
    alerts.add_channel(ctx, org, ADMIN, ChannelKind.EMAIL, "billing@example.com")
    period = last_month()
    billing.issue_invoice(ctx, org, period, actor=ADMIN)

    failed = event("invoice.payment_failed", stripe_invoice(org, period, "in_failed1"))
    answer = post(shop.client, failed, signed(failed))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"received": True, "outcome": "grace_started"}
    failure = payments.payments(ctx).failure(org)
    assert failure is not None and failure.invoice_ref == "in_failed1"
    assert failure.grace_ends_at - failure.failed_at == timedelta(days=7)

    # The same event again (Stripe retries; an attacker replays a fresh signature): once.
    again = post(shop.client, failed, signed(failed))
    assert again.json()["outcome"] == "duplicate"
    [delivery] = [d for d in ctx.alerts.deliveries(org) if d.event.kind.startswith("invoice")]
    assert delivery.event.kind == "invoice.payment_failed"
    assert "update the card" in delivery.event.subject.lower()

    paid = event("invoice.paid", stripe_invoice(org, period, "in_failed1"))
    assert post(shop.client, paid, signed(paid)).json()["outcome"] == "paid"
    assert payments.payments(ctx).failure(org) is None
    invoice = ctx.billing.invoice(org, period)
    assert invoice is not None and invoice.status == "paid"
    actions = [e.action for e in ctx.audit.entries(org, AuditFilter())]
    assert {"payment.failed", "invoice.paid", "payment.grace_ended"} <= set(actions)


def test_events_out_of_order_never_start_a_grace_period_for_a_paid_invoice(shop: Shop) -> None:
    configure(shop)
    org = shop.org
    paid = event("invoice.paid", stripe_invoice(org, "2020-01", "in_late"))
    assert post(shop.client, paid, signed(paid)).json()["outcome"] == "paid"
    failed = event("invoice.payment_failed", stripe_invoice(org, "2020-01", "in_late"))
    assert post(shop.client, failed, signed(failed)).json()["outcome"] == "already_paid"
    assert payments.payments(shop.ctx).failure(org) is None


def test_a_delivery_that_does_not_verify_is_refused_and_changes_nothing(shop: Shop) -> None:
    configure(shop)
    body = event("invoice.payment_failed", stripe_invoice(shop.org, "2020-01", "in_forged"))
    for what, headers in {
        "another endpoint's secret": signed(body, secret="whsec_" + "0" * 32),
        "older than 5 minutes": signed(body, at=int(time.time()) - 600),
        "a signature of another body": signed(b"{}"),
        "no signature": {"Content-Type": "application/json"},
        "a garbled header": {"Stripe-Signature": "t=abc,v1=zz"},
    }.items():
        answer = post(shop.client, body, headers)
        assert answer.status_code == 400, what
        assert answer.json()["error"]["code"] == "invalid_signature", what
    assert payments.payments(shop.ctx).failure(shop.org) is None


def test_without_stripe_configured_or_with_a_huge_body_nothing_is_read(shop: Shop) -> None:
    body = event("invoice.paid", stripe_invoice(shop.org, "2020-01", "in_x"))
    assert post(shop.client, body, signed(body)).status_code == 404
    configure(shop)
    huge = b"{" + b" " * (300 * 1024) + b"}"
    assert post(shop.client, huge, signed(huge)).status_code == 413
    other = event("customer.subscription.deleted", {"id": "sub_1", "object": "subscription"})
    assert post(shop.client, other, signed(other)).json()["outcome"] == "recorded"
    unknown = event("charge.refunded", {"id": "ch_1", "object": "charge"})
    assert post(shop.client, unknown, signed(unknown)).json()["outcome"] == "ignored"


def test_after_the_grace_period_the_org_is_read_only_until_it_pays(
    shop: Shop, simulator: RunningProcess
) -> None:
    ctx, org = shop.ctx, shop.org
    configure(shop, grace_days=0)
    upstream = UpstreamConfig.create(Provider.OPENAI, base_url=f"{simulator.base_url}/v1")
    asyncio.run(keys.set_credential(ctx, org, upstream, "sk-byok-overdue-0123456789"))
    member_id = shop.member

    async def one_call(workspace: WorkspaceGateway) -> str:
        try:
            async with workspace.chat_stream(org, member_id, chat("hello")) as stream:
                async for _ in stream.deltas():
                    pass
        except PaymentOverdue as refusal:
            return refusal.message
        return "ok"

    assert run(ctx, one_call) == "ok"
    failed = event("invoice.payment_failed", stripe_invoice(org, "2020-02", "in_overdue"))
    assert post(shop.client, failed, signed(failed)).json()["outcome"] == "grace_started"
    assert "read-only" in run(ctx, one_call)
    paid = event("invoice.paid", stripe_invoice(org, "2020-02", "in_overdue"))
    assert post(shop.client, paid, signed(paid)).json()["outcome"] == "paid"
    assert run(ctx, one_call) == "ok"


def test_the_stripe_secrets_are_sealed_and_shown_nowhere(shop: Shop) -> None:
    ctx = shop.ctx
    shown = payments.set_stripe(
        ctx, ADMIN, secret_key=SECRET_KEY, webhook_secret=WEBHOOK_SECRET, grace_days=3
    )
    assert shown["stripe"]["grace_days"] == 3 and shown["stripe"]["fingerprint"].startswith("fp_")
    opened = payments.stripe_secrets(ctx)
    assert opened is not None and opened.secret_key == SECRET_KEY
    dump: list[str] = []
    with ctx.engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = conn.execute(text(f"SELECT * FROM {table.name}"))  # noqa: S608
            dump.extend(repr(tuple(row)) for row in rows)
    audit = [repr(e) for e in ctx.audit.entries(None, AuditFilter())]
    assert_found_nowhere(
        {
            "database": "\n".join(dump).encode(),
            "audit log": "\n".join(audit).encode(),
            "what was shown": json.dumps(shown).encode(),
        },
        {
            "secret key": SECRET_KEY.removeprefix("sk_test_").encode(),
            "webhook secret": WEBHOOK_SECRET.removeprefix("whsec_").encode(),
        },
    )


def test_rotating_the_master_key_rewraps_the_stripe_secrets(shop: Shop) -> None:
    configure(shop)
    before = shop.ctx.vault.keyring.current_version

    result = keys.rotate_master(shop.ctx)

    assert result["rewrapped"] == 1 and result["retired_versions"] == 1
    assert payments.master_versions(shop.ctx) == {before + 1}
    opened = payments.stripe_secrets(shop.ctx)
    assert opened is not None and opened.webhook_secret == WEBHOOK_SECRET


def test_paying_another_invoice_leaves_the_failed_ones_grace_running(shop: Shop) -> None:
    configure(shop)
    failed = event("invoice.payment_failed", stripe_invoice(shop.org, "2020-03", "in_unpaid"))
    assert post(shop.client, failed, signed(failed)).json()["outcome"] == "grace_started"
    other = event("invoice.paid", stripe_invoice(shop.org, "2020-02", "in_older"))
    assert post(shop.client, other, signed(other)).json()["outcome"] == "paid"
    assert payments.payments(shop.ctx).failure(shop.org) is not None
    # A new attempt at the same month (another Stripe object) paying ends it.
    retry = event("payment_intent.succeeded", stripe_invoice(shop.org, "2020-03", "pi_retry"))
    assert post(shop.client, retry, signed(retry)).json()["outcome"] == "paid"
    assert payments.payments(shop.ctx).failure(shop.org) is None
