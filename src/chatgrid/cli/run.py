"""Running things: the server, migrations, the simulator."""

from __future__ import annotations

from typing import Annotated

import typer

from chatgrid.cli.common import (
    admin_context,
    emit,
    load_settings,
)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Migrate the database, then serve ChatGrid (``GET /healthz`` is 200 once ready)."""
    from chatgrid.server import run_server

    settings = load_settings()
    with admin_context():
        pass
    run_server(settings, host=host, port=port)


def migrate() -> None:
    """Bring the database schema up to date (``serve`` does this too)."""
    with admin_context() as ctx:
        emit({"database": ctx.engine.url.render_as_string(hide_password=True), "migrated": True})


def simulator(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 9100,
) -> None:
    """Run the local OpenAI simulator (for tests, benchmarks and demos)."""
    from chatgrid.simulator import run_simulator

    run_simulator(host=host, port=port)
