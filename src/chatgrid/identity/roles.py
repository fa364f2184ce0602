"""Who may administer an org, and the rules for changing roles and removing members.

Owners and admins administer; members use the org. Owners are the only ones
who can make, demote or remove an owner, and an org always keeps at least
one owner. Every function raises ``PermissionDenied`` or ``Conflict`` with a
plain message, or returns.
"""

from __future__ import annotations

from chatgrid.errors import Conflict, PermissionDenied
from chatgrid.identity.models import Member, Role

ADMIN_ROLES = frozenset({Role.OWNER, Role.ADMIN})


def can_administer(role: Role) -> bool:
    return role in ADMIN_ROLES


def require_admin(role: Role) -> None:
    if not can_administer(role):
        raise PermissionDenied("only the org's owners and admins can do this", code="admin_only")


def check_invite(inviter_role: Role, role: Role) -> None:
    require_admin(inviter_role)
    if role is Role.OWNER and inviter_role is not Role.OWNER:
        raise PermissionDenied("only an owner can invite another owner", code="owner_only")


def check_role_change(actor: Member, target: Member, new_role: Role, owner_count: int) -> None:
    require_admin(actor.role)
    if target.status != "active":
        raise Conflict("this person is no longer a member", code="member_removed")
    touches_owner = target.role is Role.OWNER or new_role is Role.OWNER
    if touches_owner and actor.role is not Role.OWNER:
        raise PermissionDenied("only an owner can make or demote an owner", code="owner_only")
    if target.role is Role.OWNER and new_role is not Role.OWNER and owner_count <= 1:
        raise Conflict(
            "the last owner cannot be demoted; make someone else an owner first",
            code="last_owner",
        )


def check_removal(actor: Member, target: Member, owner_count: int) -> None:
    require_admin(actor.role)
    if target.status != "active":
        raise Conflict("this person is no longer a member", code="member_removed")
    if target.role is Role.OWNER and actor.role is not Role.OWNER:
        raise PermissionDenied("only an owner can remove an owner", code="owner_only")
    if target.role is Role.OWNER and owner_count <= 1:
        raise Conflict(
            "the last owner cannot be removed; make someone else an owner first",
            code="last_owner",
        )
