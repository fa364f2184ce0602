"""``create_app``: wiring only. The ``/v1`` gateway, the health checks, and the console.

``/v1/*`` goes to the bare gateway before anything else; ``/healthz`` and
``/readyz`` to a tiny Starlette app; everything else to the console (a
FastAPI app built at start-up, so neither FastAPI nor Jinja2 is touched on
the ``/v1`` path).
"""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import TYPE_CHECKING

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from chatgrid import request_ids
from chatgrid.context import AppContext
from chatgrid.errors import ChatGridError
from chatgrid.gateway.app import Gateway
from chatgrid.gateway.forwarded import TrustedProxies
from chatgrid.gateway.http import Message, Receive, Scope, Send, header, send_error
from chatgrid.metrics.endpoint import metrics_response
from chatgrid.metrics.processes import multiprocess_enabled
from chatgrid.metrics.recorder import Metrics
from chatgrid.providers.network import create_upstream_session
from chatgrid.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from chatgrid.admin.retention_worker import RetentionWorker
    from chatgrid.chat.workspace import Workspace
    from chatgrid.gateway.alert_delivery import AlertDelivery

log = logging.getLogger(__name__)

_SITE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class ChatGridApp:
    """The ASGI entry point: ``/v1/*`` to the gateway, health checks, then the console."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.context: AppContext | None = None
        self.gateway: Gateway | None = None
        self.web: FastAPI | None = None
        self.workspace: Workspace | None = None
        self.alert_delivery: AlertDelivery | None = None
        self.retention: RetentionWorker | None = None
        networks = settings.trusted_proxy_networks
        #: None when no proxy is trusted: then nothing is read or copied per request.
        self.proxies = TrustedProxies(networks, settings.forwarded_header) if networks else None
        self.site = Starlette(
            routes=[
                Route("/healthz", self._healthz),
                Route("/readyz", self._readyz),
                Route("/metrics", self._metrics),
            ]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if self.proxies is not None and kind != "lifespan":
            scope = self.proxies.rewrite(scope)
        path = scope.get("path", "")
        if kind == "http" and (path == "/v1" or path.startswith("/v1/")):
            if self.gateway is None:
                await send_error(send, ChatGridError("ChatGrid is starting up", status=503))
                return
            await self.gateway(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        else:
            app = self.web if self.web is not None and path not in _SITE_PATHS else self.site
            await app(scope, receive, _with_request_id(scope, send))

    async def startup(self) -> None:
        self.context = AppContext.open(self.settings)
        session = create_upstream_session(self.settings)
        self.gateway = Gateway(self.context, session, Metrics(multiprocess=multiprocess_enabled()))
        self._session = session
        # The console and the workspace: imported once, at start-up.
        from chatgrid.web import create_web_app

        self.workspace = build_workspace(self.context, self.gateway)
        self.web = create_web_app(self.context, workspace=self.workspace)
        # Objects alive after start-up live as long as the process: keep them
        # out of the cyclic collector's full passes, which otherwise cost
        # milliseconds at a time on the request path.
        gc.collect()
        gc.freeze()
        # Last, so the Redis lease is confirmed just before the first request
        # (the imports above can take longer than a lease on a busy machine).
        await self.gateway.start()
        self.workspace.ingestor.start()
        # Alerts queued by any replica or command, sent off every request's path.
        from chatgrid.gateway.alert_delivery import AlertDelivery
        from chatgrid.mail import mailer_from_settings

        self.alert_delivery = AlertDelivery(
            self.context, session, mailer_from_settings(self.settings)
        )
        self.alert_delivery.start()
        # Data past its retention period, deleted by whichever replica holds the sweep's lease.
        from chatgrid.admin.retention_worker import RetentionWorker

        self.retention = RetentionWorker(self.context)
        self.retention.start()

    def streams_in_flight(self) -> int:
        """Streams still being relayed, whether or not an HTTP request still waits on them
        (a workspace answer whose reader left is drained and ledgered apart from it)."""
        return 0 if self.gateway is None else len(self.gateway.streams)

    def cut_streams(self) -> int:
        """The drain deadline passed (``server.py``): end the streams still open, each
        ledgered with what it used so far; how many there were."""
        if self.gateway is None:
            return 0
        from chatgrid.gateway.streams import STOPPING

        return self.gateway.streams.cut_all(STOPPING)

    async def shutdown(self) -> None:
        """After the requests in flight have finished (or been cut): stop the background work
        (the extraction children are ended here), then flush and close what is open."""
        if self.workspace is not None:
            await self.workspace.ingestor.stop()
        if self.alert_delivery is not None:
            await self.alert_delivery.close()
        if self.retention is not None:
            await self.retention.close()
        if self.web is not None:
            self.web.state.console.close()
        if self.gateway is not None:
            await self.gateway.close()
            await self._session.close()
        if self.context is not None:
            self.context.close()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    log.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _healthz(self, request: Request) -> JSONResponse:
        ready = self.gateway is not None
        return JSONResponse(
            {"status": "ok" if ready else "starting"}, status_code=200 if ready else 503
        )

    async def _readyz(self, request: Request) -> JSONResponse:
        if self.context is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        engine = self.context.engine

        def ping() -> None:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        try:
            await asyncio.to_thread(ping)
        except Exception:
            log.exception("readiness check failed")
            return JSONResponse({"status": "database unreachable"}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def _metrics(self, request: Request) -> Response:
        metrics = None if self.gateway is None else self.gateway.metrics
        return await metrics_response(request, self.settings, self.context, metrics)


def _with_request_id(scope: Scope, send: Send) -> Send:
    """Take the request's id (``request_ids``) and answer with it (``/v1`` does its own)."""
    if scope["type"] != "http":
        return send
    request_id = request_ids.incoming(header(scope, b"x-request-id"))
    request_id = request_id or request_ids.new_request_id()
    request_ids.CURRENT.set(request_id)
    id_header = (b"x-request-id", request_id.encode())

    async def send_with_id(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), id_header]}
        await send(message)

    return send_with_id


