"""/api/orgs/{org_id}/alerts as org admins use it: channels, the log, re-send, test."""

from __future__ import annotations

import asyncio

from chatgrid.alerts import verify_signature
from chatgrid.audit import AuditFilter
from chatgrid.gateway.alert_delivery import AlertDelivery
from chatgrid.providers.network import create_upstream_session
from chatgrid.store.types import utcnow
from tests.support.console import World
from tests.support.webhooks import running_receiver


def deliver(world: World) -> int:
    async def run() -> int:
        session = create_upstream_session(world.ctx.settings)
        try:
            return await AlertDelivery(world.ctx, session, None).deliver_due()
        finally:
            await session.close()

    return asyncio.run(run())


def test_an_admin_adds_a_webhook_tests_it_reads_the_log_and_resends(world: World) -> None:
    alice, org = world.alice.browser, world.org_a
    base = f"/api/orgs/{org}/alerts"
    with running_receiver() as receiver:
        url = receiver.url + "/apiCanaryPath"
        created = alice.api("POST", f"{base}/channels", {"kind": "webhook", "target": url})
        assert created.status_code == 201, created.text
        secret = created.json()["signing_secret"]
        assert secret.startswith("whsec_") and created.json()["target"] == "127.0.0.1"

        listed = alice.api("GET", f"{base}/channels")
        assert [c["id"] for c in listed.json()] == [created.json()["id"]]
        assert secret not in listed.text and "apiCanaryPath" not in listed.text

        assert alice.api("POST", f"{base}/test").json() == {"queued": 1}
        assert deliver(world) == 1
        [got] = receiver.received
        assert verify_signature(
            secret, got.body, got.headers["x-chatgrid-signature"], now=int(utcnow().timestamp())
        )
        [row] = alice.api("GET", f"{base}/deliveries").json()
        assert (row["status"], row["attempts"], row["last_status_code"]) == ("delivered", 1, 200)

        resent = alice.api("POST", f"{base}/deliveries/{row['id']}/resend")
        assert resent.status_code == 200 and resent.json()["status"] == "pending"
        assert deliver(world) == 1 and len(receiver.received) == 2

        # Another org's admin sees none of it.
        charlie, other = world.charlie.browser, world.org_b
        assert charlie.api("GET", f"/api/orgs/{other}/alerts/channels").json() == []
        assert charlie.api("GET", f"/api/orgs/{other}/alerts/deliveries").json() == []
        channel_id = created.json()["id"]
        moved = charlie.api("DELETE", f"/api/orgs/{other}/alerts/channels/{channel_id}")
        assert moved.status_code == 404
        moved = charlie.api("POST", f"/api/orgs/{other}/alerts/deliveries/{row['id']}/resend")
        assert moved.status_code == 404
        # A plain member may not manage them.
        assert world.bob.browser.api("GET", f"{base}/channels").status_code == 403

        assert alice.api("DELETE", f"{base}/channels/{channel_id}").status_code == 204
        assert alice.api("GET", f"{base}/channels").json() == []

    entries = [
        e for e in world.ctx.audit.entries(org, AuditFilter()) if e.action.startswith("alert_")
    ]
    assert {e.action for e in entries} == {
        "alert_channel.added",
        "alert_channel.removed",
        "alert_delivery.resent",
    }
    assert all(e.actor_email == world.alice.email for e in entries)


def test_bad_targets_are_400s_naming_the_field(world: World) -> None:
    alice, base = world.alice.browser, f"/api/orgs/{world.org_a}/alerts"
    for body in (
        {"kind": "email", "target": "not-an-address"},
        {"kind": "webhook", "target": "ftp://example.com/"},
        {"kind": "slack", "target": "https://１２７.０.０.１/hook"},
    ):
        refused = alice.api("POST", f"{base}/channels", body)
        assert refused.status_code == 400, (body, refused.text)
    assert alice.api("POST", f"{base}/channels", {"kind": "sms", "target": "x"}).status_code in (
        400,
        422,
    )
    assert alice.api("POST", f"{base}/test").status_code == 400  # no channel yet
