"""Teams through /api/orgs/{org_id}/teams and the console's teams page, with the personas:
alice (owner of A) manages them, bob (a member of A) sees his own, charlie (B) gets 404s."""

from __future__ import annotations

import html

from chatgrid.audit import AuditFilter
from chatgrid.store.scim_groups import ScimGroupRepository
from tests.support.console import World


def teams_url(world: World) -> str:
    return f"/api/orgs/{world.org_a}/teams"


def test_an_admin_manages_teams_through_the_api(world: World) -> None:
    alice, base = world.alice.browser, teams_url(world)
    created = alice.api("POST", base, {"name": "  Support  "})
    assert created.status_code == 201, created.text
    team = created.json()
    assert team["name"] == "Support" and team["member_count"] == 0
    assert team["id"].startswith("team_")

    for persona in (world.bob, world.dave):
        put = alice.api("PUT", f"{base}/{team['id']}/members/{persona.member_id}")
        assert put.status_code == 204, put.text
    again = alice.api("PUT", f"{base}/{team['id']}/members/{world.bob.member_id}")
    assert again.status_code == 204  # already in it: nothing changes
    detail = alice.api("GET", f"{base}/{team['id']}").json()
    assert detail["member_count"] == 2
    assert sorted(m["email"] for m in detail["members"]) == sorted(
        [world.bob.email, world.dave.email]
    )

    renamed = alice.api("PATCH", f"{base}/{team['id']}", {"name": "Customer support"})
    assert renamed.status_code == 200
    assert (renamed.json()["id"], renamed.json()["name"]) == (team["id"], "Customer support")

    out = alice.api("DELETE", f"{base}/{team['id']}/members/{world.dave.member_id}")
    assert out.status_code == 204
    assert [t["member_count"] for t in alice.api("GET", base).json()] == [1]

    assert alice.api("DELETE", f"{base}/{team['id']}").status_code == 204
    assert alice.api("GET", base).json() == []
    assert alice.api("GET", f"{base}/{team['id']}").status_code == 404
    actions = [
        e.action
        for e in reversed(world.ctx.audit.entries(world.org_a, AuditFilter(action="team.")))
    ]
    assert actions == [
        "team.created",
        "team.member_added",
        "team.member_added",
        "team.renamed",
        "team.member_removed",
        "team.deleted",
    ]
    entry = world.ctx.audit.entries(world.org_a, AuditFilter(action="team.created"))[0]
    assert entry.actor_email == world.alice.email


def test_duplicate_and_bad_names_are_refused_with_their_codes(world: World) -> None:
    alice, base = world.alice.browser, teams_url(world)
    first = alice.api("POST", base, {"name": "Sales"}).json()
    clash = alice.api("POST", base, {"name": "Sales "})
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "team_exists"
    other = alice.api("POST", base, {"name": "Marketing"}).json()
    renamed = alice.api("PATCH", f"{base}/{other['id']}", {"name": "Sales"})
    assert renamed.status_code == 409
    for bad in ("", "   ", "x" * 101):
        refused = alice.api("POST", base, {"name": bad})
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "invalid_team_name"
        assert refused.json()["error"]["param"] == "name"
    assert alice.api("POST", base, {"name": "Sales", "budget": 5}).status_code == 400
    assert alice.api("POST", base, {"name": 7}).status_code == 400
    assert [t["name"] for t in alice.api("GET", base).json()] == ["Marketing", "Sales"]
    assert first["id"] != other["id"]


