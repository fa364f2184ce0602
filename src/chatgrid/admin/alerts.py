"""Alert channels and the delivery log: add, list, remove, re-send, test, audited.

A webhook's or Slack URL is a secret (a Slack URL alone lets anyone post to
the channel): it is checked like an upstream URL (``providers``: no private
address unless ``CHATGRID_ALLOW_PRIVATE_UPSTREAMS``), sealed by the vault
with the webhook's signing secret, and shown only by its host. The signing
secret is generated here and returned once, to the caller who added it.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from chatgrid.alerts import AlertEvent, ChannelKind
from chatgrid.alerts.models import AlertChannel, AlertDelivery
from chatgrid.alerts.targets import channel_binding, display_host
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest
from chatgrid.identity.users import normalize_email
from chatgrid.providers.addresses import HostUnusable, normalized_base_url
from chatgrid.providers.network import PrivateUpstreamRefused, refuse_private
from chatgrid.store.ids import new_id
from chatgrid.store.types import utcnow
from chatgrid.vault import Vault

#: Channels one org (or the operator) may have.
MAX_CHANNELS = 20


@dataclass(frozen=True)
class AddedChannel:
    channel: AlertChannel
    #: A webhook's signing secret, shown this once; None for email and Slack.
    signing_secret: str | None


def checked_url(ctx: AppContext, url: str) -> str:
    """A receiver URL as the HTTP client will call it, or ``InvalidRequest`` saying why not."""
    cleaned = url.strip()
    if not cleaned.lower().startswith(("https://", "http://")) or len(cleaned) > 2000:
        raise InvalidRequest("a webhook URL starts with https:// (or http://)", param="url")
    try:
        normalized = normalized_base_url(cleaned)
        refuse_private(normalized, ctx.settings)
    except (HostUnusable, PrivateUpstreamRefused) as exc:
        raise InvalidRequest(str(exc), param="url", code="alert_url_refused") from None
    return normalized


def add_channel(
    ctx: AppContext,
    org_id: str | None,
    actor: Actor,
    kind: ChannelKind,
    target: str,
) -> AddedChannel:
    """A new channel for the org (None: the operator's); a webhook's secret comes back once."""
    if len(ctx.alerts.channels(org_id)) >= MAX_CHANNELS:
        raise InvalidRequest(
            f"at most {MAX_CHANNELS} alert channels; remove one first", code="alert_channels_full"
        )
    channel_id = new_id("ach")
    email = None
    sealed = None
    signing_secret = None
    if kind is ChannelKind.EMAIL:
        email = normalize_email(target)
        display = email
    else:
        url = checked_url(ctx, target)
        display = display_host(url)
        secret_document: dict[str, str] = {"url": url}
        if kind is ChannelKind.WEBHOOK:
            signing_secret = "whsec_" + secrets.token_urlsafe(32)
            secret_document["secret"] = signing_secret
        sealed = ctx.vault.seal(
            json.dumps(secret_document), binding=channel_binding(org_id, channel_id)
        )
    channel = ctx.alerts.add_channel(
        channel_id,
        org_id,
        kind,
        display=display,
        email=email,
        sealed=sealed,
        created_by=actor.email,
        now=utcnow(),
    )
    ctx.audit.record(
        org_id,
        actor,
        "alert_channel.added",
        channel.id,
        {"kind": kind.value, "target": display},
    )
    return AddedChannel(channel, signing_secret)


def remove_channel(
    ctx: AppContext, org_id: str | None, actor: Actor, channel_id: str
) -> AlertChannel:
    channel = ctx.alerts.remove_channel(org_id, channel_id, utcnow())
    ctx.audit.record(
        org_id,
        actor,
        "alert_channel.removed",
        channel.id,
        {"kind": channel.kind.value, "target": channel.display},
    )
    return channel


def resend(ctx: AppContext, org_id: str | None, actor: Actor, delivery_id: str) -> AlertDelivery:
    """Queue a delivery again (the server's worker sends it at once, with fresh retries)."""
    delivery = ctx.alerts.resend(org_id, delivery_id, utcnow())
    ctx.audit.record(
        org_id,
        actor,
        "alert_delivery.resent",
        delivery.id,
        {"event": delivery.event.kind, "channel_id": delivery.channel_id},
    )
    return delivery


def send_test(ctx: AppContext, org_id: str | None, actor: Actor) -> int:
    """Queue a test alert to every channel of the org; how many deliveries were queued."""
    if not ctx.alerts.channels(org_id):
        raise InvalidRequest(
            "no alert channel yet; add one with `chatgrid alert channel add`",
            code="no_alert_channel",
        )
    event = AlertEvent(
        kind="test",
        org_id=org_id,
        dedupe_key=f"test:{secrets.token_hex(8)}",
        subject="ChatGrid: a test alert",
        text=f"{actor.email or 'An admin'} sent this test alert. Alerts reach this channel.",
        payload={"requested_by": actor.email},
    )
    return ctx.alerts.enqueue(event, utcnow())


def rewrap_channels(ctx: AppContext, vault: Vault) -> tuple[int, list[str]]:
    """Every channel's sealed URL under the vault's current master (``vault rotate-master``):
    how many were rewrapped, and the channels whose URL would not open (left as they are)."""
    stored = [
        (c.id, channel_binding(c.org_id, c.id), c.sealed) for c in ctx.alerts.sealed_channels()
    ]
    return vault.rewrap_each(stored, ctx.alerts.store_rewrapped)
