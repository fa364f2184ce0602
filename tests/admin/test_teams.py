"""Teams inside an org: the admin functions against the real store, audited."""

from __future__ import annotations

import pytest

from chatgrid.admin import members, people, teams
from chatgrid.audit import Actor, AuditFilter
from chatgrid.context import AppContext
from chatgrid.errors import Conflict, InvalidRequest, NotFound
from chatgrid.identity.models import BillingMode, Member, Role

ALICE = Actor(user_id="usr_alice", email="alice@example.com", client_addr="203.0.113.5")


def seat(ctx: AppContext, org_id: str, email: str, role: Role = Role.MEMBER) -> Member:
    return people.add_member(ctx, org_id, email, role)


def actions(ctx: AppContext, org_id: str) -> list[tuple[str, dict[str, object]]]:
    entries = ctx.audit.entries(org_id, AuditFilter(action="team."))
    return [(e.action, e.details) for e in reversed(entries)]


def test_a_team_is_created_renamed_and_deleted_with_an_audit_entry_for_each(
    context: AppContext,
) -> None:
    org = context.orgs.create("teamed", BillingMode.BYOK).id
    team = teams.create_team(context, org, ALICE, "  Research  ")
    assert team.name == "Research" and team.id.startswith("team_") and team.member_count == 0
    renamed = teams.rename_team(context, org, ALICE, team.id, "Research & Development")
    assert renamed.id == team.id and renamed.name == "Research & Development"
    assert teams.rename_team(context, org, ALICE, team.id, "Research & Development") == renamed
    assert teams.find_team(context, org, "Research & Development").id == team.id
    assert teams.find_team(context, org, team.id).id == team.id
    teams.delete_team(context, org, ALICE, team.id)
    assert teams.list_teams(context, org) == []
    assert actions(context, org) == [
        ("team.created", {"name": "Research"}),
        ("team.renamed", {"from": "Research", "to": "Research & Development"}),
        ("team.deleted", {"name": "Research & Development", "members": 0}),
    ]


def test_a_name_is_unique_in_its_org_only(context: AppContext) -> None:
    org = context.orgs.create("dupes", BillingMode.BYOK).id
    other = context.orgs.create("other-dupes", BillingMode.BYOK).id
    first = teams.create_team(context, org, ALICE, "Sales")
    with pytest.raises(Conflict) as clash:
        teams.create_team(context, org, ALICE, " Sales ")
    assert clash.value.code == "team_exists" and clash.value.status == 409
    second = teams.create_team(context, org, ALICE, "Support")
    with pytest.raises(Conflict):
        teams.rename_team(context, org, ALICE, second.id, "Sales")
    assert teams.create_team(context, other, ALICE, "Sales").id != first.id
    assert [t.name for t in teams.list_teams(context, org)] == ["Sales", "Support"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "tab\there"])
def test_a_bad_name_is_refused(context: AppContext, name: str) -> None:
    org = context.orgs.create(f"bad-{len(name)}-{name[:1]}", BillingMode.BYOK).id
    with pytest.raises(InvalidRequest) as refused:
        teams.create_team(context, org, ALICE, name)
    assert refused.value.code == "invalid_team_name" and refused.value.param == "name"
    assert teams.list_teams(context, org) == []


def test_a_name_of_100_characters_is_accepted(context: AppContext) -> None:
    org = context.orgs.create("long-names", BillingMode.BYOK).id
    assert teams.create_team(context, org, ALICE, "y" * 100).name == "y" * 100


