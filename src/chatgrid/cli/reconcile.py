"""Reconciling an org's own OpenAI key against the ledger (``docs/ledger.md``, "BYOK
reconciliation"): from a downloaded usage file, or read from OpenAI with the org's admin key."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer

from chatgrid.admin import reconciliation, reconciliation_fetch
from chatgrid.audit import Actor
from chatgrid.cli.common import OrgArg, admin_context, emit, fail

reconcile_key_app = typer.Typer(
    help="The OpenAI admin key ChatGrid reads an org's Usage and Costs APIs with (sealed).",
    no_args_is_help=True,
)


def reconcile(
    org: OrgArg,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="OpenAI's Usage API pages (completions, 1d buckets), as JSON."),
    ] = None,
    fetch: Annotated[
        bool,
        typer.Option(
            "--fetch", help="Read OpenAI's Usage and Costs APIs with the org's admin key."
        ),
    ] = False,
    days: Annotated[
        int, typer.Option("--days", help="With --fetch: the last N days, today included (7).")
    ] = reconciliation_fetch.DEFAULT_DAYS,
    api_key_id: Annotated[
        str | None,
        typer.Option("--api-key-id", help="Only this key's results (key_…, from OpenAI)."),
    ] = None,
    threshold: Annotated[
        int, typer.Option(help="Requests a day may differ by before the alert (0).")
    ] = 0,
) -> None:
    """OpenAI's counts for the org's key against the ledger's, per day and model; alerts
    the org's channels when the key was used outside ChatGrid."""
    if (file is None) == (not fetch):
        fail("give either --file or --fetch")
    if file is None:
        with admin_context() as ctx:
            emit(
                reconciliation_fetch.fetch_and_reconcile(
                    ctx, org, Actor.cli(), days=days, threshold=threshold
                )
            )
        return
    try:
        with file.open("rb") as handle:  # never more than the limit (and a byte) in memory
            raw = handle.read(reconciliation.MAX_USAGE_BYTES + 1)
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    with admin_context() as ctx:
        document = reconciliation.parse_usage_document(raw)
        emit(
            reconciliation.reconcile_usage(
                ctx, org, Actor.cli(), document, api_key_id=api_key_id, threshold=threshold
            )
        )


@reconcile_key_app.command("set")
def reconcile_key_set(
    org: OrgArg,
    api_key_id: Annotated[
        str | None,
        typer.Option("--api-key-id", help="OpenAI's id of the org's key (key_…): its usage only."),
    ] = None,
) -> None:
    """Store the org's OpenAI admin key, read from standard input (never an argument)."""
    if sys.stdin.isatty():
        key = getpass.getpass("OpenAI admin key: ")
    else:
        lines = [line.strip() for line in sys.stdin.read().splitlines() if line.strip()]
        if len(lines) != 1:
            fail("give the admin key on one line of standard input")
        key = lines[0]
    with admin_context() as ctx:
        emit(reconciliation_fetch.set_admin_key(ctx, org, Actor.cli(), key, api_key_id=api_key_id))


@reconcile_key_app.command("show")
def reconcile_key_show(org: OrgArg) -> None:
    """Whether the org has an admin key (its last four characters only)."""
    with admin_context() as ctx:
        emit(reconciliation_fetch.admin_key_status(ctx, org))


@reconcile_key_app.command("remove")
def reconcile_key_remove(org: OrgArg) -> None:
    """Erase the org's admin key; reconciling from an uploaded file still works."""
    with admin_context() as ctx:
        emit(reconciliation_fetch.remove_admin_key(ctx, org, Actor.cli()))
