"""The sign-in's second step in the browser: the code page, and what follows a password.

Every door that checked a password answers through ``after_password_page``
(pages) or ``after_password_json`` (``/api``): a session cookie, or, for an
account with two-step sign-in, the pending step's cookie and the code page.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import second_step
from chatgrid.admin.second_step import SecondStepPending, SignedIn
from chatgrid.admin.signin import ClientInfo, device_token
from chatgrid.errors import ChatGridError
from chatgrid.identity.second_step import CHALLENGE_LIFETIME, SECOND_STEP_COOKIE
from chatgrid.identity.users import User
from chatgrid.web.deps import AnonymousCsrf, Client, Console, OptionalViewer
from chatgrid.web.pages.common import form_action, redirect, render, safe_next
from chatgrid.web.security import cookie_name, is_https, read_cookie, set_session_cookie
from chatgrid.web.state import ConsoleState

router = APIRouter()

CodeField = Annotated[str, Form(max_length=100)]


def set_second_step_cookie(request: Request, response: Response, challenge_id: str) -> None:
    response.set_cookie(
        cookie_name(request, SECOND_STEP_COOKIE),
        challenge_id,
        max_age=int(CHALLENGE_LIFETIME.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=is_https(request),
        path="/",
    )


def clear_second_step_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        cookie_name(request, SECOND_STEP_COOKIE),
        path="/",
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )


def signed_in_cookies(
    request: Request, state: ConsoleState, response: Response, done: SignedIn
) -> None:
    """The session cookie and this browser's device token; the pending step is over."""
    set_session_cookie(request, response, done.session_id, device_token(state.ctx, done.user))
    clear_second_step_cookie(request, response)


def after_password_page(
    request: Request,
    state: ConsoleState,
    user: User,
    org_id: str | None,
    client: ClientInfo,
    target: str,
    notice: str | None = None,
) -> Response:
    """Signed in and on to ``target``, or on to the code page first."""
    outcome = second_step.after_password(state.ctx, user, org_id, client, now=state.clock())
    if isinstance(outcome, SecondStepPending):
        response = redirect(f"/login/second-step?next={quote(target, safe='')}")
        set_second_step_cookie(request, response, outcome.challenge_id)
        return response
    response = redirect(target, notice)
    signed_in_cookies(request, state, response, outcome)
    return response


@router.get("/login/second-step")
def second_step_page(
    request: Request, state: Console, viewer: OptionalViewer, next: str | None = None
) -> Response:
    target = safe_next(next) or ""
    if viewer is not None:
        return redirect(target or "/")
    challenge_id = read_cookie(request, SECOND_STEP_COOKIE)
    if second_step.pending(state.ctx, challenge_id, state.clock()) is None:
        return redirect("/login" + (f"?next={quote(target, safe='')}" if target else ""))
    return render(request, state, "auth/second_step.html", next=target)


@router.post("/login/second-step", dependencies=[AnonymousCsrf])
def second_step_submit(
    request: Request,
    state: Console,
    client: Client,
    code: CodeField = "",
    next: Annotated[str, Form(max_length=600)] = "",
) -> Response:
    target = safe_next(next)

    def finish() -> Response:
        done = second_step.complete(
            state.ctx,
            state.throttle,
            read_cookie(request, SECOND_STEP_COOKIE),
            code,
            client,
            now=state.clock(),
        )
        org_id = done.record.org_id
        response = redirect(target or (f"/orgs/{org_id}" if org_id else "/orgs"))
        signed_in_cookies(request, state, response, done)
        return response

    def form(*, refused: ChatGridError) -> Response:
        if refused.code == "second_step_expired":
            response = render(
                request, state, "auth/login.html", next=target or "", email="", refused=refused
            )
            clear_second_step_cookie(request, response)
            return response
        return render(request, state, "auth/second_step.html", next=target or "", refused=refused)

    return form_action(finish, form)
