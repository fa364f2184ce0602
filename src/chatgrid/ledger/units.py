"""Calls priced by other units than tokens, and what they cost (pure).

* images (``/v1/images/generations``): per image, by model, size and quality;
* audio milliseconds (``/v1/audio/transcriptions``): per minute of audio;
* characters (``/v1/audio/speech``): per 1M characters of input;
* inputs (``/v1/moderations``): free, but counted.

Prices are integer micro-dollars per unit of price (an image, a minute, 1M
characters), dated like token prices: :data:`DEFAULT_UNIT_PRICES` is OpenAI's
public list on :data:`EFFECTIVE_FROM`, seeded into the ``unit_prices`` table,
and the operator adds later ones (:class:`DatedUnitPrices` answers "what did a
unit cost on day D" with a :class:`UnitPriceBook` for that day). A cost is
exact (``units × price / per``) and rounded half up only once, as token
costs are. The transcription models ``gpt-4o-*-transcribe`` are priced by
OpenAI's per-minute estimate; ``gpt-4o-mini-tts`` has no price here (OpenAI
prices it by audio tokens, which its binary answer does not report).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from chatgrid.ledger.money import apply_markup, round_half_up
from chatgrid.ledger.pricing import Cost

EFFECTIVE_FROM = date(2025, 8, 7)
IMAGES = "images"
AUDIO_MS = "audio_ms"
CHARACTERS = "characters"
INPUTS = "inputs"
#: How many units one price is for.
UNITS_PER_PRICE = {IMAGES: 1, AUDIO_MS: 60_000, CHARACTERS: 1_000_000, INPUTS: 1}
#: What one price is for, in words.
UNIT_NAMES = {IMAGES: "image", AUDIO_MS: "minute", CHARACTERS: "1M characters", INPUTS: "input"}
#: An image's variant: ``SIZE/QUALITY`` (``1024x1024/high``).
IMAGE_VARIANT = re.compile(r"[0-9]{2,5}x[0-9]{2,5}/[a-z]{1,20}")


@dataclass(frozen=True)
class Units:
    """What a call used: ``count`` of ``kind`` (``variant``: an image's ``size/quality``)."""

    kind: str
    count: int
    variant: str = ""


@dataclass(frozen=True)
class UnitPrice:
    model: str
    kind: str
    micros: int  # per image, per minute, per 1M characters
    variant: str = ""
    effective_from: date = EFFECTIVE_FROM


def _images(model: str, prices: dict[str, int]) -> list[UnitPrice]:
    return [UnitPrice(model, IMAGES, micros, variant) for variant, micros in prices.items()]


DEFAULT_UNIT_PRICES: tuple[UnitPrice, ...] = (
    *_images(
        "gpt-image-1",
        {
            "1024x1024/low": 11_000,
            "1024x1536/low": 16_000,
            "1536x1024/low": 16_000,
            "1024x1024/medium": 42_000,
            "1024x1536/medium": 63_000,
            "1536x1024/medium": 63_000,
            "1024x1024/high": 167_000,
            "1024x1536/high": 250_000,
            "1536x1024/high": 250_000,
        },
    ),
    *_images(
        "dall-e-3",
        {
            "1024x1024/standard": 40_000,
            "1024x1792/standard": 80_000,
            "1792x1024/standard": 80_000,
            "1024x1024/hd": 80_000,
            "1024x1792/hd": 120_000,
            "1792x1024/hd": 120_000,
        },
    ),
    *_images(
        "dall-e-2",
        {"256x256/standard": 16_000, "512x512/standard": 18_000, "1024x1024/standard": 20_000},
    ),
    UnitPrice("whisper-1", AUDIO_MS, 6_000),
    UnitPrice("gpt-4o-transcribe", AUDIO_MS, 6_000),
    UnitPrice("gpt-4o-mini-transcribe", AUDIO_MS, 3_000),
    UnitPrice("tts-1", CHARACTERS, 15_000_000),
    UnitPrice("tts-1-hd", CHARACTERS, 30_000_000),
    UnitPrice("omni-moderation-latest", INPUTS, 0),
    UnitPrice("text-moderation-latest", INPUTS, 0),
)
#: The size and quality a request gets when it names none (OpenAI's defaults).
DEFAULT_IMAGE = {
    "gpt-image-1": ("1024x1024", "high"),  # "auto": bounded by the dearest square
    "dall-e-3": ("1024x1024", "standard"),
    "dall-e-2": ("1024x1024", "standard"),
}


class UnitPriceBook:
    """The unit prices in force on one day: one per (model, variant)."""

    def __init__(self, prices: Iterable[UnitPrice] = DEFAULT_UNIT_PRICES) -> None:
        self._prices = {(p.model, p.variant): p for p in prices}
        self._models = {p.model for p in self._prices.values()}

    def prices(self, model: str) -> bool:
        return model in self._models

    def price_for(self, model: str, variant: str = "") -> UnitPrice | None:
        return self._prices.get((model, variant))

    def all(self) -> list[UnitPrice]:
        """Every price in the book, by model, kind and variant."""
        return sorted(self._prices.values(), key=lambda p: (p.model, p.kind, p.variant))

    def dearest(self, model: str) -> UnitPrice | None:
        found = [p for (m, _), p in self._prices.items() if m == model]
        return max(found, key=lambda p: p.micros) if found else None


DEFAULT_BOOK = UnitPriceBook()


class DatedUnitPrices:
    """Every dated unit price, answering "what did this unit cost on day D"."""

    def __init__(self, prices: Iterable[UnitPrice]) -> None:
        self._prices = sorted(prices, key=lambda p: p.effective_from)
        self._books: dict[date, UnitPriceBook] = {}

    def on(self, day: date) -> UnitPriceBook:
        """The book in force on ``day``: each (model, variant)'s latest price from it or before."""
        book = self._books.get(day)
        if book is None:
            book = UnitPriceBook(p for p in self._prices if p.effective_from <= day)
            self._books[day] = book
        return book

    def all(self) -> list[UnitPrice]:
        """Every price, by model, kind, variant then date."""
        return sorted(self._prices, key=lambda p: (p.model, p.kind, p.variant, p.effective_from))


def image_variant(request: dict[str, Any], model: str) -> str:
    size, quality = DEFAULT_IMAGE.get(model, ("1024x1024", "standard"))
    asked_size = request.get("size")
    asked_quality = request.get("quality")
    if isinstance(asked_size, str) and asked_size != "auto":
        size = asked_size
    if isinstance(asked_quality, str) and asked_quality not in ("auto", ""):
        quality = asked_quality
    return f"{size}/{quality}"


def units_cost(units: Units, price: UnitPrice, *, markup_bps: int, charge: bool) -> Cost:
    """List cost and what ChatGrid charges (BYOK: nothing, as for tokens)."""
    exact = units.count * price.micros
    per = UNITS_PER_PRICE[units.kind]
    charged = apply_markup(exact, per, markup_bps) if charge else 0
    return Cost(list_micros=round_half_up(exact, per), charged_micros=charged)
