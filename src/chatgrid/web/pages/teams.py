"""The teams page: admins create, rename and delete teams and choose who is in them, by
hand or by making a team follow a SCIM group; any other member sees the teams they are in."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import teams
from chatgrid.errors import ChatGridError
from chatgrid.web.deps import Console, OrgAccess, OrgAdmin, OrgMember, TargetMember, TargetTeam
from chatgrid.web.pages.common import NOTICES, form_action, redirect, render
from chatgrid.web.state import ConsoleState

router = APIRouter()

TEAM_NOTICES = {
    "team_created": "The team is created. Add its members below.",
    "team_renamed": "The team is renamed.",
    "team_deleted": "The team is deleted; its members stay in the organization.",
    "team_member_added": "The member is in the team.",
    "team_member_removed": "The member is out of the team; they stay in the organization.",
    "team_follows_group": "The team follows the SCIM group: its members are now the group's.",
    "team_unfollowed": "The team no longer follows its SCIM group; its members stay, set by hand.",
}


def _teams_page(
    request: Request,
    state: ConsoleState,
    access: OrgAccess,
    *,
    refused: ChatGridError | None = None,
    typed: str = "",
) -> Response:
    asked = request.query_params.get("notice", "")
    ctx, org_id = state.ctx, access.org.id
    if access.is_admin:
        found = teams.list_teams(ctx, org_id)
        rosters = {t.id: teams.team_members(ctx, org_id, t.id) for t in found}
        active = [m for m in ctx.members.list(org_id) if m.status == "active"]
    else:
        found = teams.teams_of(ctx, org_id, access.member.id)
        rosters, active = {}, []
    return render(
        request,
        state,
        "teams.html",
        access=access,
        section="teams",
        teams=found,
        rosters=rosters,
        active_members=active,
        typed=typed,
        notice=TEAM_NOTICES.get(asked) or NOTICES.get(asked),
        refused=refused,
    )


@router.get("/orgs/{org_id}/teams")
def teams_page(request: Request, state: Console, access: OrgMember) -> Response:
    return _teams_page(request, state, access)


def _then_back(
    request: Request,
    state: ConsoleState,
    access: OrgAccess,
    act: Callable[[], object],
    notice: str,
    typed: str = "",
) -> Response:
    """Run one action, then back to the page with its notice (or the page with its refusal)."""

    def run() -> Response:
        act()
        return redirect(f"/orgs/{access.org.id}/teams", notice)

    return form_action(run, partial(_teams_page, request, state, access, typed=typed))


@router.post("/orgs/{org_id}/teams")
def create_team(
    request: Request,
    state: Console,
    access: OrgAdmin,
    name: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    create = partial(teams.create_team, state.ctx, access.org.id, access.actor, name)
    return _then_back(request, state, access, create, "team_created", typed=name)


@router.post("/orgs/{org_id}/teams/{team_id}")
def rename_team(
    request: Request,
    state: Console,
    access: OrgAdmin,
    team: TargetTeam,
    name: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    rename = partial(teams.rename_team, state.ctx, access.org.id, access.actor, team.id, name)
    return _then_back(request, state, access, rename, "team_renamed")


@router.post("/orgs/{org_id}/teams/{team_id}/delete")
def delete_team(request: Request, state: Console, access: OrgAdmin, team: TargetTeam) -> Response:
    delete = partial(teams.delete_team, state.ctx, access.org.id, access.actor, team.id)
    return _then_back(request, state, access, delete, "team_deleted")


@router.post("/orgs/{org_id}/teams/{team_id}/members")
def add_team_member(
    request: Request,
    state: Console,
    access: OrgAdmin,
    team: TargetTeam,
    member_id: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    def add() -> None:
        member = teams.active_member(state.ctx, access.org.id, member_id.strip())
        teams.add_member(state.ctx, access.org.id, access.actor, team.id, member)

    return _then_back(request, state, access, add, "team_member_added")


@router.post("/orgs/{org_id}/teams/{team_id}/members/{member_id}/remove")
def remove_team_member(
    request: Request, state: Console, access: OrgAdmin, team: TargetTeam, member: TargetMember
) -> Response:
    remove = partial(teams.remove_member, state.ctx, access.org.id, access.actor, team.id, member)
    return _then_back(request, state, access, remove, "team_member_removed")


@router.post("/orgs/{org_id}/teams/{team_id}/scim-group")
def follow_scim_group(
    request: Request,
    state: Console,
    access: OrgAdmin,
    team: TargetTeam,
    scim_group: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Members then come from the identity provider: the group's, by its displayName."""
    follow = partial(
        teams.follow_scim_group, state.ctx, access.org.id, access.actor, team.id, scim_group
    )
    return _then_back(request, state, access, follow, "team_follows_group")


@router.post("/orgs/{org_id}/teams/{team_id}/scim-group/stop")
def stop_following_scim_group(
    request: Request, state: Console, access: OrgAdmin, team: TargetTeam
) -> Response:
    stop = partial(teams.follow_scim_group, state.ctx, access.org.id, access.actor, team.id, None)
    return _then_back(request, state, access, stop, "team_unfollowed")
