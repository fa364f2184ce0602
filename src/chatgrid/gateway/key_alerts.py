"""Alerts for a key the upstream rejected, queued to the channels (``docs/alerts.md``).

Queued only: the rows are written in the thread that flags the key, and the
delivery worker sends them, so the call that met the 401 never waits on a
receiver. A failure to queue is logged and never stops the key being flagged.
"""

from __future__ import annotations

import logging

from chatgrid.alerts import AlertEvent
from chatgrid.context import AppContext
from chatgrid.store.credentials import StoredKey
from chatgrid.store.types import utcnow

log = logging.getLogger(__name__)


def _label(key: StoredKey) -> str:
    provider = key.config.provider.value
    return f"{provider} key {key.name!r}" if key.name else f"{provider} key"


def credential_broken_event(key: StoredKey, reason: str, public_url: str | None) -> AlertEvent:
    """An org's own key was rejected: its members are refused until an admin replaces it."""
    where = f"{public_url.rstrip('/')}/orgs/{key.owner}/key" if public_url else "the console"
    return AlertEvent(
        kind="credential.broken",
        org_id=key.owner,
        dedupe_key=f"credential.broken:{key.id}",
        subject=f"ChatGrid: your {_label(key)} was rejected by the provider",
        text=(
            f"The provider rejected your organization's {_label(key)} (fingerprint "
            f"{key.sealed.fingerprint}): {reason}. Calls that need it are refused until an "
            f"admin connects a working key (see {where})."
        ),
        payload={
            "provider": key.config.provider.value,
            "key_name": key.name,
            "fingerprint": key.sealed.fingerprint,
            "reason": reason,
        },
    )


def pool_key_broken_event(key: StoredKey, subject: str, text: str) -> AlertEvent:
    """A pooled key was rejected (the operator's channels): the mail's own words."""
    return AlertEvent(
        kind="pool_key.broken",
        org_id=None,
        dedupe_key=f"pool_key.broken:{key.id}",
        subject=subject,
        text=text,
        payload={
            "provider": key.config.provider.value,
            "key_name": key.name,
            "fingerprint": key.sealed.fingerprint,
            "reason": key.status_reason,
        },
    )


def queue_alert(ctx: AppContext, event: AlertEvent) -> int:
    """Queue ``event`` to its channels; how many deliveries were new (0 if queueing failed)."""
    try:
        return ctx.alerts.enqueue(event, utcnow())
    except Exception:
        log.exception("could not queue the %s alert", event.kind)
        return 0


def credential_broke(ctx: AppContext, org_id: str, credential_id: str, reason: str) -> int:
    """The org's key was just marked broken (once per break): queue its alert."""
    key = next((k for k in ctx.credentials.active(org_id) if k.id == credential_id), None)
    if key is None:
        return 0
    return queue_alert(ctx, credential_broken_event(key, reason, ctx.settings.public_url))
