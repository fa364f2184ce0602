"""The second step of a sign-in: a pending record, not a session.

After the right password, an account with two-step sign-in gets no session
yet. The server keeps a pending record instead (only the SHA-256 of its
random id, like a session) and the browser holds the id in a short-lived
HttpOnly cookie. The record can do one thing: be exchanged, with a valid
code, for a session. It expires after a few minutes, dies after a few wrong
codes (the password must then be entered again), and is deleted when used,
so it is never a way into anything else.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

#: The browser's handle on its pending second step (``__Host-`` over https).
SECOND_STEP_COOKIE = "cg_second_step"
#: How long the code may take after the password.
CHALLENGE_LIFETIME = timedelta(minutes=5)
#: Wrong codes one pending record takes before it is dropped.
MAX_CODE_FAILURES = 5


@dataclass(frozen=True)
class Challenge:
    id_hash: str
    user_id: str
    org_id: str | None
    created_at: datetime
    expires_at: datetime
    failures: int

    def usable(self, now: datetime) -> bool:
        return now < self.expires_at and self.failures < MAX_CODE_FAILURES


def new_challenge_id() -> str:
    return secrets.token_urlsafe(32)


def hash_challenge_id(challenge_id: str) -> str:
    message = b"chatgrid/second-step/" + challenge_id.encode("utf-8", "surrogateescape")
    return hashlib.sha256(message).hexdigest()
