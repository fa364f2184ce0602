"""The BYOK reconciliation page (org admins): OpenAI's counts for the org's key against the
ledger's, from an uploaded usage export or read from OpenAI with the stored admin key, which
the page takes but never shows (its last four characters only)."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import reconciliation, reconciliation_fetch
from chatgrid.errors import ChatGridError, InvalidRequest
from chatgrid.web.deps import Console, OrgAccess, OrgAdmin
from chatgrid.web.pages.common import NOTICES, form_action, redirect, render
from chatgrid.web.state import ConsoleState

router = APIRouter()

RECONCILIATION_NOTICES = {
    "admin_key_set": "Saved. ChatGrid can now read your OpenAI usage and costs.",
    "admin_key_removed": "Removed. Upload a usage export to reconcile.",
}


def _page(
    request: Request,
    state: ConsoleState,
    access: OrgAccess,
    *,
    found: dict[str, Any] | None = None,
    refused: ChatGridError | None = None,
) -> Response:
    asked = request.query_params.get("notice", "")
    outside = {(line["day"], line["model"]) for line in (found or {}).get("used_outside", [])}
    return render(
        request,
        state,
        "reconciliation.html",
        access=access,
        section="reconciliation",
        status_shown=reconciliation_fetch.admin_key_status(state.ctx, access.org.id),
        found=found,
        outside=outside,
        notice=RECONCILIATION_NOTICES.get(asked) or NOTICES.get(asked),
        refused=refused,
    )


def _threshold(text: str) -> int:
    cleaned = text.strip() or "0"
    if not cleaned.isdigit() or len(cleaned) > 7:
        raise InvalidRequest("the threshold is a number of requests", param="threshold")
    return int(cleaned)


@router.get("/orgs/{org_id}/reconciliation")
def reconciliation_page(request: Request, state: Console, access: OrgAdmin) -> Response:
    return _page(request, state, access)


@router.post("/orgs/{org_id}/reconciliation")
def reconcile_upload(
    request: Request,
    state: Console,
    access: OrgAdmin,
    usage: Annotated[UploadFile, File(description="OpenAI's usage export (JSON)")],
    threshold: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    raw = usage.file.read(reconciliation.MAX_USAGE_BYTES + 1)

    def run() -> Response:
        document = reconciliation.parse_usage_document(raw)
        found = reconciliation.reconcile_usage(
            state.ctx, access.org.id, access.actor, document, threshold=_threshold(threshold)
        )
        return _page(request, state, access, found=found)

    return form_action(run, partial(_page, request, state, access))


@router.post("/orgs/{org_id}/reconciliation/fetch")
def reconcile_fetched(
    request: Request,
    state: Console,
    access: OrgAdmin,
    days: Annotated[str, Form(max_length=3)] = "7",
    threshold: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    def run() -> Response:
        if not days.strip().isdigit():
            raise InvalidRequest("read 1 to 90 days", param="days")
        found = reconciliation_fetch.fetch_and_reconcile(
            state.ctx,
            access.org.id,
            access.actor,
            days=int(days.strip()),
            threshold=_threshold(threshold),
        )
        return _page(request, state, access, found=found)

    return form_action(run, partial(_page, request, state, access))


@router.post("/orgs/{org_id}/reconciliation/key")
def set_admin_key(
    request: Request,
    state: Console,
    access: OrgAdmin,
    admin_key: Annotated[str, Form(max_length=500)] = "",
    api_key_id: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    def put() -> Response:
        reconciliation_fetch.set_admin_key(
            state.ctx,
            access.org.id,
            access.actor,
            admin_key,
            api_key_id=api_key_id.strip() or None,
        )
        return redirect(f"/orgs/{access.org.id}/reconciliation", "admin_key_set")

    return form_action(put, partial(_page, request, state, access))


@router.post("/orgs/{org_id}/reconciliation/key/remove")
def remove_admin_key(request: Request, state: Console, access: OrgAdmin) -> Response:
    def remove() -> Response:
        reconciliation_fetch.remove_admin_key(state.ctx, access.org.id, access.actor)
        return redirect(f"/orgs/{access.org.id}/reconciliation", "admin_key_removed")

    return form_action(remove, partial(_page, request, state, access))
