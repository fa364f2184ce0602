"""Headers every console response carries, a body size limit, and the cookies we set.

Cookies: the session, the pre-session (login CSRF) and the device token, all
HttpOnly, and ``__Host-``-prefixed wherever the browser sees https.

Pure ASGI (no per-request task or buffering), so it costs a few dict
operations per response.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatgrid.admin.signin import browser_signer
from chatgrid.identity.sessions import DEVICE_COOKIE, PRESESSION_COOKIE, SESSION_COOKIE
from chatgrid.identity.signing import BrowserSigner, is_plausible_id, new_presession_id

if TYPE_CHECKING:
    from chatgrid.web.state import ConsoleState

MAX_CONSOLE_BODY_BYTES = 1024 * 1024
HOST_PREFIX = "__Host-"
#: How long a browser stays known to an account after signing in there.
DEVICE_COOKIE_SECONDS = 180 * 24 * 3600

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def policy_allowing(stripe_origins: list[str]) -> str:
    """The console's policy, opened to the origins one page needs (Stripe.js, its API, frames).

    Only the card page sends its own policy; ``SecurityHeaders`` keeps a
    response's own policy and gives every other response the default.
    """
    extra = " ".join(stripe_origins)
    return (
        f"default-src 'self'; script-src 'self' {extra}; style-src 'self'; "
        f"img-src 'self' data:; font-src 'self'; connect-src 'self' {extra}; "
        f"frame-src {extra}; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]
_POLICY = b"content-security-policy"
_REPLACED = frozenset(name for name, _ in _HEADERS)
_NO_STORE = (b"cache-control", b"no-store")
_STATIC_CACHE = (b"cache-control", b"public, max-age=3600")
_HSTS = (b"strict-transport-security", b"max-age=31536000")


class SecurityHeaders:
    """Adds the security headers; console pages and API answers are never cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                given = message.get("headers", [])
                own_policy = [(k, v) for k, v in given if k.lower() == _POLICY]
                headers = [
                    (k, v)
                    for k, v in given
                    if k.lower() not in _REPLACED and k.lower() != b"cache-control"
                ]
                headers.extend(own_policy[:1] or _HEADERS[:1])
                headers.extend(_HEADERS[1:])
                headers.append(_STATIC_CACHE if static else _NO_STORE)
                if https:
                    headers.append(_HSTS)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


#: Document uploads and composer attachments: the console routes that take more than a form.
_UPLOAD_PATH = re.compile(
    r"/api/orgs/[^/]+/(?:collections/[^/]+/documents|conversations/[^/]+/attachments)"
)
#: Room for the multipart framing around an uploaded file.
_MULTIPART_SLACK = 64 * 1024


class BodyLimit:
    """Refuse console request bodies over 1 MiB (forms and JSON are small), uploads excepted.

    An upload may carry a document up to ``upload_limit`` bytes; the route
    then checks the file itself against the same limit with a clear message.
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: int = MAX_CONSOLE_BODY_BYTES,
        upload_limit: int = MAX_CONSOLE_BODY_BYTES,
    ) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit + _MULTIPART_SLACK

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit
        if scope["method"] == "POST" and _UPLOAD_PATH.fullmatch(scope.get("path", "")):
            limit = self.upload_limit
        for name, value in scope.get("headers", []):
            if name == b"content-length" and (not value.isdigit() or int(value) > limit):
                await _too_large(send)
                return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except BodyTooLarge:
            await _too_large(send)


class BodyTooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    body = (
        b'{"error":{"message":"the request body is too large","type":"invalid_request_error",'
        b'"param":null,"code":"request_too_large"}}'
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def is_https(request: HTTPConnection) -> bool:
    """An https request, or an instance whose public URL is https (TLS ends at a proxy)."""
    if request.url.scheme == "https":
        return True
    state = getattr(request.app.state, "console", None)
    public_url = state.ctx.settings.public_url if state is not None else None
    return bool(public_url and public_url.startswith("https://"))


def cookie_name(request: HTTPConnection, name: str) -> str:
    """``__Host-`` + name where the browser sees https, the plain name otherwise.

    Browsers keep a ``__Host-`` cookie only if it is ``Secure``, has
    ``Path=/`` and no ``Domain``, so a neighbouring subdomain or a plain-http
    page cannot plant or overwrite it. They refuse ``Secure`` cookies from
    plain http, so a console on ``http://127.0.0.1`` keeps the plain names
    (and only reads those). Which names apply follows ``is_https``: the
    request's scheme, or an https ``CHATGRID_PUBLIC_URL`` behind a proxy.
    """
    return HOST_PREFIX + name if is_https(request) else name


def read_cookie(request: HTTPConnection, name: str) -> str | None:
    """The cookie under the name this request's context uses (never the other spelling)."""
    return request.cookies.get(cookie_name(request, name)) or None


def set_session_cookie(
    request: Request, response: Response, session_id: str, device_token: str | None = None
) -> None:
    """The session cookie; the pre-session ends; ``device_token`` marks this browser as known."""
    secure = is_https(request)
    response.set_cookie(
        cookie_name(request, SESSION_COOKIE),
        session_id,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
    response.delete_cookie(
        cookie_name(request, PRESESSION_COOKIE),
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )
    if device_token is not None:
        response.set_cookie(
            cookie_name(request, DEVICE_COOKIE),
            device_token,
            max_age=DEVICE_COOKIE_SECONDS,
            httponly=True,
            samesite="strict",
            secure=secure,
            path="/",
        )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        cookie_name(request, SESSION_COOKIE),
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )


def presession_csrf(request: Request) -> tuple[str, str | None]:
    """The CSRF token for a form before sign-in, and a new pre-session id to set if needed.

    The token is the server's HMAC of the browser's pre-session id, so a
    token only works with the cookie it was made for, and only this server
    can make one.
    """
    presession_id = read_cookie(request, PRESESSION_COOKIE)
    new_id = None
    if presession_id is None or not is_plausible_id(presession_id):
        presession_id = new_id = new_presession_id()
    return _signer(request).presession_token(presession_id), new_id


def presession_csrf_matches(request: Request, presented: str | None) -> bool:
    return _signer(request).presession_token_matches(
        read_cookie(request, PRESESSION_COOKIE), presented
    )


def set_presession_cookie(request: Request, response: Response, presession_id: str) -> None:
    response.set_cookie(
        cookie_name(request, PRESESSION_COOKIE),
        presession_id,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
        path="/",
    )


def _signer(request: Request) -> BrowserSigner:
    state: ConsoleState = request.app.state.console
    return browser_signer(state.ctx)
