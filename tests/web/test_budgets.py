"""Budgets through /api/orgs/{org_id}/budgets and the console's budgets page, with the
personas: alice (owner of A) sets them, bob (a member of A) is refused, charlie (B) gets 404s."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from chatgrid.admin import service_accounts, teams
from chatgrid.audit import Actor, AuditFilter
from chatgrid.web.pages.budgets import exact_dollars
from tests.support.console import World
from tests.support.usage_rows import entry, write


def budgets_url(world: World) -> str:
    return f"/api/orgs/{world.org_a}/budgets"


def make_team(world: World, name: str, *personas: str | None) -> str:
    team = teams.create_team(world.ctx, world.org_a, Actor.cli(), name)
    for member_id in personas:
        member = world.ctx.members.get(world.org_a, str(member_id))
        teams.add_member(world.ctx, world.org_a, Actor.cli(), team.id, member)
    return team.id


def put(world: World, body: dict[str, Any]) -> Any:
    return world.alice.browser.api("PUT", budgets_url(world), body)


def test_an_admin_sets_replaces_and_removes_budgets_through_the_api(world: World) -> None:
    alice, base = world.alice.browser, budgets_url(world)
    team_id = make_team(world, "Support", world.bob.member_id)
    assert alice.api("GET", base).json() == []

    org = put(world, {"scope": "org", "usd": "100"})
    assert org.status_code == 200, org.text
    org_budget = org.json()
    assert org_budget["scope"] == "org" and org_budget["subject_id"] == world.org_a
    assert org_budget["limit_usd"] == "100.000000" and org_budget["limit_micros"] == 100_000_000
    assert org_budget["enforcement"] == "hard" and org_budget["thresholds"] == [50, 80, 100]
    assert org_budget["spent_micros"] == 0 and org_budget["percent"] == 0
    assert org_budget["updated_by"] == world.alice.email

    team = put(world, {"scope": "team", "subject": "Support", "usd": "0.50"}).json()
    assert (team["subject_id"], team["subject"]) == (team_id, "Support")
    assert team["limit_micros"] == 500_000
    member = put(world, {"scope": "member", "subject": world.bob.email.upper(), "usd": "2"})
    assert member.status_code == 200, member.text
    assert member.json()["subject_id"] == world.bob.member_id
    assert member.json()["subject"] == world.bob.email

    listed = alice.api("GET", base).json()
    assert [(b["scope"], b["subject"]) for b in listed] == [
        ("org", world.ctx.orgs.by_id(world.org_a).name),
        ("team", "Support"),
        ("member", world.bob.email),
    ]

    # Setting it again replaces it: the same id, the new limit, enforcement and thresholds.
    again = put(
        world,
        {"scope": "org", "usd": "250.5", "enforcement": "soft", "thresholds": [90, 75, 90]},
    ).json()
    assert again["id"] == org_budget["id"]
    assert (again["limit_usd"], again["enforcement"]) == ("250.500000", "soft")
    assert again["thresholds"] == [75, 90]
    by_team_id = put(world, {"scope": "team", "subject": team_id, "usd": "1", "thresholds": []})
    assert by_team_id.json()["id"] == team["id"] and by_team_id.json()["thresholds"] == []
    assert len(alice.api("GET", base).json()) == 3

    for budget_id in (team["id"], org_budget["id"]):
        assert alice.api("DELETE", f"{base}/{budget_id}").status_code == 204
    gone = alice.api("DELETE", f"{base}/{team['id']}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "budget_not_found"
    assert [b["scope"] for b in alice.api("GET", base).json()] == ["member"]

    actions = [
        e.action
        for e in reversed(world.ctx.audit.entries(world.org_a, AuditFilter(action="budget.")))
    ]
    assert actions == ["budget.set"] * 5 + ["budget.removed"] * 2
    on_org = [
        e
        for e in world.ctx.audit.entries(world.org_a, AuditFilter(action="budget.set"))
        if e.target == org_budget["id"]
    ]
    assert [e.details["limit_usd"] for e in on_org] == ["250.500000", "100.000000"]
    assert on_org[0].actor_email == world.alice.email
    assert on_org[0].details["enforcement"] == "soft" and on_org[0].details["thresholds"] == "75,90"
    removed = world.ctx.audit.entries(world.org_a, AuditFilter(action="budget.removed"))[0]
    assert removed.details == {"scope": "org", "subject": org_budget["subject"]}


def test_this_months_spend_shows_under_each_budget(world: World) -> None:
    make_team(world, "Red", world.bob.member_id)
    mode = world.ctx.orgs.by_id(world.org_a).billing_mode.value
    now = datetime.now(UTC)
    write(
        world.ctx,
        [
            entry(world.org_a, str(m), now, mode=mode, list_cost=cost, charged=cost)
            for m, cost in ((world.bob.member_id, 300_000), (world.dave.member_id, 100_000))
        ],
    )
    put(world, {"scope": "org", "usd": "1"})
    put(world, {"scope": "team", "subject": "Red", "usd": "0.60"})
    put(world, {"scope": "member", "subject": world.dave.email, "usd": "0.10"})
    spent = {
        b["scope"]: (b["spent_usd"], b["percent"], b["remaining_usd"], b["month"])
        for b in world.alice.browser.api("GET", budgets_url(world)).json()
    }
    month = now.strftime("%Y-%m")
    assert spent == {
        "org": ("0.400000", 40, "0.600000", month),
        "team": ("0.300000", 50, "0.300000", month),
        "member": ("0.100000", 100, "0.000000", month),
    }
    page = html.unescape(world.alice.browser.get(f"/orgs/{world.org_a}/budgets").text)
    assert "$0.40 (40%)" in page and "$0.30 (50%)" in page and "$0.10 (100%)" in page
    assert f"Budgets for {month}" in page


#: A body, and the status, code and param of its refusal (None: any).
REFUSED: list[tuple[dict[str, Any], int, str | None, str | None]] = [
    ({"scope": "org", "usd": "abc"}, 400, None, "usd"),
    ({"scope": "org", "usd": "-1"}, 400, None, "usd"),
    ({"scope": "org", "usd": "1.1234567"}, 400, None, "usd"),
    ({"scope": "org", "usd": "NaN"}, 400, None, "usd"),
    ({"scope": "org", "usd": "1e999999"}, 400, None, "usd"),
    ({"scope": "org", "usd": "\uff11"}, 400, None, "usd"),  # a fullwidth 1
    ({"scope": "org", "usd": "1000000001"}, 400, "invalid_limit", "usd"),
    ({"scope": "org", "usd": 5}, 400, "invalid_value", "usd"),
    ({"scope": "org", "usd": "9" * 41}, 400, "invalid_value", "usd"),
    ({"scope": "planet", "usd": "1"}, 400, "invalid_value", "scope"),
    ({"scope": "org", "usd": "1", "enforcement": "medium"}, 400, "invalid_value", None),
    ({"scope": "org", "usd": "1", "thresholds": [0]}, 400, "invalid_thresholds", None),
    ({"scope": "org", "usd": "1", "thresholds": [1001]}, 400, "invalid_thresholds", None),
    ({"scope": "org", "usd": "1", "thresholds": list(range(1, 12))}, 400, None, None),
    ({"scope": "org", "usd": "1", "thresholds": ["50"]}, 400, "invalid_value", None),
    ({"scope": "org", "usd": "1", "cap": "2"}, 400, "invalid_value", "cap"),
    ({"scope": "team", "usd": "1"}, 400, None, "subject"),
    ({"scope": "member", "subject": "  ", "usd": "1"}, 400, None, "subject"),
    ({"scope": "team", "subject": "Nobody", "usd": "1"}, 404, "team_not_found", None),
    ({"scope": "team", "subject": "Sup\x00port", "usd": "1"}, 404, None, "subject"),
    ({"scope": "member", "subject": "ann@example.com", "usd": "1"}, 404, "member_not_found", None),
    ({"scope": "member", "subject": "mem_nobody", "usd": "1"}, 404, "member_not_found", None),
]


def test_bad_input_is_a_clean_error_and_sets_nothing(world: World) -> None:
    make_team(world, "Support")
    wrong = {}
    for body, status, code, param in REFUSED:
        refused = put(world, body)
        error = refused.json().get("error", {})
        if (
            refused.status_code != status
            or error.get("type") != "invalid_request_error"
            or not error.get("message")
            or (code is not None and error.get("code") != code)
            or (param is not None and error.get("param") != param)
        ):
            wrong[repr(body)] = (refused.status_code, refused.text)
    assert wrong == {}
    assert world.alice.browser.api("GET", budgets_url(world)).json() == []
    assert world.ctx.audit.entries(world.org_a, AuditFilter(action="budget.")) == []


def test_a_member_is_refused_and_an_outsider_finds_nothing(world: World) -> None:
    alice, bob, charlie = world.alice.browser, world.bob.browser, world.charlie.browser
    base = budgets_url(world)
    make_team(world, "Private", world.bob.member_id)
    budget = put(world, {"scope": "team", "subject": "Private", "usd": "5"}).json()
    item = f"{base}/{budget['id']}"
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", base, None),
        ("PUT", base, {"scope": "org", "usd": "0"}),
        ("DELETE", item, None),
    ]
    for method, url, body in calls:
        assert bob.api(method, url, body).status_code == 403, (method, url)
        assert charlie.api(method, url, body).status_code == 404, (method, url)
    assert bob.get(f"/orgs/{world.org_a}/budgets").status_code == 403
    assert bob.form(f"/orgs/{world.org_a}/budgets", {"scope": "org", "usd": "0"}).status_code == (
        403
    )
    assert charlie.get(f"/orgs/{world.org_a}/budgets").status_code == 404

    # A's budget, team and member named in charlie's own org are not found either.
    own = f"/api/orgs/{world.org_b}/budgets"
    theirs = charlie.api("DELETE", f"{own}/{budget['id']}")
    assert theirs.status_code == 404 and theirs.json()["error"]["code"] == "budget_not_found"
    team = charlie.api("PUT", own, {"scope": "team", "subject": "Private", "usd": "1"})
    assert team.status_code == 404 and team.json()["error"]["code"] == "team_not_found"
    team = charlie.api("PUT", own, {"scope": "team", "subject": budget["subject_id"], "usd": "1"})
    assert team.status_code == 404
    member = charlie.api("PUT", own, {"scope": "member", "subject": world.bob.email, "usd": "1"})
    assert member.status_code == 404 and member.json()["error"]["code"] == "member_not_found"
    assert charlie.api("GET", own).json() == []
    assert [b["id"] for b in alice.api("GET", base).json()] == [budget["id"]]


def test_an_admin_scope_service_account_sets_budgets_without_csrf(world: World) -> None:
    org = world.ctx.orgs.by_id(world.org_a)
    _, token = service_accounts.create_service_account(
        world.ctx, org, Actor.cli(), "finance-bot", "admin"
    )
    client = TestClient(world.app)
    headers = {"Authorization": f"Bearer {token}"}
    answer = client.put(budgets_url(world), json={"scope": "org", "usd": "9"}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["updated_by"] == "service-account:finance-bot"
    assert len(client.get(budgets_url(world), headers=headers).json()) == 1


def test_an_admin_manages_budgets_from_the_page(world: World) -> None:
    alice, org = world.alice.browser, world.org_a
    page_url = f"/orgs/{org}/budgets"
    assert f'href="{page_url}"' in alice.get(f"/orgs/{org}").text  # in the sidebar
    assert f'href="{page_url}"' not in world.bob.browser.get(f"/orgs/{org}").text
    assert "No budgets yet" in alice.get(page_url).text
    make_team(world, "Design", world.bob.member_id)

    fields = {"scope": "team", "subject": "Design", "usd": "0.125", "enforcement": "soft"}
    created = alice.form(page_url, {**fields, "thresholds": "80, 100%"})
    assert created.status_code == 303, created.text
    assert created.headers["location"] == f"{page_url}?notice=budget_set"
    member = {"scope": "member", "subject": world.dave.email, "usd": "3", "thresholds": "none"}
    assert alice.form(page_url, member).status_code == 303
    assert alice.form(page_url, {"scope": "org", "usd": "1250"}).status_code == 303
    shown = html.unescape(alice.get(created.headers["location"]).text)
    assert "The budget is set and in force now." in shown
    assert "Team: Design" in shown and "$0.125" in shown and "80%, 100%" in shown
    assert f"Member: {world.dave.email}" in shown and "never" in shown
    assert "Organization: " in shown and "$1,250.00" in shown
    assert shown.count(">soft<") == 1 and shown.count(">hard<") == 2

    for bad, message in [
        ({"scope": "org", "usd": "abc"}, "usd must be a decimal number of dollars"),
        ({"scope": "org", "usd": "-1"}, "usd must be a non-negative amount"),
        ({"scope": "org", "usd": "1.1234567"}, "usd has more than 6 decimals"),
        ({"scope": "org", "usd": "1e999990"}, "usd is too large"),
        ({"scope": "planet", "usd": "1"}, "a budget's scope is org, team or member"),
        ({"scope": "org", "usd": "1", "enforcement": "x"}, "enforcement is hard"),
        ({"scope": "org", "usd": "1", "thresholds": "0"}, "thresholds are whole percentages"),
        ({"scope": "team", "subject": "", "usd": "1"}, "name the team the budget is for"),
    ]:
        refused = alice.form(page_url, bad)
        assert refused.status_code == 400, (bad, refused.status_code)
        assert message in html.unescape(refused.text), bad
        assert 'role="alert"' in refused.text
    unknown = alice.form(page_url, {"scope": "team", "subject": "Nope", "usd": "7.77"})
    assert unknown.status_code == 404
    kept = html.unescape(unknown.text)
    assert "no team 'Nope' in this org" in kept
    assert 'value="Nope"' in kept and 'value="7.77"' in kept  # what was typed stays
    assert 'value="team" selected' in kept
    assert alice.form(page_url, {"scope": "org", "usd": "1" * 41}).status_code == 400

    team_budget = next(
        b for b in alice.api("GET", budgets_url(world)).json() if b["scope"] == "team"
    )
    out = alice.form(f"{page_url}/{team_budget['id']}/remove")
    assert out.status_code == 303 and "notice=budget_removed" in out.headers["location"]
    after = html.unescape(alice.get(out.headers["location"]).text)
    assert "Team: Design" not in after and "calls no longer count against it" in after
    again = alice.form(f"{page_url}/{team_budget['id']}/remove")
    assert again.status_code == 404 and "no such budget" in again.text
    assert world.bob.browser.form(f"{page_url}/{team_budget['id']}/remove").status_code == 403
    actions = [e.action for e in world.ctx.audit.entries(org, AuditFilter(action="budget."))]
    assert actions == ["budget.removed"] + ["budget.set"] * 3


def test_a_limit_is_shown_as_it_was_set() -> None:
    assert exact_dollars(0) == "$0.00"
    assert exact_dollars(500_000) == "$0.50"
    assert exact_dollars(125_000) == "$0.125"
    assert exact_dollars(1_000_000_000_000_001) == "$1,000,000,000.000001"
