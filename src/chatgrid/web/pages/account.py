"""The signed-in person's own pages: their account (password) and their orgs."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import accounts
from chatgrid.web.deps import Console, CurrentViewer
from chatgrid.web.pages.common import form_action, redirect, render
from chatgrid.web.pages.own_sessions import account_security
from chatgrid.web.security import set_session_cookie

router = APIRouter()

PasswordField = Annotated[str, Form(max_length=4096)]


@router.get("/account")
def account_page(request: Request, state: Console, viewer: CurrentViewer) -> Response:
    return render(
        request,
        state,
        "account.html",
        viewer=viewer,
        section="account",
        **account_security(state.ctx, viewer),
    )


@router.post("/account/password")
def change_password(
    request: Request,
    state: Console,
    viewer: CurrentViewer,
    current_password: PasswordField = "",
    new_password: PasswordField = "",
) -> Response:
    def change() -> Response:
        session_id = accounts.change_password(
            state.ctx,
            state.throttle,
            viewer.user,
            current=current_password,
            new=new_password,
            org_id=viewer.session.org_id,
            client=viewer.client,
        )
        response = redirect("/account", "password_changed")
        set_session_cookie(request, response, session_id)
        return response

    form = partial(
        render,
        request,
        state,
        "account.html",
        viewer=viewer,
        section="account",
        **account_security(state.ctx, viewer),
    )
    return form_action(change, form)


@router.get("/orgs")
def orgs_page(request: Request, state: Console, viewer: CurrentViewer) -> Response:
    return render(request, state, "orgs.html", viewer=viewer, section="orgs", name="")


@router.post("/orgs")
def create_org(
    request: Request,
    state: Console,
    viewer: CurrentViewer,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    def create() -> Response:
        org = accounts.create_org(state.ctx, viewer.user, name, viewer.client)
        return redirect(f"/orgs/{org.id}", "org_created")

    form = partial(
        render, request, state, "orgs.html", viewer=viewer, section="orgs", name=name[:100]
    )
    return form_action(create, form)
