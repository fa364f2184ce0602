"""An upstream said 401/403 to a key: flag it so nobody keeps hitting a dead key.

A BYOK credential is marked broken (its org's members are told to ask an
admin); a pooled key is taken off the pool and the operators are mailed,
once per break and off the request path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from chatgrid.context import AppContext
from chatgrid.gateway.calls import CallPlan
from chatgrid.gateway.key_alerts import credential_broke
from chatgrid.gateway.pool_alerts import alert_operators, pool_key_broke
from chatgrid.mail import mailer_from_settings
from chatgrid.store.credentials import StoredKey

log = logging.getLogger(__name__)


class RejectedKeys:
    """The relay's hook for a rejected key; ``changed`` drops this process's caches."""

    def __init__(self, context: AppContext, changed: Callable[[], None]) -> None:
        self.context = context
        self.changed = changed
        self.mailer = mailer_from_settings(context.settings)  # operator alerts
        self._alerts: set[asyncio.Future[int]] = set()

    async def __call__(self, plan: CallPlan, status: int) -> None:
        context = self.context
        reason = f"the upstream rejected the key (HTTP {status})"

        def flag() -> StoredKey | None:
            broken = None
            if plan.pool_key_id is not None:
                broken = pool_key_broke(context, plan.pool_key_id, reason)
            elif plan.route.credential_id is not None and context.credentials.mark_broken(
                plan.caller.org_id, plan.route.credential_id, reason
            ):
                credential_broke(context, plan.caller.org_id, plan.route.credential_id, reason)
            context.changes.bump()
            return broken  # a pooled key that just broke (once per break, not per request)

        try:
            broken = await asyncio.to_thread(flag)
        except Exception:
            log.exception("could not flag a rejected upstream key")
            broken = None
        self.changed()
        if broken is not None:
            # Mail the operators off the request path: this caller does not wait on SMTP.
            alert = asyncio.ensure_future(
                asyncio.to_thread(alert_operators, context, self.mailer, broken)
            )
            self._alerts.add(alert)
            alert.add_done_callback(self._alerts.discard)
        log.warning(
            "upstream rejected a key: org=%s fingerprint=%s",
            plan.caller.org_id,
            plan.target.fingerprint,
        )
