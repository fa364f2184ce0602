"""Running things: the server, migrations, the simulator."""

from __future__ import annotations

from typing import Annotated

import typer

from chatgrid.cli.common import (
    admin_context,
    emit,
    fail,
    load_settings,
)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        str,
        typer.Option(
            help="Processes serving the port: a number, or 'auto' for one per core. "
            "Above 1 needs CHATGRID_REDIS_URL."
        ),
    ] = "1",
) -> None:
    """Migrate the database, then serve ChatGrid (``GET /healthz`` is 200 once ready)."""
    from chatgrid.server import run_server, worker_count, workers_refusal

    settings = load_settings()
    try:
        count = worker_count(workers)
    except ValueError:
        fail(f"--workers takes a whole number from 1, or auto (not {workers!r})")
    refusal = workers_refusal(settings, count)
    if refusal is not None:
        fail(refusal)
    with admin_context():
        pass
    run_server(settings, host=host, port=port, workers=count)


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
