"""Aggregating ledger rows per day, member and model (pure: plain values in and out).

Money stays integer micro-dollars. ``charged_micros`` counts shared-credit
entries only (a BYOK call is billed by the upstream, not by ChatGrid);
``list_cost_micros`` is what the upstream bills at list price, for either mode.
A call priced by other units than tokens (``ledger.units``: images, audio
milliseconds, characters, moderation inputs) adds its count to its bucket, per
kind and variant, so an image call's cost has its images beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from chatgrid.ledger.money import format_dollars
from chatgrid.ledger.units import AUDIO_MS, CHARACTERS, IMAGES, INPUTS

#: Unit kinds in the order pages and exports show them.
UNIT_KINDS = (IMAGES, AUDIO_MS, CHARACTERS, INPUTS)
_MINUTE_MS = 60_000
_CENTS = Decimal("0.01")

SHARED = "shared"


@dataclass(frozen=True)
class UsageRow:
    """One ledger entry, reduced to what analytics needs."""

    started_at: datetime
    member_id: str
    member_email: str | None
    model: str
    mode: str
    prompt_tokens: int
    completion_tokens: int
    list_cost_micros: int | None
    charged_micros: int
    units_kind: str | None = None
    units: int = 0
    units_variant: str = ""

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> UsageRow:
        return cls(
            started_at=row["started_at"],
            member_id=row["member_id"],
            member_email=row.get("member_email"),
            model=row["model"],
            mode=row["mode"],
            prompt_tokens=int(row["prompt_tokens"]),
            completion_tokens=int(row["completion_tokens"]),
            list_cost_micros=None
            if row["list_cost_micros"] is None
            else int(row["list_cost_micros"]),
            charged_micros=int(row["charged_micros"]),
            units_kind=row.get("units_kind"),
            units=int(row.get("units") or 0),
            units_variant=row.get("units_variant") or "",
        )


def _plural(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def audio_minutes(ms: int) -> str:
    """Minutes of audio from integer milliseconds, to the hundredth (``≈`` when rounded)."""
    exact = Decimal(ms) / _MINUTE_MS
    shown = exact.quantize(_CENTS, rounding=ROUND_HALF_UP)
    text = f"{shown:,f}".rstrip("0").rstrip(".")
    return text if shown == exact else f"≈{text}"


def units_text(kind: str, count: int, variant: str = "") -> str:
    """``2 images · 1024x1024/high``, ``3.2 audio min``, ``1,240 characters``, ``5 inputs``."""
    if kind == IMAGES:
        text = _plural(count, "image", "images")
    elif kind == AUDIO_MS:
        text = f"{audio_minutes(count)} audio min"
    elif kind == CHARACTERS:
        text = _plural(count, "character", "characters")
    elif kind == INPUTS:
        text = _plural(count, "input", "inputs")
    else:  # a kind this version does not know: its raw name and count
        text = f"{count:,} {kind}"
    return f"{text} · {variant}" if variant else text


@dataclass
class Bucket:
    """The sums of one day, member or model."""

    key: str
    label: str
    requests: int = 0
    tokens: int = 0
    list_cost_micros: int = 0
    charged_micros: int = 0
    unpriced: int = field(default=0)
    #: Non-token units per (kind, variant), e.g. ``("images", "1024x1024/high"): 2``.
    units: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, row: UsageRow) -> None:
        self.requests += 1
        if row.units_kind:
            at = (row.units_kind, row.units_variant)
            self.units[at] = self.units.get(at, 0) + row.units
        self.tokens += row.prompt_tokens + row.completion_tokens
        if row.list_cost_micros is None:
            self.unpriced += 1
        else:
            self.list_cost_micros += row.list_cost_micros
        if row.mode == SHARED:
            self.charged_micros += row.charged_micros

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "requests": self.requests,
            "tokens": self.tokens,
            "list_cost_micros": self.list_cost_micros,
            "charged_micros": self.charged_micros,
            **{kind: self.unit_total(kind) for kind in UNIT_KINDS},
            "units": [
                {"kind": kind, "variant": variant, "count": count}
                for (kind, variant), count in self.sorted_units()
            ],
        }

    def unit_total(self, kind: str) -> int:
        return sum(count for (k, _), count in self.units.items() if k == kind)

    def sorted_units(self) -> list[tuple[tuple[str, str], int]]:
        order = {kind: n for n, kind in enumerate(UNIT_KINDS)}
        return sorted(
            self.units.items(), key=lambda i: (order.get(i[0][0], len(order)), i[0][0], i[0][1])
        )

    def units_texts(self) -> list[str]:
        """Each kind and variant's count, as a page shows it (empty for token-only usage)."""
        return [units_text(kind, count, variant) for (kind, variant), count in self.sorted_units()]


@dataclass(frozen=True)
class UsageReport:
    total: Bucket
    days: list[Bucket]
    members: list[Bucket]
    models: list[Bucket]


def days_between(since: date, until: date) -> list[date]:
    """Every day from ``since`` up to, not including, ``until``."""
    count = max((until - since).days, 0)
    return [since + timedelta(days=n) for n in range(count)]


def _group(
    rows: Iterable[UsageRow], key: Callable[[UsageRow], str], label: Callable[[UsageRow], str]
) -> list[Bucket]:
    buckets: dict[str, Bucket] = {}
    for row in rows:
        k = key(row)
        bucket = buckets.get(k)
        if bucket is None:
            bucket = buckets[k] = Bucket(k, label(row))
        bucket.add(row)
    return sorted(buckets.values(), key=lambda b: (-b.tokens, -b.requests, b.label))


def by_day(rows: Iterable[UsageRow], since: date, until: date) -> list[Bucket]:
    """One bucket per UTC day of the range, empty days included."""
    buckets = {
        d.isoformat(): Bucket(d.isoformat(), d.strftime("%m-%d"))
        for d in days_between(since, until)
    }
    for row in rows:
        k = row.started_at.astimezone(UTC).date().isoformat()
        if k in buckets:
            buckets[k].add(row)
    return list(buckets.values())


def by_member(rows: Iterable[UsageRow]) -> list[Bucket]:
    return _group(rows, lambda r: r.member_id, lambda r: r.member_email or r.member_id)


def by_model(rows: Iterable[UsageRow]) -> list[Bucket]:
    return _group(rows, lambda r: r.model, lambda r: r.model)


def total(rows: Iterable[UsageRow]) -> Bucket:
    bucket = Bucket("total", "Total")
    for row in rows:
        bucket.add(row)
    return bucket


def report(rows: Iterable[UsageRow], since: date, until: date) -> UsageReport:
    kept = list(rows)
    return UsageReport(
        total=total(kept),
        days=by_day(kept, since, until),
        members=by_member(kept),
        models=by_model(kept),
    )


def dollars(micros: int) -> str:
    """``$1.50``, ``$0.001234``: ``format_dollars`` with trailing zeros dropped to cents."""
    text = format_dollars(micros)
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0").ljust(2, "0")
    return f"${whole}.{frac}" if not whole.startswith("-") else f"-${whole[1:]}.{frac}"


METRICS: dict[str, tuple[str, Callable[[Bucket], int], Callable[[int], str]]] = {
    "requests": ("Requests", lambda b: b.requests, lambda v: f"{v:,}"),
    "tokens": ("Tokens", lambda b: b.tokens, lambda v: f"{v:,}"),
    "list_cost": ("List cost", lambda b: b.list_cost_micros, dollars),
    "charged": ("Charged (shared credits)", lambda b: b.charged_micros, dollars),
}
