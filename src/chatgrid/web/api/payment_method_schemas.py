"""Bodies of the org's payment method: the saved card, and what Stripe.js needs to save one."""

from __future__ import annotations

from pydantic import BaseModel, Field

from chatgrid.admin.stripe_cards import MAX_SETUP_INTENT_ID, Card, CardSetup
from chatgrid.web.api.schemas import Strict


class CardPublic(BaseModel):
    brand: str = Field(description='The card network, as Stripe names it ("visa").')
    last4: str = Field(description="The card number's last four digits.")
    exp_month: int
    exp_year: int


class PaymentMethodPublic(BaseModel):
    available: bool = Field(
        description="Whether this server takes cards (the operator set Stripe up with a "
        "publishable key); false: invoices are paid by hand."
    )
    card: CardPublic | None = Field(
        description="The card invoices are charged to, as Stripe has it; null: none yet."
    )


class CardSetupPublic(BaseModel):
    client_secret: str = Field(
        description="The SetupIntent's client secret, for Stripe.js's `confirmCardSetup` in the "
        "admin's browser: it lets the browser send one card to Stripe, nothing else."
    )
    publishable_key: str = Field(description="Stripe.js's key (`pk_…`).")
    js_url: str = Field(description="Where to load Stripe.js from.")


class CardSaved(Strict):
    setup_intent: str = Field(
        max_length=MAX_SETUP_INTENT_ID,
        description="The SetupIntent Stripe.js confirmed (`seti_…`).",
    )


def card_public(card: Card) -> CardPublic:
    return CardPublic.model_validate(card.public())


def card_setup_public(setup: CardSetup) -> CardSetupPublic:
    return CardSetupPublic.model_validate(setup.public())
