"""An alert, as every channel receives it, and the JSON a webhook is sent."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ChannelKind(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    SLACK = "slack"


@dataclass(frozen=True)
class AlertEvent:
    """Something an org's admins (or, with ``org_id`` None, the operator) must hear about.

    ``dedupe_key`` names the occurrence, not the message: the same key enqueued
    twice (two replicas seeing the same 401) is delivered once per channel.
    ``payload`` is plain JSON values and never holds a secret.
    """

    kind: str
    org_id: str | None
    dedupe_key: str
    subject: str
    text: str
    payload: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "org_id": self.org_id,
            "dedupe_key": self.dedupe_key,
            "subject": self.subject,
            "text": self.text,
            "payload": self.payload,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AlertEvent:
        return cls(
            kind=str(data["kind"]),
            org_id=data.get("org_id"),
            dedupe_key=str(data["dedupe_key"]),
            subject=str(data["subject"]),
            text=str(data["text"]),
            payload=dict(data.get("payload") or {}),
        )


def webhook_body(event: AlertEvent, delivery_id: str) -> bytes:
    """The exact bytes a webhook receives (and the signature covers).

    ``id`` is the delivery's: the same on every retry and re-send, so a
    receiver can drop a delivery it has already handled.
    """
    document = {
        "id": delivery_id,
        "event": event.kind,
        "org_id": event.org_id,
        "subject": event.subject,
        "text": event.text,
        "data": event.payload,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
