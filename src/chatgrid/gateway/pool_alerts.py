"""A pooled key the upstream rejected: out of rotation once, audited, operators told
(mailed, and queued to the operator's alert channels, ``docs/alerts.md``); and a
pooled key out of its own minute's budget, told to the operator's channels.

The gateway owns this rule because it is the one that sees the upstream's
401/403 on a pooled key; the operator console only reads the result
(``broken_pool_keys``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import partial

from chatgrid.alerts import AlertEvent
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.gateway.alert_queue import AlertQueue
from chatgrid.gateway.directory import PoolTarget
from chatgrid.gateway.key_alerts import pool_key_broken_event, queue_alert
from chatgrid.mail import Mailer, MailFailed
from chatgrid.store.credentials import StoredKey
from chatgrid.store.operator import OperatorRepository

log = logging.getLogger(__name__)

#: Who the audit log says broke a pooled key: the gateway, on the upstream's word.
GATEWAY_ACTOR = Actor(
    user_id=None, email="gateway", client_addr=None, user_agent="chatgrid-gateway"
)


def broken_pool_keys(ctx: AppContext) -> list[StoredKey]:
    """Pooled keys the upstream rejected: every operator page shows them until replaced."""
    return [k for k in ctx.pool.list() if k.status == "broken"]


def pool_key_broke(ctx: AppContext, key_id: str, reason: str) -> StoredKey | None:
    """Take a pooled key out of rotation; the key, the first time only (then None).

    Several replicas may see the same 401 at once; the status change is one
    conditional UPDATE, so exactly one of them gets the key back and alerts.
    """
    if not ctx.pool.set_status(key_id, "broken", reason):
        return None
    key = ctx.pool.get(key_id)
    ctx.audit.record(
        None,
        GATEWAY_ACTOR,
        "pool_key.broken",
        key.id,
        {"name": key.name, "fingerprint": key.sealed.fingerprint, "reason": reason},
    )
    queue_alert(ctx, pool_key_broken_event(key, *breakage_alert(key, ctx.settings.public_url)))
    return key


def breakage_alert(key: StoredKey, public_url: str | None) -> tuple[str, str]:
    """The alert's subject and body: the key's name and fingerprint, never the key."""
    where = (
        f"{public_url.rstrip('/')}/operator/pool"
        if public_url
        else ("the operator console's Pooled keys page")
    )
    body = (
        f'The upstream rejected the pooled key "{key.name}" (fingerprint '
        f"{key.sealed.fingerprint}): {key.status_reason or 'the key was refused'}.\n\n"
        "It is out of rotation; shared-credit calls use the other pooled keys. "
        "Replace it with `chatgrid pool add` and check the upstream account.\n\n"
        f"See {where}.\n"
    )
    return f"ChatGrid: pooled key {key.name} is broken", body


def alert_operators(ctx: AppContext, mailer: Mailer | None, key: StoredKey) -> int:
    """Mail every operator that a pooled key is broken (fingerprint only); how many were sent.

    A failed delivery is logged and the others still go out: the alert is
    best effort, the banner on the operator console is the lasting signal.
    """
    if mailer is None:
        log.warning("pooled key %s is broken; no SMTP server to alert the operators", key.name)
        return 0
    subject, body = breakage_alert(key, ctx.settings.public_url)
    sent = 0
    for address in OperatorRepository(ctx.engine).operator_emails():
        try:
            mailer.send(to=address, subject=subject, body=body)
        except MailFailed:
            log.warning("the broken-key alert could not be mailed to an operator")
            continue
        sent += 1
    return sent


def pool_key_exhausted(queue: AlertQueue, target: PoolTarget) -> None:
    """A pooled key's minute budget is spent (the operator's channels), once an hour per key.

    Calls move to other keys, or wait when none has room; a key that runs out
    hour after hour needs a higher upstream budget or a sibling key.
    """
    hour = datetime.now(UTC).strftime("%Y-%m-%dT%H")
    queue.queue_once(
        f"pool_key.budget_exhausted:{target.key_id}:{hour}",
        partial(_exhausted_event, target, hour),
    )


def _exhausted_event(target: PoolTarget, hour: str) -> AlertEvent:
    provider = target.target.provider.value
    limits = [f"{target.rpm_limit} requests"] if target.rpm_limit else []
    limits += [f"{target.tpm_limit} tokens"] if target.tpm_limit else []
    what = " and ".join(limits) + " a minute"
    return AlertEvent(
        kind="pool_key.budget_exhausted",
        org_id=None,
        dedupe_key=f"pool_key.budget_exhausted:{target.key_id}:{hour}",
        subject=f"ChatGrid: pooled {provider} key {target.key_id} used its budget of {what}",
        text=(
            f"The pooled {provider} key {target.key_id} (fingerprint "
            f"{target.target.fingerprint}) reached its own budget of {what}. Calls go to other "
            "pooled keys serving the model, or are told to retry when none has room. "
            "Raise the key's budget or add a key if this repeats (alerted at most once an hour "
            "per key)."
        ),
        payload={
            "key_id": target.key_id,
            "provider": provider,
            "fingerprint": target.target.fingerprint,
            "rpm_limit": target.rpm_limit,
            "tpm_limit": target.tpm_limit,
            "hour": hour,
        },
    )
