"""Unit prices are dated like token prices: a new one prices calls from its day on, never before.

The clock is injected (``today=``, the call's day), so nothing here depends on today's date.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from chatgrid.admin.prices import set_unit_price
from chatgrid.audit import Actor, AuditFilter
from chatgrid.billing.worst_case import worst_case_charge
from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest
from chatgrid.ledger.defaults import default_prices
from chatgrid.ledger.units import (
    AUDIO_MS,
    CHARACTERS,
    DEFAULT_UNIT_PRICES,
    EFFECTIVE_FROM,
    IMAGES,
    UnitPrice,
    Units,
    units_cost,
)
from chatgrid.store.tables import unit_prices

TODAY = date(2031, 5, 20)
LATER = TODAY + timedelta(days=10)


def cost_on(ctx: AppContext, day: date, model: str, units: Units) -> int:
    """What the gateway would charge (list) for ``units`` of ``model`` on ``day``."""
    book = ctx.prices.unit_prices().on(day)
    price = book.price_for(model, units.variant) or book.dearest(model)
    assert price is not None
    return units_cost(units, price, markup_bps=0, charge=True).list_micros


def test_the_seeded_book_is_the_shipped_list_on_every_day_from_its_date(
    context: AppContext,
) -> None:
    dated = context.prices.unit_prices()
    assert sorted(dated.all(), key=repr) == sorted(DEFAULT_UNIT_PRICES, key=repr)
    assert dated.on(EFFECTIVE_FROM - timedelta(days=1)).price_for("whisper-1") is None
    assert dated.on(LATER).price_for("dall-e-3", "1024x1024/hd") == UnitPrice(
        "dall-e-3", IMAGES, 80_000, "1024x1024/hd"
    )


def test_seeding_again_adds_nothing_and_keeps_an_operators_price(context: AppContext) -> None:
    mine = UnitPrice("whisper-1", AUDIO_MS, 9_000, effective_from=LATER)
    set_unit_price(context, Actor.cli(), mine, today=TODAY)
    context.prices.seed_defaults()
    context.prices.seed_defaults()
    with context.engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(unit_prices)).scalar_one()
    assert rows == len(DEFAULT_UNIT_PRICES) + 1
    assert context.prices.unit_prices().on(LATER).price_for("whisper-1") == mine


def test_a_new_unit_price_prices_calls_from_its_day_and_never_before(
    context: AppContext,
) -> None:
    image = Units(IMAGES, 2, "1024x1024/hd")
    speech = Units(CHARACTERS, 1_000_000)
    before = cost_on(context, LATER - timedelta(days=1), "dall-e-3", image)
    assert before == 2 * 80_000
    set_unit_price(
        context,
        Actor.cli(),
        UnitPrice("dall-e-3", IMAGES, 95_500, "1024x1024/hd", effective_from=LATER),
        today=TODAY,
    )
    set_unit_price(
        context,
        Actor.cli(),
        UnitPrice("tts-1", CHARACTERS, 12_345_678, effective_from=LATER),
        today=TODAY,
    )
    assert cost_on(context, LATER - timedelta(days=1), "dall-e-3", image) == before
    assert cost_on(context, LATER, "dall-e-3", image) == 2 * 95_500
    assert cost_on(context, LATER + timedelta(days=400), "dall-e-3", image) == 2 * 95_500
    assert cost_on(context, LATER - timedelta(days=1), "tts-1", speech) == 15_000_000
    assert cost_on(context, LATER, "tts-1", speech) == 12_345_678
    # Other variants keep their price.
    assert cost_on(context, LATER, "dall-e-3", Units(IMAGES, 1, "1024x1024/standard")) == 40_000


def test_the_reservation_bound_uses_the_book_of_the_calls_day(context: AppContext) -> None:
    [token_price] = [p for p in default_prices() if p.model == "gpt-image-1"]
    unknown = Units(IMAGES, 1, "9x9/odd")  # bound by the model's dearest image
    set_unit_price(
        context,
        Actor.cli(),
        UnitPrice("gpt-image-1", IMAGES, 400_000, "2048x2048/high", effective_from=LATER),
        today=TODAY,
    )
    dated = context.prices.unit_prices()

    def bound(day: date) -> int:
        return worst_case_charge("images", {}, token_price, 0, unknown, unit_prices=dated.on(day))

    assert bound(LATER - timedelta(days=1)) == 250_000
    assert bound(LATER) == 400_000


def test_a_unit_price_is_audited(context: AppContext) -> None:
    price = UnitPrice("whisper-1", AUDIO_MS, 7_000, effective_from=TODAY)
    set_unit_price(context, Actor.cli(), price, today=TODAY)
    [entry] = context.audit.entries(None, AuditFilter(action="unit_price.added", limit=5))
    assert entry.target == "whisper-1"
    assert entry.details == {
        "kind": "audio_ms",
        "variant": "",
        "effective_from": TODAY.isoformat(),
        "micros": 7_000,
    }


@pytest.mark.parametrize(
    ("price", "refusal"),
    [
        (UnitPrice("whisper-1", AUDIO_MS, 1, effective_from=TODAY - timedelta(days=1)), "past"),
        (UnitPrice("whisper-1", "tokens", 1, effective_from=TODAY), "kind of unit"),
        (UnitPrice("dall-e-3", IMAGES, 1, effective_from=TODAY), "size and quality"),
        (UnitPrice("dall-e-3", IMAGES, 1, "big/hd", effective_from=TODAY), "size and quality"),
        (UnitPrice("whisper-1", AUDIO_MS, 1, "1024x1024/hd", effective_from=TODAY), "variant"),
        (UnitPrice("whisper-1", CHARACTERS, 1, effective_from=TODAY), "priced by audio_ms"),
        (UnitPrice("whisper-1", AUDIO_MS, -1, effective_from=TODAY), "0 to"),
        (UnitPrice("", AUDIO_MS, 1, effective_from=TODAY), "model name"),
        (UnitPrice("whisper-1", AUDIO_MS, 1, effective_from=EFFECTIVE_FROM), "past"),
    ],
)
def test_a_unit_price_that_breaks_a_rule_is_refused_and_changes_nothing(
    context: AppContext, price: UnitPrice, refusal: str
) -> None:
    with pytest.raises(InvalidRequest, match=refusal):
        set_unit_price(context, Actor.cli(), price, today=TODAY)
    assert sorted(context.prices.unit_prices().all(), key=repr) == sorted(
        DEFAULT_UNIT_PRICES, key=repr
    )


def test_a_second_price_for_the_same_day_is_refused(context: AppContext) -> None:
    price = UnitPrice("dall-e-2", IMAGES, 19_000, "256x256/standard", effective_from=LATER)
    set_unit_price(context, Actor.cli(), price, today=TODAY)
    with pytest.raises(InvalidRequest, match="already has a price"):
        set_unit_price(context, Actor.cli(), price, today=TODAY)


def test_a_new_model_can_be_priced_per_unit(context: AppContext) -> None:
    price = UnitPrice(" dall-e-4 ", IMAGES, 50_000, " 1024x1024/Ultra ", effective_from=TODAY)
    added = set_unit_price(context, Actor.cli(), price, today=TODAY)
    assert (added.model, added.variant) == ("dall-e-4", "1024x1024/ultra")
    assert cost_on(context, TODAY, "dall-e-4", Units(IMAGES, 3, "1024x1024/ultra")) == 150_000
