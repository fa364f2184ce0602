"""Exporting an org's data as one archive (``docs/retention.md``, "Export")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chatgrid.admin.org_export import export_org
from chatgrid.audit import Actor
from chatgrid.cli.common import OrgArg, admin_context, emit, fail


def export(
    org: OrgArg,
    output: Annotated[Path, typer.Option("--output", help="The ZIP file to write (new).")],
) -> None:
    """Write the org's data (members, documents, conversations, usage, invoices, audit)
    to a ZIP archive with a manifest; prints what was written."""
    try:
        handle = output.open("xb")
    except OSError as exc:
        fail(f"cannot create {output}: {exc.strerror}")
    written = 0
    try:
        with handle, admin_context() as ctx:
            _, chunks = export_org(ctx, org, Actor.cli())
            for chunk in chunks:
                handle.write(chunk)
                written += len(chunk)
    except BaseException:
        output.unlink(missing_ok=True)  # never half an archive
        raise
    emit({"file": str(output), "bytes": written})
