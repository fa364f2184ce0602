"""Teams inside an org through the API: org admins manage them; a member lists their own.

A team or member of another org is a 404, like an unknown one.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from chatgrid.admin import teams
from chatgrid.web.api.teams_schemas import (
    TeamCreate,
    TeamDetail,
    TeamPublic,
    TeamUpdate,
    team_detail,
    team_public,
)
from chatgrid.web.deps import Console, OrgAdmin, OrgMember, TargetMember, TargetTeam

router = APIRouter(tags=["teams"])


@router.get(
    "/api/orgs/{org_id}/teams",
    response_model=list[TeamPublic],
    summary="The org's teams (a member: the teams they are in)",
)
def list_teams(state: Console, access: OrgMember) -> list[TeamPublic]:
    """Admins and owners get every team; any other member only the teams they are in."""
    if access.is_admin:
        found = teams.list_teams(state.ctx, access.org.id)
    else:
        found = teams.teams_of(state.ctx, access.org.id, access.member.id)
    return [team_public(t) for t in found]


@router.post(
    "/api/orgs/{org_id}/teams",
    response_model=TeamPublic,
    status_code=201,
    summary="Create a team",
)
def create_team(body: TeamCreate, state: Console, access: OrgAdmin) -> TeamPublic:
    """400 ``invalid_team_name`` unless 1 to 100 characters once trimmed; 409
    ``team_exists`` when the org has a team of that name."""
    return team_public(teams.create_team(state.ctx, access.org.id, access.actor, body.name))


@router.get(
    "/api/orgs/{org_id}/teams/{team_id}",
    response_model=TeamDetail,
    summary="A team and its members",
)
def get_team(state: Console, access: OrgAdmin, team: TargetTeam) -> TeamDetail:
    return team_detail(team, teams.team_members(state.ctx, access.org.id, team.id))


@router.patch(
    "/api/orgs/{org_id}/teams/{team_id}",
    response_model=TeamPublic,
    summary="Rename a team, or make it follow a SCIM group",
)
def update_team(body: TeamUpdate, state: Console, access: OrgAdmin, team: TargetTeam) -> TeamPublic:
    """400 ``invalid_team_name``, 409 ``team_exists`` as for a new team; 400
    ``invalid_scim_group`` for a group name that is empty or too long. A team
    that follows a group refuses members put in or taken out by hand (409
    ``team_follows_scim_group``)."""
    ctx, org_id = state.ctx, access.org.id
    found = team
    if body.name is not None:
        found = teams.rename_team(ctx, org_id, access.actor, team.id, body.name)
    if "scim_group" in body.model_fields_set:
        found = teams.follow_scim_group(ctx, org_id, access.actor, team.id, body.scim_group)
    return team_public(found)


@router.delete(
    "/api/orgs/{org_id}/teams/{team_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a team (its members stay in the org)",
)
def delete_team(state: Console, access: OrgAdmin, team: TargetTeam) -> None:
    teams.delete_team(state.ctx, access.org.id, access.actor, team.id)


@router.put(
    "/api/orgs/{org_id}/teams/{team_id}/members/{member_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Put a member in a team (nothing changes if they are in it)",
)
def add_team_member(
    state: Console, access: OrgAdmin, team: TargetTeam, member: TargetMember
) -> None:
    """404 ``member_not_found`` for a member who is not (or no longer) in the org."""
    active = teams.active_member(state.ctx, access.org.id, member.id)
    teams.add_member(state.ctx, access.org.id, access.actor, team.id, active)


@router.delete(
    "/api/orgs/{org_id}/teams/{team_id}/members/{member_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Take a member out of a team (they stay in the org)",
)
def remove_team_member(
    state: Console, access: OrgAdmin, team: TargetTeam, member: TargetMember
) -> None:
    teams.remove_member(state.ctx, access.org.id, access.actor, team.id, member)
