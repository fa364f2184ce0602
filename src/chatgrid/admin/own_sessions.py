"""A person's own sessions: see where the account is signed in, and end any of them.

Sessions are server-side (``identity.sessions``): every request looks its
row up, so a session ended here stops working at its very next request, on
every replica. A session is named by a handle (``identity.devices``), never
by the hash the database keys it by.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chatgrid.admin.signin import ClientInfo, record_for_user, session_policy
from chatgrid.context import AppContext
from chatgrid.errors import NotFound
from chatgrid.identity.devices import device_label, session_handle
from chatgrid.identity.sessions import SessionRecord, session_expired
from chatgrid.identity.users import User
from chatgrid.store.types import utcnow


@dataclass(frozen=True)
class OwnSession:
    id: str
    device: str
    address: str | None
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    current: bool


def list_own(ctx: AppContext, user: User, current: SessionRecord) -> list[OwnSession]:
    """The account's live sessions, the one asking first."""
    now, policy = utcnow(), session_policy(ctx)
    found = [
        OwnSession(
            id=session_handle(record.id_hash),
            device=device_label(record.user_agent),
            address=record.client_addr,
            created_at=record.created_at,
            last_seen_at=record.last_seen_at,
            expires_at=record.expires_at,
            current=record.id_hash == current.id_hash,
        )
        for record in ctx.sessions.list_for_user(user.id)
        if record.id_hash == current.id_hash or not session_expired(record, policy, now)
    ]
    return sorted(found, key=lambda s: not s.current)


def is_current(current: SessionRecord, handle: str) -> bool:
    return session_handle(current.id_hash) == handle


def end_own(ctx: AppContext, user: User, handle: str, client: ClientInfo) -> None:
    """End one of the account's sessions, named by its handle (another account's is a 404)."""
    for record in ctx.sessions.list_for_user(user.id):
        if session_handle(record.id_hash) != handle:
            continue
        if ctx.sessions.delete_own(user.id, record.id_hash):
            details: dict[str, object] = {
                "session": handle,
                "device": device_label(record.user_agent),
            }
            record_for_user(ctx, user.id, client.actor(user), "session.ended", user.id, details)
            return
    raise NotFound("no such session", code="session_not_found")


def end_others(ctx: AppContext, user: User, current: SessionRecord, client: ClientInfo) -> int:
    """End every session of the account but the one asking; how many ended."""
    ended = ctx.sessions.delete_others(user.id, current.id_hash)
    details: dict[str, object] = {"sessions_ended": ended}
    record_for_user(ctx, user.id, client.actor(user), "session.others_ended", user.id, details)
    return ended
