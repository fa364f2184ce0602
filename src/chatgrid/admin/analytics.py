"""An org's usage analytics: the range and filters checked, rows read, then aggregated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from chatgrid.admin import dates
from chatgrid.analytics import usage
from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest
from chatgrid.ledger.money import format_dollars

MAX_DAYS = 366
DEFAULT_DAYS = 30
CSV_COLUMNS = (
    "group",
    "key",
    "label",
    "requests",
    "tokens",
    "list_cost_usd",
    "charged_usd",
    "list_cost_micros",
    "charged_micros",
    # Non-token units (added after the money, so older readers keep their columns).
    "images",
    "audio_ms",
    "characters",
    "inputs",
    "units",
)


@dataclass(frozen=True)
class UsageQuery:
    since: date  # first day, inclusive
    until: date  # last day, inclusive
    member_id: str | None = None
    model: str | None = None

    @property
    def start(self) -> datetime:
        return datetime.combine(self.since, time(), UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.until + timedelta(days=1), time(), UTC)


def parse_day(value: str | None, name: str) -> date | None:
    """A day typed into a form (blanks around it ignored, an empty field is no filter)."""
    return dates.parse_day((value or "").strip() or None, name)


def usage_query(
    since: date | None,
    until: date | None,
    member_id: str | None = None,
    model: str | None = None,
    *,
    today: date | None = None,
) -> UsageQuery:
    """The last 30 days by default; at most a year; both ends inclusive (UTC days)."""
    since, until = dates.day_range(
        since, until or today or datetime.now(UTC).date(), default_days=DEFAULT_DAYS
    )
    if since > until:
        raise InvalidRequest("'since' must not be after 'until'", param="since")
    if (until - since).days >= MAX_DAYS:
        raise InvalidRequest(f"the range is at most {MAX_DAYS} days", param="since")
    for name, value in (("member", member_id), ("model", model)):
        if value is not None and len(value) > 100:
            raise InvalidRequest(f"{name} is too long", param=name)
    return UsageQuery(since, until, member_id or None, model or None)


def usage_report(ctx: AppContext, org_id: str, query: UsageQuery) -> usage.UsageReport:
    rows = ctx.usage.analytics_rows(
        org_id,
        since=query.start,
        until=query.end,
        member_id=query.member_id,
        model=query.model,
    )
    return usage.report(
        (usage.UsageRow.from_mapping(r) for r in rows),
        query.since,
        query.until + timedelta(days=1),
    )


def csv_rows(report: usage.UsageReport) -> list[dict[str, Any]]:
    """One row per day, member, model, and the total; money in dollars and micro-dollars;
    unit totals per kind, and ``units`` as the page words them (per kind and variant)."""
    rows = []
    groups = (("day", report.days), ("member", report.members), ("model", report.models))
    for group, buckets in (*groups, ("total", [report.total])):
        for b in buckets:
            row = {"group": group, **b.as_dict()}
            row["list_cost_usd"] = format_dollars(b.list_cost_micros)
            row["charged_usd"] = format_dollars(b.charged_micros)
            row["units"] = "; ".join(b.units_texts())
            rows.append(row)
    return rows
