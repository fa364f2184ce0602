"""Usage aggregation and the SVG charts, without a server."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta, timezone

from chatgrid.analytics import charts, usage

SVG = "{http://www.w3.org/2000/svg}"
DAY = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


def row(
    when: datetime, member: str = "m1", model: str = "gpt-4o-mini", mode: str = "shared", **kw: int
) -> usage.UsageRow:
    return usage.UsageRow(
        started_at=when,
        member_id=member,
        member_email=f"{member}@example.com",
        model=model,
        mode=mode,
        prompt_tokens=kw.get("prompt", 100),
        completion_tokens=kw.get("completion", 20),
        list_cost_micros=kw.get("list_cost", 1_000),
        charged_micros=kw.get("charged", 1_200),
    )


ROWS = [
    row(DAY),
    row(DAY + timedelta(hours=11, minutes=59), member="m2", model="gpt-4o"),
    row(DAY + timedelta(days=2), model="gpt-4o", mode="byok", charged=0),
    row(DAY + timedelta(days=1), member="m2", list_cost=3_333, charged=3_999),
]


def test_days_are_utc_buckets_and_empty_days_are_kept() -> None:
    days = usage.by_day(ROWS, date(2026, 11, 1), date(2026, 11, 8))
    assert [b.key for b in days] == [f"2026-11-0{n}" for n in range(1, 8)]
    assert [b.requests for b in days] == [0, 0, 2, 1, 1, 0, 0]
    new_york = timezone(timedelta(hours=-5))
    late = row(datetime(2026, 11, 3, 23, 30, tzinfo=new_york))  # 04:30 UTC on the 4th
    assert usage.by_day([late], date(2026, 11, 3), date(2026, 11, 5))[1].requests == 1


def test_totals_match_every_grouping_and_charges_count_shared_credits_only() -> None:
    report = usage.report(ROWS, date(2026, 11, 1), date(2026, 12, 1))
    total = report.total
    assert (total.requests, total.tokens) == (4, 480)
    assert total.list_cost_micros == 1_000 + 1_000 + 1_000 + 3_333
    assert total.charged_micros == 1_200 + 1_200 + 3_999  # the BYOK row's charge is not ours
    for buckets in (report.days, report.members, report.models):
        assert sum(b.requests for b in buckets) == total.requests
        assert sum(b.tokens for b in buckets) == total.tokens
        assert sum(b.list_cost_micros for b in buckets) == total.list_cost_micros
        assert sum(b.charged_micros for b in buckets) == total.charged_micros
    assert {b.label for b in report.members} == {"m1@example.com", "m2@example.com"}
    assert {b.key: b.requests for b in report.models} == {"gpt-4o-mini": 2, "gpt-4o": 2}


def test_unpriced_calls_are_counted_but_add_no_cost() -> None:
    bucket = usage.total([row(DAY, list_cost=None)])  # type: ignore[arg-type]
    assert (bucket.requests, bucket.list_cost_micros, bucket.unpriced) == (1, 0, 1)


def test_dollars_come_from_integer_micros() -> None:
    assert usage.dollars(1_500_000) == "$1.50"
    assert usage.dollars(1_234) == "$0.001234"
    assert usage.dollars(0) == "$0.00"
    assert usage.dollars(-2_500_000) == "-$2.50"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 (our own output)


def test_a_chart_is_an_accessible_svg_with_one_bar_per_item() -> None:
    points = [charts.Point("11-01", 3), charts.Point("11-02", 0), charts.Point("11-03", 12)]
    svg = charts.bar_chart("Requests per day", points)
    root = parse(str(svg))
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text == "Requests per day"
    assert desc is not None and "total 15" in (desc.text or "") and "11-03" in (desc.text or "")
    assert set((root.get("aria-labelledby") or "").split()) == {title.get("id"), desc.get("id")}
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert len(bars) == 3
    tips = [b.findtext(f"{SVG}title") for b in bars]
    assert tips == ["11-01: 3", "11-02: 0", "11-03: 12"]
    heights = [float(b.get("height") or 0) for b in bars]
    assert heights[1] == 0 and heights[2] > heights[0] > 0
    assert "style" not in str(svg)  # the CSP forbids inline style


def test_chart_text_is_escaped_and_an_empty_chart_says_so() -> None:
    svg = charts.bar_chart("<b>&", [charts.Point("<script>", 1)], fmt=usage.dollars)
    root = parse(str(svg))
    assert root.findtext(f"{SVG}title") == "<b>&"
    assert "<script>" not in str(svg)
    empty = parse(str(charts.bar_chart("Nothing", [])))
    assert not [r for r in empty.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert "No usage" in "".join(empty.itertext())


def test_axis_maximum_is_a_round_number() -> None:
    assert [charts.nice_ceiling(v) for v in (0, 1, 3, 7, 12, 450, 1001)] == [
        1,
        1,
        5,
        10,
        20,
        500,
        2000,
    ]
