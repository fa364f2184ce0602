"""The audit log (filter, CSV) and where upstream calls came from (the ledger, CSV)."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import dates, reports
from chatgrid.analytics import usage
from chatgrid.audit import AuditFilter
from chatgrid.web.deps import Console, OrgAdmin
from chatgrid.web.pages.common import form_action, render

router = APIRouter()

KNOWN_ACTIONS = (
    "signin.",
    "signin.succeeded",
    "signin.failed",
    "signup",
    "signout",
    "password.changed",
    "invitation.",
    "member.",
    "token.",
    "credential.",
    "org.mode_switched",
    "policy.updated",
)


def parse_moment(value: str | None, name: str) -> datetime | None:
    """A datetime-local input (or a date), read as UTC; an empty field is no filter."""
    return dates.parse_moment((value or "").strip() or None, name)


def _audit_filter(actor: str, action: str, since: str, until: str, limit: int) -> AuditFilter:
    return AuditFilter(
        actor=actor.strip().lower()[:320] or None,
        action=action.strip()[:64] or None,
        since=parse_moment(since, "since"),
        until=parse_moment(until, "until"),
        limit=limit,
    )


def _csv(body: str, name: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@router.get("/orgs/{org_id}/audit")
def audit_page(
    request: Request,
    state: Console,
    access: OrgAdmin,
    actor: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
) -> Response:
    page = partial(
        render,
        request,
        state,
        "audit.html",
        access=access,
        section="audit",
        filters={"actor": actor, "action": action, "since": since, "until": until},
        actions=KNOWN_ACTIONS,
        query=request.url.query,
    )

    def show() -> Response:
        filters = _audit_filter(actor, action, since, until, 500)
        return page(entries=reports.audit_entries(state.ctx, access.org.id, filters))

    return form_action(show, partial(page, entries=[]))


@router.get("/orgs/{org_id}/audit.csv")
def audit_csv(
    state: Console,
    access: OrgAdmin,
    actor: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
) -> Response:
    filters = _audit_filter(actor, action, since, until, reports.MAX_ROWS)
    entries = reports.audit_entries(state.ctx, access.org.id, filters)
    rows = reports.audit_rows(entries)
    return _csv(reports.to_csv(reports.AUDIT_COLUMNS, rows), f"audit-{access.org.id}.csv")


@router.get("/orgs/{org_id}/calls")
def calls_page(
    request: Request, state: Console, access: OrgAdmin, since: str = "", until: str = ""
) -> Response:
    page = partial(
        render,
        request,
        state,
        "calls.html",
        access=access,
        section="calls",
        dollars=usage.dollars,
        filters={"since": since, "until": until},
        query=request.url.query,
    )

    def show() -> Response:
        rows = reports.calls(
            state.ctx,
            access.org.id,
            since=parse_moment(since, "since"),
            until=parse_moment(until, "until"),
            limit=500,
        )
        return page(calls=rows)

    return form_action(show, partial(page, calls=[]))


@router.get("/orgs/{org_id}/calls.csv")
def calls_csv(state: Console, access: OrgAdmin, since: str = "", until: str = "") -> Response:
    rows = reports.calls(
        state.ctx,
        access.org.id,
        since=parse_moment(since, "since"),
        until=parse_moment(until, "until"),
        limit=reports.MAX_ROWS,
    )
    return _csv(reports.to_csv(reports.CALL_COLUMNS, rows), f"calls-{access.org.id}.csv")
