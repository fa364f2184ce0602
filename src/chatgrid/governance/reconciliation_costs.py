"""What OpenAI charged an org per day (its Costs API) beside the ledger's list cost.

OpenAI writes each amount as a JSON number in dollars; read as a float it
would lose cents over a year of days, so the pages are parsed with every
number a ``Decimal`` (``json.loads(..., parse_float=Decimal)``) and kept in
micro-dollars as a ``Decimal`` (OpenAI's amounts are finer than a
micro-dollar). The ledger's side is its integer ``list_cost_micros``, so the
difference is exact either way; nothing here is ever a float.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from chatgrid.errors import InvalidRequest

COSTS_RESULT = "organization.costs.result"
MICROS_PER_DOLLAR = Decimal(1_000_000)


@dataclass(frozen=True)
class CostLine:
    """One day: what OpenAI charged, what the ledger priced at list, and the difference."""

    day: date
    openai_micros: Decimal
    chatgrid_micros: int

    @property
    def difference_micros(self) -> Decimal:
        return self.openai_micros - self.chatgrid_micros

    def public(self) -> dict[str, Any]:
        """Micro-dollars as strings: exact in JSON, where a number would become a float."""
        return {
            "day": self.day.isoformat(),
            "openai_micros": _plain(self.openai_micros),
            "chatgrid_micros": str(self.chatgrid_micros),
            "difference_micros": _plain(self.difference_micros),
        }


def openai_costs(pages: list[Any]) -> dict[date, Decimal]:
    """Micro-dollars per day (UTC) from Costs API pages parsed with ``parse_float=Decimal``;
    amounts in another currency than US dollars are refused, not converted."""
    per_day: dict[date, Decimal] = defaultdict(Decimal)
    for page in pages:
        buckets = page.get("data") if isinstance(page, Mapping) else None
        if not isinstance(buckets, list):
            raise InvalidRequest("expected OpenAI's costs pages", param="costs")
        for bucket in buckets:
            day = _day(bucket)
            per_day[day] += 0
            for result in bucket.get("results") or []:
                if not isinstance(result, Mapping) or result.get("object") != COSTS_RESULT:
                    continue
                per_day[day] += _micros(result.get("amount"))
    return dict(per_day)


def cost_lines(openai: Mapping[date, Decimal], chatgrid: Mapping[date, int]) -> list[CostLine]:
    """Every day either side knows, oldest first."""
    return [
        CostLine(day, openai.get(day, Decimal(0)), chatgrid.get(day, 0))
        for day in sorted(set(openai) | set(chatgrid))
    ]


def _micros(amount: object) -> Decimal:
    if not isinstance(amount, Mapping):
        raise InvalidRequest("a costs result has no amount", param="costs")
    if str(amount.get("currency", "usd")).lower() != "usd":
        raise InvalidRequest("only costs in US dollars are compared", param="costs")
    value = amount.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise InvalidRequest("a costs amount is not a number", param="costs")
    try:
        micros = Decimal(value) * MICROS_PER_DOLLAR
    except InvalidOperation:
        raise InvalidRequest("a costs amount is not a number", param="costs") from None
    if not micros.is_finite() or not 0 <= micros < 10**18:
        raise InvalidRequest("a costs amount is out of range", param="costs")
    return micros


def _day(bucket: Any) -> date:
    start = bucket.get("start_time") if isinstance(bucket, Mapping) else None
    if isinstance(start, bool) or not isinstance(start, int):
        raise InvalidRequest("a costs bucket has no start_time", param="costs")
    try:
        return datetime.fromtimestamp(start, UTC).date()
    except (OverflowError, OSError, ValueError):
        raise InvalidRequest("a costs bucket's start_time is out of range", param="costs") from None


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
