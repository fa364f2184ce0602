"""The operator's own alert channels in the console and through /api/operator/alerts: add,
the webhook's secret once, test, the delivery log, re-send, remove; an org's channels stay
out of reach, and everyone but the operator gets the operator console's 404."""

from __future__ import annotations

import asyncio
import html

from chatgrid.admin import alerts
from chatgrid.alerts import ChannelKind, verify_signature
from chatgrid.audit import Actor, AuditFilter
from chatgrid.gateway.alert_delivery import AlertDelivery
from chatgrid.providers.network import create_upstream_session
from chatgrid.store.types import utcnow
from tests.support.console import World, sign_in_operator
from tests.support.webhooks import running_receiver

PAGE = "/operator/alerts"
API = "/api/operator/alerts"


def deliver(world: World) -> int:
    async def run() -> int:
        session = create_upstream_session(world.ctx.settings)
        try:
            return await AlertDelivery(world.ctx, session, None).deliver_due()
        finally:
            await session.close()

    return asyncio.run(run())


def org_channel_and_delivery(world: World) -> tuple[str, str]:
    """An email channel of org A with one queued test delivery: their ids."""
    added = alerts.add_channel(
        world.ctx, world.org_a, Actor.cli(), ChannelKind.EMAIL, "ops@acme.example"
    )
    alerts.send_test(world.ctx, world.org_a, Actor.cli())
    [delivery] = world.ctx.alerts.deliveries(world.org_a)
    return added.channel.id, delivery.id


def test_the_operator_manages_its_channels_from_the_page(world: World) -> None:
    ops = sign_in_operator(world)
    first = ops.get(PAGE)
    assert first.status_code == 200 and "No channels yet" in first.text
    assert "<title>Operator · alerts" in first.text
    assert f'href="{PAGE}" aria-current="page"' in first.text  # a tab of the operator console
    assert f'href="{PAGE}"' in ops.get("/operator/pool").text
    with running_receiver() as receiver:
        url = receiver.url + "/operatorCanaryPath"
        added = ops.form(f"{PAGE}/channels", {"kind": "webhook", "target": url})
        assert added.status_code == 200
        [channel] = world.ctx.alerts.channels(None)
        shown = html.unescape(added.text)
        assert "not shown again" in shown and "whsec_" in shown
        secret = "whsec_" + shown.split("whsec_", 1)[1].split("<", 1)[0]
        assert "operatorCanaryPath" not in shown
        assert world.ctx.alerts.channels(world.org_a) == []  # not an org's

        email = ops.form(f"{PAGE}/channels", {"kind": "email", "target": "oncall@ops.example"})
        assert email.status_code == 303 and email.headers["location"].endswith(
            "notice=channel_added"
        )
        refused = ops.form(f"{PAGE}/channels", {"kind": "webhook", "target": "ftp://x"})
        assert refused.status_code == 400 and "https://" in html.unescape(refused.text)
        assert ops.form(f"{PAGE}/channels", {"kind": "pager", "target": "x"}).status_code == 400

        queued = ops.form(f"{PAGE}/test")
        assert queued.status_code == 303 and "notice=test_queued" in queued.headers["location"]
        deliver(world)  # the webhook's; mail goes nowhere without SMTP
        [got] = receiver.received
        assert verify_signature(
            secret, got.body, got.headers["x-chatgrid-signature"], now=int(utcnow().timestamp())
        )
        listed = html.unescape(ops.get(queued.headers["location"]).text)
        assert "A test alert is queued" in listed
        assert "delivered" in listed and "HTTP 200" in listed and "oncall@ops.example" in listed
        assert secret not in listed and "operatorCanaryPath" not in listed

        webhook_row = next(
            d for d in world.ctx.alerts.deliveries(None) if d.channel_id == channel.id
        )
        again = ops.form(f"{PAGE}/deliveries/{webhook_row.id}/resend")
        assert again.status_code == 303 and "notice=resent" in again.headers["location"]
        deliver(world)
        assert len(receiver.received) == 2

        removed = ops.form(f"{PAGE}/channels/{channel.id}/remove")
        assert removed.status_code == 303
        assert [c.kind.value for c in world.ctx.alerts.channels(None)] == ["email"]
        gone = ops.form(f"{PAGE}/deliveries/{webhook_row.id}/resend")
        assert gone.status_code == 404  # its channel was removed

    entries = [
        e for e in world.ctx.audit.entries(None, AuditFilter()) if e.action.startswith("alert_")
    ]
    assert {e.action for e in entries} == {
        "alert_channel.added",
        "alert_channel.removed",
        "alert_delivery.resent",
    }
    assert all((e.actor_email or "").startswith("ops-") for e in entries)
    assert not [e for e in world.ctx.audit.entries(world.org_a) if e.action.startswith("alert_")]


