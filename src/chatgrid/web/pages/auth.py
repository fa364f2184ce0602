"""Signing in and out, signing up, and accepting an invitation."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import accounts, members
from chatgrid.admin.links import ready_mailer
from chatgrid.admin.signin import authenticate, end_session
from chatgrid.errors import ChatGridError
from chatgrid.identity.links import EmailNotVerified
from chatgrid.identity.sso import SsoRequired
from chatgrid.web.api.auth_schemas import sign_up_message
from chatgrid.web.deps import (
    AnonymousCsrf,
    Client,
    Console,
    CurrentViewer,
    OptionalViewer,
    Viewer,
)
from chatgrid.web.pages.common import form_action, redirect, render, safe_next
from chatgrid.web.pages.second_step import after_password_page
from chatgrid.web.pages.sso import email_step
from chatgrid.web.security import clear_session_cookie

router = APIRouter()

EmailField = Annotated[str, Form(max_length=400)]
PasswordField = Annotated[str, Form(max_length=4096)]


def home_of(state: Console, viewer: Viewer) -> str:
    """Where a signed-in person lands: their current org, their first org, or the org list."""
    memberships = state.ctx.accounts.memberships(viewer.user.id)
    ids = [m.org_id for m in memberships]
    if viewer.session.org_id in ids:
        return f"/orgs/{viewer.session.org_id}"
    return f"/orgs/{ids[0]}" if ids else "/orgs"


@router.get("/")
def home(state: Console, viewer: OptionalViewer) -> Response:
    return redirect(home_of(state, viewer) if viewer else "/login")


@router.get("/login")
def login_page(
    request: Request, state: Console, viewer: OptionalViewer, next: str | None = None
) -> Response:
    if viewer is not None:
        return redirect(safe_next(next) or home_of(state, viewer))
    return render(request, state, "auth/login.html", next=safe_next(next) or "", email="")


@router.post("/login", dependencies=[AnonymousCsrf])
def login(
    request: Request,
    state: Console,
    client: Client,
    email: EmailField = "",
    password: PasswordField = "",
    next: Annotated[str, Form(max_length=600)] = "",
) -> Response:
    def sign_in() -> Response:
        if not password:  # the email step: the org's identity provider, or the password step
            return email_step(request, state, email, next)
        user = authenticate(state.ctx, state.throttle, email, password, client)
        memberships = state.ctx.accounts.memberships(user.id)
        org_id = memberships[0].org_id if memberships else None
        target = safe_next(next) or (f"/orgs/{org_id}" if org_id else "/orgs")
        return after_password_page(request, state, user, org_id, client, target)

    def form(*, refused: ChatGridError) -> Response:
        return render(
            request,
            state,
            "auth/login.html",
            refused=refused,
            next=safe_next(next) or "",
            email=email[:320],
            unverified=isinstance(refused, EmailNotVerified),  # offer the link again
            sso_required=isinstance(refused, SsoRequired),  # an owner's break-glass
        )

    return form_action(sign_in, form)


@router.post("/logout")
def logout(request: Request, state: Console, viewer: CurrentViewer) -> Response:
    end_session(state.ctx, viewer.session, viewer.user, viewer.client)
    response = redirect("/login", "signed_out")
    clear_session_cookie(request, response)
    return response


@router.get("/signup")
def signup_page(request: Request, state: Console, viewer: OptionalViewer) -> Response:
    if viewer is not None:
        return redirect(home_of(state, viewer))
    return render(
        request,
        state,
        "auth/signup.html",
        email="",
        org_name="",
        enabled=state.ctx.settings.signup_enabled,
    )


@router.post("/signup", dependencies=[AnonymousCsrf])
def signup(
    request: Request,
    state: Console,
    client: Client,
    email: EmailField = "",
    password: PasswordField = "",
    org_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Sign-up ends on the sign-in page, new address or not (``admin.accounts.request_sign_up``)."""

    def sign_up() -> Response:
        accounts.request_sign_up(
            state.ctx,
            email=email,
            password=password,
            org_name=org_name,
            client=client,
            mailer=state.mailer,
            counter=state.counter,
        )
        address = email.strip().lower()
        emailed = ready_mailer(state.ctx, state.mailer) is not None
        return render(
            request,
            state,
            "auth/login.html",
            next="",
            email=address,
            signed_up=sign_up_message(address, org_name.strip(), emailed=emailed),
        )

    form = partial(
        render,
        request,
        state,
        "auth/signup.html",
        email=email[:320],
        org_name=org_name[:100],
        enabled=state.ctx.settings.signup_enabled,
    )
    return form_action(sign_up, form)


@router.get("/join/{token}")
def join_page(request: Request, state: Console, token: str, viewer: OptionalViewer) -> Response:
    preview = members.preview_invitation(state.ctx, token, viewer.user if viewer else None)
    return render(request, state, "auth/join.html", viewer=viewer, preview=preview, token=token)


@router.post("/join/{token}", dependencies=[AnonymousCsrf])
def join(
    request: Request,
    state: Console,
    client: Client,
    token: str,
    viewer: OptionalViewer,
    password: PasswordField = "",
) -> Response:
    signed_in = viewer.user if viewer else None

    def accept() -> Response:
        user, member = members.accept_invitation(
            state.ctx,
            state.throttle,
            token,
            password=password or None,
            signed_in=signed_in,
            client=client,
        )
        if viewer is None or viewer.user.id != user.id:
            if viewer is not None:  # someone else was signed in here: they are signed out
                state.ctx.sessions.delete(viewer.session.id_hash)
            target, notice = f"/orgs/{member.org_id}/chat", "invitation_accepted"
            return after_password_page(request, state, user, member.org_id, client, target, notice)
        return redirect(f"/orgs/{member.org_id}/chat", "invitation_accepted")

    def join_form(*, refused: ChatGridError) -> Response:
        """The invitation as it stands now (the refusal may have used it up)."""
        preview = members.preview_invitation(state.ctx, token, signed_in)
        return render(
            request,
            state,
            "auth/join.html",
            viewer=viewer,
            refused=refused,
            preview=preview,
            token=token,
        )

    return form_action(accept, join_form)
