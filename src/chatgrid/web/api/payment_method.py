"""The card an org's invoices are charged to, saved through Stripe (org admins only).

ChatGrid never sees the card number: ``POST …/payment-method/setup`` answers
what Stripe.js needs to send it from the browser to Stripe, and ``POST
…/payment-method`` makes the card Stripe saved the org's default
(``admin.stripe_cards``). 404 ``cards_not_configured`` on a server without
Stripe's publishable key.
"""

from __future__ import annotations

from fastapi import APIRouter

from chatgrid.admin import stripe_cards
from chatgrid.web.api.payment_method_schemas import (
    CardPublic,
    CardSaved,
    CardSetupPublic,
    PaymentMethodPublic,
    card_public,
    card_setup_public,
)
from chatgrid.web.deps import Console, OrgAdmin

router = APIRouter(tags=["payments"])


@router.get(
    "/api/orgs/{org_id}/payment-method",
    response_model=PaymentMethodPublic,
    summary="The card the org's invoices are charged to",
)
def payment_method(state: Console, access: OrgAdmin) -> PaymentMethodPublic:
    """Asked of Stripe each time (ChatGrid keeps no card data); 503 when Stripe cannot be
    asked."""
    available = stripe_cards.card_page_settings(state.ctx) is not None
    card = stripe_cards.saved_card(state.ctx, access.org.id) if available else None
    return PaymentMethodPublic(
        available=available, card=None if card is None else card_public(card)
    )


@router.post(
    "/api/orgs/{org_id}/payment-method/setup",
    response_model=CardSetupPublic,
    summary="Start saving a card: what Stripe.js needs in the browser",
)
def start_card_setup(state: Console, access: OrgAdmin) -> CardSetupPublic:
    """The org's Stripe customer is made on first use. 404 ``cards_not_configured``."""
    setup = stripe_cards.start_card_setup(state.ctx, access.org.id, access.actor)
    return card_setup_public(setup)


@router.post(
    "/api/orgs/{org_id}/payment-method",
    response_model=CardPublic,
    summary="Make the card Stripe saved the one invoices are charged to",
)
def save_card(body: CardSaved, state: Console, access: OrgAdmin) -> CardPublic:
    """404 ``setup_not_found`` for a SetupIntent that is not the org's; 409
    ``card_not_saved`` while Stripe has not saved the card."""
    card = stripe_cards.adopt_card(state.ctx, access.org.id, body.setup_intent, access.actor)
    return card_public(card)
