"""Headers every console response carries, a body size limit, and the cookies we set.

Pure ASGI (no per-request task or buffering), so it costs a few dict
operations per response.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatgrid.identity.sessions import ANONYMOUS_CSRF_COOKIE, SESSION_COOKIE

MAX_CONSOLE_BODY_BYTES = 1024 * 1024

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
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
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in {h for h, _ in _HEADERS} and k.lower() != b"cache-control"
                ]
                headers.extend(_HEADERS)
                headers.append(_STATIC_CACHE if static else _NO_STORE)
                if https:
                    headers.append(_HSTS)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


#: Document uploads: the one console route that takes more than a form.
_UPLOAD_PATH = re.compile(r"/api/orgs/[^/]+/collections/[^/]+/documents")
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


def is_https(request: Request) -> bool:
    """An https request, or an instance whose public URL is https (TLS ends at a proxy)."""
    if request.url.scheme == "https":
        return True
    state = getattr(request.app.state, "console", None)
    public_url = state.ctx.settings.public_url if state is not None else None
    return bool(public_url and public_url.startswith("https://"))


def set_session_cookie(request: Request, response: Response, session_id: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )
    response.delete_cookie(ANONYMOUS_CSRF_COOKIE, path="/")


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request)
    )


def set_anonymous_csrf_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        ANONYMOUS_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
        path="/",
    )
