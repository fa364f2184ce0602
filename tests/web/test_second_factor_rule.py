"""An org that requires two-step sign-in: its password users without it are sent to set it
up before they reach the org's pages or API, at once, sessions already open included."""

from __future__ import annotations

import pytest

from chatgrid.audit import AuditFilter
from tests.support.console import World
from tests.support.second_factor import Clock, set_up


@pytest.fixture
def clock(world: World) -> Clock:
    clock = Clock()
    world.app.state.console.clock = clock
    return clock


def require(world: World, required: bool = True) -> None:
    answer = world.alice.browser.api(
        "PUT", f"/api/orgs/{world.org_a}/second-factor", {"required": required}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["required"] is required


def test_an_admin_without_it_cannot_require_it(world: World) -> None:
    answer = world.alice.browser.api(
        "PUT", f"/api/orgs/{world.org_a}/second-factor", {"required": True}
    )
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "second_factor_needed_first"
    assert not world.ctx.second_factors.required(world.org_a)
    page = world.alice.browser.form(
        f"/orgs/{world.org_a}/security", {"require_second_factor": "on"}
    )
    assert page.status_code == 409 and "your own account first" in page.text


def test_members_without_it_are_sent_to_set_it_up(world: World, clock: Clock) -> None:
    set_up(world.alice.browser, clock)
    require(world)
    bob = world.bob.browser  # signed in before the rule, without a second factor
    page = bob.get(f"/orgs/{world.org_a}/tokens")
    assert page.status_code == 303
    assert (
        page.headers["location"] == "/account/two-step?next=%2Forgs%2F" + world.org_a + "%2Ftokens"
    )
    api = bob.api("GET", f"/api/orgs/{world.org_a}/tokens")
    assert api.status_code == 403 and api.json()["error"]["code"] == "second_factor_required"
    changed = bob.api("POST", f"/api/orgs/{world.org_a}/tokens", {"name": "x"})
    assert changed.status_code == 403
    setup = bob.get(f"/account/two-step?next=/orgs/{world.org_a}/tokens")
    assert setup.status_code == 200 and "requires two-step sign-in" in setup.text
    assert bob.get("/account").status_code == 200  # his own account stays open to him

    # The owner, who has it, and another org's people are not held back.
    assert world.alice.browser.get(f"/orgs/{world.org_a}").status_code == 200
    assert world.charlie.browser.get(f"/orgs/{world.org_b}").status_code == 200

    set_up(bob, clock)
    assert bob.get(f"/orgs/{world.org_a}/tokens").status_code == 200
    assert bob.api("GET", f"/api/orgs/{world.org_a}/tokens").status_code == 200


def test_the_security_page_shows_who_has_it(world: World, clock: Clock) -> None:
    alice = world.alice.browser
    set_up(alice, clock)
    page = alice.get(f"/orgs/{world.org_a}/security")
    assert page.status_code == 200 and "1 of 3</strong>" in page.text
    answer = alice.form(f"/orgs/{world.org_a}/security", {"require_second_factor": "on"})
    assert answer.status_code == 303
    assert world.ctx.second_factors.required(world.org_a)
    body = alice.api("GET", f"/api/orgs/{world.org_a}/second-factor").json()
    assert body["required"] is True
    assert {m["email"]: m["second_factor"] for m in body["members"]} == {
        world.alice.email: True,
        world.bob.email: False,
        world.dave.email: False,
    }
    # A plain member cannot see or change it.
    assert world.bob.browser.api("GET", f"/api/orgs/{world.org_a}/second-factor").status_code == 403
    off = alice.form(f"/orgs/{world.org_a}/security", {"require_second_factor": "off"})
    assert off.status_code == 303 and not world.ctx.second_factors.required(world.org_a)
    assert world.bob.browser.get(f"/orgs/{world.org_a}").status_code == 200
    actions = world.ctx.audit.entries(world.org_a, AuditFilter(action="org.second_factor_rule"))
    assert [e.details for e in actions] == [{"required": False}, {"required": True}]


def test_turning_it_off_in_a_requiring_org_closes_the_org_again(world: World, clock: Clock) -> None:
    alice = world.alice.browser
    secret, codes = set_up(alice, clock)
    require(world)
    off = alice.api(
        "POST",
        "/api/account/second-factor/disable",
        {"current_password": "correct horse battery staple", "code": codes[0]},
    )
    assert off.status_code == 204
    assert alice.api("GET", f"/api/orgs/{world.org_a}").status_code == 403
    # The rule still holds; setting it up again opens the org.
    assert world.ctx.second_factors.required(world.org_a)
    assert secret != set_up(alice, clock)[0]
    assert alice.api("GET", f"/api/orgs/{world.org_a}").status_code == 200
