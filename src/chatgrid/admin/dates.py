"""Days and moments that people type (report filters), read the same way by the API and pages.

Why not ``date.fromisoformat`` or pydantic's ``datetime`` straight away:
pydantic reads ``0.5`` or ``86400`` as a Unix time, ``fromisoformat`` takes
week dates and compact forms nobody means, and both give values at the edge
of the calendar (``0001-01-01T00:00+01:00``, ``9999-12-31``) that overflow
later, when converted to UTC or when the day after is computed, which used to
end a request with a 500. Here a value is checked once, against one published
shape, and every later step is known to stay inside ``datetime``'s range.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from chatgrid.errors import InvalidRequest

_DAY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_MOMENT = (
    _DAY + r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})?)?"
)

#: What a moment looks like, as published in the API's schema (JSON Schema ``pattern``).
MOMENT_PATTERN = f"^{_MOMENT}$"
MOMENT_HINT = "a date like 2026-01-31, 2026-01-31T09:00 or 2026-01-31T09:00:00+01:00"
DAY_HINT = "a date like 2026-01-31"

#: The last day a report may end on: its end is the midnight after it.
LAST_DAY = date.max - timedelta(days=1)


def parse_day(value: str | None, name: str) -> date | None:
    """A UTC day, ``YYYY-MM-DD`` exactly; None when not given (an empty value is refused)."""
    if value is None:
        return None
    try:
        if not re.fullmatch(_DAY, value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"{name} is {DAY_HINT}", param=name) from None


def parse_moment(value: str | None, name: str) -> datetime | None:
    """An aware UTC moment (UTC when no offset is given); None when not given.

    A moment that exists only outside ``datetime``'s range once in UTC
    (``0001-01-01T00:00+01:00``) is refused rather than clamped: it names no
    instant we could store or compare.
    """
    if value is None:
        return None
    try:
        if not re.fullmatch(_MOMENT, value):
            raise ValueError(value)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"{name} is {MOMENT_HINT}", param=name) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidRequest(
            f"{name} is outside the years 1 to 9999 once in UTC", param=name
        ) from None


def day_range(since: date | None, until: date, *, default_days: int) -> tuple[date, date]:
    """Both ends of a report of whole days; the start defaults to ``default_days`` back.

    The default start stops at the calendar's first day (a short, valid range);
    an end whose next midnight does not exist is refused.
    """
    if until > LAST_DAY:
        raise InvalidRequest(f"until is at most {LAST_DAY.isoformat()}", param="until")
    if since is None:
        since = date.fromordinal(max(until.toordinal() - (default_days - 1), 1))
    return since, until
