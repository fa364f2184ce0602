"""A team that follows a SCIM group mirrors its members as the identity provider pushes them.

Over the real SCIM endpoints (as Okta's group push sends them); the team's
members, its budget's counter and the audit log follow each push.
"""

from __future__ import annotations

from typing import Any

import pytest

from chatgrid.admin import teams
from chatgrid.audit import Actor, AuditFilter
from chatgrid.errors import Conflict, InvalidRequest
from chatgrid.identity.scim import GROUP_SCHEMA, PATCH_SCHEMA
from tests.support.console import World
from tests.support.scim import Idp, new_user
from tests.support.sso import new_domain, verified_domain

ADMIN = Actor(None, "admin@example.com")


@pytest.fixture
def people(world: World) -> tuple[Idp, list[str]]:
    domain = new_domain()
    verified_domain(world.ctx, world.org_a, domain)
    idp = Idp(world, world.org_a)
    ids = []
    for name in ("ann", "ben", "cat"):
        created = idp.call("POST", "/Users", new_user(f"{name}@{domain}", name))
        ids.append(created.json()["id"])
    return idp, ids


def team_member_ids(world: World, team_id: str) -> list[str]:
    return sorted(m.member_id for m in teams.team_members(world.ctx, world.org_a, team_id))


def group(name: str, *member_ids: str) -> dict[str, Any]:
    return {
        "schemas": [GROUP_SCHEMA],
        "displayName": name,
        "members": [{"value": m} for m in member_ids],
    }


def test_a_following_team_mirrors_each_push_and_refuses_hand_edits(
    world: World, people: tuple[Idp, list[str]]
) -> None:
    idp, (ann, ben, cat) = people
    ctx, org = world.ctx, world.org_a
    team = teams.create_team(ctx, org, ADMIN, "Engineering")
    teams.add_member(ctx, org, ADMIN, team.id, ctx.members.get(org, cat))  # set by hand, before

    # Following a group the IdP has not pushed yet: the team is empty until it does.
    followed = teams.follow_scim_group(ctx, org, ADMIN, team.id, "Eng")
    assert followed.scim_group == "Eng" and team_member_ids(world, team.id) == []

    created = idp.call("POST", "/Groups", group("Eng", ann))
    assert created.status_code == 201, created.text
    assert team_member_ids(world, team.id) == [ann]
    group_id = created.json()["id"]
    push = {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "path": "members", "value": [{"value": ben}]}],
    }
    assert idp.call("PATCH", f"/Groups/{group_id}", push).status_code == 204
    assert team_member_ids(world, team.id) == [ben]
    add = {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": ann}]}],
    }
    assert idp.call("PATCH", f"/Groups/{group_id}", add).status_code == 204
    assert team_member_ids(world, team.id) == sorted([ann, ben])

    with pytest.raises(Conflict) as refused:
        teams.add_member(ctx, org, ADMIN, team.id, ctx.members.get(org, cat))
    assert refused.value.code == "team_follows_scim_group"
    with pytest.raises(Conflict):
        teams.remove_member(ctx, org, ADMIN, team.id, ctx.members.get(org, ann))

    # A rename in the IdP: the team followed the old name, so it now follows nothing there.
    rename = {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "value": {"id": group_id, "displayName": "Platform"}}],
    }
    assert idp.call("PATCH", f"/Groups/{group_id}", rename).status_code == 204
    assert team_member_ids(world, team.id) == []

    # Following the new name picks the members up; the group's deletion empties the team.
    teams.follow_scim_group(ctx, org, ADMIN, team.id, "Platform")
    assert team_member_ids(world, team.id) == sorted([ann, ben])
    assert idp.call("DELETE", f"/Groups/{group_id}").status_code == 204
    assert team_member_ids(world, team.id) == []

    # Stopping: the team keeps what it has and takes hand edits again.
    teams.follow_scim_group(ctx, org, ADMIN, team.id, None)
    assert teams.add_member(ctx, org, ADMIN, team.id, ctx.members.get(org, cat))
    actions = [e.action for e in ctx.audit.entries(org, AuditFilter(action="team."))]
    assert actions.count("team.synced") == 7  # every change of members, and only those
    assert {"team.scim_linked", "team.scim_unlinked"} <= set(actions)


def test_a_group_name_is_checked(world: World) -> None:
    team = teams.create_team(world.ctx, world.org_a, ADMIN, "Ops")
    for bad in ("", "  ", "x" * 256, "eng\x00"):
        with pytest.raises(InvalidRequest):
            teams.follow_scim_group(world.ctx, world.org_a, ADMIN, team.id, bad)
    assert teams.get_team(world.ctx, world.org_a, team.id).scim_group is None
