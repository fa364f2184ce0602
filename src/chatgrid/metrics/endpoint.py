"""``GET /metrics``: Prometheus' text format, for the holder of ``CHATGRID_METRICS_TOKEN``.

Unset, there is no such page (404, as for any unknown URL): an instance that
did not ask for metrics shows none. Set, a request without
``Authorization: Bearer <token>``, or with another token, gets a 401; the
token is compared in constant time.
"""

from __future__ import annotations

import hmac

from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chatgrid.context import AppContext
from chatgrid.metrics.health import measure
from chatgrid.metrics.recorder import Metrics
from chatgrid.settings import Settings


def allowed(settings: Settings, authorization: str | None) -> bool | None:
    """None: metrics are off. Else whether ``authorization`` carries the metrics token."""
    if settings.metrics_token is None:
        return None
    expected = b"Bearer " + settings.metrics_token.get_secret_value().encode()
    given = (authorization or "").encode()
    # The scheme is case-insensitive; the token is compared in constant time.
    if given[:7].lower() == b"bearer ":
        given = b"Bearer " + given[7:].strip()
    return hmac.compare_digest(given, expected)


def _not_found() -> JSONResponse:
    return JSONResponse({"detail": "Not Found"}, status_code=404)


async def metrics_response(
    request: Request, settings: Settings, context: AppContext | None, metrics: Metrics | None
) -> Response:
    verdict = allowed(settings, request.headers.get("authorization"))
    if verdict is None:
        return _not_found()
    if not verdict:
        return JSONResponse(
            {"detail": "metrics need Authorization: Bearer <CHATGRID_METRICS_TOKEN>"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    if context is None or metrics is None:
        return JSONResponse({"status": "starting"}, status_code=503)
    if metrics.multiprocess:
        recorded = CollectorRegistry()
        MultiProcessCollector(recorded)  # type: ignore[no-untyped-call]
    else:
        recorded = metrics.registry
    measured = CollectorRegistry()
    measured.register(await measure(context))
    body = generate_latest(recorded) + generate_latest(measured)
    return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)
