"""How failures reach people: JSON errors for ``/api``, pages (or a sign-in redirect) elsewhere.

Every error body of the API has OpenAI's shape,
``{"error": {"message", "type", "param", "code"}}``, with the status of the
``ChatGridError`` behind it. Bad input is a 400, never a 500.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from chatgrid.errors import AuthenticationFailed, ChatGridError, InvalidRequest, NotFound
from chatgrid.errors import PermissionDenied as _PermissionDenied
from chatgrid.identity.sessions import SESSION_COOKIE
from chatgrid.web.security import clear_session_cookie


class SignInRequired(AuthenticationFailed):
    default_code = "signin_required"

    def __init__(self) -> None:
        super().__init__("sign in to continue")


class CsrfRefused(_PermissionDenied):
    default_code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__(
            "the form or request is missing a valid CSRF token; reload the page and try again"
        )


def is_api(request: Request) -> bool:
    path = request.url.path
    return path == "/api" or path.startswith("/api/") or path == "/openapi.json"


def json_error(error: ChatGridError) -> JSONResponse:
    headers = {k.decode(): v.decode() for k, v in error.headers()}
    return JSONResponse(error.to_dict(), status_code=error.status, headers=headers)


async def _page_error(request: Request, error: ChatGridError) -> Response:
    from chatgrid.web.pages.common import error_page

    return await run_in_threadpool(error_page, request, error)


async def _chatgrid_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ChatGridError)
    if isinstance(exc, SignInRequired):
        return _sign_in_required(request, exc)
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
    if SESSION_COOKIE in request.cookies:
        clear_session_cookie(request, response)
    return response


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


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error: ChatGridError
    if exc.status_code == 404:
        error = NotFound("no such page" if not is_api(request) else "no such API route")
    elif exc.status_code == 405:
        error = ChatGridError("this method is not allowed here", status=405, code="bad_method")
    else:
        error = ChatGridError(str(exc.detail), status=exc.status_code, code="http_error")
        if 400 <= exc.status_code < 500:
            error = InvalidRequest(str(exc.detail), code="bad_request")
            error.status = exc.status_code
    response = json_error(error) if is_api(request) else await _page_error(request, error)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ChatGridError, _chatgrid_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
