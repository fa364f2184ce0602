"""Teams inside an org: create, rename, delete, and who is in them; audited.

A member may be in several teams. A team's id never changes (a rename keeps
it): a budget hangs on it (``admin.budgets``), and a change of members
reaches the gateway's cached budgets at once (the change marker). Members who leave the org leave
its teams at once (``store.teams.leave_teams``).

Who may act is decided at the door: the console and the API let an org's
owners and admins in (``web.deps.OrgAdmin``), members only read the teams they
are in; the command line is the operator's.
"""

from __future__ import annotations

from chatgrid.audit import Actor
from chatgrid.billing.budget_rules import BudgetScope
from chatgrid.context import AppContext
from chatgrid.errors import Conflict, InvalidRequest, NotFound
from chatgrid.identity.models import Member
from chatgrid.identity.users import has_control_characters
from chatgrid.store.scim_groups import ScimGroupRepository
from chatgrid.store.teams import Team, TeamMember, TeamRepository

MAX_TEAM_NAME = 100


def team_repository(ctx: AppContext) -> TeamRepository:
    return TeamRepository(ctx.engine)


def team_name(raw: str) -> str:
    """A team's name as stored: trimmed, 1 to 100 characters, no control characters."""
    name = raw.strip()
    if not name or len(name) > MAX_TEAM_NAME or has_control_characters(name):
        raise InvalidRequest(
            f"a team's name is 1 to {MAX_TEAM_NAME} characters, without control characters",
            code="invalid_team_name",
            param="name",
        )
    return name


def list_teams(ctx: AppContext, org_id: str) -> list[Team]:
    return team_repository(ctx).list(org_id)


def get_team(ctx: AppContext, org_id: str, team_id: str) -> Team:
    return team_repository(ctx).get(org_id, team_id)


def find_team(ctx: AppContext, org_id: str, ref: str) -> Team:
    """A team by its id or its name (the command line's ``TEAM``)."""
    return team_repository(ctx).find(org_id, ref)


def team_members(ctx: AppContext, org_id: str, team_id: str) -> list[TeamMember]:
    return team_repository(ctx).members_of(org_id, team_id)


def teams_of(ctx: AppContext, org_id: str, member_id: str) -> list[Team]:
    """The teams a member is in."""
    return team_repository(ctx).teams_of(org_id, member_id)


def create_team(ctx: AppContext, org_id: str, actor: Actor, name: str) -> Team:
    """A new, empty team; a name the org uses already is refused (409 ``team_exists``)."""
    team = team_repository(ctx).create(org_id, team_name(name))
    ctx.audit.record(org_id, actor, "team.created", team.id, {"name": team.name})
    return team


def rename_team(ctx: AppContext, org_id: str, actor: Actor, team_id: str, name: str) -> Team:
    """Rename a team (its id and members stay); the same name again changes nothing."""
    new_name = team_name(name)
    repo = team_repository(ctx)
    before = repo.get(org_id, team_id)
    if before.name == new_name:
        return before
    team = repo.rename(org_id, team_id, new_name)
    ctx.audit.record(org_id, actor, "team.renamed", team.id, {"from": before.name, "to": team.name})
    return team


def delete_team(ctx: AppContext, org_id: str, actor: Actor, team_id: str) -> Team:
    """Delete a team; its members stay in the org."""
    team = team_repository(ctx).delete(org_id, team_id)
    ctx.budgets.remove(org_id, BudgetScope.TEAM, team.id)
    ctx.changes.bump()  # its budget, if it had one, stops counting at once
    ctx.audit.record(
        org_id, actor, "team.deleted", team.id, {"name": team.name, "members": team.member_count}
    )
    return team


def _set_by_hand(team: Team) -> None:
    """A team that follows a SCIM group takes its members from the identity provider only."""
    if team.scim_group is not None:
        raise Conflict(
            f"the team {team.name!r} follows the SCIM group {team.scim_group!r}: change its "
            "members in your identity provider, or stop following the group first",
            code="team_follows_scim_group",
        )


