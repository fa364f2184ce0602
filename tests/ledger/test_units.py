"""Prices per image, audio minute and 1M characters: exact, rounded once, marked up."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from chatgrid.billing.worst_case import worst_case_charge
from chatgrid.ledger.defaults import default_prices
from chatgrid.ledger.units import (
    AUDIO_MS,
    CHARACTERS,
    DEFAULT_BOOK,
    IMAGES,
    UNITS_PER_PRICE,
    Units,
    image_variant,
    units_cost,
)


def test_images_cost_n_times_the_size_and_quality_price() -> None:
    price = DEFAULT_BOOK.price_for("dall-e-3", "1792x1024/hd")
    assert price is not None
    cost = units_cost(Units(IMAGES, 3, "1792x1024/hd"), price, markup_bps=2_000, charge=True)
    assert cost.list_micros == 360_000 and cost.charged_micros == 432_000


def test_byok_keeps_the_list_cost_and_is_charged_nothing() -> None:
    price = DEFAULT_BOOK.price_for("whisper-1")
    assert price is not None
    cost = units_cost(Units(AUDIO_MS, 3_500), price, markup_bps=2_000, charge=False)
    assert (cost.list_micros, cost.charged_micros) == (350, 0)


@pytest.mark.parametrize("count", [1, 7, 333, 1_234_567])
@pytest.mark.parametrize("markup_bps", [0, 1_234, 2_000])
def test_unit_costs_round_half_up_once_like_decimal(count: int, markup_bps: int) -> None:
    for model, kind in (("tts-1", CHARACTERS), ("gpt-4o-mini-transcribe", AUDIO_MS)):
        price = DEFAULT_BOOK.price_for(model)
        assert price is not None
        cost = units_cost(Units(kind, count), price, markup_bps=markup_bps, charge=True)
        exact = Decimal(count * price.micros) / UNITS_PER_PRICE[kind]
        marked = exact * (10_000 + markup_bps) / 10_000
        assert cost.list_micros == int(exact.quantize(Decimal(1), ROUND_HALF_UP))
        assert cost.charged_micros == int(marked.quantize(Decimal(1), ROUND_HALF_UP))


def test_a_request_without_size_or_quality_gets_openais_defaults() -> None:
    assert image_variant({}, "dall-e-3") == "1024x1024/standard"
    assert image_variant({"quality": "auto", "size": "auto"}, "gpt-image-1") == "1024x1024/high"
    assert image_variant({"size": "512x512"}, "dall-e-2") == "512x512/standard"


def test_an_unknown_variant_is_reserved_at_the_models_dearest_image() -> None:
    [token_price] = [p for p in default_prices() if p.model == "gpt-image-1"]
    bound = worst_case_charge("images", {}, token_price, 0, Units(IMAGES, 2, "9x9/odd"))
    assert bound == 2 * 250_000


def test_every_unit_priced_model_has_a_token_price_so_shared_credits_admit_it() -> None:
    token_priced = {p.model for p in default_prices()}
    for model in ("gpt-image-1", "dall-e-2", "whisper-1", "tts-1-hd", "omni-moderation-latest"):
        assert DEFAULT_BOOK.prices(model) and model in token_priced