def test_a_member_sees_only_their_teams_and_cannot_change_them(world: World) -> None:
    alice, bob, base = world.alice.browser, world.bob.browser, teams_url(world)
    red = alice.api("POST", base, {"name": "Red"}).json()
    blue = alice.api("POST", base, {"name": "Blue"}).json()
    alice.api("POST", base, {"name": "Green"})
    for team in (red, blue):  # bob is in two teams
        alice.api("PUT", f"{base}/{team['id']}/members/{world.bob.member_id}")
    alice.api("PUT", f"{base}/{red['id']}/members/{world.dave.member_id}")

    mine = bob.api("GET", base)
    assert mine.status_code == 200
    assert [(t["name"], t["member_count"]) for t in mine.json()] == [("Blue", 1), ("Red", 2)]
    assert bob.api("GET", f"{base}/{red['id']}").status_code == 403
    assert bob.api("POST", base, {"name": "Mine"}).status_code == 403
    assert bob.api("DELETE", f"{base}/{red['id']}/members/{world.dave.member_id}").status_code == (
        403
    )
    assert len(alice.api("GET", base).json()) == 3

    page = html.unescape(bob.get(f"/orgs/{world.org_a}/teams").text)
    assert "Your teams" in page and "Red" in page and "Blue" in page and "Green" not in page
    assert "Create team" not in page and world.dave.email not in page


def test_an_outsider_gets_404_for_every_team_route_of_another_org(world: World) -> None:
    alice, charlie, base = world.alice.browser, world.charlie.browser, teams_url(world)
    team = alice.api("POST", base, {"name": "Private"}).json()
    item = f"{base}/{team['id']}"
    for method, url, body in [
        ("GET", base, None),
        ("POST", base, {"name": "Mine"}),
        ("GET", item, None),
        ("PATCH", item, {"name": "Mine"}),
        ("DELETE", item, None),
        ("PUT", f"{item}/members/{world.charlie.member_id}", None),
        ("DELETE", f"{item}/members/{world.bob.member_id}", None),
    ]:
        assert charlie.api(method, url, body).status_code == 404, (method, url)
    # A's team and A's member under charlie's own org are not found either.
    own = f"/api/orgs/{world.org_b}/teams"
    assert charlie.api("GET", f"{own}/{team['id']}").status_code == 404
    theirs = charlie.api("POST", own, {"name": "Bolt"}).json()
    put = charlie.api("PUT", f"{own}/{theirs['id']}/members/{world.bob.member_id}")
    assert put.status_code == 404 and put.json()["error"]["code"] == "member_not_found"
    assert charlie.get(f"/orgs/{world.org_a}/teams").status_code == 404
    assert alice.api("GET", item).json()["name"] == "Private"


def test_a_member_removed_from_the_org_leaves_their_teams(world: World) -> None:
    alice, base = world.alice.browser, teams_url(world)
    red = alice.api("POST", base, {"name": "Red"}).json()
    blue = alice.api("POST", base, {"name": "Blue"}).json()
    for team in (red, blue):
        alice.api("PUT", f"{base}/{team['id']}/members/{world.dave.member_id}")
        alice.api("PUT", f"{base}/{team['id']}/members/{world.bob.member_id}")
    removed = alice.api("DELETE", f"/api/orgs/{world.org_a}/members/{world.dave.member_id}")
    assert removed.status_code == 204, removed.text
    for team in (red, blue):
        members = alice.api("GET", f"{base}/{team['id']}").json()["members"]
        assert [m["email"] for m in members] == [world.bob.email]
    back = alice.api("PUT", f"{base}/{red['id']}/members/{world.dave.member_id}")
    assert back.status_code == 404 and back.json()["error"]["code"] == "member_not_found"


