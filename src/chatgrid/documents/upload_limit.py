"""Uploads per member per minute: the ingestion queue's front door.

Every upload costs the machine an extraction (seconds of CPU, up to the
child's memory limit) and the org an embedding bill, so one member cannot
queue them faster than ``CHATGRID_UPLOADS_PER_MEMBER_PER_MINUTE``. The count
is kept by the same counters as ``/v1``'s rate limits (``limits/``): in this
process on a single node, in Redis when replicas share it, so the limit
holds however uploads are spread over replicas. When Redis cannot be reached
the upload is refused (503), as ``/v1``'s limits are: a replica that cannot
count does not guess.
"""

from __future__ import annotations

import logging
import secrets

from redis.exceptions import RedisError

from chatgrid.errors import RateLimited
from chatgrid.limits.enforcer import LimitsUnavailable
from chatgrid.limits.local import LocalCounters
from chatgrid.limits.shared import SharedCounters
from chatgrid.limits.windows import Admission

log = logging.getLogger(__name__)


class UploadLimit:
    def __init__(self, counters: LocalCounters | SharedCounters, per_minute: int) -> None:
        self.counters = counters
        self.per_minute = per_minute

    async def admit(self, org_id: str, member_id: str) -> None:
        """Count one upload by this member, or refuse it with when to try again."""
        if self.per_minute <= 0:
            return
        scope = f"uploads:org:{org_id}:member:{member_id}"
        admission = Admission(rates=((scope, self.per_minute),))
        try:
            refusal = await self.counters.admit(admission, f"upl_{secrets.token_hex(10)}")
        except (RedisError, OSError) as exc:
            log.error("uploads could not be counted: %s", type(exc).__name__)
            raise LimitsUnavailable(
                "Uploads cannot be counted right now; try again shortly.",
                code="uploads_unavailable",
            ) from None
        if refusal is not None:
            raise RateLimited(
                f"You have uploaded {self.per_minute} documents in the last minute, "
                f"the most allowed. Try again in {refusal.retry_after_seconds}s.",
                code="upload_rate_limited",
                retry_after=refusal.retry_after_seconds,
            )
