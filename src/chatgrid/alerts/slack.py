"""The body of a Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat...)."""

from __future__ import annotations

import json

from chatgrid.alerts.events import AlertEvent


def slack_body(event: AlertEvent) -> bytes:
    """``{"text": ...}``: the subject in bold, then the alert's text."""
    return json.dumps({"text": f"*{event.subject}*\n{event.text}"}).encode()
