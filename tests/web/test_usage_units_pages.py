"""Ledger rows priced by other units than tokens, written by the ledger writer: the usage
page (total, per member, per model, filtered), its CSV, and the operator's tenants show
the units, each figure the sum of the org's own rows."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chatgrid.admin import operator
from chatgrid.ledger.entries import LedgerEntry
from tests.support.console import World, sign_in_operator
from tests.support.usage_rows import entry, write

START = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
RANGE = "since=2026-10-01&until=2026-10-07"


def unit_call(
    org: str, member: str, at: datetime, model: str, kind: str, units: int, variant: str = ""
) -> LedgerEntry:
    endpoint = {
        "images": "images",
        "audio_ms": "transcriptions",
        "characters": "speech",
        "inputs": "moderations",
    }[kind]
    call = entry(org, member, at, model=model, tokens=(0, 0), list_cost=2_000)
    return replace(
        call, endpoint=endpoint, units_kind=kind, units=units, units_variant=variant or None
    )


def media_calls(world: World, at: datetime) -> list[LedgerEntry]:
    """Alice's and bob's calls of every kind in org A, a chat call, and charlie's image in B."""
    assert world.alice.member_id and world.bob.member_id and world.charlie.member_id
    a, b, c = world.alice.member_id, world.bob.member_id, world.charlie.member_id
    return [
        unit_call(world.org_a, a, at, "gpt-image-1", "images", 2, "1024x1024/high"),
        unit_call(world.org_a, b, at, "gpt-image-1", "images", 1, "1536x1024/low"),
        unit_call(world.org_a, a, at, "whisper-1", "audio_ms", 120_000),
        unit_call(world.org_a, b, at + timedelta(days=1), "whisper-1", "audio_ms", 72_000),
        unit_call(world.org_a, b, at, "tts-1", "characters", 1_240),
        unit_call(world.org_a, a, at, "omni-moderation-latest", "inputs", 5),
        entry(world.org_a, a, at),
        unit_call(world.org_b, c, at, "dall-e-3", "images", 7, "1024x1024/hd"),
    ]


@pytest.fixture
def used(world: World) -> World:
    write(world.ctx, media_calls(world, START))
    return world


def section(page: str, anchor: str) -> str:
    """The numbers table below a chart (past the chart, which names its bars too)."""
    return page.split(f'id="{anchor}"', 1)[1].split("<tbody>", 1)[1].split("</table>", 1)[0]


def test_the_usage_page_sums_units_in_total_per_member_and_per_model(used: World) -> None:
    page = used.alice.browser.get(f"/orgs/{used.org_a}/usage?{RANGE}").text
    total = page.split("<h2>Total", 1)[1].split("</section>", 1)[0]
    for shown in (
        "2 images · 1024x1024/high",
        "1 image · 1536x1024/low",
        "3.2 audio min",
        "1,240 characters",
        "5 inputs",
    ):
        assert shown in total
    members = section(page, "per-member")
    alice_row = members.split(used.alice.email, 1)[1].split("</tr>", 1)[0]
    bob_row = members.split(used.bob.email, 1)[1].split("</tr>", 1)[0]
    assert "2 images · 1024x1024/high" in alice_row and "2 audio min" in alice_row
    assert "5 inputs" in alice_row and "characters" not in alice_row
    assert "1.2 audio min" in bob_row and "1,240 characters" in bob_row
    models = section(page, "per-model")
    image_row = models.split(">gpt-image-1<", 1)[1].split("</tr>", 1)[0]
    assert "2 images · 1024x1024/high, 1 image · 1536x1024/low" in image_row
    chat_row = models.split(">gpt-4o-mini<", 1)[1].split("</tr>", 1)[0]
    assert "—" in chat_row
    # Org B's seven images are its own.
    assert "7 images" not in page and "dall-e-3" not in page


def test_a_model_filter_keeps_only_that_models_units(used: World) -> None:
    page = used.alice.browser.get(f"/orgs/{used.org_a}/usage?{RANGE}&model=whisper-1").text
    total = page.split("<h2>Total", 1)[1].split("</section>", 1)[0]
    assert "3.2 audio min" in total and "image" not in total and "inputs" not in total


def test_the_usage_csv_ends_with_unit_totals_that_match_the_ledger(used: World) -> None:
    text = used.alice.browser.get(f"/orgs/{used.org_a}/usage.csv?{RANGE}").text
    rows = list(csv.DictReader(io.StringIO(text)))
    ledger = [r for r in used.ctx.usage.entries(used.org_a) if r["units_kind"]]
    for kind in ("images", "audio_ms", "characters", "inputs"):
        expected = sum(int(r["units"]) for r in ledger if r["units_kind"] == kind)
        for group in ("day", "member", "model", "total"):
            assert sum(int(r[kind]) for r in rows if r["group"] == group) == expected
    total = next(r for r in rows if r["group"] == "total")
    assert total["units"] == (
        "2 images · 1024x1024/high; 1 image · 1536x1024/low; 3.2 audio min; "
        "1,240 characters; 5 inputs"
    )
    day_two = next(r for r in rows if r["key"] == "2026-10-02")
    assert (day_two["audio_ms"], day_two["units"]) == ("72000", "1.2 audio min")


def test_the_operator_sees_each_tenants_units_this_month(world: World) -> None:
    this_month = operator.month_start(datetime.now(UTC))
    write(world.ctx, media_calls(world, this_month))
    ops = sign_in_operator(world)
    body = ops.api("GET", "/api/operator/tenants").json()
    by_id = {t["id"]: t for t in body["tenants"]}
    assert by_id[world.org_a]["units"] == {
        "images": 3,
        "audio_ms": 192_000,
        "characters": 1_240,
        "inputs": 5,
    }
    assert by_id[world.org_b]["units"] == {"images": 7}
    page = ops.get("/operator").text
    assert "3 images, 3.2 audio min, 1,240 characters, 5 inputs" in page
    assert "7 images" in page
    tenant = ops.get(f"/operator/tenants/{world.org_b}").text
    assert "Other units this month" in tenant and "7 images" in tenant
    assert "3.2 audio min" not in tenant