def add_member(ctx: AppContext, org_id: str, actor: Actor, team_id: str, member: Member) -> bool:
    """Put an active member of the org in the team; False (and no audit) if already there."""
    if member.org_id != org_id:
        raise NotFound("no such member", code="member_not_found", param="member")
    repo = team_repository(ctx)
    _set_by_hand(repo.get(org_id, team_id))
    added = repo.add_member(org_id, team_id, member.id)
    if added:
        ctx.changes.bump()  # the member's calls count in the team's budget at once
        team = repo.get(org_id, team_id)
        ctx.audit.record(
            org_id,
            actor,
            "team.member_added",
            team.id,
            {"team": team.name, "member_id": member.id, "email": member.email},
        )
    return added


def remove_member(ctx: AppContext, org_id: str, actor: Actor, team_id: str, member: Member) -> bool:
    """Take a member out of the team; False (and no audit) if they were not in it."""
    repo = team_repository(ctx)
    _set_by_hand(repo.get(org_id, team_id))
    removed = repo.remove_member(org_id, team_id, member.id)
    if removed:
        ctx.changes.bump()
        team = repo.get(org_id, team_id)
        ctx.audit.record(
            org_id,
            actor,
            "team.member_removed",
            team.id,
            {"team": team.name, "member_id": member.id, "email": member.email},
        )
    return removed


def follow_scim_group(
    ctx: AppContext, org_id: str, actor: Actor, team_id: str, group_name: str | None
) -> Team:
    """Make the team mirror a SCIM group's members (by displayName), or stop (None).

    Following starts at once: the team's members become the group's (a group the
    identity provider has not pushed yet leaves the team empty until it does).
    Stopping keeps the members the team has, to be changed by hand from then on.
    """
    repo = team_repository(ctx)
    before = repo.get(org_id, team_id)
    name = None if group_name is None else group_name.strip()
    if name is not None and (not name or len(name) > 255 or has_control_characters(name)):
        raise InvalidRequest(
            "a SCIM group's name is 1 to 255 characters, without control characters",
            code="invalid_scim_group",
            param="scim_group",
        )
    if before.scim_group == name:
        return before
    team = repo.link(org_id, team_id, name)
    if name is None:
        ctx.audit.record(
            org_id,
            actor,
            "team.scim_unlinked",
            team.id,
            {"team": team.name, "group": before.scim_group},
        )
        return team
    ctx.audit.record(org_id, actor, "team.scim_linked", team.id, {"team": team.name, "group": name})
    sync_followers(ctx, org_id, actor, {name})
    return repo.get(org_id, team_id)


def sync_followers(ctx: AppContext, org_id: str, actor: Actor, group_names: set[str]) -> int:
    """Mirror every team that follows one of these groups (the IdP just changed them).

    How many teams changed; each change is audited (``team.synced``) and reaches
    the gateway's budgets at once.
    """
    repo = team_repository(ctx)
    groups = ScimGroupRepository(ctx.engine)
    changed = 0
    for team in repo.following(org_id, group_names):
        assert team.scim_group is not None
        added, removed = repo.mirror(org_id, team.id, groups.members_named(org_id, team.scim_group))
        if added or removed:
            changed += 1
            ctx.audit.record(
                org_id,
                actor,
                "team.synced",
                team.id,
                {"team": team.name, "group": team.scim_group, "added": added, "removed": removed},
            )
    if changed:
        ctx.changes.bump()
    return changed


def active_member(ctx: AppContext, org_id: str, member_id: str) -> Member:
    """A member of the org by id, refused (404) unless still active."""
    member = ctx.members.get(org_id, member_id)
    if member.status != "active":
        raise NotFound("no such member", code="member_not_found", param="member")
    return member


def member_by_email(ctx: AppContext, org_id: str, email: str) -> Member:
    """A member of the org by email (the command line's ``EMAIL``), 404 unless active."""
    member = ctx.members.find_by_email(org_id, email)
    if member.status != "active":
        raise NotFound(f"{email} is not a member of this org", code="member_not_found")
    return member
