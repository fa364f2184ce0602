"""The audit log and the upstream calls' origins through the API (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import WithJsonSchema
from starlette.responses import Response

from chatgrid.admin import dates, reports
from chatgrid.audit import AuditFilter
from chatgrid.web.api import schemas
from chatgrid.web.deps import Console, OrgAdmin

router = APIRouter(tags=["audit"])

Limit = Annotated[int, Query(ge=1, le=reports.MAX_ROWS)]
#: Read by ``dates.parse_moment``, not pydantic (which takes ``0.5`` for a Unix time);
#: the schema publishes the one shape that parser accepts.
Moment = Annotated[
    str | None,
    Query(description=f"ISO 8601, {dates.MOMENT_HINT}; UTC when no offset is given."),
    WithJsonSchema({"type": "string", "pattern": dates.MOMENT_PATTERN}),
]
Text = Annotated[str | None, Query(max_length=320)]


def _filters(
    actor: str | None,
    action: str | None,
    since: str | None,
    until: str | None,
    limit: int,
) -> AuditFilter:
    return AuditFilter(
        actor=actor.strip().lower() if actor else None,
        action=action.strip() if action else None,
        since=dates.parse_moment(since, "since"),
        until=dates.parse_moment(until, "until"),
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
        state.ctx,
        access.org.id,
        since=dates.parse_moment(since, "since"),
        until=dates.parse_moment(until, "until"),
        limit=limit,
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
        state.ctx,
        access.org.id,
        since=dates.parse_moment(since, "since"),
        until=dates.parse_moment(until, "until"),
        limit=limit,
    )
    return Response(
        reports.to_csv(reports.CALL_COLUMNS, rows), media_type="text/csv; charset=utf-8"
    )
