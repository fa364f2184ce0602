"""OpenTelemetry traces of ``/v1`` calls, off unless a receiver is configured.

Tracing is on when ``CHATGRID_OTEL_ENDPOINT`` is set, or one of the standard
``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``
(which the SDK reads itself, with the rest of its ``OTEL_*`` variables:
headers, timeout, sampler, batch sizes); ``OTEL_SDK_DISABLED=true`` turns it
off whatever is set. When it is off, :func:`start_tracing` returns None and
the gateway makes no tracer call at all: the SDK is not even imported.

Each process that serves (every ``--workers`` worker) starts its own
provider when its gateway is built, after the worker was spawned, and shuts
it down (flushing what is queued) when the gateway closes, within the drain.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from chatgrid.settings import Settings

if TYPE_CHECKING:
    from chatgrid.tracing.spans import Tracing

__all__ = ["Tracing", "exporter_endpoint", "start_tracing"]

_STANDARD = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def exporter_endpoint(settings: Settings, environ: Mapping[str, str]) -> str | None:
    """Where spans go: a full ``/v1/traces`` URL, ``""`` for the SDK's own reading of the
    ``OTEL_*`` variables, or None when tracing is off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if settings.otel_endpoint:
        return settings.otel_endpoint.rstrip("/") + "/v1/traces"
    if any(environ.get(name, "").strip() for name in _STANDARD):
        return ""
    return None


def start_tracing(settings: Settings, environ: Mapping[str, str] | None = None) -> Tracing | None:
    """This process's tracing, or None (off: nothing created, nothing imported)."""
    environ = os.environ if environ is None else environ
    endpoint = exporter_endpoint(settings, environ)
    if endpoint is None:
        return None
    from chatgrid.tracing.spans import Tracing, otlp_provider

    return Tracing(otlp_provider(endpoint or None, environ))
