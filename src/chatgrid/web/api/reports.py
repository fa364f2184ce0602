"""The audit log and the upstream calls' origins through the API (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from chatgrid.admin import dates, reports
from chatgrid.audit import AuditFilter
from chatgrid.web.api.params import Moment, row_limit
from chatgrid.web.api.reports_schemas import (
    AuditEntryPublic,
    CallPublic,
    audit_entry_public,
    call_public,
)
from chatgrid.web.deps import Console, OrgAdmin

router = APIRouter(tags=["audit"])

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
    response_model=list[AuditEntryPublic],
    summary="The audit log, newest first",
)
def audit_log(
    state: Console,
    access: OrgAdmin,
    limit: Annotated[int, row_limit(500)],
    actor: Text = None,
    action: Annotated[
        str | None, Query(max_length=64, description="Exact, or a prefix ending in '.'")
    ] = None,
    since: Moment = None,
    until: Moment = None,
) -> list[AuditEntryPublic]:
    entries = reports.audit_entries(
        state.ctx, access.org.id, _filters(actor, action, since, until, limit)
    )
    return [audit_entry_public(e) for e in entries]


@router.get(
    "/api/orgs/{org_id}/audit.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
    summary="The audit log as CSV",
)
def audit_csv(
    state: Console,
    access: OrgAdmin,
    limit: Annotated[int, row_limit(reports.MAX_ROWS)],
    actor: Text = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    since: Moment = None,
    until: Moment = None,
) -> Response:
    entries = reports.audit_entries(
        state.ctx, access.org.id, _filters(actor, action, since, until, limit)
    )
    body = reports.to_csv(reports.AUDIT_COLUMNS, reports.audit_rows(entries))
    return Response(body, media_type="text/csv; charset=utf-8")


@router.get(
    "/api/orgs/{org_id}/calls",
    response_model=list[CallPublic],
    summary="Where upstream calls came from, newest first",
)
def calls(
    state: Console,
    access: OrgAdmin,
    limit: Annotated[int, row_limit(200)],
    since: Moment = None,
    until: Moment = None,
) -> list[CallPublic]:
    rows = reports.calls(
        state.ctx,
        access.org.id,
        since=dates.parse_moment(since, "since"),
        until=dates.parse_moment(until, "until"),
        limit=limit,
    )
    return [call_public(row) for row in rows]


@router.get(
    "/api/orgs/{org_id}/calls.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
    summary="Upstream calls as CSV",
)
def calls_csv(
    state: Console,
    access: OrgAdmin,
    limit: Annotated[int, row_limit(reports.MAX_ROWS)],
    since: Moment = None,
    until: Moment = None,
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
