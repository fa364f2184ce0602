"""Bodies of alert channels and the delivery log, each beside its converter."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from chatgrid.admin.alerts import AddedChannel
from chatgrid.alerts.models import AlertChannel, AlertDelivery
from chatgrid.web.api.schemas import Strict


class ChannelCreate(Strict):
    kind: Literal["email", "webhook", "slack"]
    target: str = Field(
        max_length=2000, description="An email address, or the webhook's or Slack URL."
    )


class ChannelPublic(BaseModel):
    id: str
    kind: Literal["email", "webhook", "slack"]
    target: str = Field(description="The address, or only the host of a URL.")
    created_at: datetime
    created_by: str | None


def channel_public(channel: AlertChannel) -> ChannelPublic:
    return ChannelPublic(
        id=channel.id,
        kind=channel.kind.value,
        target=channel.display,
        created_at=channel.created_at,
        created_by=channel.created_by,
    )


class ChannelCreated(ChannelPublic):
    signing_secret: str | None = Field(
        description="A webhook's signing secret, shown this once (null for email and Slack)."
    )


def channel_created(added: AddedChannel) -> ChannelCreated:
    return ChannelCreated(
        **channel_public(added.channel).model_dump(), signing_secret=added.signing_secret
    )


class DeliveryPublic(BaseModel):
    id: str
    event: str
    subject: str
    channel_id: str
    channel: str = Field(description="The channel's kind and shown target, e.g. webhook:host.")
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_response: str | None = Field(description="The start of the receiver's last answer.")
    attempt_log: list[dict[str, Any]] = Field(
        description="Every attempt: at, status_code (null: none), response."
    )
    created_at: datetime
    delivered_at: datetime | None


def delivery_public(delivery: AlertDelivery) -> DeliveryPublic:
    return DeliveryPublic.model_validate(delivery.public())


class TestQueued(BaseModel):
    queued: int = Field(description="Deliveries queued: one per channel.")
