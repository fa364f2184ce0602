"""SCIM Groups as admin actions: the identity provider's groups, the roles they give,
and the teams that follow them (``admin.teams.follow_scim_group``).

A group's ``displayName`` maps to a role through the org's single sign-on
role map (``chatgrid sso oidc set ... --role-map GROUP=ROLE``), the same map
sign-in uses: a member's role is the highest that any of their groups maps
to, or the connection's default role. An org without a role map keeps its
roles as the console set them; owners are never changed by SCIM.
"""

from __future__ import annotations

from chatgrid.admin.teams import sync_followers
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.identity.models import Member, Org, Role
from chatgrid.identity.scim import GroupChange
from chatgrid.identity.sso import role_for
from chatgrid.store.scim_groups import ScimGroup, ScimGroupRepository
from chatgrid.store.sso import SsoRepository


def _repo(ctx: AppContext) -> ScimGroupRepository:
    return ScimGroupRepository(ctx.engine)


def find_groups(
    ctx: AppContext, org: Org, *, name: str | None, offset: int, limit: int
) -> tuple[list[ScimGroup], int]:
    return _repo(ctx).find(org.id, name=name, offset=offset, limit=limit)


def get_group(ctx: AppContext, org: Org, group_id: str) -> ScimGroup:
    return _repo(ctx).get(org.id, group_id)


def create_group(ctx: AppContext, org: Org, actor: Actor, fields: GroupChange) -> ScimGroup:
    assert fields.display_name is not None
    members = list(fields.replace or ())
    group_id = _repo(ctx).create(org.id, fields.display_name, fields.external_id, members)
    details = {"display_name": fields.display_name, "members": len(members)}
    ctx.audit.record(org.id, actor, "scim.group_created", group_id, details)
    _apply_roles(ctx, org, actor, set(members))
    sync_followers(ctx, org.id, actor, {fields.display_name})
    return get_group(ctx, org, group_id)


def change_group(
    ctx: AppContext, org: Org, actor: Actor, group_id: str, change: GroupChange
) -> ScimGroup:
    """A PATCH or PUT: the group's name and members, then the roles they give."""
    before = get_group(ctx, org, group_id)
    _repo(ctx).change(
        org.id,
        group_id,
        name=change.display_name,
        external_id=change.external_id,
        add=list(change.add),
        remove=list(change.remove),
        replace=None if change.replace is None else list(change.replace),
    )
    after = get_group(ctx, org, group_id)
    details = {
        "display_name": after.display_name,
        "added": sorted(set(after.member_ids) - set(before.member_ids)),
        "removed": sorted(set(before.member_ids) - set(after.member_ids)),
    }
    ctx.audit.record(org.id, actor, "scim.group_changed", group_id, details)
    touched = set(before.member_ids) | set(after.member_ids)
    if before.display_name == after.display_name:
        touched = touched ^ (set(before.member_ids) & set(after.member_ids))
    _apply_roles(ctx, org, actor, touched)
    sync_followers(ctx, org.id, actor, {before.display_name, after.display_name})
    return after


def delete_group(ctx: AppContext, org: Org, actor: Actor, group_id: str) -> None:
    group = _repo(ctx).delete(org.id, group_id)
    details = {"display_name": group.display_name}
    ctx.audit.record(org.id, actor, "scim.group_deleted", group_id, details)
    _apply_roles(ctx, org, actor, set(group.member_ids))
    sync_followers(ctx, org.id, actor, {group.display_name})


def _apply_roles(ctx: AppContext, org: Org, actor: Actor, member_ids: set[str]) -> None:
    connection = SsoRepository(ctx.engine).get(org.id)
    if connection is None or not connection.role_map or not member_ids:
        return
    changed = False
    for member_id in sorted(member_ids):
        member = ctx.members.get(org.id, member_id)
        if member.status != "active" or member.role is Role.OWNER:
            continue
        names = _repo(ctx).names_of(member_id)
        role = role_for(names, connection.role_map, connection.default_role)
        if role is Role.OWNER or role is member.role:
            continue

        def guard(target: Member, owners: int) -> None:
            """Roles from groups never touch an owner (checked again under the lock)."""

        ctx.accounts.change_role(org.id, member_id, role, guard)
        changed = True
        details = {"email": member.email, "from": member.role.value, "to": role.value}
        ctx.audit.record(org.id, actor, "scim.role_changed", member_id, details)
    if changed:
        ctx.changes.bump()
