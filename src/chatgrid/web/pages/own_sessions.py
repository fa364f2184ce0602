"""The member's own sessions on the account page: end one, or all the others."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import own_sessions, second_factor
from chatgrid.context import AppContext
from chatgrid.web.deps import Console, CurrentViewer, Viewer, url_id
from chatgrid.web.pages.common import redirect

router = APIRouter()


def account_security(ctx: AppContext, viewer: Viewer) -> dict[str, Any]:
    """What the account page shows of sessions and two-step sign-in."""
    return {
        "own_sessions": own_sessions.list_own(ctx, viewer.user, viewer.session),
        "two_step": second_factor.status(ctx, viewer.user),
    }


@router.post("/account/sessions/end-others")
def end_other_sessions(request: Request, state: Console, viewer: CurrentViewer) -> Response:
    own_sessions.end_others(state.ctx, viewer.user, viewer.session, viewer.client)
    return redirect("/account", "other_sessions_ended")


@router.post("/account/sessions/{session_id}/end")
def end_session(
    request: Request, state: Console, viewer: CurrentViewer, session_id: str
) -> Response:
    handle = url_id(session_id, "session")
    own_sessions.end_own(state.ctx, viewer.user, handle, viewer.client)
    if own_sessions.is_current(viewer.session, handle):
        return redirect("/login", "signed_out")
    return redirect("/account", "session_ended")
