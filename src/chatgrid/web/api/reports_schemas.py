"""Bodies of the audit log and the upstream calls' origins, each beside its converter."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pydantic import BaseModel, Field

from chatgrid.audit import AuditEntry


class AuditEntryPublic(BaseModel):
    id: int
    created_at: datetime
    actor_email: str | None
    action: str
    target: str | None
    details: dict[str, object]
    client_addr: str | None
    user_agent: str | None
    request_id: str | None


def audit_entry_public(entry: AuditEntry) -> AuditEntryPublic:
    return AuditEntryPublic.model_validate(entry, from_attributes=True)


class CallPublic(BaseModel):
    started_at: datetime
    member_email: str | None
    token_prefix: str | None
    client_addr: str | None
    model: str
    endpoint: str
    upstream_request_id: str | None
    request_id: str | None
    status_code: int
    outcome: str
    prompt_tokens: int
    completion_tokens: int
    list_cost_micros: int | None
    units_kind: str | None = Field(
        default=None, description="images, audio_ms, characters or inputs; null for tokens"
    )
    units: int | None = None
    units_variant: str | None = None


def call_public(row: Mapping[str, object]) -> CallPublic:
    """From a row of ``admin.reports.calls`` (a mapping of the columns above, and more)."""
    return CallPublic.model_validate(row)