def test_a_member_may_be_in_two_teams_and_is_counted_in_each(context: AppContext) -> None:
    org = context.orgs.create("two-teams", BillingMode.BYOK).id
    dana = seat(context, org, "dana@example.com")
    eli = seat(context, org, "eli@example.com")
    red = teams.create_team(context, org, ALICE, "Red")
    blue = teams.create_team(context, org, ALICE, "Blue")
    assert teams.add_member(context, org, ALICE, red.id, dana)
    assert teams.add_member(context, org, ALICE, blue.id, dana)
    assert teams.add_member(context, org, ALICE, blue.id, eli)
    assert not teams.add_member(context, org, ALICE, blue.id, eli)  # already in it
    assert {t.name: t.member_count for t in teams.list_teams(context, org)} == {
        "Blue": 2,
        "Red": 1,
    }
    assert [t.name for t in teams.teams_of(context, org, dana.id)] == ["Blue", "Red"]
    assert [m.email for m in teams.team_members(context, org, blue.id)] == [
        "dana@example.com",
        "eli@example.com",
    ]
    assert teams.remove_member(context, org, ALICE, blue.id, dana)
    assert not teams.remove_member(context, org, ALICE, blue.id, dana)
    assert [t.name for t in teams.teams_of(context, org, dana.id)] == ["Red"]
    assert [a for a, _ in actions(context, org)] == [
        "team.created",
        "team.created",
        "team.member_added",
        "team.member_added",
        "team.member_added",
        "team.member_removed",
    ]
    assert actions(context, org)[2][1] == {
        "team": "Red",
        "member_id": dana.id,
        "email": "dana@example.com",
    }


def test_a_member_removed_from_the_org_leaves_every_team(context: AppContext) -> None:
    org = context.orgs.create("leavers", BillingMode.BYOK).id
    owner = seat(context, org, "owner@example.com", Role.OWNER)
    fay = seat(context, org, "fay@example.com")
    gus = seat(context, org, "gus@example.com")
    red = teams.create_team(context, org, ALICE, "Red")
    blue = teams.create_team(context, org, ALICE, "Blue")
    for team in (red, blue):
        teams.add_member(context, org, ALICE, team.id, fay)
        teams.add_member(context, org, ALICE, team.id, gus)
    members.remove_member(context, context.orgs.by_id(org), owner, ALICE, fay.id)
    assert teams.teams_of(context, org, fay.id) == []
    assert [m.email for m in teams.team_members(context, org, red.id)] == ["gus@example.com"]
    with pytest.raises(NotFound) as gone:
        teams.add_member(context, org, ALICE, red.id, teams.active_member(context, org, fay.id))
    assert gone.value.code == "member_not_found"
    with pytest.raises(NotFound):
        teams.member_by_email(context, org, "fay@example.com")


def test_a_team_or_member_of_another_org_is_not_found(context: AppContext) -> None:
    org = context.orgs.create("ours", BillingMode.BYOK).id
    theirs = context.orgs.create("theirs", BillingMode.BYOK).id
    ours = teams.create_team(context, org, ALICE, "Ours")
    their_team = teams.create_team(context, theirs, ALICE, "Theirs")
    stranger = seat(context, theirs, "stranger@example.com")
    mine = seat(context, org, "mine@example.com")
    for call in (
        lambda: teams.get_team(context, org, their_team.id),
        lambda: teams.find_team(context, org, "Theirs"),
        lambda: teams.rename_team(context, org, ALICE, their_team.id, "Mine now"),
        lambda: teams.delete_team(context, org, ALICE, their_team.id),
        lambda: teams.team_members(context, org, their_team.id),
        lambda: teams.add_member(context, org, ALICE, their_team.id, mine),
        lambda: teams.add_member(context, org, ALICE, ours.id, stranger),
        lambda: teams.active_member(context, org, stranger.id),
    ):
        with pytest.raises(NotFound):
            call()
    assert teams.get_team(context, theirs, their_team.id).name == "Theirs"
    assert teams.team_members(context, org, ours.id) == []


def test_deleting_a_team_keeps_its_members_in_the_org(context: AppContext) -> None:
    org = context.orgs.create("deleting", BillingMode.BYOK).id
    hal = seat(context, org, "hal@example.com")
    team = teams.create_team(context, org, ALICE, "Temp")
    teams.add_member(context, org, ALICE, team.id, hal)
    deleted = teams.delete_team(context, org, ALICE, team.id)
    assert deleted.member_count == 1
    assert teams.teams_of(context, org, hal.id) == []
    assert teams.active_member(context, org, hal.id).email == "hal@example.com"
    with pytest.raises(NotFound):
        teams.get_team(context, org, team.id)
