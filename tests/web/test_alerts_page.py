"""The alerts page as an org admin uses it: add channels, see the secret once, test, re-send."""

from __future__ import annotations

import asyncio
import html

from chatgrid.gateway.alert_delivery import AlertDelivery
from chatgrid.providers.network import create_upstream_session
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


def test_an_admin_manages_alerts_from_the_page(world: World) -> None:
    alice, org = world.alice.browser, world.org_a
    page = f"/orgs/{org}/alerts"
    first = alice.get(page)
    assert first.status_code == 200 and "No channels yet" in first.text
    assert f'href="{page}"' in first.text  # in the admin's sidebar
    with running_receiver() as receiver:
        url = receiver.url + "/pageCanaryPath"
        added = alice.form(f"{page}/channels", {"kind": "webhook", "target": url})
        assert added.status_code == 200
        [channel] = world.ctx.alerts.channels(org)
        shown = html.unescape(added.text)
        assert "not shown again" in shown and "whsec_" in shown
        secret = shown.split("whsec_", 1)[1].split("<", 1)[0]
        assert "pageCanaryPath" not in shown

        slack = alice.form(f"{page}/channels", {"kind": "slack", "target": receiver.url})
        assert slack.status_code == 303 and "notice=channel_added" in slack.headers["location"]

        refused = alice.form(f"{page}/channels", {"kind": "webhook", "target": "ftp://x"})
        assert refused.status_code == 400 and "https://" in html.unescape(refused.text)
        refused = alice.form(f"{page}/channels", {"kind": "pager", "target": "x"})
        assert refused.status_code == 400

        queued = alice.form(f"{page}/test")
        assert queued.status_code == 303
        assert deliver(world) == 2
        listed = html.unescape(alice.get(page).text)
        assert "delivered" in listed and "HTTP 200" in listed
        assert secret not in listed and "pageCanaryPath" not in listed

        webhook_row = next(
            d for d in world.ctx.alerts.deliveries(org) if d.channel_id == channel.id
        )
        again = alice.form(f"{page}/deliveries/{webhook_row.id}/resend")
        assert again.status_code == 303 and "notice=resent" in again.headers["location"]
        assert deliver(world) == 1 and len(receiver.received) == 3

        removed = alice.form(f"{page}/channels/{channel.id}/remove")
        assert removed.status_code == 303
        assert [c.kind.value for c in world.ctx.alerts.channels(org)] == ["slack"]

    assert world.bob.browser.get(page).status_code == 403
    assert world.charlie.browser.get(page).status_code == 404
