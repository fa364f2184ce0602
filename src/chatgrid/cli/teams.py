"""Teams inside an org: create, list, rename, delete, and who is in them (``docs/console.md``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from chatgrid.admin import teams
from chatgrid.audit import Actor
from chatgrid.cli.common import OrgArg, admin_context, emit
from chatgrid.store.teams import Team, TeamMember

team_app = typer.Typer(
    help="Teams inside an org (a member may be in several).", no_args_is_help=True
)

TeamArg = Annotated[str, typer.Argument(help="The team's id or its name.")]
NameArg = Annotated[str, typer.Argument(help="The team's name (1 to 100 characters).")]
EmailArg = Annotated[str, typer.Argument(help="The member's email address.")]


def team_view(team: Team) -> dict[str, Any]:
    return {
        "id": team.id,
        "name": team.name,
        "member_count": team.member_count,
        "created_at": team.created_at,
        "scim_group": team.scim_group,
    }


def member_view(member: TeamMember) -> dict[str, Any]:
    return {
        "member_id": member.member_id,
        "email": member.email,
        "role": member.role,
        "added_at": member.added_at,
    }


@team_app.command("create")
def team_create(org: OrgArg, name: NameArg) -> None:
    """Create an empty team in an org."""
    with admin_context() as ctx:
        emit(team_view(teams.create_team(ctx, ctx.orgs.get(org).id, Actor.cli(), name)))


@team_app.command("list")
def team_list(org: OrgArg) -> None:
    """The org's teams by name, with their numbers of members."""
    with admin_context() as ctx:
        emit([team_view(t) for t in teams.list_teams(ctx, ctx.orgs.get(org).id)])


@team_app.command("rename")
def team_rename(org: OrgArg, team: TeamArg, new_name: NameArg) -> None:
    """Rename a team (its id and members stay)."""
    with admin_context() as ctx:
        org_id = ctx.orgs.get(org).id
        found = teams.find_team(ctx, org_id, team)
        emit(team_view(teams.rename_team(ctx, org_id, Actor.cli(), found.id, new_name)))


@team_app.command("delete")
def team_delete(org: OrgArg, team: TeamArg) -> None:
    """Delete a team; its members stay in the org."""
    with admin_context() as ctx:
        org_id = ctx.orgs.get(org).id
        found = teams.find_team(ctx, org_id, team)
        teams.delete_team(ctx, org_id, Actor.cli(), found.id)
        emit({"id": found.id, "name": found.name, "deleted": True})


@team_app.command("add")
def team_add(org: OrgArg, team: TeamArg, email: EmailArg) -> None:
    """Put a member of the org in a team (nothing changes if they are in it already)."""
    with admin_context() as ctx:
        org_id = ctx.orgs.get(org).id
        found = teams.find_team(ctx, org_id, team)
        member = teams.member_by_email(ctx, org_id, email)
        added = teams.add_member(ctx, org_id, Actor.cli(), found.id, member)
        emit({"team": found.id, "member_id": member.id, "email": member.email, "added": added})


@team_app.command("remove")
def team_remove(org: OrgArg, team: TeamArg, email: EmailArg) -> None:
    """Take a member out of a team (they stay in the org)."""
    with admin_context() as ctx:
        org_id = ctx.orgs.get(org).id
        found = teams.find_team(ctx, org_id, team)
        member = ctx.members.find_by_email(org_id, email)
        removed = teams.remove_member(ctx, org_id, Actor.cli(), found.id, member)
        emit({"team": found.id, "member_id": member.id, "email": member.email, "removed": removed})


@team_app.command("members")
def team_members(org: OrgArg, team: TeamArg) -> None:
    """A team's members by email."""
    with admin_context() as ctx:
        org_id = ctx.orgs.get(org).id
        found = teams.find_team(ctx, org_id, team)
        emit([member_view(m) for m in teams.team_members(ctx, org_id, found.id)])


@team_app.command("follow-group")
def team_follow_group(
    org: OrgArg,
    team: TeamArg,
    group: Annotated[
        str, typer.Argument(help="The SCIM group's displayName, as the IdP sends it.")
    ],
) -> None:
    """Make a team mirror a SCIM group's members (the identity provider decides them)."""
    with admin_context() as ctx:
        org_id = ctx.orgs.get(org).id
        found = teams.find_team(ctx, org_id, team)
        emit(team_view(teams.follow_scim_group(ctx, org_id, Actor.cli(), found.id, group)))


@team_app.command("unfollow-group")
def team_unfollow_group(org: OrgArg, team: TeamArg) -> None:
    """Stop mirroring a SCIM group: the team keeps its members, set by hand from now on."""
    with admin_context() as ctx:
        org_id = ctx.orgs.get(org).id
        found = teams.find_team(ctx, org_id, team)
        emit(team_view(teams.follow_scim_group(ctx, org_id, Actor.cli(), found.id, None)))
