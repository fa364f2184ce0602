"""Two-step sign-in over the API: the sign-in's second step, one's own second factor and
sessions, and the org rule.

A sign-in whose account has two-step sign-in answers ``POST /api/session``
with 202 ``second_factor_required`` and the pending step's cookie
(``cg_second_step``); ``POST /api/session/second-factor`` with a code then
answers like a sign-in.
"""

from __future__ import annotations

from fastapi import APIRouter, status
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chatgrid.admin import own_sessions, second_factor, second_step
from chatgrid.admin.second_step import SecondStepPending, SignedIn
from chatgrid.admin.signin import ClientInfo
from chatgrid.identity.second_step import SECOND_STEP_COOKIE
from chatgrid.identity.sessions import SessionRecord
from chatgrid.identity.users import User
from chatgrid.web.api import second_factor_schemas as schemas
from chatgrid.web.api.auth_schemas import SessionPublic, session_public
from chatgrid.web.deps import AnonymousCsrf, Client, Console, CurrentViewer, OrgAdmin, url_id
from chatgrid.web.pages.second_step import set_second_step_cookie, signed_in_cookies
from chatgrid.web.security import read_cookie
from chatgrid.web.state import ConsoleState

router = APIRouter()


def after_password_json(
    request: Request, state: ConsoleState, user: User, org_id: str | None, client: ClientInfo
) -> JSONResponse:
    """A session (200, like ``GET /api/session``), or 202 and the pending second step."""
    outcome = second_step.after_password(state.ctx, user, org_id, client, now=state.clock())
    if isinstance(outcome, SecondStepPending):
        body = schemas.second_step_required(outcome)
        response = JSONResponse(body.model_dump(mode="json"), status_code=202)
        set_second_step_cookie(request, response, outcome.challenge_id)
        return response
    return _session_answer(request, state, outcome)


def session_json(state: ConsoleState, user: User, record: SessionRecord) -> JSONResponse:
    """What ``GET /api/session`` answers for this session; the caller sets the cookies."""
    body = session_public(user, record, state.ctx.accounts.memberships(user.id))
    return JSONResponse(body.model_dump(mode="json"))


def _session_answer(request: Request, state: ConsoleState, done: SignedIn) -> JSONResponse:
    response = session_json(state, done.user, done.record)
    signed_in_cookies(request, state, response, done)
    return response


@router.post(
    "/api/session/second-factor",
    response_model=SessionPublic,
    dependencies=[AnonymousCsrf],
    tags=["session"],
    summary="Finish signing in with a code",
)
def finish_sign_in(
    request: Request, body: schemas.SecondStepCode, state: Console, client: Client
) -> Response:
    """After a 202 from ``POST /api/session`` (same cookies): a wrong or reused code is a 401
    ``second_step_failed``; a late one ``second_step_expired`` (sign in again); repeated
    wrong codes are throttled (429)."""
    done = second_step.complete(
        state.ctx,
        state.throttle,
        read_cookie(request, SECOND_STEP_COOKIE),
        body.code,
        client,
        now=state.clock(),
    )
    return _session_answer(request, state, done)


@router.get(
    "/api/account/second-factor",
    response_model=schemas.SecondFactorPublic,
    tags=["account"],
    summary="Your two-step sign-in",
)
def second_factor_status(state: Console, viewer: CurrentViewer) -> schemas.SecondFactorPublic:
    return schemas.second_factor_public(second_factor.status(state.ctx, viewer.user))


@router.post(
    "/api/account/second-factor/setup",
    response_model=schemas.SecondFactorSetup,
    tags=["account"],
    summary="Start setting up two-step sign-in",
)
def setup(state: Console, viewer: CurrentViewer) -> schemas.SecondFactorSetup:
    """A new seed, shown this once; it is not on until ``…/confirm`` gets a code made from it."""
    enrolment = second_factor.begin_setup(state.ctx, viewer.user, now=state.clock())
    return schemas.SecondFactorSetup(secret=enrolment.secret, otpauth_uri=enrolment.uri)


