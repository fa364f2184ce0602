"""Reconciling an org's own OpenAI key against the ledger (``docs/ledger.md``, "BYOK
reconciliation")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chatgrid.admin import reconciliation
from chatgrid.audit import Actor
from chatgrid.cli.common import OrgArg, admin_context, emit, fail


def reconcile(
    org: OrgArg,
    file: Annotated[
        Path,
        typer.Option("--file", help="OpenAI's Usage API pages (completions, 1d buckets), as JSON."),
    ],
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
