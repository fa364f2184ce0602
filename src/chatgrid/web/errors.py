"""How failures reach people: JSON errors for ``/api``, pages (or a sign-in redirect) elsewhere.

Every error body of the API has OpenAI's shape,
``{"error": {"message", "type", "param", "code"}}``, with the status of the
``ChatGridError`` behind it: the framework's own refusals (404, 405) and an
unexpected failure (500) included. Bad input is a 400, never a 500.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Match, Mount

from chatgrid.admin.second_factor import SETUP_PAGE, SecondFactorRequired
from chatgrid.errors import ChatGridError, InvalidRequest, NotFound
from chatgrid.identity.sessions import SESSION_COOKIE
from chatgrid.web.pages.common import error_page
from chatgrid.web.refusals import SignInRequired
from chatgrid.web.security import clear_session_cookie, read_cookie

log = logging.getLogger(__name__)

_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def is_api(request: Request) -> bool:
    path = request.url.path
    return path == "/api" or path.startswith("/api/") or path == "/openapi.json"


def json_error(error: ChatGridError) -> JSONResponse:
    headers = {k.decode(): v.decode() for k, v in error.headers()}
    return JSONResponse(error.to_dict(), status_code=error.status, headers=headers)


async def _page_error(request: Request, error: ChatGridError) -> Response:
    return await run_in_threadpool(error_page, request, error)


async def _chatgrid_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ChatGridError)
    if isinstance(exc, SignInRequired):
        return _sign_in_required(request, exc)
    if isinstance(exc, SecondFactorRequired) and not is_api(request):
        return _second_factor_required(request)
    return json_error(exc) if is_api(request) else await _page_error(request, exc)


def _sign_in_required(request: Request, exc: SignInRequired) -> Response:
    response: Response
    if is_api(request):
        response = json_error(exc)
    else:
        target = request.url.path if request.method == "GET" else "/"
        if request.method == "GET" and request.url.query:
            target += "?" + request.url.query
        response = RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    if read_cookie(request, SESSION_COOKIE) is not None:  # a stale session, under either name
        clear_session_cookie(request, response)
    return response


def _second_factor_required(request: Request) -> Response:
    """The org requires two-step sign-in: to its set-up, then back to the page asked for."""
    target = request.url.path if request.method == "GET" else ""
    if target and request.url.query:
        target += "?" + request.url.query
    query = f"?next={quote(target, safe='')}" if target else ""
    return RedirectResponse(SETUP_PAGE + query, status_code=303)


def _validation_message(errors: list[Any]) -> tuple[str, str | None]:
    if not errors:
        return "the request is not valid", None
    first = errors[0]
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    param = ".".join(location) or None
    message = str(first.get("msg", "invalid value"))
    return (f"{param}: {message}" if param else message), param


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    message, param = _validation_message(list(exc.errors()))
    error = InvalidRequest(message, param=param, code="invalid_value")
    return json_error(error) if is_api(request) else await _page_error(request, error)


def allowed_methods(request: Request) -> str:
    """Every method the request's path answers to, for a 405's ``Allow``.

    Starlette's own ``Allow`` names only the methods of the first route whose
    path matched, and FastAPI makes one route per method, so a path taking
    GET, POST and DELETE answered ``Allow: GET``. Asking the app's routes
    whether each method would fully match keeps to their public ``matches``
    (FastAPI nests included routers, so the route table itself is not flat).
    """
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        for route in request.app.router.routes:
            if not isinstance(route, Mount) and route.matches(scope)[0] is Match.FULL:
                allowed.append(method)
                break
    return ", ".join(allowed)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error: ChatGridError
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        error = NotFound("no such page" if not is_api(request) else "no such API route")
    elif exc.status_code == 405:
        allow = allowed_methods(request) or headers.get("Allow", "")
        headers["Allow"] = allow
        error = InvalidRequest(
            f"{request.method} is not allowed here; this path takes {allow}",
            code="method_not_allowed",
            status=405,
        )
    elif 400 <= exc.status_code < 500:
        error = InvalidRequest(str(exc.detail), code="bad_request", status=exc.status_code)
    else:
        error = ChatGridError(str(exc.detail), status=exc.status_code, code="http_error")
    response = json_error(error) if is_api(request) else await _page_error(request, error)
    response.headers.update(headers)
    return response


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    """A bug still answers in the API's shape (Starlette logs it and re-raises after this)."""
    error = ChatGridError("something went wrong on our side", code="internal_error")
    if is_api(request):
        return json_error(error)
    try:
        return await _page_error(request, error)
    except Exception:  # the page itself may need what just failed (the database)
        log.exception("the error page could not be rendered")
        return PlainTextResponse("Internal Server Error", status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ChatGridError, _chatgrid_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
