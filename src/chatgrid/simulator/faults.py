"""Faults scheduled through the control API, and the error each fault produces.

Directives cover tests that control the message text; scheduled faults cover
the rest (a gateway's health probe, a request whose text a test cannot shape):
``POST /_sim/faults {"status": 429, "count": 3, "retry_after": 5}`` makes the
next three authenticated ``/v1`` or Azure requests fail that way. Faults
queue: a second schedule starts after the first one is used up.
"""

from __future__ import annotations

from collections import deque
from typing import TypeGuard

from chatgrid.simulator import errors
from chatgrid.simulator.directives import DEFAULT_RETRY_AFTER, FAULT_STATUSES


class ScheduledFault:
    __slots__ = ("remaining", "retry_after", "status")

    def __init__(self, status: int, remaining: int, retry_after: int) -> None:
        self.status = status
        self.remaining = remaining
        self.retry_after = retry_after

    def as_dict(self) -> dict[str, int]:
        return {"status": self.status, "count": self.remaining, "retry_after": self.retry_after}


class FaultQueue:
    """Pending scheduled faults, consumed one per request, oldest first."""

    def __init__(self) -> None:
        self._pending: deque[ScheduledFault] = deque()

    def __bool__(self) -> bool:
        return bool(self._pending)

    def schedule(self, status: int, count: int, retry_after: int) -> ScheduledFault:
        fault = ScheduledFault(status, count, retry_after)
        self._pending.append(fault)
        return fault

    def take(self) -> ScheduledFault | None:
        """The fault for this request, if any, counting it as used."""
        if not self._pending:
            return None
        fault = self._pending[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            self._pending.popleft()
        return fault

    def pending(self) -> list[dict[str, int]]:
        return [fault.as_dict() for fault in self._pending]

    def clear(self) -> None:
        self._pending.clear()


def parse_schedule(body: object) -> tuple[int, int, int]:
    """Validate a ``POST /_sim/faults`` body into (status, count, retry_after)."""
    if not isinstance(body, dict):
        raise errors.invalid_type("body", "an object", body)
    status = body.get("status")
    if not _is_int(status) or status not in FAULT_STATUSES:
        raise errors.invalid_request(
            "'status' must be one of 401, 403, 429, 500, 503.", "status", "invalid_value"
        )
    count = body.get("count", 1)
    if not _is_int(count) or count < 1:
        raise errors.invalid_request("'count' must be an integer >= 1.", "count", "invalid_value")
    retry_after = body.get("retry_after", DEFAULT_RETRY_AFTER)
    if not _is_int(retry_after) or retry_after < 0:
        raise errors.invalid_request(
            "'retry_after' must be an integer >= 0.", "retry_after", "invalid_value"
        )
    return status, count, retry_after


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def fault_error(
    status: int, retry_after: int, key: str, model: str, azure: bool
) -> errors.ApiError:
    """The response a fault stands for; 401 looks exactly like a revoked key."""
    if status == 429:
        return errors.rate_limited(model, retry_after)
    if status == 500:
        return errors.server_error()
    if status == 503:
        return errors.overloaded()
    if status == 403:
        return errors.insufficient_permissions()
    return errors.azure_access_denied() if azure else errors.incorrect_api_key(key)
