"""Alert channels and the delivery log through the API (org admins; ``docs/alerts.md``)."""

from __future__ import annotations

from fastapi import APIRouter, status

from chatgrid.admin import alerts
from chatgrid.alerts import ChannelKind
from chatgrid.web.api.alerts_schemas import (
    ChannelCreate,
    ChannelCreated,
    ChannelPublic,
    DeliveryPublic,
    TestQueued,
    channel_created,
    channel_public,
    delivery_public,
)
from chatgrid.web.deps import Console, OrgAdmin, TargetAlertChannel, TargetAlertDelivery

router = APIRouter(tags=["alerts"])


@router.get(
    "/api/orgs/{org_id}/alerts/channels",
    response_model=list[ChannelPublic],
    summary="Where the org's alerts go (a URL shows as its host only)",
)
def list_channels(state: Console, access: OrgAdmin) -> list[ChannelPublic]:
    return [channel_public(c) for c in state.ctx.alerts.channels(access.org.id)]


@router.post(
    "/api/orgs/{org_id}/alerts/channels",
    response_model=ChannelCreated,
    status_code=201,
    summary="Add a channel (a webhook's signing secret is in this answer only)",
)
def add_channel(body: ChannelCreate, state: Console, access: OrgAdmin) -> ChannelCreated:
    """400 for an address or URL that cannot be used (a private address unless the
    instance allows them, a host written with look-alike characters)."""
    added = alerts.add_channel(
        state.ctx, access.org.id, access.actor, ChannelKind(body.kind), body.target
    )
    return channel_created(added)


@router.delete(
    "/api/orgs/{org_id}/alerts/channels/{channel_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a channel (its URL and secret are erased; the log is kept)",
)
def remove_channel(state: Console, access: OrgAdmin, channel: TargetAlertChannel) -> None:
    alerts.remove_channel(state.ctx, access.org.id, access.actor, channel.id)


@router.get(
    "/api/orgs/{org_id}/alerts/deliveries",
    response_model=list[DeliveryPublic],
    summary="The delivery log, newest first (the last 100)",
)
def list_deliveries(state: Console, access: OrgAdmin) -> list[DeliveryPublic]:
    return [delivery_public(d) for d in state.ctx.alerts.deliveries(access.org.id)]


@router.post(
    "/api/orgs/{org_id}/alerts/deliveries/{delivery_id}/resend",
    response_model=DeliveryPublic,
    summary="Queue a delivery again, with a fresh set of attempts",
)
def resend_delivery(
    state: Console, access: OrgAdmin, delivery: TargetAlertDelivery
) -> DeliveryPublic:
    """404 when its channel was removed since."""
    return delivery_public(alerts.resend(state.ctx, access.org.id, access.actor, delivery.id))


@router.post(
    "/api/orgs/{org_id}/alerts/test",
    response_model=TestQueued,
    summary="Queue a test alert to every channel of the org",
)
def test_alert(state: Console, access: OrgAdmin) -> TestQueued:
    return TestQueued(queued=alerts.send_test(state.ctx, access.org.id, access.actor))
