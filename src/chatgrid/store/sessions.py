"""Console sessions: only the SHA-256 of each session id is stored."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, or_, select, update

from chatgrid.identity.sessions import SessionRecord
from chatgrid.identity.users import User
from chatgrid.store.tables import sessions, users


def _record(row: Mapping[Any, Any]) -> SessionRecord:
    return SessionRecord(
        id_hash=row["id_hash"],
        user_id=row["user_id"],
        org_id=row["org_id"],
        csrf_token=row["csrf_token"],
        created_at=row["created_at"],
        last_seen_at=row["last_seen_at"],
        expires_at=row["expires_at"],
        client_addr=row["client_addr"],
        user_agent=row["user_agent"],
    )


def end_all_sessions(conn: Connection, user_id: str) -> int:
    """End every session of a user in the caller's transaction (a new password)."""
    return int(conn.execute(delete(sessions).where(sessions.c.user_id == user_id)).rowcount)


def end_sessions_in_org(conn: Connection, user_id: str, org_id: str) -> int:
    """End a user's sessions in one org (and those not in any org yet), in the caller's
    transaction: a member removed from an org is signed out of it at once."""
    ended = conn.execute(
        delete(sessions).where(
            sessions.c.user_id == user_id,
            or_(sessions.c.org_id == org_id, sessions.c.org_id.is_(None)),
        )
    )
    return int(ended.rowcount)


class SessionRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, record: SessionRecord) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sessions.insert().values(
                    id_hash=record.id_hash,
                    user_id=record.user_id,
                    org_id=record.org_id,
                    csrf_token=record.csrf_token,
                    created_at=record.created_at,
                    last_seen_at=record.last_seen_at,
                    expires_at=record.expires_at,
                    client_addr=record.client_addr,
                    user_agent=(record.user_agent or "")[:300] or None,
                )
            )

    def lookup(self, id_hash: str) -> tuple[SessionRecord, User] | None:
        """The session and its user, in one query."""
        query = (
            select(
                sessions,
                users.c.email,
                users.c.is_operator,
                users.c.password_hash,
                users.c.created_at.label("user_created_at"),
                users.c.password_changed_at,
            )
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.id_hash == id_hash)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        user = User(
            id=row["user_id"],
            email=row["email"],
            is_operator=bool(row["is_operator"]),
            has_password=row["password_hash"] is not None,
            created_at=row["user_created_at"],
            password_changed_at=row["password_changed_at"],
        )
        return _record(row), user

    def touch(self, id_hash: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(sessions).where(sessions.c.id_hash == id_hash).values(last_seen_at=now)
            )

    def set_org(self, id_hash: str, org_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(sessions).where(sessions.c.id_hash == id_hash).values(org_id=org_id)
            )

    def delete(self, id_hash: str) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(delete(sessions).where(sessions.c.id_hash == id_hash)).rowcount > 0

    def delete_for_user(self, user_id: str) -> int:
        """End every session of a user (password change)."""
        with self.engine.begin() as conn:
            return end_all_sessions(conn, user_id)

    def list_for_user(self, user_id: str) -> list[SessionRecord]:
        """A person's own sessions, most recently used first (their account page)."""
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    select(sessions)
                    .where(sessions.c.user_id == user_id)
                    .order_by(sessions.c.last_seen_at.desc(), sessions.c.created_at.desc())
                )
                .mappings()
                .all()
            )
        return [_record(row) for row in rows]

    def delete_own(self, user_id: str, id_hash: str) -> bool:
        """End one session, only if it is this user's."""
        with self.engine.begin() as conn:
            ended = conn.execute(
                delete(sessions).where(sessions.c.user_id == user_id, sessions.c.id_hash == id_hash)
            )
        return ended.rowcount > 0

    def delete_others(self, user_id: str, keep_id_hash: str) -> int:
        """End every session of a user but the one they are using."""
        with self.engine.begin() as conn:
            ended = conn.execute(
                delete(sessions).where(
                    sessions.c.user_id == user_id, sessions.c.id_hash != keep_id_hash
                )
            )
        return int(ended.rowcount)

    def count_for_user(self, user_id: str) -> int:
        with self.engine.connect() as conn:
            count = conn.execute(
                select(func.count()).select_from(sessions).where(sessions.c.user_id == user_id)
            ).scalar_one()
        return int(count)

    def purge_expired(self, now: datetime) -> int:
        with self.engine.begin() as conn:
            return int(conn.execute(delete(sessions).where(sessions.c.expires_at <= now)).rowcount)
