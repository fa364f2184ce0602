"""The org admin's usage analytics: charts per day, member and model; filters; CSV; JSON."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from chatgrid.analytics.usage import dollars
from tests.support.console import World
from tests.support.usage_rows import entry, write

START = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
RANGE = "since=2026-10-01&until=2026-10-07"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def used(world: World) -> World:
    """Alice and bob's calls over a week of October in org A; one call of charlie's in B."""
    assert world.alice.member_id and world.bob.member_id and world.charlie.member_id
    write(
        world.ctx,
        [
            entry(world.org_a, world.alice.member_id, START, tokens=(1000, 200), list_cost=4_000),
            entry(world.org_a, world.alice.member_id, START + timedelta(days=2), model="gpt-4o"),
            entry(world.org_a, world.bob.member_id, START + timedelta(days=2, hours=3)),
            entry(world.org_a, world.bob.member_id, START + timedelta(days=6), list_cost=None),
            entry(world.org_a, world.bob.member_id, START + timedelta(days=9)),  # out of range
            entry(world.org_b, world.charlie.member_id, START, tokens=(9999, 1)),
        ],
    )
    return world


def charts_in(page: str) -> list[ET.Element]:
    return [ET.fromstring(svg) for svg in re.findall(r"<svg .*?</svg>", page, re.S)]  # noqa: S314


def bars(chart: ET.Element) -> list[ET.Element]:
    return [r for r in chart.iter(f"{SVG}rect") if r.get("class") == "bar"]


def test_the_usage_page_draws_a_bar_per_day_member_and_model(used: World) -> None:
    page = used.alice.browser.get(f"/orgs/{used.org_a}/usage?{RANGE}")
    assert page.status_code == 200
    day, member, model = charts_in(page.text)
    assert len(bars(day)) == 7 and len(bars(member)) == 2 and len(bars(model)) == 2
    assert [b.findtext(f"{SVG}title") for b in bars(day)][:3] == [
        "10-01: 1,200",
        "10-02: 0",
        "10-03: 300",
    ]
    assert "total 1,650" in (day.findtext(f"{SVG}desc") or "")
    assert used.alice.email in page.text and used.bob.email in page.text
    assert used.charlie.email not in page.text
    # BYOK: what OpenAI will bill, and the way to each call's upstream request id.
    assert "What OpenAI will bill (list price)" in page.text
    assert dollars(4_000 + 1_000 + 1_000) in page.text
    assert f'href="/orgs/{used.org_a}/calls"' in page.text


def test_the_chart_metric_and_filters_narrow_the_picture(used: World) -> None:
    alice = used.alice.browser
    url = f"/orgs/{used.org_a}/usage?{RANGE}&member={used.bob.member_id}&metric=requests"
    day, member, _ = charts_in(alice.get(url).text)
    assert [b.findtext(f"{SVG}title") for b in bars(member)] == [f"{used.bob.email}: 2"]
    assert sum(int((b.findtext(f"{SVG}title") or "").rsplit(" ", 1)[1]) for b in bars(day)) == 2
    by_model = alice.get(f"/orgs/{used.org_a}/usage?{RANGE}&model=gpt-4o").text
    assert [len(bars(c)) for c in charts_in(by_model)] == [7, 1, 1]
    wrong = alice.get(f"/orgs/{used.org_a}/usage?since=2026-10-09&until=2026-10-01")
    assert wrong.status_code == 400 and "must not be after" in wrong.text


def test_the_usage_api_and_csv_add_up_to_the_ledger(used: World) -> None:
    alice = used.alice.browser
    body = alice.api("GET", f"/api/orgs/{used.org_a}/usage?{RANGE}").json()
    assert body["total"] == {
        "key": "total",
        "label": "Total",
        "requests": 4,
        "tokens": 1200 + 150 * 3,
        "list_cost_micros": 6_000,
        "charged_micros": 0,
        # Token calls only: no images, audio, characters or moderation inputs.
        "images": 0,
        "audio_ms": 0,
        "characters": 0,
        "inputs": 0,
        "units": [],
    }
    assert len(body["days"]) == 7 and body["days"][2]["requests"] == 2
    assert {m["key"] for m in body["members"]} == {used.alice.member_id, used.bob.member_id}
    for group in ("days", "members", "models"):
        assert sum(b["tokens"] for b in body[group]) == body["total"]["tokens"]
    assert alice.api("GET", f"/api/orgs/{used.org_a}/usage?since=2020-01-01").status_code == 400

    for url in (
        f"/orgs/{used.org_a}/usage.csv?{RANGE}",
        f"/api/orgs/{used.org_a}/usage.csv?{RANGE}",
    ):
        response = alice.get(url)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        total = next(r for r in rows if r["group"] == "total")
        assert (total["requests"], total["list_cost_micros"]) == ("4", "6000")
        assert total["list_cost_usd"] == "0.006000"
        assert len([r for r in rows if r["group"] == "day"]) == 7


def test_the_calls_page_shows_each_upstream_request_id(used: World) -> None:
    ids = [c["upstream_request_id"] for c in used.ctx.usage.calls(used.org_a)]
    page = used.alice.browser.get(f"/orgs/{used.org_a}/calls").text
    assert ids and all(i in page for i in ids)
