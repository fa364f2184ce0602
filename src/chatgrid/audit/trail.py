"""Audit records as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

CLI_ACTOR_EMAIL = "cli"


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user (with where they came from) or the command line."""

    user_id: str | None
    email: str
    client_addr: str | None = None
    user_agent: str | None = None

    @classmethod
    def cli(cls) -> Actor:
        return cls(user_id=None, email=CLI_ACTOR_EMAIL, client_addr=None, user_agent="chatgrid-cli")


class AuditTrail(Protocol):
    """Where an action is written down (``store/audit.py`` provides it); the parts
    below storage (chat, documents) name it instead of importing storage."""

    def record(
        self,
        org_id: str | None,
        actor: Actor,
        action: str,
        target: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None: ...


@dataclass(frozen=True)
class AuditEntry:
    id: int
    org_id: str | None
    actor_user_id: str | None
    actor_email: str | None
    action: str
    target: str | None
    details: dict[str, Any]
    client_addr: str | None
    user_agent: str | None
    created_at: datetime
    request_id: str | None = None  # the request that wrote it (X-Request-Id)


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None  # email, exact
    action: str | None = None  # exact, or a prefix ending in '.' ("credential.")
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 500
