"""Who may change whose role, and who may remove whom."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chatgrid.errors import Conflict, PermissionDenied
from chatgrid.identity.models import Member, Role
from chatgrid.identity.roles import (
    can_administer,
    check_invite,
    check_removal,
    check_role_change,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def member(role: Role, name: str = "x", status: str = "active") -> Member:
    return Member(f"mem_{name}", "org_1", f"usr_{name}", f"{name}@example.com", role, status, NOW)


OWNER, ADMIN, MEMBER = member(Role.OWNER, "o"), member(Role.ADMIN, "a"), member(Role.MEMBER, "m")


def test_only_owners_and_admins_administer() -> None:
    assert can_administer(Role.OWNER) and can_administer(Role.ADMIN)
    assert not can_administer(Role.MEMBER)


def test_a_member_cannot_raise_their_own_role() -> None:
    for role in Role:
        with pytest.raises(PermissionDenied):
            check_role_change(MEMBER, MEMBER, role, owner_count=1)


def test_an_admin_manages_members_and_admins() -> None:
    check_role_change(ADMIN, MEMBER, Role.ADMIN, owner_count=1)
    check_role_change(ADMIN, member(Role.ADMIN, "b"), Role.MEMBER, owner_count=1)
    check_removal(ADMIN, MEMBER, owner_count=1)


def test_an_admin_cannot_make_demote_or_remove_an_owner() -> None:
    with pytest.raises(PermissionDenied, match="owner"):
        check_role_change(ADMIN, MEMBER, Role.OWNER, owner_count=1)
    with pytest.raises(PermissionDenied, match="owner"):
        check_role_change(ADMIN, ADMIN, Role.OWNER, owner_count=1)  # not themselves either
    with pytest.raises(PermissionDenied, match="owner"):
        check_role_change(ADMIN, OWNER, Role.MEMBER, owner_count=2)
    with pytest.raises(PermissionDenied, match="owner"):
        check_removal(ADMIN, OWNER, owner_count=2)


def test_owners_manage_owners_but_the_last_owner_stays() -> None:
    check_role_change(OWNER, MEMBER, Role.OWNER, owner_count=1)
    check_role_change(OWNER, member(Role.OWNER, "p"), Role.ADMIN, owner_count=2)
    check_removal(OWNER, member(Role.OWNER, "p"), owner_count=2)
    with pytest.raises(Conflict, match="last owner"):
        check_role_change(OWNER, OWNER, Role.ADMIN, owner_count=1)
    with pytest.raises(Conflict, match="last owner"):
        check_removal(OWNER, OWNER, owner_count=1)


def test_removed_members_are_not_changed_again() -> None:
    gone = member(Role.MEMBER, "g", status="removed")
    with pytest.raises(Conflict):
        check_removal(OWNER, gone, owner_count=1)
    with pytest.raises(Conflict):
        check_role_change(OWNER, gone, Role.ADMIN, owner_count=1)


def test_invitations_follow_the_same_rules() -> None:
    check_invite(Role.OWNER, Role.OWNER)
    check_invite(Role.ADMIN, Role.ADMIN)
    with pytest.raises(PermissionDenied):
        check_invite(Role.ADMIN, Role.OWNER)
    with pytest.raises(PermissionDenied):
        check_invite(Role.MEMBER, Role.MEMBER)