def build_workspace(ctx: AppContext, gateway: Gateway) -> Workspace:
    """Join the chat and documents services to the store and the gateway.

    The one place where they meet: the services name what they need as
    shapes (``chat/ports.py``, ``documents/ports.py``), so neither imports
    storage or the gateway, and the layers stay a line, not a circle.
    """
    from chatgrid.chat.attachments import ConversationAttachments
    from chatgrid.chat.sharing import ConversationSharing
    from chatgrid.chat.titles import TitleMaker
    from chatgrid.chat.turns import ChatService
    from chatgrid.chat.workspace import Workspace
    from chatgrid.documents.ingest import Ingestor
    from chatgrid.documents.library import DocumentLibrary
    from chatgrid.documents.retrieval import Retriever
    from chatgrid.documents.upload_limit import UploadLimit
    from chatgrid.gateway.workspace import WorkspaceGateway

    settings = ctx.settings
    calls = WorkspaceGateway(gateway)
    ingestor = Ingestor(ctx.documents, calls, settings)
    library = DocumentLibrary(
        ctx.documents,
        ctx.audit,
        calls,
        Retriever(ctx.documents),
        UploadLimit(gateway.limiter.counters, settings.uploads_per_member_per_minute),
        settings,
        on_upload=ingestor.wake,
    )
    attachments = ctx.attachments
    return Workspace(
        gateway=calls,
        library=library,
        chat=ChatService(
            ctx.conversations,
            calls,
            library,
            TitleMaker(calls, settings.title_model),
            ctx.chat_settings,
            attachments,
        ),
        sharing=ConversationSharing(ctx.shares, ctx.audit),
        ingestor=ingestor,
        attachments=ConversationAttachments(attachments, library),
    )


def create_app(settings: Settings | None = None) -> ChatGridApp:
    return ChatGridApp(settings or Settings())
