"""The alert delivery worker: sends what ``AlertRepository.enqueue`` queued.

Each server process runs one (started with the server, beside the model
list refresh). It claims due deliveries with a lease (so two replicas never
send one delivery at once), sends them concurrently with a short timeout
through the upstream client's guarded pool (``providers.network``: private
addresses refused on every new socket unless
``CHATGRID_ALLOW_PRIVATE_UPSTREAMS``; no redirect followed), records the
status code and the start of the answer, and reschedules a failure with
backoff (``alerts.retries``). Nothing on ``/v1`` waits on any of this.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp

from chatgrid.alerts import SIGNATURE_HEADER, ChannelKind, retry_delay, sign_body, slack_body
from chatgrid.alerts.events import webhook_body
from chatgrid.alerts.models import ClaimedDelivery
from chatgrid.alerts.targets import channel_binding
from chatgrid.context import AppContext
from chatgrid.gateway.trial_alerts import SCAN_EVERY, queue_trial_endings
from chatgrid.mail import Mailer, MailFailed
from chatgrid.providers.network import PrivateUpstreamRefused, refuse_private
from chatgrid.store.types import utcnow
from chatgrid.vault import SecretUnreadable

log = logging.getLogger(__name__)

#: How long one receiver may take to answer.
SEND_TIMEOUT_SECONDS = 10.0
#: How long a claim holds; past it another worker may take the delivery over.
LEASE = timedelta(seconds=120)
#: How often the queue is looked at when nothing woke the worker.
POLL_SECONDS = 5.0
BATCH = 20


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    response: str
    delivered: bool


class AlertDelivery:
    """Claim, send, record; ``deliver_due`` is one pass (tests call it with their own clock)."""

    def __init__(
        self,
        context: AppContext,
        session: aiohttp.ClientSession,
        mailer: Mailer | None,
        *,
        clock: Callable[[], datetime] = utcnow,
        timeout: float = SEND_TIMEOUT_SECONDS,
    ) -> None:
        self.context = context
        self.session = session
        self.mailer = mailer
        self.clock = clock
        self.timeout = timeout
        self.owner = f"wrk_{secrets.token_hex(8)}"
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._scanned_at: datetime | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def wake(self) -> None:
        self._wake.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await self.scan_schedules()
            try:
                sent = await self.deliver_due()
            except Exception:
                log.exception("alert delivery pass failed; trying again later")
                sent = 0
            if sent:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            self._wake.clear()

    async def scan_schedules(self) -> int:
        """Queue the alerts nothing calls for (a trial ending), every ``SCAN_EVERY`` at most."""
        now = self.clock()
        if self._scanned_at is not None and now - self._scanned_at < SCAN_EVERY:
            return 0
        self._scanned_at = now
        try:
            return await asyncio.to_thread(queue_trial_endings, self.context, now)
        except Exception:
            log.exception("the scheduled alerts scan failed; trying again later")
            return 0

    async def deliver_due(self) -> int:
        """Send every delivery due now that this worker could claim; how many it tried."""
        alerts = self.context.alerts
        now = self.clock()
        claimed = await asyncio.to_thread(alerts.claim_due, self.owner, now, LEASE, BATCH)
        if not claimed:
            return 0
        outcomes = await asyncio.gather(*(self._attempt(c) for c in claimed))
        finished = self.clock()
        for item, outcome in zip(claimed, outcomes, strict=True):
            attempts = item.delivery.attempts + 1
            delay = None if outcome.delivered else retry_delay(attempts)
            await asyncio.to_thread(
                alerts.record_attempt,
                item,
                finished,
                status_code=outcome.status_code,
                response=outcome.response,
                delivered=outcome.delivered,
                retry_at=None if delay is None else finished + delay,
            )
            if not outcome.delivered:
                log.warning(
                    "alert delivery %s to a %s channel failed (attempt %d): %s",
                    item.delivery.id,
                    item.channel.kind.value,
                    attempts,
                    outcome.status_code or outcome.response[:100],
                )
        return len(claimed)

    async def _attempt(self, claimed: ClaimedDelivery) -> Outcome:
        channel = claimed.channel
        if channel.kind is ChannelKind.EMAIL:
            return await self._mail(claimed)
        try:
            target = self._open(claimed)
        except SecretUnreadable:
            return Outcome(None, "the channel's sealed URL could not be opened", False)
        url = target["url"]
        if channel.kind is ChannelKind.SLACK:
            body = slack_body(claimed.delivery.event)
            headers = {"Content-Type": "application/json"}
        else:
            body = webhook_body(claimed.delivery.event, claimed.delivery.id)
            stamp = int(self.clock().timestamp())
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign_body(target["secret"], body, stamp),
                "X-ChatGrid-Delivery": claimed.delivery.id,
                "X-ChatGrid-Event": claimed.delivery.event.kind,
            }
        return await self._post(url, body, headers)

    def _open(self, claimed: ClaimedDelivery) -> dict[str, str]:
        channel = claimed.channel
        assert channel.sealed is not None
        binding = channel_binding(channel.org_id, channel.id)
        try:
            plain = self.context.vault.open(channel.sealed, binding=binding)
        except SecretUnreadable:
            # A master key added by `vault rotate-master` in another process.
            self.context.reload_keyring()
            plain = self.context.vault.open(channel.sealed, binding=binding)
        document = json.loads(plain)
        assert isinstance(document, dict)
        return {str(k): str(v) for k, v in document.items()}

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        try:
            refuse_private(url, self.context.settings)
            async with self.session.post(
                url,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as answer:
                raw = await answer.content.read(2048)
                text = raw.decode("utf-8", errors="replace")
                return Outcome(answer.status, text, 200 <= answer.status < 300)
        except PrivateUpstreamRefused as exc:
            return Outcome(None, f"refused: {exc}", False)
        except TimeoutError:
            return Outcome(None, f"no answer within {self.timeout:g} s", False)
        except aiohttp.ClientError as exc:
            return Outcome(None, f"unreachable ({type(exc).__name__})", False)

    async def _mail(self, claimed: ClaimedDelivery) -> Outcome:
        if self.mailer is None:
            return Outcome(None, "no SMTP server is configured (CHATGRID_SMTP_HOST)", False)
        event = claimed.delivery.event
        address = claimed.channel.email
        assert address is not None
        try:
            await asyncio.to_thread(
                self.mailer.send, to=address, subject=event.subject, body=event.text
            )
        except MailFailed as exc:
            return Outcome(None, exc.message, False)
        return Outcome(None, "sent", True)
