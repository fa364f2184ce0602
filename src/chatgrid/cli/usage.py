"""Exporting the usage ledger."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Annotated

import typer

from chatgrid.cli.common import (
    OrgArg,
    admin_context,
    emit,
    fail,
)
from chatgrid.ledger.entries import EXPORT_FIELDS


def usage(
    org: OrgArg,
    format: Annotated[str, typer.Option("--format", help="json or csv.")] = "json",
    since: Annotated[
        datetime | None, typer.Option(help="Only entries from this time (UTC).")
    ] = None,
) -> None:
    """Export an org's ledger entries (money in integer micro-dollars; a call priced by
    other units than tokens has units_kind, units and units_variant, audio in ms)."""
    if format not in {"json", "csv"}:
        fail("--format is json or csv")
    with admin_context() as ctx:
        start = since.replace(tzinfo=UTC) if since and since.tzinfo is None else since
        rows = ctx.usage.entries(ctx.orgs.get(org).id, since=start)
    records = [{field: row.get(field) for field in EXPORT_FIELDS} for row in rows]
    if format == "json":
        emit(records)
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(EXPORT_FIELDS), lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: ("" if v is None else v) for k, v in record.items()})
    typer.echo(buffer.getvalue(), nl=False)
