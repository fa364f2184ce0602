"""Console sessions and CSRF tokens: the rules, free of HTTP and SQL.

A session is a random id the browser keeps in an HttpOnly cookie; the
database keeps only its SHA-256, so a copy of the database signs nobody in.
A session ends when it has been idle too long, when it reaches its absolute
lifetime, or when its row is deleted (sign-out, password change, removal
from the org): every request looks the row up, so a deleted row signs the
browser out at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

#: Cookie names; over https each carries the ``__Host-`` prefix (``web.security``).
SESSION_COOKIE = "cg_session"
#: A random pre-session id; forms before sign-in carry an HMAC of it (``identity.signing``).
PRESESSION_COOKIE = "cg_presession"
#: A device token: this browser signed in to the account it names (``identity.throttle``).
DEVICE_COOKIE = "cg_device"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    lifetime: timedelta
    # last_seen_at is written at most this often, not on every request.
    touch_every: timedelta = timedelta(seconds=60)

    @classmethod
    def from_minutes(cls, idle_minutes: int, max_hours: int) -> SessionPolicy:
        return cls(idle=timedelta(minutes=idle_minutes), lifetime=timedelta(hours=max_hours))

    def expires_at(self, started: datetime) -> datetime:
        return started + self.lifetime


@dataclass(frozen=True)
class SessionRecord:
    id_hash: str
    user_id: str
    org_id: str | None
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    client_addr: str | None
    user_agent: str | None


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def hash_session_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogateescape")).hexdigest()


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, presented: str | None) -> bool:
    """Constant-time comparison; a missing or empty token never matches."""
    if not expected or not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode("utf-8", "surrogateescape"))


def session_expired(record: SessionRecord, policy: SessionPolicy, now: datetime) -> bool:
    return now >= record.expires_at or now - record.last_seen_at >= policy.idle


def needs_touch(record: SessionRecord, policy: SessionPolicy, now: datetime) -> bool:
    return now - record.last_seen_at >= policy.touch_every
