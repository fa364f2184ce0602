"""Dates at the calendar's edges, and things that are not dates, on every report that filters by
time: the usage, audit and calls reports, each as API JSON, API CSV, page and page CSV.

A moment that leaves ``datetime``'s range once converted to UTC, or a last day whose next
midnight does not exist, is a 400 naming the parameter; a valid range that holds nothing is an
empty 200. Nothing is a 500.
"""

from __future__ import annotations

from html import unescape

import pytest

from tests.support.console import World

USAGE = ("/api/orgs/{org}/usage", "/api/orgs/{org}/usage.csv", "/orgs/{org}/usage")
USAGE += ("/orgs/{org}/usage.csv",)
MOMENTS = tuple(
    f"{prefix}/orgs/{{org}}/{report}{suffix}"
    for prefix in ("/api", "")
    for report in ("audit", "calls")
    for suffix in ("", ".csv")
)
ALL = USAGE + MOMENTS

#: (query, the parameter named in the refusal, words of the message)
USAGE_REFUSED = [
    ("since=9999-12-31&until=9999-12-31", "until", "at most 9999-12-30"),
    ("until=9999-12-31", "until", "at most 9999-12-30"),
    ("until=0.5", "until", "a date like"),
    ("since=86400&until=2026-01-31", "since", "a date like"),
    ("since=2026-01-31T00:00:00&until=2026-02-01", "since", "a date like"),
    ("until=2026-W05-1", "until", "a date like"),
    ("until=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%96-01-31", "until", "a date like"),  # full-width
]
MOMENT_REFUSED = [
    ("since=0001-01-01T00:00:00%2B01:00", "since", "outside the years 1 to 9999"),
    ("until=9999-12-31T23:59:59-01:00", "until", "outside the years 1 to 9999"),
    ("since=0001-01-01T00:00:00%2B01:00&until=9999-12-31T23:59:59-01:00", "since", "outside"),
    ("until=0.5", "until", "a date like"),
    ("since=0", "since", "a date like"),
    ("since=2026-W05-1", "since", "a date like"),
    ("until=2026-01-31T24:00", "until", "a date like"),
]
USAGE_EMPTY = [
    "until=0001-01-01",
    "since=0001-01-01&until=0001-01-01",
    "since=9999-12-30&until=9999-12-30",
    "since=9999-01-01&until=9999-12-30",
]
MOMENT_EMPTY = [
    "since=0001-01-01T00:00:00Z&until=0001-01-02",
    "until=0001-01-01T00:00:00-01:00",
    "since=9999-12-31T23:59:59%2B01:00",
    "since=9999-12-31T23:59:59.999999",
    "since=9999-12-31T23:59:59.999999Z",
]


def _cases(
    paths: tuple[str, ...], queries: list[tuple[str, str, str]]
) -> list[tuple[str, str, str, str]]:
    return [(path, *query) for path in paths for query in queries]


@pytest.mark.parametrize(
    ("path", "query", "param", "words"),
    _cases(USAGE, USAGE_REFUSED) + _cases(MOMENTS, MOMENT_REFUSED),
)
def test_an_edge_or_non_date_is_a_clear_400_on_every_report(
    shared_world: World, path: str, query: str, param: str, words: str
) -> None:
    alice = shared_world.alice.browser
    response = alice.get(path.format(org=shared_world.org_a) + "?" + query)
    assert response.status_code == 400, response.text
    if path.startswith("/api/"):
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert error["param"] == param
        assert words in error["message"] and param in error["message"]
    else:
        assert response.headers["content-type"].startswith("text/html")
        assert words in unescape(response.text)


@pytest.mark.parametrize(
    ("path", "query"),
    [(path, query) for path in USAGE for query in USAGE_EMPTY]
    + [(path, query) for path in MOMENTS for query in MOMENT_EMPTY],
)
def test_a_valid_range_at_the_edge_of_the_calendar_is_an_empty_answer(
    shared_world: World, path: str, query: str
) -> None:
    alice = shared_world.alice.browser
    response = alice.get(path.format(org=shared_world.org_a) + "?" + query)
    assert response.status_code == 200, response.text
    if path.startswith("/api/") and not path.endswith(".csv"):
        body = response.json()
        rows = body if isinstance(body, list) else body["members"] + body["models"]
        assert rows == []


def test_the_default_start_stops_at_the_first_day_of_the_calendar(shared_world: World) -> None:
    alice = shared_world.alice.browser
    body = alice.get(f"/api/orgs/{shared_world.org_a}/usage?until=0001-01-03").json()
    assert (body["since"], body["until"]) == ("0001-01-01", "0001-01-03")
    assert [day["key"] for day in body["days"]] == ["0001-01-01", "0001-01-02", "0001-01-03"]


@pytest.mark.parametrize("path", [p for p in ALL if p.startswith("/api/")])
@pytest.mark.parametrize("param", ["since", "until"])
def test_an_empty_date_in_the_api_is_refused_not_ignored(
    shared_world: World, path: str, param: str
) -> None:
    """The API publishes a date's shape; "" is not one (a page's empty field is no filter)."""
    response = shared_world.alice.browser.get(path.format(org=shared_world.org_a) + f"?{param}=")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


@pytest.mark.parametrize("path", [p for p in ALL if not p.startswith("/api/")])
def test_an_empty_filter_field_on_a_page_is_no_filter(shared_world: World, path: str) -> None:
    response = shared_world.alice.browser.get(
        path.format(org=shared_world.org_a) + "?since=+&until="
    )
    assert response.status_code == 200
