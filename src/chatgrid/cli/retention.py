"""How long data is kept: an org's periods, the instance's ceiling, and sweeping now.

``docs/retention.md`` has the story. A period is a whole number of days or
``forever``; an option left out leaves that period as it was.
"""

from __future__ import annotations

from typing import Annotated

import typer

from chatgrid.admin import retention
from chatgrid.audit import Actor
from chatgrid.cli.common import OrgArg, admin_context, emit
from chatgrid.governance.retention import DataKind

retention_app = typer.Typer(
    help="Retention: how long conversations, documents, the audit log and the ledger are kept.",
    no_args_is_help=True,
)

Days = Annotated[str | None, typer.Option(help='Days, or "forever".')]


def _periods(**given: str | None) -> dict[DataKind, str | int | None]:
    return {DataKind(kind): value for kind, value in given.items() if value is not None}


@retention_app.command("show")
def retention_show(
    org: Annotated[str | None, typer.Argument(help="An org's id or name (default: none).")] = None,
) -> None:
    """The instance's periods; with an org, its own and what it keeps under the ceiling."""
    with admin_context() as ctx:
        emit(retention.show_retention(ctx, org))


@retention_app.command("set")
def retention_set(
    org: OrgArg, conversations: Days = None, documents: Days = None, audit: Days = None
) -> None:
    """An org's periods (the instance's ceiling still applies)."""
    periods = _periods(conversations=conversations, documents=documents, audit=audit)
    with admin_context() as ctx:
        emit(retention.set_org_retention(ctx, org, Actor.cli(), periods))


@retention_app.command("set-instance")
def retention_set_instance(
    conversations: Days = None,
    documents: Days = None,
    audit: Days = None,
    ledger: Annotated[
        str | None, typer.Option(help='The ledger\'s legal period: 366+ days, or "forever".')
    ] = None,
) -> None:
    """The operator's ceiling on every org's periods, and the ledger's legal period."""
    periods = _periods(conversations=conversations, documents=documents, audit=audit, ledger=ledger)
    with admin_context() as ctx:
        emit(retention.set_instance_retention(ctx, Actor.cli(), periods))


@retention_app.command("sweep")
def retention_sweep() -> None:
    """Delete what is past its time now (servers do it every 5 minutes); the receipts."""
    with admin_context() as ctx:
        receipts = retention.sweep(ctx)
    if receipts is None:
        emit({"swept": False, "reason": "another process is sweeping now"})
    else:
        emit(
            {
                "swept": True,
                "receipts": [{"org_id": r.org_id, **r.details()} for r in receipts],
            }
        )
