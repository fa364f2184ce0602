"""Run the ASGI app under uvicorn with the fast loop and parser."""

from __future__ import annotations

import uvicorn

from chatgrid.app import create_app
from chatgrid.logs import configure_logging
from chatgrid.settings import Settings


def run_server(settings: Settings, *, host: str, port: int) -> None:
    configure_logging(settings.log_level)
    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_config=None,
        server_header=False,
        proxy_headers=False,  # the peer; CHATGRID_TRUSTED_PROXIES is read by app.py instead
        timeout_graceful_shutdown=5,
    )
    uvicorn.Server(config).run()
