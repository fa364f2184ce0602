"""Dependencies of every console route: who is asking, for which org, with what rights.

Order matters and is the same everywhere: signed in (else 401 / a redirect
to the sign-in page), then a valid CSRF token on anything that changes
state (else 403), then membership of the org in the URL (else 404, so an
outsider cannot tell whether an org or object exists), then the admin role
(else 403), then the object named in the URL, looked up inside that org
(else 404). Body validation comes after all of these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection, Request

from chatgrid.admin.second_factor import check_org_rule
from chatgrid.admin.service_accounts import (
    acting_member,
    admin_bearer,
    get_service_account,
    service_actor,
)
from chatgrid.admin.signin import ClientInfo, resolve_session
from chatgrid.admin.teams import get_team
from chatgrid.admin.tokens import find_token
from chatgrid.alerts.models import AlertChannel, AlertDelivery
from chatgrid.audit import Actor
from chatgrid.billing.plans import Plan
from chatgrid.context import AppContext
from chatgrid.errors import NotFound
from chatgrid.identity import roles
from chatgrid.identity.domains import EmailDomain
from chatgrid.identity.invitations import Invitation
from chatgrid.identity.models import ApiToken, Member, Org
from chatgrid.identity.sessions import (
    CSRF_FORM_FIELD,
    CSRF_HEADER,
    DEVICE_COOKIE,
    SESSION_COOKIE,
    SessionRecord,
    csrf_matches,
)
from chatgrid.identity.users import User, has_control_characters
from chatgrid.store.credentials import StoredKey
from chatgrid.store.service_accounts import ServiceAccount
from chatgrid.store.teams import Team
from chatgrid.web.refusals import CsrfRefused, SignInRequired
from chatgrid.web.security import HOST_PREFIX, presession_csrf_matches, read_cookie
from chatgrid.web.state import ConsoleState

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_MAX_ID_LENGTH = 64


class _SessionCookie(APIKeyCookie):
    """Documented as ``cg_session``; read as ``__Host-cg_session`` where the browser sees https."""

    async def __call__(self, request: HTTPConnection) -> str | None:
        return read_cookie(request, SESSION_COOKIE)


_session_cookie = _SessionCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="The console session (set by POST /api/session or the sign-in page); "
    f"named {HOST_PREFIX}{SESSION_COOKIE} over https.",
)
_bearer = HTTPBearer(
    auto_error=False,
    description="An admin-scope service account token (cgsa_…), for the org admin routes "
    "of /api; no session cookie or CSRF token then.",
)
_csrf_header = APIKeyHeader(
    name=CSRF_HEADER,
    auto_error=False,
    description="The session's CSRF token (from GET /api/session); required to change anything.",
)


def console(request: Request) -> ConsoleState:
    state: ConsoleState = request.app.state.console
    return state


Console = Annotated[ConsoleState, Depends(console)]


def context(state: Console) -> AppContext:
    return state.ctx


Ctx = Annotated[AppContext, Depends(context)]


def client_info(request: Request) -> ClientInfo:
    agent = request.headers.get("user-agent")
    return ClientInfo(
        addr=request.client.host if request.client else None,
        user_agent=agent[:300] if agent else None,
        device=read_cookie(request, DEVICE_COOKIE),
    )


Client = Annotated[ClientInfo, Depends(client_info)]


@dataclass(frozen=True)
class Viewer:
    """A signed-in person and the session they came with."""

    user: User
    session: SessionRecord
    client: ClientInfo

    @property
    def actor(self) -> Actor:
        return self.client.actor(self.user)


def optional_viewer(
    ctx: Ctx, client: Client, cookie: Annotated[str | None, Depends(_session_cookie)]
) -> Viewer | None:
    if not cookie:
        return None
    found = resolve_session(ctx, cookie)
    if found is None:
        return None
    record, user = found
    return Viewer(user, record, client)


OptionalViewer = Annotated[Viewer | None, Depends(optional_viewer)]


async def presented_csrf(request: Request, header: str | None) -> str | None:
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FORM_FIELD)
        return value if isinstance(value, str) else None
    return None


async def current_viewer(
    request: Request,
    viewer: OptionalViewer,
    header: Annotated[str | None, Depends(_csrf_header)],
) -> Viewer:
    if viewer is None:
        raise SignInRequired()
    if request.method not in SAFE_METHODS:
        token = await presented_csrf(request, header)
        if not csrf_matches(viewer.session.csrf_token, token):
            raise CsrfRefused()
    return viewer


CurrentViewer = Annotated[Viewer, Depends(current_viewer)]


async def anonymous_csrf(
    request: Request,
    viewer: OptionalViewer,
    header: Annotated[str | None, Depends(_csrf_header)],
) -> None:
    """For forms used before signing in: the token must be the server's HMAC of the
    browser's pre-session id (``GET /api/csrf`` or the page sets both), or the
    session's own token when someone is signed in. A cookie and header that
    merely agree prove nothing: whoever can plant a cookie picks both."""
    token = await presented_csrf(request, header)
    if presession_csrf_matches(request, token):
        return
    if viewer is not None and csrf_matches(viewer.session.csrf_token, token):
        return
    raise CsrfRefused()


AnonymousCsrf = Depends(anonymous_csrf)


@dataclass(frozen=True)
class ServicePrincipal:
    """An admin-scope service account calling ``/api`` with its bearer token."""

    account: ServiceAccount
    client: ClientInfo


@dataclass(frozen=True)
class OrgAccess:
    """A signed-in member (or an admin-scope service account) acting in one org."""

    principal: Viewer | ServicePrincipal
    org: Org
    member: Member  # a service account's: ``acting_member``, an admin that is no seat
    shared_allowed: bool
    trial_ends_at: datetime | None

    @property
    def viewer(self) -> Viewer:
        """The signed-in person; a service account has none (a 404, like an unknown page)."""
        if isinstance(self.principal, ServicePrincipal):
            raise NotFound("not found", code="not_found")
        return self.principal

    @property
    def is_admin(self) -> bool:
        return roles.can_administer(self.member.role)

    @property
    def by_service_account(self) -> bool:
        return isinstance(self.principal, ServicePrincipal)

    @property
    def actor(self) -> Actor:
        if isinstance(self.principal, ServicePrincipal):
            return service_actor(self.principal.account, self.principal.client.addr)
        return self.principal.actor


def org_access(org_id: str, viewer: CurrentViewer, ctx: Ctx) -> OrgAccess:
    member = None
    if len(org_id) <= _MAX_ID_LENGTH and not has_control_characters(org_id):
        member = ctx.accounts.membership(viewer.user.id, org_id)
    if member is None:
        raise NotFound("no such organization", code="org_not_found")
    org = ctx.orgs.by_id(org_id)  # its two-step rule comes in the same read
    check_org_rule(ctx, viewer.user, org)  # two-step sign-in, if the org requires it
    if viewer.session.org_id != org_id:
        ctx.sessions.set_org(viewer.session.id_hash, org_id)
    return OrgAccess(viewer, org, member, org.shared_allowed, org.trial_ends_at)


OrgMember = Annotated[OrgAccess, Depends(org_access)]


def service_access(ctx: AppContext, org_id: str, presented: str, client: ClientInfo) -> OrgAccess:
    """An admin-scope service token acting in its own org; any other org is a 404."""
    account = admin_bearer(ctx, presented)
    if account.org_id != org_id:
        raise NotFound("no such organization", code="org_not_found")
    org = ctx.orgs.by_id(org_id)
    principal = ServicePrincipal(account, client)
    return OrgAccess(principal, org, acting_member(account), org.shared_allowed, org.trial_ends_at)


async def org_admin(
    request: Request,
    org_id: str,
    ctx: Ctx,
    client: Client,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    viewer: OptionalViewer,
    header: Annotated[str | None, Depends(_csrf_header)],
) -> OrgAccess:
    """An org admin: by bearer service token on ``/api`` (no CSRF: no cookie is trusted),
    else by the session cookie, with CSRF on anything that changes state."""
    if bearer is not None and request.url.path.startswith("/api/"):
        return service_access(ctx, org_id, bearer.credentials, client)
    access = org_access(org_id, await current_viewer(request, viewer, header), ctx)
    roles.require_admin(access.member.role)
    return access


OrgAdmin = Annotated[OrgAccess, Depends(org_admin)]


def url_id(value: str, what: str, *, code: str | None = None) -> str:
    """An id from the URL, or the same 404 an unknown one gets (nothing to tell apart)."""
    if len(value) > _MAX_ID_LENGTH or has_control_characters(value):
        raise NotFound(f"no such {what}", code=code or f"{what}_not_found")
    return value


def target_member(member_id: str, access: OrgAdmin, ctx: Ctx) -> Member:
    return ctx.members.get(access.org.id, url_id(member_id, "member"))


TargetMember = Annotated[Member, Depends(target_member)]


def target_invitation(invitation_id: str, access: OrgAdmin, ctx: Ctx) -> Invitation:
    return ctx.invitations.get(access.org.id, url_id(invitation_id, "invitation"))


TargetInvitation = Annotated[Invitation, Depends(target_invitation)]


def target_domain(domain_id: str, access: OrgAdmin, ctx: Ctx) -> EmailDomain:
    return ctx.domains.get(access.org.id, url_id(domain_id, "domain"))


TargetDomain = Annotated[EmailDomain, Depends(target_domain)]


def target_team(team_id: str, access: OrgAdmin, ctx: Ctx) -> Team:
    return get_team(ctx, access.org.id, url_id(team_id, "team"))


TargetTeam = Annotated[Team, Depends(target_team)]


def target_alert_channel(channel_id: str, access: OrgAdmin, ctx: Ctx) -> AlertChannel:
    channel_id = url_id(channel_id, "alert channel", code="alert_channel_not_found")
    return ctx.alerts.channel(access.org.id, channel_id)


TargetAlertChannel = Annotated[AlertChannel, Depends(target_alert_channel)]


def target_alert_delivery(delivery_id: str, access: OrgAdmin, ctx: Ctx) -> AlertDelivery:
    delivery_id = url_id(delivery_id, "alert delivery", code="alert_delivery_not_found")
    return ctx.alerts.delivery(access.org.id, delivery_id)


TargetAlertDelivery = Annotated[AlertDelivery, Depends(target_alert_delivery)]


def target_service_account(service_account_id: str, access: OrgAdmin, ctx: Ctx) -> ServiceAccount:
    account_id = url_id(service_account_id, "service account", code="service_account_not_found")
    return get_service_account(ctx, access.org, account_id)


TargetServiceAccount = Annotated[ServiceAccount, Depends(target_service_account)]


def own_token(token_id: str, access: OrgMember, ctx: Ctx) -> ApiToken:
    return find_token(ctx, access.org.id, url_id(token_id, "token"), access.member.id)


OwnToken = Annotated[ApiToken, Depends(own_token)]


def member_token(token_id: str, member: TargetMember, ctx: Ctx) -> ApiToken:
    return find_token(ctx, member.org_id, url_id(token_id, "token"), member.id)


MemberToken = Annotated[ApiToken, Depends(member_token)]


def operator_viewer(viewer: CurrentViewer) -> Viewer:
    """The operator console is invisible to everyone else: a 404, like another org's page."""
    if not viewer.user.is_operator:
        raise NotFound("not found", code="not_found")
    return viewer


