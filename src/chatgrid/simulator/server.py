"""Serving the simulator with uvicorn, tuned for throughput.

uvloop and httptools are the fastest loop and parser uvicorn offers; access
logs and the ``server`` header are off because the simulator is a benchmark
baseline and its CPU time is charged to whatever is measured in front of it.
"""

from __future__ import annotations

import socket

import uvicorn

from chatgrid.simulator.app import create_simulator_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9100


class _AnnouncingServer(uvicorn.Server):
    """Says where it listens once its socket is bound (uvicorn's own lines are off)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            base = f"http://{self.config.host}:{self.config.port}/v1"
            print(
                f"OpenAI simulator listening on {base} (any key like sk-demo-0123456789 works)",
                flush=True,
            )


def run_simulator(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve a fresh simulator until interrupted."""
    config = uvicorn.Config(
        create_simulator_app(),
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
        server_header=False,
        backlog=4096,
    )
    _AnnouncingServer(config).run()
