"""A unit price added while ChatGrid runs prices the next calls on the server, and their
reservations, while the calls already made keep the price they were made at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import openai
import pytest

from chatgrid.admin.prices import set_unit_price
from chatgrid.audit import Actor
from chatgrid.ledger.units import IMAGES, UnitPrice
from tests.support.deployment import Deployment
from tests.support.ledger_checks import ledger
from tests.support.shared_orgs import client, shared_org


def add_image_price(deployment: Deployment, variant: str, micros: int, days_on: int) -> None:
    day = datetime.now(UTC).date() + timedelta(days=days_on)
    price = UnitPrice("dall-e-2", IMAGES, micros, variant, effective_from=day)
    set_unit_price(deployment.context, Actor.cli(), price)


def image(deployment: Deployment, token: str, size: str) -> None:
    client(deployment, token).images.generate(model="dall-e-2", prompt="a dot", size=size)


def test_a_new_unit_price_prices_the_next_calls_and_never_the_ones_made(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    image(deployment, org.token, "256x256")
    add_image_price(deployment, "256x256/standard", 21_000, days_on=0)
    # Two days on, not one: a test that crosses midnight still sees only today's price.
    add_image_price(deployment, "256x256/standard", 99_000, days_on=2)
    image(deployment, org.token, "256x256")
    costs = sorted((e["started_at"], e["list_cost_micros"]) for e in ledger(deployment, org.id))
    assert [cost for _, cost in costs] == [16_000, 21_000]


def test_a_reservation_holds_the_new_price(deployment: Deployment) -> None:
    org = shared_org(deployment, allowance_micros=45_000)
    image(deployment, org.token, "512x512")  # 18,000 of 45,000: 27,000 left
    add_image_price(deployment, "512x512/standard", 30_000, days_on=0)
    with pytest.raises(openai.RateLimitError, match="less than this request could cost"):
        image(deployment, org.token, "512x512")  # at the old 18,000 it would fit
    assert [e["charged_micros"] for e in ledger(deployment, org.id)] == [18_000]
