"""The alert queue's leases on the configured backend: a claim holds, then lapses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chatgrid.alerts import AlertEvent, ChannelKind
from chatgrid.context import AppContext
from chatgrid.identity.models import BillingMode

NOW = datetime(2030, 6, 1, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


def queued(ctx: AppContext) -> str:
    org = ctx.orgs.create("queue-org", BillingMode.BYOK).id
    ctx.alerts.add_channel(
        "ach_queue",
        org,
        ChannelKind.EMAIL,
        display="ops@example.com",
        email="ops@example.com",
        sealed=None,
        created_by=None,
        now=NOW,
    )
    event = AlertEvent("test", org, "test:1", "subject", "text")
    assert ctx.alerts.enqueue(event, NOW) == 1
    return org


def test_a_claim_holds_until_its_lease_ends_then_another_worker_may_take_it(
    context: AppContext,
) -> None:
    queued(context)
    [first] = context.alerts.claim_due("wrk_a", NOW, LEASE)
    assert context.alerts.claim_due("wrk_b", NOW + LEASE - timedelta(seconds=1), LEASE) == []
    # Worker a died mid-send: once the lease ends, b takes the delivery over...
    [second] = context.alerts.claim_due("wrk_b", NOW + LEASE, LEASE)
    assert second.delivery.id == first.delivery.id
    # ...and a's late answer changes nothing: only the lease's holder records.
    context.alerts.record_attempt(
        first, NOW + LEASE, status_code=None, response="late", delivered=True, retry_at=None
    )
    org = first.delivery.org_id
    [row] = context.alerts.deliveries(org)
    assert (row.status, row.attempts) == ("pending", 0)
    context.alerts.record_attempt(
        second, NOW + LEASE, status_code=None, response="sent", delivered=True, retry_at=None
    )
    [row] = context.alerts.deliveries(org)
    assert (row.status, row.attempts, row.last_response) == ("delivered", 1, "sent")
    assert context.alerts.claim_due("wrk_c", NOW + timedelta(days=1), LEASE) == []


def test_a_removed_channel_fails_its_pending_deliveries_and_takes_no_more(
    context: AppContext,
) -> None:
    org = queued(context)
    context.alerts.remove_channel(org, "ach_queue", NOW)
    [row] = context.alerts.deliveries(org)
    assert row.status == "failed" and row.last_response == "the channel was removed"
    assert context.alerts.enqueue(AlertEvent("test", org, "test:2", "s", "t"), NOW) == 0
    assert context.alerts.claim_due("wrk_a", NOW, LEASE) == []
