"""The audit log and the upstream calls' origins through the API (admins only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from chatgrid.admin import reports
from chatgrid.audit import AuditFilter
from chatgrid.web.api import schemas
from chatgrid.web.deps import Console, OrgAdmin

router = APIRouter(tags=["audit"])

Limit = Annotated[int, Query(ge=1, le=reports.MAX_ROWS)]
Moment = Annotated[datetime | None, Query(description="ISO 8601; UTC when no offset is given.")]
Text = Annotated[str | None, Query(max_length=320)]


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _filters(
    actor: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> AuditFilter:
    return AuditFilter(
        actor=actor.strip().lower() if actor else None,
        action=action.strip() if action else None,
        since=_utc(since),
        until=_utc(until),
        limit=limit,
    )


@router.get(
    "/api/orgs/{org_id}/audit",
    response_model=list[schemas.AuditEntryPublic],
    summary="The audit log, newest first",
)
def audit_log(
    state: Console,
    access: OrgAdmin,
    actor: Text = None,
    action: Annotated[
        str | None, Query(max_length=64, description="Exact, or a prefix ending in '.'")
    ] = None,
    since: Moment = None,
    until: Moment = None,
    limit: Limit = 500,
) -> list[schemas.AuditEntryPublic]:
    entries = reports.audit_entries(
        state.ctx, access.org.id, _filters(actor, action, since, until, limit)
    )
    return [schemas.AuditEntryPublic.model_validate(e, from_attributes=True) for e in entries]


@router.get(
    "/api/orgs/{org_id}/audit.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
    summary="The audit log as CSV",
)
def audit_csv(
    state: Console,
    access: OrgAdmin,
    actor: Text = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    since: Moment = None,
    until: Moment = None,
    limit: Limit = reports.MAX_ROWS,
) -> Response:
    entries = reports.audit_entries(
        state.ctx, access.org.id, _filters(actor, action, since, until, limit)
    )
    body = reports.to_csv(reports.AUDIT_COLUMNS, reports.audit_rows(entries))
    return Response(body, media_type="text/csv; charset=utf-8")


@router.get(
    "/api/orgs/{org_id}/calls",
    response_model=list[schemas.CallPublic],
    summary="Where upstream calls came from, newest first",
)
def calls(
    state: Console,
    access: OrgAdmin,
    since: Moment = None,
    until: Moment = None,
    limit: Limit = 200,
) -> list[schemas.CallPublic]:
    rows = reports.calls(
        state.ctx, access.org.id, since=_utc(since), until=_utc(until), limit=limit
    )
    return [schemas.CallPublic.model_validate(row) for row in rows]


@router.get(
    "/api/orgs/{org_id}/calls.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
    summary="Upstream calls as CSV",
)
def calls_csv(
    state: Console,
    access: OrgAdmin,
    since: Moment = None,
    until: Moment = None,
    limit: Limit = reports.MAX_ROWS,
) -> Response:
    rows = reports.calls(
        state.ctx, access.org.id, since=_utc(since), until=_utc(until), limit=limit
    )
    return Response(
        reports.to_csv(reports.CALL_COLUMNS, rows), media_type="text/csv; charset=utf-8"
    )
