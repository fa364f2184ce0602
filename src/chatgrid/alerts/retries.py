"""When a failed delivery is tried again: exponential backoff, then give up.

30 s after the first failure, doubling each time, never more than an hour
apart; after ``MAX_ATTEMPTS`` attempts the delivery is failed (it can still
be re-sent by hand from the delivery log).
"""

from __future__ import annotations

from datetime import timedelta

BASE_SECONDS = 30
CAP_SECONDS = 3600
MAX_ATTEMPTS = 8


def retry_delay(attempts: int) -> timedelta | None:
    """How long to wait after ``attempts`` failed attempts; None when it is time to give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return timedelta(seconds=min(BASE_SECONDS * 2 ** max(attempts - 1, 0), CAP_SECONDS))
