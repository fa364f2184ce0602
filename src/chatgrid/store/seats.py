"""Memberships and their seat periods: the one module that writes ``members`` and
``seat_periods``.

A seat opens when a membership becomes active and closes when it ends, in
the same transaction that changes the membership (the repositories call
these functions with their connection), so the periods billed always match
who was a member.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, update

from chatgrid.errors import Conflict
from chatgrid.governance.erasure import Erasure
from chatgrid.identity.models import Role
from chatgrid.store.ids import new_id
from chatgrid.store.tables import members, seat_periods


def seat_member(
    conn: Connection, org_id: str, user_id: str, email: str, role: Role, now: datetime
) -> str:
    """Make ``user_id`` an active member of the org (again, if they left) and open their seat.

    The one place a membership becomes active, whichever door added it, so
    the seat periods billed always follow the memberships.
    """
    existing = conn.execute(
        select(members.c.id, members.c.status).where(
            members.c.org_id == org_id, members.c.user_id == user_id
        )
    ).first()
    if existing is not None and existing.status == "active":
        raise Conflict(f"{email} is already a member", code="member_exists")
    if existing is not None:
        member_id = str(existing.id)
        conn.execute(
            update(members)
            .where(members.c.id == member_id)
            .values(role=role.value, status="active", removed_at=None)
        )
    else:
        member_id = new_id("mem")
        conn.execute(
            members.insert().values(
                id=member_id,
                org_id=org_id,
                user_id=user_id,
                role=role.value,
                status="active",
                created_at=now,
            )
        )
    open_seat(conn, org_id, member_id, now)
    return member_id


def set_role(conn: Connection, member_id: str, role: Role) -> None:
    conn.execute(update(members).where(members.c.id == member_id).values(role=role.value))


def end_membership(conn: Connection, org_id: str, member_id: str, at: datetime) -> None:
    """The member leaves the org (the row stays, for the ledger's names) and their seat closes."""
    conn.execute(
        update(members)
        .where(members.c.org_id == org_id, members.c.id == member_id)
        .values(status="removed", removed_at=at)
    )
    close_seat(conn, org_id, member_id, at)


def open_seat(conn: Connection, org_id: str, member_id: str, at: datetime) -> None:
    conn.execute(seat_periods.insert().values(org_id=org_id, member_id=member_id, started_at=at))


def close_seat(conn: Connection, org_id: str, member_id: str, at: datetime) -> None:
    conn.execute(
        update(seat_periods)
        .where(
            seat_periods.c.org_id == org_id,
            seat_periods.c.member_id == member_id,
            seat_periods.c.ended_at.is_(None),
        )
        .values(ended_at=at)
    )


def erase_membership(conn: Connection, erasure: Erasure, at: datetime) -> None:
    """Replace an erased member's row by the alias's, with no account behind it, and move
    their seat periods to it (billed seats stay billed); the caller has removed everything
    else that pointed at the old row."""
    old = conn.execute(select(members).where(members.c.id == erasure.member_id)).mappings().one()
    conn.execute(
        members.insert().values(
            id=erasure.alias,
            org_id=erasure.org_id,
            user_id=None,
            role=old["role"],
            status="erased",
            created_at=old["created_at"],
            removed_at=old["removed_at"] or at,
        )
    )
    conn.execute(
        update(seat_periods)
        .where(seat_periods.c.member_id == erasure.member_id)
        .values(member_id=erasure.alias)
    )
    conn.execute(members.delete().where(members.c.id == erasure.member_id))
