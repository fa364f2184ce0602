"""What an org admin reads: the audit log and where upstream calls came from, with CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from chatgrid.audit import AuditEntry, AuditFilter
from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest
from chatgrid.identity.users import has_control_characters

MAX_ROWS = 5000

AUDIT_COLUMNS = (
    "created_at",
    "actor_email",
    "action",
    "target",
    "details",
    "client_addr",
    "user_agent",
    "request_id",
)
CALL_COLUMNS = (
    "started_at",
    "member_email",
    "token_prefix",
    "client_addr",
    "model",
    "endpoint",
    "upstream_request_id",
    "request_id",
    "status_code",
    "outcome",
    "prompt_tokens",
    "completion_tokens",
    "list_cost_micros",
    # A call priced by other units than tokens (ledger.units); empty for token calls.
    "units_kind",
    "units",
    "units_variant",
)


def _check_range(since: datetime | None, until: datetime | None, limit: int) -> None:
    if not 1 <= limit <= MAX_ROWS:
        raise InvalidRequest(f"limit is 1 to {MAX_ROWS}", param="limit")
    if since is not None and until is not None and since >= until:
        raise InvalidRequest("'since' must be before 'until'", param="since")


def audit_entries(ctx: AppContext, org_id: str, filters: AuditFilter) -> list[AuditEntry]:
    _check_range(filters.since, filters.until, filters.limit)
    for name, value in (("actor", filters.actor), ("action", filters.action)):
        if value is not None and (len(value) > 320 or has_control_characters(value)):
            raise InvalidRequest(f"{name} is too long or has control characters", param=name)
    return ctx.audit.entries(org_id, filters)


def calls(
    ctx: AppContext,
    org_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    _check_range(since, until, limit)
    return ctx.usage.calls(org_id, since=since, until=until, limit=limit)


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def to_csv(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue()


def audit_rows(entries: Iterable[AuditEntry]) -> list[dict[str, Any]]:
    return [
        {
            "created_at": e.created_at,
            "actor_email": e.actor_email,
            "action": e.action,
            "target": e.target,
            "details": json.dumps(e.details, sort_keys=True, default=str),
            "client_addr": e.client_addr,
            "user_agent": e.user_agent,
            "request_id": e.request_id,
        }
        for e in entries
    ]
