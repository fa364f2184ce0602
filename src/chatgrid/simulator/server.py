"""Serving the simulator with uvicorn, tuned for throughput.

uvloop and httptools are the fastest loop and parser uvicorn offers; access
logs and the ``server`` header are off because the simulator is a benchmark
baseline and its CPU time is charged to whatever is measured in front of it.
"""

from __future__ import annotations

import uvicorn

from chatgrid.simulator.app import create_simulator_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9100


def run_simulator(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve a fresh simulator until interrupted."""
    uvicorn.run(
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
