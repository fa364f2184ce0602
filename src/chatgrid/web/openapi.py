"""The admin API's ``/openapi.json``: FastAPI's document, corrected where it says less than we do.

Schemathesis holds the server to this document (``tests/web/test_api_fuzz.py``),
so it must be exact:

- Bad input is our 400, not FastAPI's 422 (``web/errors.py``).
- Security is per operation, as the dependencies enforce it. FastAPI lists
  the session cookie and the CSRF header as alternatives on every operation
  that reads them, which says "either will do" everywhere, even where a
  session is optional (an invitation's preview) or where both are needed (a
  change by a signed-in person). An org admin route also takes an admin-scope
  service account's bearer token instead (``web/deps.org_admin``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from chatgrid.web.deps import SAFE_METHODS, anonymous_csrf, current_viewer, org_admin


def openapi_document(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is not None:
        return app.openapi_schema
    spec = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schemes = spec.get("components", {}).get("securitySchemes", {})
    cookie = next((name for name, s in schemes.items() if s.get("in") == "cookie"), None)
    header = next((name for name, s in schemes.items() if s.get("in") == "header"), None)
    bearer = next((name for name, s in schemes.items() if s.get("scheme") == "bearer"), None)
    paths = spec.get("paths", {})
    for item in paths.values():
        for operation in item.values():
            operation.get("responses", {}).pop("422", None)
    for route in _api_routes(app.routes):
        for method in route.methods or ():
            operation = paths.get(route.path_format, {}).get(method.lower())
            if cookie and header and operation and "security" in operation:
                security = _security(route.dependant, method, cookie, header)
                if bearer and _by_bearer_too(route.dependant):
                    security.append({bearer: []})
                operation["security"] = security
    components = spec.get("components", {}).get("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    app.openapi_schema = spec
    return spec


def _security(dependant: Dependant, method: str, cookie: str, header: str) -> list[dict[str, Any]]:
    """What the dependencies demand: a session (and its CSRF token for a change), a
    pre-session CSRF token (signing in or up), or nothing, a session being optional."""
    if _depends_on(dependant, current_viewer) or _depends_on(dependant, org_admin):
        needed: dict[str, Any] = {cookie: []}
        if method not in SAFE_METHODS:
            needed[header] = []
        return [needed]
    if _depends_on(dependant, anonymous_csrf):
        return [{header: []}]
    return [{}, {cookie: []}]


def _by_bearer_too(dependant: Dependant) -> bool:
    """An org admin route that needs no signed-in person otherwise: an admin-scope service
    account's bearer token will do instead of the session (and then no CSRF token)."""
    return _depends_on(dependant, org_admin) and not _depends_on(dependant, current_viewer)


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


def _api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        nested = getattr(route, "original_router", None)  # recent FastAPI nests included routers
        if nested is not None:
            yield from _api_routes(nested.routes)
