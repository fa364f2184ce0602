"""BYOK reconciliation: what OpenAI counted for an org's key against what ChatGrid's ledger
recorded, per day (UTC) and model.

OpenAI's side is its Usage API's completions pages (``UsageResponse``), as
an admin downloads them or ChatGrid reads them; ChatGrid's side is the
ledger's successful BYOK chat and responses calls to OpenAI. A positive
difference means OpenAI saw calls ChatGrid never made: the key was used
outside ChatGrid, the strongest sign that it leaked. Model names are
compared without a dated snapshot suffix (OpenAI reports ``gpt-4o-2024-08-06``
where a caller asked for ``gpt-4o``). When OpenAI's pages are not grouped by
model, days are compared as a whole (model ``*``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from chatgrid.errors import InvalidRequest

ALL_MODELS = "*"
COMPLETIONS_RESULT = "organization.usage.completions.result"
#: More days than one upload may cover: a year of daily buckets.
MAX_DAYS = 366
_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Counts:
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.requests + other.requests,
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
        )

    def __sub__(self, other: Counts) -> Counts:
        return Counts(
            self.requests - other.requests,
            self.input_tokens - other.input_tokens,
            self.output_tokens - other.output_tokens,
        )

    def public(self) -> dict[str, int]:
        return {
            "requests": self.requests,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
        }


Key = tuple[date, str]


@dataclass(frozen=True)
class Line:
    """One day and model: OpenAI's counts, the ledger's, and what OpenAI saw beyond them."""

    day: date
    model: str
    openai: Counts
    chatgrid: Counts

    @property
    def difference(self) -> Counts:
        return self.openai - self.chatgrid

    def public(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "model": self.model,
            "openai": self.openai.public(),
            "chatgrid": self.chatgrid.public(),
            "difference": self.difference.public(),
        }


def base_model(model: str) -> str:
    """``gpt-4o-2024-08-06`` → ``gpt-4o``: a snapshot counts as the model asked for."""
    return _SNAPSHOT.sub("", model)


@dataclass(frozen=True)
class OpenAIUsage:
    """What OpenAI's pages say: counts per (day, model), and the days they cover."""

    counts: dict[Key, Counts]
    per_model: bool
    first_day: date
    last_day: date


def openai_usage(document: object, api_key_id: str | None = None) -> OpenAIUsage:
    """OpenAI's counts from one page or a list of pages; with ``api_key_id``, results that
    name another key are left out (pages fetched with ``api_key_ids`` name none)."""
    pages = document if isinstance(document, list) else [document]
    buckets: list[Any] = []
    for page in pages:
        if isinstance(page, Mapping) and page.get("object") == "bucket":
            buckets.append(page)
        elif isinstance(page, Mapping) and isinstance(page.get("data"), list):
            buckets.extend(page["data"])
        else:
            raise InvalidRequest(
                'expected OpenAI\'s usage pages: {"object": "page", "data": [buckets]}',
                param="usage",
            )
    counts: dict[Key, Counts] = defaultdict(Counts)
    per_model = True
    for bucket in buckets:
        day = _day(bucket)
        for result in bucket.get("results") or []:
            if not isinstance(result, Mapping) or result.get("object") != COMPLETIONS_RESULT:
                continue
            named = result.get("api_key_id")
            if api_key_id is not None and named is not None and named != api_key_id:
                continue  # another key's (a result naming no key: pages asked for this one)
            model = result.get("model")
            if not isinstance(model, str):
                per_model, model = False, ALL_MODELS
            counts[(day, base_model(model))] += Counts(
                _count(result, "num_model_requests"),
                _count(result, "input_tokens"),
                _count(result, "output_tokens"),
            )
    days = {_day(bucket) for bucket in buckets}
    if not days:
        raise InvalidRequest("the usage pages hold no day", param="usage")
    if len(days) > MAX_DAYS:
        raise InvalidRequest(f"at most {MAX_DAYS} days at a time", param="usage")
    found = dict(counts) if per_model else _per_day(counts)
    return OpenAIUsage(found, per_model, min(days), max(days))


def ledger_usage(
    calls: Iterable[tuple[datetime, str, int, int]], per_model: bool
) -> dict[Key, Counts]:
    """The ledger's counts per (day, model) of (start, model, input, output) calls."""
    counts: dict[Key, Counts] = defaultdict(Counts)
    for started_at, model, input_tokens, output_tokens in calls:
        day = started_at.astimezone(UTC).date()
        name = base_model(model) if per_model else ALL_MODELS
        counts[(day, name)] += Counts(1, input_tokens, output_tokens)
    return dict(counts)


def reconcile(openai: Mapping[Key, Counts], chatgrid: Mapping[Key, Counts]) -> list[Line]:
    """Every day and model either side counted, oldest first."""
    keys = sorted(set(openai) | set(chatgrid))
    return [
        Line(day, model, openai.get((day, model), Counts()), chatgrid.get((day, model), Counts()))
        for day, model in keys
    ]


def used_outside(lines: Iterable[Line], threshold: int) -> list[Line]:
    """The lines where OpenAI counted more than ``threshold`` requests beyond the ledger's."""
    return [line for line in lines if line.difference.requests > threshold]


def _per_day(counts: Mapping[Key, Counts]) -> dict[Key, Counts]:
    merged: dict[Key, Counts] = defaultdict(Counts)
    for (day, _), found in counts.items():
        merged[(day, ALL_MODELS)] += found
    return merged


def _day(bucket: Any) -> date:
    start = bucket.get("start_time") if isinstance(bucket, Mapping) else None
    if isinstance(start, bool) or not isinstance(start, int):
        raise InvalidRequest("a usage bucket has no start_time", param="usage")
    try:
        return datetime.fromtimestamp(start, UTC).date()
    except (OverflowError, OSError, ValueError):
        raise InvalidRequest("a usage bucket's start_time is out of range", param="usage") from None


def _count(result: Mapping[str, Any], name: str) -> int:
    value = result.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**15:
        raise InvalidRequest(f"a usage result's {name} is not a count", param="usage")
    return value
