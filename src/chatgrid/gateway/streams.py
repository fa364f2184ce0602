"""Streams in flight, so a revoked key can cut them at once.

A rotation lets streams on the old key finish (nothing fails); a revocation
or a key the upstream rejected ends them, within moments of the change,
with an error event — even if the upstream is silent at that instant. A
server stopping cuts the streams still open at its drain deadline the same
way (``cut_all``), so each is ledgered with what it used so far.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

from chatgrid.context import AppContext
from chatgrid.gateway.calls import CallPlan
from chatgrid.identity.models import BillingMode

log = logging.getLogger(__name__)

REVOKED: Final = "credential_revoked"
STOPPING: Final = "server_stopping"


@dataclass(eq=False)
class StreamWatch:
    credential_id: str | None
    pool_key_id: str | None
    cut: Callable[[str], None]
    """Ends the stream now; the reason becomes its ledger entry's outcome."""


class StreamRegistry:
    def __init__(self, context: AppContext) -> None:
        self.context = context
        self._watches: set[StreamWatch] = set()
        self._checking: asyncio.Task[None] | None = None
        self._check_again = False

    @contextmanager
    def watching(self, plan: CallPlan, cut: Callable[[str], None]) -> Iterator[None]:
        byok = plan.route.mode is BillingMode.BYOK
        watch = StreamWatch(
            credential_id=plan.route.credential_id if byok else None,
            pool_key_id=plan.pool_key_id,
            cut=cut,
        )
        self._watches.add(watch)
        try:
            yield
        finally:
            self._watches.discard(watch)

    def __len__(self) -> int:
        """Streams in flight, a workspace's detached ones (its reader left) included."""
        return len(self._watches)

    def cut_all(self, reason: str) -> int:
        """End every stream in flight now (the server's drain deadline); how many there were."""
        watches = list(self._watches)
        for watch in watches:
            watch.cut(reason)
        return len(watches)

    def changed(self) -> None:
        """Admin state moved: check whether any stream's key has ended."""
        if not self._watches:
            return
        if self._checking is not None:
            self._check_again = True
            return
        self._checking = asyncio.get_running_loop().create_task(self._cut_ended())

    async def _cut_ended(self) -> None:
        try:
            while True:
                self._check_again = False
                watches = list(self._watches)
                ended = await asyncio.to_thread(self._ended_key_ids, watches)
                for watch in watches:
                    if watch.credential_id in ended or watch.pool_key_id in ended:
                        watch.cut(REVOKED)
                if not self._check_again:
                    return
        except Exception:
            log.exception("could not check streams in flight after a change")
        finally:
            self._checking = None

    def _ended_key_ids(self, watches: list[StreamWatch]) -> set[str]:
        credential_ids = {w.credential_id for w in watches if w.credential_id}
        pool_ids = {w.pool_key_id for w in watches if w.pool_key_id}
        return self.context.credentials.ended_ids(credential_ids) | self.context.pool.ended_ids(
            pool_ids
        )
