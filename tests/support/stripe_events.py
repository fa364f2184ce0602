"""Stripe's webhook deliveries made by hand: an event's body, signed as Stripe signs it."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any


def signed_as_stripe(body: bytes, secret: str, at: int | None = None) -> dict[str, str]:
    """The headers Stripe sends with ``body``: HMAC-SHA256 over ``t.body`` (now, or ``at``)."""
    stamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={stamp},v1={mac}", "Content-Type": "application/json"}


def event(kind: str, obj: dict[str, Any], event_id: str | None = None) -> bytes:
    """An event as Stripe's webhooks send it, around ``obj``."""
    document = {
        "id": event_id or "evt_" + secrets.token_hex(8),
        "object": "event",
        "type": kind,
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "data": {"object": obj},
    }
    return json.dumps(document).encode()
