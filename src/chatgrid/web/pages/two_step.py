"""Setting up two-step sign-in on one's account: the seed and QR code, recovery codes, off.

The seed (set-up page) and the recovery codes (after confirming, or when
made anew) are in the body of a POST's answer and nowhere else: never in a
URL, a redirect or a log line; pages are ``Cache-Control: no-store``.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

import segno
from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import second_factor
from chatgrid.admin.second_factor import Enrolment
from chatgrid.errors import ChatGridError
from chatgrid.identity.totp import grouped
from chatgrid.web.deps import Console, CurrentViewer, Viewer
from chatgrid.web.pages.common import form_action, redirect, render, safe_next
from chatgrid.web.state import ConsoleState

router = APIRouter()

PasswordField = Annotated[str, Form(max_length=4096)]
CodeField = Annotated[str, Form(max_length=100)]
NextField = Annotated[str, Form(max_length=600)]


def qr_code(uri: str) -> str:
    """The otpauth URI as an SVG QR code in a data: URI (the console's CSP allows data: images)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


def _status_page(
    request: Request,
    state: ConsoleState,
    viewer: Viewer,
    *,
    next: str = "",
    refused: ChatGridError | None = None,
) -> Response:
    return render(
        request,
        state,
        "account_two_step.html",
        viewer=viewer,
        section="account",
        two_step=second_factor.status(state.ctx, viewer.user),
        next=safe_next(next) or "",
        refused=refused,
    )


def _setup_page(
    request: Request,
    state: ConsoleState,
    viewer: Viewer,
    enrolment: Enrolment | None,
    *,
    next: str = "",
    refused: ChatGridError | None = None,
) -> Response:
    if enrolment is None:  # nothing being set up (any more): start from the status page
        return _status_page(request, state, viewer, next=next, refused=refused)
    return render(
        request,
        state,
        "account_two_step_setup.html",
        viewer=viewer,
        section="account",
        secret=grouped(enrolment.secret),
        uri=enrolment.uri,
        qr=qr_code(enrolment.uri),
        next=safe_next(next) or "",
        refused=refused,
    )


def _codes_page(
    request: Request, state: ConsoleState, viewer: Viewer, codes: list[str], *, next: str = ""
) -> Response:
    return render(
        request,
        state,
        "account_recovery_codes.html",
        viewer=viewer,
        section="account",
        codes=codes,
        next=safe_next(next) or "",
    )


@router.get("/account/two-step")
def two_step_page(
    request: Request, state: Console, viewer: CurrentViewer, next: str | None = None
) -> Response:
    return _status_page(request, state, viewer, next=next or "")


@router.post("/account/two-step/setup")
def start_setup(
    request: Request, state: Console, viewer: CurrentViewer, next: NextField = ""
) -> Response:
    def start() -> Response:
        enrolment = second_factor.begin_setup(state.ctx, viewer.user, now=state.clock())
        return _setup_page(request, state, viewer, enrolment, next=next)

    return form_action(start, partial(_status_page, request, state, viewer, next=next))


@router.post("/account/two-step/confirm")
def confirm_setup(
    request: Request,
    state: Console,
    viewer: CurrentViewer,
    code: CodeField = "",
    current_password: PasswordField = "",
    next: NextField = "",
) -> Response:
    def confirm() -> Response:
        codes = second_factor.confirm_setup(
            state.ctx,
            state.throttle,
            viewer.user,
            code=code,
            password=current_password,
            client=viewer.client,
            session=viewer.session,
            now=state.clock(),
        )
        return _codes_page(request, state, viewer, codes, next=next)

    def form(*, refused: ChatGridError) -> Response:
        enrolment = second_factor.pending_enrolment(state.ctx, viewer.user)
        return _setup_page(request, state, viewer, enrolment, next=next, refused=refused)

    return form_action(confirm, form)


@router.post("/account/two-step/recovery-codes")
def new_recovery_codes(
    request: Request, state: Console, viewer: CurrentViewer, current_password: PasswordField = ""
) -> Response:
    def make() -> Response:
        codes = second_factor.new_recovery_codes(
            state.ctx,
            state.throttle,
            viewer.user,
            password=current_password,
            client=viewer.client,
            now=state.clock(),
        )
        return _codes_page(request, state, viewer, codes)

    return form_action(make, partial(_status_page, request, state, viewer))


@router.post("/account/two-step/disable")
def turn_off(
    request: Request,
    state: Console,
    viewer: CurrentViewer,
    current_password: PasswordField = "",
    code: CodeField = "",
) -> Response:
    def off() -> Response:
        second_factor.disable(
            state.ctx,
            state.throttle,
            viewer.user,
            password=current_password,
            code=code,
            client=viewer.client,
            now=state.clock(),
        )
        return redirect("/account/two-step", "second_factor_off")

    return form_action(off, partial(_status_page, request, state, viewer))