OperatorUser = Annotated[Viewer, Depends(operator_viewer)]


# The operator names objects by exact id in the URL. Their repositories also
# take a name (for the CLI), so an id that merely matches a name is the 404
# an unknown id gets; and the lookup comes before the form, like every route.


def operator_org(tenant_id: str, viewer: OperatorUser, ctx: Ctx) -> Org:
    org = ctx.orgs.get(url_id(tenant_id, "organization", code="org_not_found"))
    if org.id != tenant_id:
        raise NotFound("no such organization", code="org_not_found")
    return org


OperatorOrg = Annotated[Org, Depends(operator_org)]


def operator_pool_key(key_id: str, viewer: OperatorUser, ctx: Ctx) -> StoredKey:
    key = ctx.pool.get(url_id(key_id, "pooled key", code="pool_key_not_found"))
    if key.id != key_id:
        raise NotFound("no such pooled key", code="pool_key_not_found")
    return key


OperatorPoolKey = Annotated[StoredKey, Depends(operator_pool_key)]


def operator_plan(plan_id: str, viewer: OperatorUser, ctx: Ctx) -> Plan:
    plan = ctx.plans.get(url_id(plan_id, "plan"))
    if plan.id != plan_id:
        raise NotFound("no such plan", code="plan_not_found")
    return plan


OperatorPlan = Annotated[Plan, Depends(operator_plan)]
