"""The data retention page (org admins): how long conversations, documents and audit entries
are kept, under the instance's ceiling. A refusal shows the form again with what was typed."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import retention
from chatgrid.errors import ChatGridError
from chatgrid.governance.retention import ORG_KINDS, DataKind
from chatgrid.web.deps import Console, OrgAccess, OrgAdmin
from chatgrid.web.pages.common import NOTICES, form_action, redirect, render
from chatgrid.web.state import ConsoleState

router = APIRouter()

RETENTION_NOTICES = {
    "retention_set": "Saved. Data past its period is deleted within minutes, with a receipt "
    "in the audit log."
}
LABELS = {
    DataKind.CONVERSATIONS: "Conversations (days after their last message)",
    DataKind.DOCUMENTS: "Uploaded documents (days after their upload)",
    DataKind.AUDIT: "Audit log entries (days after they were written)",
}
#: "forever" or up to six digits: enough for any allowed period, short of abuse.
MAX_PERIOD_LENGTH = 10


def _retention_page(
    request: Request,
    state: ConsoleState,
    access: OrgAccess,
    *,
    refused: ChatGridError | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    asked = request.query_params.get("notice", "")
    shown = retention.show_retention(state.ctx, access.org.id)
    return render(
        request,
        state,
        "retention.html",
        access=access,
        section="retention",
        shown=shown,
        kinds=[(kind.value, LABELS[kind]) for kind in ORG_KINDS],
        typed=typed or {k: str(v) for k, v in shown["org"].items()},
        notice=RETENTION_NOTICES.get(asked) or NOTICES.get(asked),
        refused=refused,
    )


@router.get("/orgs/{org_id}/retention")
def retention_page(request: Request, state: Console, access: OrgAdmin) -> Response:
    return _retention_page(request, state, access)


@router.post("/orgs/{org_id}/retention")
def set_retention(
    request: Request,
    state: Console,
    access: OrgAdmin,
    conversations: Annotated[str, Form(max_length=MAX_PERIOD_LENGTH)] = "",
    documents: Annotated[str, Form(max_length=MAX_PERIOD_LENGTH)] = "",
    audit: Annotated[str, Form(max_length=MAX_PERIOD_LENGTH)] = "",
) -> Response:
    typed = {"conversations": conversations, "documents": documents, "audit": audit}

    def put() -> Response:
        periods: dict[DataKind, str | int | None] = {
            DataKind(kind): value.strip() or "forever" for kind, value in typed.items()
        }
        retention.set_org_retention(state.ctx, access.org.id, access.actor, periods)
        return redirect(f"/orgs/{access.org.id}/retention", "retention_set")

    return form_action(put, partial(_retention_page, request, state, access, typed=typed))