def test_the_operator_manages_its_channels_through_the_api(world: World) -> None:
    ops = sign_in_operator(world)
    assert ops.api("POST", f"{API}/test").status_code == 400  # no channel yet
    with running_receiver() as receiver:
        url = receiver.url + "/apiCanaryPath"
        created = ops.api("POST", f"{API}/channels", {"kind": "webhook", "target": url})
        assert created.status_code == 201, created.text
        channel = created.json()
        assert channel["signing_secret"].startswith("whsec_")
        assert channel["target"] == "127.0.0.1" and channel["kind"] == "webhook"
        mail = ops.api("POST", f"{API}/channels", {"kind": "email", "target": "ops@ops.example"})
        assert mail.status_code == 201 and mail.json()["signing_secret"] is None

        listed = ops.api("GET", f"{API}/channels")
        assert sorted(c["id"] for c in listed.json()) == sorted([channel["id"], mail.json()["id"]])
        assert channel["signing_secret"] not in listed.text and "apiCanaryPath" not in listed.text

        assert ops.api("POST", f"{API}/test").json() == {"queued": 2}
        deliver(world)
        rows = ops.api("GET", f"{API}/deliveries").json()
        assert {r["event"] for r in rows} == {"test"} and len(rows) == 2
        row = next(r for r in rows if r["channel_id"] == channel["id"])
        assert (row["status"], row["last_status_code"]) == ("delivered", 200)

        resent = ops.api("POST", f"{API}/deliveries/{row['id']}/resend")
        assert resent.status_code == 200 and resent.json()["status"] == "pending"
        deliver(world)
        assert len(receiver.received) == 2

        assert ops.api("DELETE", f"{API}/channels/{channel['id']}").status_code == 204
        assert [c["kind"] for c in ops.api("GET", f"{API}/channels").json()] == ["email"]
        assert ops.api("DELETE", f"{API}/channels/{channel['id']}").status_code == 404

    for body in (
        {"kind": "email", "target": "not-an-address"},
        {"kind": "webhook", "target": "ftp://example.com/"},
    ):
        assert ops.api("POST", f"{API}/channels", body).status_code == 400, body


def test_an_orgs_channel_is_not_found_through_the_operator_routes(world: World) -> None:
    channel_id, delivery_id = org_channel_and_delivery(world)
    ops = sign_in_operator(world)
    assert ops.api("GET", f"{API}/channels").json() == []
    assert ops.api("GET", f"{API}/deliveries").json() == []
    assert ops.api("DELETE", f"{API}/channels/{channel_id}").status_code == 404
    assert ops.api("POST", f"{API}/deliveries/{delivery_id}/resend").status_code == 404
    assert ops.form(f"{PAGE}/channels/{channel_id}/remove").status_code == 404
    assert ops.form(f"{PAGE}/deliveries/{delivery_id}/resend").status_code == 404
    page = ops.get(PAGE).text
    assert "ops@acme.example" not in page and delivery_id not in page
    # The org's channel and its delivery are as they were.
    assert [c.id for c in world.ctx.alerts.channels(world.org_a)] == [channel_id]
    [delivery] = world.ctx.alerts.deliveries(world.org_a)
    assert (delivery.id, delivery.attempts) == (delivery_id, 0)


def test_org_admins_and_members_get_the_operator_consoles_404(world: World) -> None:
    """Like every operator page: the console does not show to anyone else (not even a 403)."""
    ops = sign_in_operator(world)
    created = ops.api("POST", f"{API}/channels", {"kind": "email", "target": "ops@ops.example"})
    own_channel = created.json()["id"]
    ops.api("POST", f"{API}/test")
    [own_delivery] = world.ctx.alerts.deliveries(None)
    for persona in (world.alice, world.bob, world.charlie):
        browser = persona.browser
        assert browser.get(PAGE).status_code == 404
        for url, form in [
            (f"{PAGE}/channels", {"kind": "email", "target": "x@y.example"}),
            (f"{PAGE}/channels/{own_channel}/remove", {}),
            (f"{PAGE}/test", {}),
            (f"{PAGE}/deliveries/{own_delivery.id}/resend", {}),
        ]:
            assert browser.form(url, form).status_code == 404, (persona.email, url)
        for method, url, body in [
            ("GET", f"{API}/channels", None),
            ("POST", f"{API}/channels", {"kind": "email", "target": "x@y.example"}),
            ("DELETE", f"{API}/channels/{own_channel}", None),
            ("GET", f"{API}/deliveries", None),
            ("POST", f"{API}/deliveries/{own_delivery.id}/resend", None),
            ("POST", f"{API}/test", None),
        ]:
            assert browser.api(method, url, body).status_code == 404, (persona.email, url)
        assert f'href="{PAGE}"' not in browser.get(f"/orgs/{world.org_a}/alerts").text
    assert [c.id for c in world.ctx.alerts.channels(None)] == [own_channel]
    assert len(world.ctx.alerts.deliveries(None)) == 1