@router.post(
    "/api/account/second-factor/confirm",
    response_model=schemas.RecoveryCodes,
    tags=["account"],
    summary="Turn two-step sign-in on",
)
def confirm(
    body: schemas.SecondFactorConfirm, state: Console, viewer: CurrentViewer
) -> schemas.RecoveryCodes:
    """Answers the recovery codes, this once. Every other session of the account ends."""
    codes = second_factor.confirm_setup(
        state.ctx,
        state.throttle,
        viewer.user,
        code=body.code,
        password=body.current_password,
        client=viewer.client,
        session=viewer.session,
        now=state.clock(),
    )
    return schemas.RecoveryCodes(recovery_codes=codes)


@router.post(
    "/api/account/second-factor/recovery-codes",
    response_model=schemas.RecoveryCodes,
    tags=["account"],
    summary="Make new recovery codes",
)
def recovery_codes(
    body: schemas.PasswordOnly, state: Console, viewer: CurrentViewer
) -> schemas.RecoveryCodes:
    """Ten new codes, this once; every earlier one stops working."""
    codes = second_factor.new_recovery_codes(
        state.ctx,
        state.throttle,
        viewer.user,
        password=body.current_password,
        client=viewer.client,
        now=state.clock(),
    )
    return schemas.RecoveryCodes(recovery_codes=codes)


@router.post(
    "/api/account/second-factor/disable",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["account"],
    summary="Turn two-step sign-in off",
)
def disable(body: schemas.SecondFactorOff, state: Console, viewer: CurrentViewer) -> Response:
    second_factor.disable(
        state.ctx,
        state.throttle,
        viewer.user,
        password=body.current_password,
        code=body.code,
        client=viewer.client,
        now=state.clock(),
    )
    return Response(status_code=204)


@router.get(
    "/api/account/sessions",
    response_model=list[schemas.OwnSessionPublic],
    tags=["account"],
    summary="Where you are signed in",
)
def list_sessions(state: Console, viewer: CurrentViewer) -> list[schemas.OwnSessionPublic]:
    found = own_sessions.list_own(state.ctx, viewer.user, viewer.session)
    return [schemas.own_session_public(s) for s in found]


@router.delete(
    "/api/account/sessions",
    response_model=schemas.SessionsEnded,
    tags=["account"],
    summary="End every other session",
)
def end_other_sessions(state: Console, viewer: CurrentViewer) -> schemas.SessionsEnded:
    ended = own_sessions.end_others(state.ctx, viewer.user, viewer.session, viewer.client)
    return schemas.SessionsEnded(ended=ended)


@router.delete(
    "/api/account/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["account"],
    summary="End one of your sessions",
)
def end_session(session_id: str, state: Console, viewer: CurrentViewer) -> Response:
    """It stops working at once; another account's session is a 404."""
    handle = url_id(session_id, "session")
    own_sessions.end_own(state.ctx, viewer.user, handle, viewer.client)
    return Response(status_code=204)


@router.get(
    "/api/orgs/{org_id}/second-factor",
    response_model=schemas.OrgRulePublic,
    tags=["orgs"],
    summary="Whether the org requires two-step sign-in, and who has it",
)
def org_rule(state: Console, access: OrgAdmin) -> schemas.OrgRulePublic:
    return schemas.org_rule_public(*second_factor.org_coverage(state.ctx, access.org.id))


@router.put(
    "/api/orgs/{org_id}/second-factor",
    response_model=schemas.OrgRulePublic,
    tags=["orgs"],
    summary="Require two-step sign-in (or stop)",
)
def set_org_rule(
    body: schemas.OrgRuleUpdate, state: Console, access: OrgAdmin
) -> schemas.OrgRulePublic:
    """Of every member who signs in with a password, at once (sessions already open too);
    API tokens are not affected. Turning it on needs it on your own account first (409)."""
    second_factor.set_org_rule(state.ctx, access.org.id, access.actor, body.required)
    return schemas.org_rule_public(*second_factor.org_coverage(state.ctx, access.org.id))
