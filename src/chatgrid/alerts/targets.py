"""What a channel points at, and the part of it that may be shown."""

from __future__ import annotations

from urllib.parse import urlsplit


def display_host(url: str) -> str:
    """The host of a webhook URL: a Slack URL's path is its secret, so only the host shows."""
    return urlsplit(url).hostname or "?"


def channel_binding(org_id: str | None, channel_id: str) -> str:
    """What a channel's sealed URL and secret are bound to (``vault``)."""
    return f"alert_channel:{org_id or 'operator'}:{channel_id}"
