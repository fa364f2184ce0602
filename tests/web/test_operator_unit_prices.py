"""The operator's price book page lists unit prices and adds one (dated, audited, never in the
past); anyone else gets a 404."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chatgrid.audit import AuditFilter
from chatgrid.ledger.units import IMAGES, UnitPrice
from tests.support.console import World, sign_in_operator


def test_the_price_book_page_lists_unit_prices(world: World) -> None:
    page = sign_in_operator(world).get("/operator/prices")
    assert page.status_code == 200
    assert "Add a unit price" in page.text
    assert "1792x1024/hd" in page.text and "$0.12" in page.text  # dall-e-3's dearest image
    assert "1M characters" in page.text and "$30.00" in page.text  # tts-1-hd


def test_an_operator_adds_a_dated_image_price_from_the_page(world: World) -> None:
    ops = sign_in_operator(world)
    later = datetime.now(UTC).date() + timedelta(days=3)
    added = ops.form(
        "/operator/prices/units",
        {
            "model": "dall-e-3",
            "kind": "images",
            "variant": "1024x1024/hd",
            "effective_from": later.isoformat(),
            "price": "0.0955",
        },
    )
    assert added.status_code == 303
    assert added.headers["location"] == "/operator/prices?done=unit_price_added"
    expected = UnitPrice("dall-e-3", IMAGES, 95_500, "1024x1024/hd", effective_from=later)
    assert world.ctx.prices.unit_prices().on(later).price_for("dall-e-3", "1024x1024/hd") == (
        expected
    )
    assert "$0.0955" in ops.get("/operator/prices?done=unit_price_added").text
    [entry] = world.ctx.audit.entries(None, AuditFilter(action="unit_price.added", limit=5))
    assert entry.target == "dall-e-3" and entry.details["micros"] == 95_500


def test_a_past_day_or_a_bad_price_is_refused_on_the_page(world: World) -> None:
    ops = sign_in_operator(world)
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    before = world.ctx.prices.unit_prices().all()
    base = {"model": "whisper-1", "kind": "audio_ms", "variant": "", "price": "0.007"}
    past = ops.form("/operator/prices/units", {**base, "effective_from": yesterday})
    assert past.status_code == 400 and "past calls keep" in past.text
    fine = ops.form("/operator/prices/units", {**base, "price": "0.0000001"})
    assert fine.status_code == 400 and "at most 6 decimals" in fine.text
    no_size = ops.form("/operator/prices/units", {**base, "model": "dall-e-3", "kind": "images"})
    assert no_size.status_code == 400 and "size and quality" in no_size.text
    assert world.ctx.prices.unit_prices().all() == before


def test_only_an_operator_can_add_a_unit_price(world: World) -> None:
    alice = world.alice.browser
    body = {"model": "whisper-1", "kind": "audio_ms", "price": "1"}
    assert alice.get("/operator/prices").status_code == 404
    assert alice.form("/operator/prices/units", body).status_code == 404
    assert world.ctx.audit.entries(None, AuditFilter(action="unit_price.added", limit=5)) == []
