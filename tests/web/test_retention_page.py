"""Data retention in the console and the API: an admin sets the org's periods under the
instance's ceiling; bad input is refused with the form shown again; members get 403,
another org 404, and a change needs the CSRF token."""

from __future__ import annotations

from chatgrid.admin import retention
from chatgrid.audit import Actor
from chatgrid.governance.retention import DataKind
from tests.support.console import World


def test_an_admin_sets_the_periods_on_the_page_and_through_the_api(world: World) -> None:
    alice, page = world.alice.browser, f"/orgs/{world.org_a}/retention"
    shown = alice.get(page)
    assert shown.status_code == 200 and "Data retention" in shown.text
    assert f'href="{page}"' in shown.text  # in the admin's menu

    saved = alice.form(page, {"conversations": "90", "documents": "", "audit": "forever"})
    assert saved.status_code == 303
    assert "Saved." in alice.get(saved.headers["location"]).text
    api = f"/api/orgs/{world.org_a}/retention"
    assert alice.api("GET", api).json()["org"] == {
        "conversations": 90,
        "documents": "forever",
        "audit": "forever",
    }

    retention.set_instance_retention(world.ctx, Actor.cli(), {DataKind.CONVERSATIONS: 30})
    try:
        changed = alice.api("PUT", api, {"audit": 400})
        assert changed.status_code == 200, changed.text
        body = changed.json()
        assert body["org"] == {"conversations": 90, "documents": "forever", "audit": 400}
        assert body["effective"]["conversations"] == 30  # the ceiling binds
        assert body["instance"]["ledger"] == "forever"
    finally:
        retention.set_instance_retention(
            world.ctx, Actor.cli(), {DataKind.CONVERSATIONS: "forever"}
        )


def test_bad_periods_are_refused_at_both_doors(world: World) -> None:
    alice, page = world.alice.browser, f"/orgs/{world.org_a}/retention"
    refused = alice.form(page, {"conversations": "0", "documents": "", "audit": ""})
    assert refused.status_code == 400
    assert "1 to 36500 days" in refused.text and 'value="0"' in refused.text
    api = f"/api/orgs/{world.org_a}/retention"
    for body in ({"documents": "3"}, {"audit": -1}, {"audit": True}, {"ledger": 400}):
        answer = alice.api("PUT", api, body)
        assert answer.status_code == 400, (body, answer.text)


def test_members_other_orgs_and_forged_requests_are_refused(world: World) -> None:
    page, api = f"/orgs/{world.org_a}/retention", f"/api/orgs/{world.org_a}/retention"
    assert world.bob.browser.get(page).status_code == 403
    assert world.charlie.browser.get(page).status_code == 404
    assert world.bob.browser.api("PUT", api, {"audit": 30}).status_code == 403
    assert world.charlie.browser.api("GET", api).status_code == 404
    assert world.alice.browser.api("PUT", api, {"audit": 30}, csrf=False).status_code == 403
