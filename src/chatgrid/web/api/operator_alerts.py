"""The operator's own alert channels and delivery log through the API (``docs/alerts.md``).

The same bodies and answers as an org's routes (``alerts.py``), for the channels
with no org (``org_id`` None in ``admin.alerts``): where pooled-key alerts go.
Operators only: for anyone else every route is a 404, like the rest of the
operator console; and an org's channel or delivery is a 404 here, since every
lookup is scoped to the operator's own (org-less) rows.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from chatgrid.admin import alerts
from chatgrid.alerts import ChannelKind
from chatgrid.alerts.models import AlertChannel, AlertDelivery
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
from chatgrid.web.deps import Console, Ctx, OperatorUser, url_id

router = APIRouter(tags=["operator"])

#: The operator's channels are those of no org.
OPERATOR = None


def operator_alert_channel(channel_id: str, viewer: OperatorUser, ctx: Ctx) -> AlertChannel:
    """One of the operator's channels by id; an org's channel is the 404 an unknown one gets."""
    channel_id = url_id(channel_id, "alert channel", code="alert_channel_not_found")
    return ctx.alerts.channel(OPERATOR, channel_id)


OperatorAlertChannel = Annotated[AlertChannel, Depends(operator_alert_channel)]


def operator_alert_delivery(delivery_id: str, viewer: OperatorUser, ctx: Ctx) -> AlertDelivery:
    """One of the operator's deliveries by id; an org's delivery is a 404."""
    delivery_id = url_id(delivery_id, "alert delivery", code="alert_delivery_not_found")
    return ctx.alerts.delivery(OPERATOR, delivery_id)


OperatorAlertDelivery = Annotated[AlertDelivery, Depends(operator_alert_delivery)]


@router.get(
    "/api/operator/alerts/channels",
    response_model=list[ChannelPublic],
    summary="Where the operator's alerts go (a URL shows as its host only)",
)
def list_channels(state: Console, viewer: OperatorUser) -> list[ChannelPublic]:
    return [channel_public(c) for c in state.ctx.alerts.channels(OPERATOR)]


@router.post(
    "/api/operator/alerts/channels",
    response_model=ChannelCreated,
    status_code=201,
    summary="Add an operator channel (a webhook's signing secret is in this answer only)",
)
def add_channel(body: ChannelCreate, state: Console, viewer: OperatorUser) -> ChannelCreated:
    """400 for an address or URL that cannot be used, as for an org's channel."""
    added = alerts.add_channel(
        state.ctx, OPERATOR, viewer.actor, ChannelKind(body.kind), body.target
    )
    return channel_created(added)


@router.delete(
    "/api/operator/alerts/channels/{channel_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an operator channel (its URL and secret are erased; the log is kept)",
)
def remove_channel(state: Console, viewer: OperatorUser, channel: OperatorAlertChannel) -> None:
    alerts.remove_channel(state.ctx, OPERATOR, viewer.actor, channel.id)


@router.get(
    "/api/operator/alerts/deliveries",
    response_model=list[DeliveryPublic],
    summary="The operator's delivery log, newest first (the last 100)",
)
def list_deliveries(state: Console, viewer: OperatorUser) -> list[DeliveryPublic]:
    return [delivery_public(d) for d in state.ctx.alerts.deliveries(OPERATOR)]


@router.post(
    "/api/operator/alerts/deliveries/{delivery_id}/resend",
    response_model=DeliveryPublic,
    summary="Queue an operator delivery again, with a fresh set of attempts",
)
def resend_delivery(
    state: Console, viewer: OperatorUser, delivery: OperatorAlertDelivery
) -> DeliveryPublic:
    """404 when its channel was removed since."""
    return delivery_public(alerts.resend(state.ctx, OPERATOR, viewer.actor, delivery.id))


@router.post(
    "/api/operator/alerts/test",
    response_model=TestQueued,
    summary="Queue a test alert to every channel of the operator",
)
def test_alert(state: Console, viewer: OperatorUser) -> TestQueued:
    return TestQueued(queued=alerts.send_test(state.ctx, OPERATOR, viewer.actor))
