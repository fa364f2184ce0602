"""The pages of emailed links: forgot password, set a new one, confirm an address, resend.

Each "send me a link" form answers with the same page whatever the address;
a link that does not work shows the one "ask for a new one" answer (410).
Opening a link shows a page with a button: a mail scanner that fetches the
link spends nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import email_verification, password_reset
from chatgrid.admin.links import ready_mailer
from chatgrid.admin.signin import ClientInfo
from chatgrid.context import AppContext
from chatgrid.errors import ChatGridError
from chatgrid.identity.links import LinkUnusable
from chatgrid.identity.throttle import FailureCounter
from chatgrid.mail import Mailer
from chatgrid.web.api.recovery_schemas import (
    reset_requested_message,
    verification_requested_message,
)
from chatgrid.web.deps import AnonymousCsrf, Client, Console
from chatgrid.web.pages.common import form_action, render

router = APIRouter()

#: ``request_password_reset`` or ``resend_verification``: mail the address typed a link.
SendLink = Callable[[AppContext, Mailer | None, FailureCounter, str, ClientInfo], None]

EmailField = Annotated[str, Form(max_length=400)]
PasswordField = Annotated[str, Form(max_length=4096)]

RESET_DONE = "Your new password is set and every session of your account has ended. Sign in."
EMAIL_VERIFIED = "Your email address is confirmed. Sign in to continue."


def _mail_ready(state: Console) -> bool:
    return ready_mailer(state.ctx, state.mailer) is not None


def _signed_out_login(request: Request, state: Console, email: str, message: str) -> Response:
    return render(request, state, "auth/login.html", next="", email=email, signed_up=message)


@router.get("/password/forgot")
def forgot_page(request: Request, state: Console) -> Response:
    return render(request, state, "auth/forgot.html", email="", ready=_mail_ready(state))


@router.post("/password/forgot", dependencies=[AnonymousCsrf])
def forgot(request: Request, state: Console, client: Client, email: EmailField = "") -> Response:
    send = password_reset.request_password_reset
    return _ask_for_link(
        request, state, client, "auth/forgot.html", email, send, reset_requested_message
    )


@router.get("/password/reset/{token}")
def reset_page(request: Request, state: Console, token: str) -> Response:
    user = password_reset.preview_reset(state.ctx, token)
    return render(request, state, "auth/reset.html", token=token, email=user.email, usable=True)


@router.post("/password/reset/{token}", dependencies=[AnonymousCsrf])
def reset(
    request: Request, state: Console, client: Client, token: str, password: PasswordField = ""
) -> Response:
    def set_password() -> Response:
        user = password_reset.reset_password(state.ctx, token, password, client)
        return _signed_out_login(request, state, user.email, RESET_DONE)

    def reset_form(*, refused: ChatGridError) -> Response:
        usable = not isinstance(refused, LinkUnusable)
        email = password_reset.preview_reset(state.ctx, token).email if usable else ""
        return render(
            request,
            state,
            "auth/reset.html",
            refused=refused,
            token=token,
            email=email,
            usable=usable,
        )

    return form_action(set_password, reset_form)


@router.get("/email/verify/{token}")
def verify_page(request: Request, state: Console, token: str) -> Response:
    user = email_verification.preview_verification(state.ctx, token)
    return render(request, state, "auth/verify.html", token=token, email=user.email)


@router.post("/email/verify/{token}", dependencies=[AnonymousCsrf])
def verify(request: Request, state: Console, client: Client, token: str) -> Response:
    user = email_verification.verify_email(state.ctx, token, client)
    return _signed_out_login(request, state, user.email, EMAIL_VERIFIED)


@router.get("/email/resend")
def resend_page(request: Request, state: Console, email: str = "") -> Response:
    return render(request, state, "auth/resend.html", email=email[:320], ready=_mail_ready(state))


@router.post("/email/resend", dependencies=[AnonymousCsrf])
def resend(request: Request, state: Console, client: Client, email: EmailField = "") -> Response:
    send = email_verification.resend_verification
    message = verification_requested_message
    return _ask_for_link(request, state, client, "auth/resend.html", email, send, message)


def _ask_for_link(
    request: Request,
    state: Console,
    client: ClientInfo,
    template: str,
    email: str,
    send: SendLink,
    message: Callable[[str], str],
) -> Response:
    """A "send me a link" form: the same page for every address once ``send`` has run."""

    def ask() -> Response:
        send(state.ctx, state.mailer, state.counter, email, client)
        address = email.strip().lower()
        return render(request, state, template, email=address, ready=True, sent=message(address))

    form = partial(render, request, state, template, email=email[:320], ready=_mail_ready(state))
    return form_action(ask, form)
