"""Alert channels and the delivery log (``docs/alerts.md``).

``ORG`` is an org's id or name, or ``--operator`` for the operator's own
channels (a pooled key's breakage goes there). A webhook's signing secret is
printed once, when the channel is added.
"""

from __future__ import annotations

from typing import Annotated

import typer

from chatgrid.admin import alerts
from chatgrid.alerts import ChannelKind
from chatgrid.audit import Actor
from chatgrid.cli.common import admin_context, emit, fail
from chatgrid.context import AppContext

alert_app = typer.Typer(help="Alert channels and the alert delivery log.", no_args_is_help=True)
channel_app = typer.Typer(help="Where alerts go: email, webhooks, Slack.", no_args_is_help=True)
alert_app.add_typer(channel_app, name="channel")

OptionalOrg = Annotated[
    str | None, typer.Argument(help="The org's id or unique name (or use --operator).")
]
Operator = Annotated[bool, typer.Option("--operator", help="The operator's own channels.")]


def _owner(ctx: AppContext, org: str | None, operator: bool) -> str | None:
    """The org id the command is about; None for the operator's channels."""
    if operator == (org is not None):
        fail("name an org, or pass --operator (not both)")
    return None if org is None else ctx.orgs.get(org).id


def _owner_and_item(
    ctx: AppContext, org: str, item: str | None, operator: bool
) -> tuple[str | None, str]:
    """``ORG ID``, or ``--operator ID`` (then the one argument is the id)."""
    if operator:
        if item is not None:
            fail("with --operator, give only the id")
        return None, org
    if item is None:
        fail("give the org and the id (or --operator and the id)")
    return ctx.orgs.get(org).id, item


@channel_app.command("add")
def channel_add(
    org: OptionalOrg = None,
    operator: Operator = False,
    email: Annotated[str | None, typer.Option(help="Mail alerts to this address.")] = None,
    webhook: Annotated[str | None, typer.Option(help="POST signed JSON to this URL.")] = None,
    slack: Annotated[str | None, typer.Option(help="A Slack incoming-webhook URL.")] = None,
) -> None:
    """Add a channel; for a webhook, prints its signing secret this once."""
    chosen = [
        (k, v)
        for k, v in (
            (ChannelKind.EMAIL, email),
            (ChannelKind.WEBHOOK, webhook),
            (ChannelKind.SLACK, slack),
        )
        if v is not None
    ]
    if len(chosen) != 1:
        fail("give exactly one of --email, --webhook, --slack")
    kind, target = chosen[0]
    with admin_context() as ctx:
        added = alerts.add_channel(ctx, _owner(ctx, org, operator), Actor.cli(), kind, target)
        shown = added.channel.public()
        if added.signing_secret is not None:
            shown["signing_secret"] = added.signing_secret
            shown["note"] = "the signing secret is shown once; keep it with the receiver"
        emit(shown)


@channel_app.command("list")
def channel_list(org: OptionalOrg = None, operator: Operator = False) -> None:
    """The channels in use (a URL shows as its host only)."""
    with admin_context() as ctx:
        emit([c.public() for c in ctx.alerts.channels(_owner(ctx, org, operator))])


@channel_app.command("remove")
def channel_remove(
    org: Annotated[str, typer.Argument(help="The org's id or name (with --operator: the id).")],
    channel_id: Annotated[str | None, typer.Argument(help="The channel's id (ach_…).")] = None,
    operator: Operator = False,
) -> None:
    """`remove ORG CHANNEL_ID` (or `remove --operator CHANNEL_ID`): the URL and secret are
    erased, pending deliveries failed; the log keeps what was sent."""
    with admin_context() as ctx:
        owner, item = _owner_and_item(ctx, org, channel_id, operator)
        channel = alerts.remove_channel(ctx, owner, Actor.cli(), item)
        emit({"id": channel.id, "removed": True})


@alert_app.command("deliveries")
def deliveries(
    org: OptionalOrg = None,
    operator: Operator = False,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """The delivery log, newest first: event, channel, status, attempts, last answer."""
    with admin_context() as ctx:
        rows = ctx.alerts.deliveries(_owner(ctx, org, operator), limit)
        emit([d.public() for d in rows])


@alert_app.command("resend")
def resend(
    org: Annotated[str, typer.Argument(help="The org's id or name (with --operator: the id).")],
    delivery_id: Annotated[str | None, typer.Argument(help="The delivery's id (dlv_…).")] = None,
    operator: Operator = False,
) -> None:
    """`resend ORG DELIVERY_ID` (or `--operator DELIVERY_ID`): queue it again with fresh
    retries; a running server sends it within seconds."""
    with admin_context() as ctx:
        owner, item = _owner_and_item(ctx, org, delivery_id, operator)
        emit(alerts.resend(ctx, owner, Actor.cli(), item).public())


@alert_app.command("test")
def send_test(org: OptionalOrg = None, operator: Operator = False) -> None:
    """Queue a test alert to every channel; a running server sends it."""
    with admin_context() as ctx:
        queued = alerts.send_test(ctx, _owner(ctx, org, operator), Actor.cli())
        emit({"queued": queued})
