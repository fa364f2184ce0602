"""Channels and deliveries as the store hands them out: plain values, no secret in clear."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatgrid.alerts.events import AlertEvent, ChannelKind
from chatgrid.vault import SealedSecret


@dataclass(frozen=True)
class AlertChannel:
    id: str
    org_id: str | None  # None: the operator's
    kind: ChannelKind
    display: str  # the address, or a URL's host only
    email: str | None
    sealed: SealedSecret | None  # a webhook's or Slack URL (and a webhook's secret), sealed
    created_at: datetime
    created_by: str | None

    def public(self) -> dict[str, Any]:
        """What may be shown: never the URL nor the signing secret."""
        return {
            "id": self.id,
            "org_id": self.org_id,
            "kind": self.kind.value,
            "target": self.display,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
        }


@dataclass(frozen=True)
class AlertDelivery:
    id: str
    channel_id: str
    channel_kind: ChannelKind
    channel_display: str
    org_id: str | None
    event: AlertEvent
    status: str  # pending | delivered | failed
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_response: str | None
    attempt_log: list[dict[str, Any]]
    created_at: datetime
    delivered_at: datetime | None

    def public(self) -> dict[str, Any]:
        """One row of the delivery log."""
        return {
            "id": self.id,
            "event": self.event.kind,
            "subject": self.event.subject,
            "channel_id": self.channel_id,
            "channel": f"{self.channel_kind.value}:{self.channel_display}",
            "status": self.status,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at.isoformat()
            if self.status == "pending"
            else None,
            "last_status_code": self.last_status_code,
            "last_response": self.last_response,
            "attempt_log": self.attempt_log,
            "created_at": self.created_at.isoformat(),
            "delivered_at": self.delivered_at.isoformat() if self.delivered_at else None,
        }


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery a worker holds the lease on, with what it needs to send it."""

    delivery: AlertDelivery
    channel: AlertChannel
    lease_owner: str