def test_an_admin_manages_teams_from_the_page(world: World) -> None:
    alice, org = world.alice.browser, world.org_a
    page_url = f"/orgs/{org}/teams"
    assert f'href="{page_url}"' in alice.get(f"/orgs/{org}").text  # in the sidebar
    assert "No teams yet" in alice.get(page_url).text

    created = alice.form(page_url, {"name": " Design "})
    assert created.status_code == 303
    assert created.headers["location"] == f"{page_url}?notice=team_created"
    team = world.ctx.audit.entries(org, AuditFilter(action="team.created"))[0].target
    assert team is not None
    added = alice.form(f"{page_url}/{team}/members", {"member_id": str(world.bob.member_id)})
    assert added.status_code == 303 and "notice=team_member_added" in added.headers["location"]
    shown = html.unescape(alice.get(added.headers["location"]).text)
    assert "Design" in shown and world.bob.email in shown and "1 member" in shown

    clash = alice.form(page_url, {"name": "Design"})
    assert clash.status_code == 409
    assert "a team named 'Design' exists already" in html.unescape(clash.text)
    too_long = alice.form(page_url, {"name": "y" * 101})
    assert too_long.status_code == 400 and "1 to 100 characters" in too_long.text

    renamed = alice.form(f"{page_url}/{team}", {"name": "Product design"})
    assert renamed.status_code == 303
    assert "Product design" in html.unescape(alice.get(page_url).text)
    nobody = alice.form(f"{page_url}/{team}/members", {"member_id": "mem_nobody"})
    assert nobody.status_code == 404
    out = alice.form(f"{page_url}/{team}/members/{world.bob.member_id}/remove")
    assert out.status_code == 303 and "notice=team_member_removed" in out.headers["location"]
    deleted = alice.form(f"{page_url}/{team}/delete")
    assert deleted.status_code == 303
    assert "No teams yet" in alice.get(page_url).text
    assert world.bob.browser.form(page_url, {"name": "Bob's"}).status_code == 403


def test_an_admin_makes_a_team_follow_a_scim_group_from_the_page(world: World) -> None:
    alice, org = world.alice.browser, world.org_a
    page_url = f"/orgs/{org}/teams"
    ScimGroupRepository(world.ctx.engine).create(
        org, "Engineering", None, [str(world.dave.member_id)]
    )
    team = alice.api("POST", teams_url(world), {"name": "Platform"}).json()["id"]
    alice.form(f"{page_url}/{team}/members", {"member_id": str(world.bob.member_id)})
    by_hand = alice.get(page_url).text
    assert f'action="{page_url}/{team}/scim-group"' in by_hand
    assert "Follows SCIM group" not in by_hand

    followed = alice.form(f"{page_url}/{team}/scim-group", {"scim_group": " Engineering "})
    assert followed.status_code == 303
    assert followed.headers["location"] == f"{page_url}?notice=team_follows_group"
    shown = html.unescape(alice.get(followed.headers["location"]).text)
    assert "Follows SCIM group <strong>Engineering</strong>" in shown
    assert "members come from your identity provider" in shown
    assert world.dave.email in shown and world.bob.email not in shown  # the group's members
    assert f"{team}/members" not in shown  # no add or remove controls
    assert f"{team}/scim-group/stop" in shown
    mine = html.unescape(world.dave.browser.get(page_url).text)
    assert "from your identity provider's group Engineering" in mine

    refused = alice.form(f"{page_url}/{team}/members", {"member_id": str(world.bob.member_id)})
    assert refused.status_code == 409
    assert "follows the SCIM group 'Engineering'" in html.unescape(refused.text)
    out = alice.form(f"{page_url}/{team}/members/{world.dave.member_id}/remove")
    assert out.status_code == 409
    blank = alice.form(f"{page_url}/{team}/scim-group", {"scim_group": "  "})
    assert blank.status_code == 400 and "1 to 255 characters" in blank.text

    stopped = alice.form(f"{page_url}/{team}/scim-group/stop")
    assert stopped.status_code == 303 and "notice=team_unfollowed" in stopped.headers["location"]
    after = html.unescape(alice.get(page_url).text)
    assert "Follows SCIM group" not in after and world.dave.email in after  # members stay
    added = alice.form(f"{page_url}/{team}/members", {"member_id": str(world.bob.member_id)})
    assert added.status_code == 303
    actions = [e.action for e in world.ctx.audit.entries(org, AuditFilter(action="team."))]
    assert [a for a in reversed(actions) if a.startswith("team.scim_")] == [
        "team.scim_linked",
        "team.scim_unlinked",
    ]
    assert world.bob.browser.form(f"{page_url}/{team}/scim-group/stop").status_code == 403
