"""Rendering a console page: the layout's data (org switcher, banner, CSRF), notices, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from chatgrid.errors import ChatGridError, InvalidRequest
from chatgrid.identity.sessions import SESSION_COOKIE
from chatgrid.web.deps import OrgAccess, Viewer, client_info, optional_viewer
from chatgrid.web.security import presession_csrf, read_cookie, set_presession_cookie
from chatgrid.web.state import ConsoleState

NOTICES = {
    "signed_out": "You are signed out.",
    "password_changed": "Your password is changed. Every other session of your account ended.",
    "key_connected": "The key is validated and connected. New calls use it from now on.",
    "invitation_sent": "The invitation is on its way by email.",
    "key_revoked": "The key is revoked. Calls through ChatGrid stop until a new key is connected.",
    "key_preferred": "The model goes to the chosen key from now on.",
    "mode_switched": "The billing mode is switched; it is in force now.",
    "role_changed": "The role is changed.",
    "cap_saved": "The member's monthly cap is saved.",
    "member_removed": "The member is removed: their tokens are revoked and sessions ended.",
    "member_erased": "The member is erased; the receipt is in the org's audit log.",
    "invitation_revoked": "The invitation is withdrawn.",
    "token_revoked": "The token is revoked; calls with it are refused from now on.",
    "policy_saved": "Limits and models are saved and in force now.",
    "titles_saved": "Conversation titles are saved: new conversations follow them.",
    "invitation_accepted": "Welcome! You have joined the organization.",
    "org_created": "Your organization is ready. Its 14-day trial has started.",
    "sso_saved": "Single sign-on is saved: the provider answered discovery and showed its keys.",
    "saml_saved": "Single sign-on is saved: the IdP's metadata names its sign-in URL and key.",
    "sso_enforced": "Single sign-on is enforced: passwords no longer work for your domains.",
    "sso_relaxed": "Single sign-on is no longer enforced: passwords work again.",
    "sso_removed": "Single sign-on is removed: everyone signs in with a password again.",
    "second_factor_off": "Two-step sign-in is off; your recovery codes no longer work.",
    "second_factor_required": "Two-step sign-in is now required of members with a password.",
    "second_factor_not_required": "Two-step sign-in is no longer required.",
    "session_ended": "That session has ended.",
    "other_sessions_ended": "Every other session of your account has ended.",
}


def render(
    request: Request,
    state: ConsoleState,
    template: str,
    *,
    viewer: Viewer | None = None,
    access: OrgAccess | None = None,
    status: int = 200,
    refused: ChatGridError | None = None,
    **values: Any,
) -> HTMLResponse:
    """A page with the layout's data filled in; anonymous pages get a pre-session CSRF token.

    ``refused`` is why a form comes back: its status, its message (``error``),
    the field it names (``error_param``) and its ``Retry-After``.
    """
    if access is not None:
        viewer = access.viewer
    new_presession = None
    if viewer is not None:
        csrf = viewer.session.csrf_token
    else:
        csrf, new_presession = presession_csrf(request)
    ctx = state.ctx
    memberships = ctx.accounts.memberships(viewer.user.id) if viewer is not None else []
    banner = None
    if access is not None and access.is_admin:
        broken = [k for k in ctx.credentials.active(access.org.id) if k.status == "broken"]
        if broken:
            banner = broken[0].status_reason or "the upstream rejected the key"
    notice = NOTICES.get(request.query_params.get("notice", ""))
    page_values: dict[str, Any] = {
        "request": request,
        "viewer": viewer,
        "access": access,
        "memberships": memberships,
        "banner": banner,
        "csrf_token": csrf,
        "notice": notice,
        "error": None,
        "error_param": None,
        "section": "",
    }
    if refused is not None:
        status = refused.status
        page_values.update(error=refused.message, error_param=refused.param)
    page_values.update(values)
    response = HTMLResponse(state.templates.render(template, page_values), status_code=status)
    if refused is not None:
        response.headers.update({k.decode(): v.decode() for k, v in refused.headers()})
    if new_presession is not None:
        set_presession_cookie(request, response, new_presession)
    return response


class FormPage(Protocol):
    """A form's page, shown again because its action was refused."""

    def __call__(self, *, refused: ChatGridError) -> Response: ...


def form_action(action: Callable[[], Response], form: FormPage) -> Response:
    """Run a console form's action; a refusal shows the form again instead of an error page.

    Every form answers a ``ChatGridError`` the same way: the form's own page
    with the error's status and message (and the values typed, which ``form``
    keeps), so a handler says only what it does and which page is its form.
    Anything else (a bug) still reaches the error handlers.
    """
    try:
        return action()
    except ChatGridError as exc:
        return form(refused=exc)


def redirect(url: str, notice: str | None = None) -> RedirectResponse:
    if notice:
        url += ("&" if "?" in url else "?") + "notice=" + notice
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: never another host (//evil, /\\evil, https:...)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ord(ch) < 32 for ch in target) or len(target) > 500:
        return None
    return target


def error_page(request: Request, error: ChatGridError) -> Response:
    state: ConsoleState = request.app.state.console
    viewer = None
    try:
        viewer = optional_viewer(
            state.ctx, client_info(request), read_cookie(request, SESSION_COOKIE)
        )
    except ChatGridError:
        viewer = None
    return render(
        request,
        state,
        "error.html",
        viewer=viewer,
        status=error.status,
        problem=error,
        title=_TITLES.get(error.status, "Something went wrong"),
    )


_TITLES = {
    400: "That did not work",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "That clashes with something",
    410: "This link no longer works",
    413: "Too large",
    429: "Too many attempts",
    502: "Could not reach a service",
}


def whole_number(
    text: str, field: str, *, optional: bool = False, label: str | None = None
) -> int | None:
    """A form's whole number (``1,000`` and ``1_000`` read as 1000); blank is None if optional.

    Every console form that takes a count (limits, budgets, weights) reads it
    here, so they all accept and refuse the same things.
    """
    text = text.strip().replace(",", "").replace("_", "")
    if not text and optional:
        return None
    if not text.isdigit() or len(text) > 12:
        blank = ", or blank for none" if optional else ""
        raise InvalidRequest(f"{label or field}: a whole number{blank}", param=field)
    return int(text)
