"""Seats: who held one on which days of a month, and what that costs.

A seat is an active membership. A member counts for every UTC day of the
month on which they held a seat for any part of the day, once per day even
if they left and came back that day. The charge is rounded once per org per
month: the exact numerator ``seat_price × Σ seat_days`` is summed over every
seat first, then divided by the month's days with the one rounding rule.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from chatgrid.errors import InvalidRequest
from chatgrid.ledger.money import round_half_up


@dataclass(frozen=True)
class SeatPeriod:
    member_id: str
    started_at: datetime
    ended_at: datetime | None  # None: still a member


@dataclass(frozen=True)
class Month:
    """A billing period ``YYYY-MM``, in UTC."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        try:
            year, month = (int(part) for part in text.split("-"))
            date(year, month, 1)
        except ValueError:
            raise InvalidRequest("a period is YYYY-MM, e.g. 2026-11", param="period") from None
        if len(text) != 7:
            raise InvalidRequest("a period is YYYY-MM, e.g. 2026-11", param="period")
        return cls(year, month)

    @classmethod
    def of(cls, moment: datetime) -> Month:
        moment = moment.astimezone(UTC)
        return cls(moment.year, moment.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the month."""
        return self.start + timedelta(days=self.days)


def seat_days(
    periods: list[SeatPeriod], month: Month, *, billable_from: datetime | None = None
) -> dict[str, int]:
    """Days of ``month`` each member held a seat (only members with at least one day).

    ``billable_from`` clips the start (the end of a trial: trial days are free);
    an open period runs to the end of the month.
    """
    start = month.start if billable_from is None else max(month.start, billable_from)
    days: dict[str, set[int]] = {}
    for period in periods:
        begin = max(period.started_at, start)
        finish = min(period.ended_at or month.end, month.end)
        if finish <= begin:
            continue
        first = (begin - month.start).days
        last = (finish - month.start - timedelta(microseconds=1)).days
        days.setdefault(period.member_id, set()).update(range(first, last + 1))
    return {member: len(held) for member, held in sorted(days.items()) if held}


def prorated_micros(per_seat_micros: int, days_by_member: dict[str, int], month: Month) -> int:
    """``per_seat × Σ seat_days / days_in_month``, rounded once, half up."""
    return round_half_up(per_seat_micros * sum(days_by_member.values()), month.days)
