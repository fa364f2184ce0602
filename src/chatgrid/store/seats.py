"""Seat periods: opened when a membership becomes active, closed when it ends.

Called inside the same transaction that changes the membership, so the
periods billed always match who was a member.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, update

from chatgrid.store.tables import seat_periods


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
