"""The API's sessions, sign-up, invitations, the caller's password and orgs."""

from __future__ import annotations

from fastapi import APIRouter, status
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chatgrid.admin import accounts, members
from chatgrid.admin.links import ready_mailer
from chatgrid.admin.signin import (
    authenticate,
    device_token,
    end_session,
    resolve_session,
)
from chatgrid.identity.models import Role
from chatgrid.web.api import auth_schemas, orgs_schemas
from chatgrid.web.api.auth_schemas import session_public
from chatgrid.web.api.orgs_schemas import org_public
from chatgrid.web.api.second_factor import after_password_json, session_json
from chatgrid.web.api.second_factor_schemas import SecondStepRequired
from chatgrid.web.deps import AnonymousCsrf, Client, Console, CurrentViewer, OptionalViewer
from chatgrid.web.security import (
    clear_session_cookie,
    presession_csrf,
    set_presession_cookie,
    set_session_cookie,
)

router = APIRouter(tags=["session"])


@router.get("/api/csrf", response_model=auth_schemas.CsrfPublic, summary="A token for signing in")
def csrf(request: Request) -> Response:
    """Sets the pre-session cookie (``cg_presession``, ``__Host-cg_presession`` over https);
    send the token as ``X-CSRF-Token`` with the same cookie to sign in, sign up or accept."""
    token, new_presession = presession_csrf(request)
    response = JSONResponse({"csrf_token": token})
    if new_presession is not None:
        set_presession_cookie(request, response, new_presession)
    return response


@router.post(
    "/api/session",
    responses={
        202: {
            "model": SecondStepRequired,
            "description": "The password is right; the account asks for a code next",
        }
    },
    response_model=auth_schemas.SessionPublic,
    dependencies=[AnonymousCsrf],
    summary="Sign in",
)
def sign_in(
    request: Request, body: auth_schemas.SignIn, state: Console, client: Client
) -> Response:
    """A wrong email or password is one generic 401; repeated failures are throttled (429).
    The right password for an address not confirmed yet is a 403 ``email_not_verified``
    (``POST /api/email/resend`` mails the link again)."""
    user = authenticate(state.ctx, state.throttle, body.email, body.password, client)
    memberships = state.ctx.accounts.memberships(user.id)
    org_id = memberships[0].org_id if memberships else None
    return after_password_json(request, state, user, org_id, client)


@router.get("/api/session", response_model=auth_schemas.SessionPublic, summary="Who is signed in")
def current_session(state: Console, viewer: CurrentViewer) -> auth_schemas.SessionPublic:
    return session_public(
        viewer.user, viewer.session, state.ctx.accounts.memberships(viewer.user.id)
    )


@router.delete("/api/session", status_code=status.HTTP_204_NO_CONTENT, summary="Sign out")
def sign_out(request: Request, state: Console, viewer: CurrentViewer) -> Response:
    end_session(state.ctx, viewer.session, viewer.user, viewer.client)
    response = Response(status_code=204)
    clear_session_cookie(request, response)
    return response


@router.post(
    "/api/signup",
    response_model=auth_schemas.SignUpAccepted,
    status_code=202,
    dependencies=[AnonymousCsrf],
    summary="Create an org and its owner",
)
def sign_up(
    body: auth_schemas.SignUp, state: Console, client: Client
) -> auth_schemas.SignUpAccepted:
    """One answer (202) whether or not the address already has an account; sign in next.

    A new address gets its account and the org (a 14-day trial in BYOK mode)
    at once; an address that already has an account gets nothing, so a
    sign-up never tells whether an address is known. Nobody is signed in.
    Where the instance sends email, ``status`` is ``check_email``: the new
    account signs in once the link mailed to it is opened.
    """
    accounts.request_sign_up(
        state.ctx,
        email=body.email,
        password=body.password,
        org_name=body.org_name,
        client=client,
        mailer=state.mailer,
        counter=state.counter,
    )
    emailed = ready_mailer(state.ctx, state.mailer) is not None
    return auth_schemas.sign_up_accepted(body.email, body.org_name, emailed=emailed)


@router.get(
    "/api/invitations/{token}",
    response_model=auth_schemas.InvitationPreview,
    tags=["invitations"],
    summary="What an invitation link offers",
)
def preview_invitation(
    token: str, state: Console, viewer: OptionalViewer
) -> auth_schemas.InvitationPreview:
    """``needs`` is the same for every address unless its own account is signed in."""
    preview = members.preview_invitation(state.ctx, token, viewer.user if viewer else None)
    return auth_schemas.invitation_preview(preview)


@router.post(
    "/api/invitations/accept",
    response_model=auth_schemas.SessionPublic,
    dependencies=[AnonymousCsrf],
    tags=["invitations"],
    summary="Accept an invitation",
)
def accept_invitation(
    request: Request,
    body: auth_schemas.InvitationAccept,
    state: Console,
    client: Client,
    viewer: OptionalViewer,
) -> Response:
    signed_in = viewer.user if viewer else None
    user, member = members.accept_invitation(
        state.ctx,
        state.throttle,
        body.token,
        password=body.password,
        signed_in=signed_in,
        client=client,
    )
    if viewer is not None and viewer.user.id == user.id:
        return session_json(state, user, viewer.session)
    if viewer is not None:
        state.ctx.sessions.delete(viewer.session.id_hash)
    return after_password_json(request, state, user, member.org_id, client)


@router.post(
    "/api/account/password",
    response_model=auth_schemas.SessionPublic,
    tags=["account"],
    summary="Change your password",
)
def change_password(
    request: Request, body: auth_schemas.PasswordChange, state: Console, viewer: CurrentViewer
) -> Response:
    """Every session of the account ends; the caller gets a new one (new cookie and CSRF token)."""
    session_id = accounts.change_password(
        state.ctx,
        state.throttle,
        viewer.user,
        current=body.current_password,
        new=body.new_password,
        org_id=viewer.session.org_id,
        client=viewer.client,
    )
    found = resolve_session(state.ctx, session_id)
    assert found is not None
    record, user = found
    response = session_json(state, user, record)
    set_session_cookie(request, response, session_id, device_token(state.ctx, user))
    return response


@router.get(
    "/api/orgs",
    response_model=list[auth_schemas.MembershipPublic],
    tags=["orgs"],
    summary="Your orgs",
)
def my_orgs(state: Console, viewer: CurrentViewer) -> list[auth_schemas.MembershipPublic]:
    return [
        auth_schemas.membership_public(m) for m in state.ctx.accounts.memberships(viewer.user.id)
    ]


@router.post(
    "/api/orgs",
    response_model=orgs_schemas.OrgPublic,
    status_code=201,
    tags=["orgs"],
    summary="Create another org (you own it)",
)
def create_org(
    body: orgs_schemas.OrgCreate, state: Console, viewer: CurrentViewer
) -> orgs_schemas.OrgPublic:
    org = accounts.create_org(state.ctx, viewer.user, body.name, viewer.client)
    return org_public(org, Role.OWNER, org.shared_allowed, org.trial_ends_at)
