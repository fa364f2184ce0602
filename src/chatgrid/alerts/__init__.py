"""Alerts: what an alert is, how a webhook is signed, how a delivery is retried.

Pure rules, no I/O: the store keeps channels and deliveries
(``store/alerts.py``), the worker sends them (``gateway/alert_delivery.py``).
See ``docs/alerts.md``.
"""

from chatgrid.alerts.events import AlertEvent, ChannelKind, webhook_body
from chatgrid.alerts.retries import MAX_ATTEMPTS, retry_delay
from chatgrid.alerts.signing import SIGNATURE_HEADER, sign_body, verify_signature
from chatgrid.alerts.slack import slack_body

__all__ = [
    "MAX_ATTEMPTS",
    "SIGNATURE_HEADER",
    "AlertEvent",
    "ChannelKind",
    "retry_delay",
    "sign_body",
    "slack_body",
    "verify_signature",
    "webhook_body",
]
