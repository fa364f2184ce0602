"""The card an org pays with: saved by its admin through Stripe, never seen by ChatGrid.

The console's card page asks for a SetupIntent (``start_card_setup``): the
org's Stripe customer is made and linked on first use, and Stripe.js sends
the card number from the admin's browser straight to Stripe. Once Stripe
says the card is set up, ``adopt_card`` makes it the customer's default, the
one ``stripe_charges`` charges invoices to, and charges it every invoice
still open (a failed payment's grace period ends when it is paid). It runs
twice on purpose: when the page reports back, and on the
``setup_intent.succeeded`` webhook, so a browser closed at the wrong moment
loses nothing; doing it twice changes nothing. ChatGrid keeps no card
data: what the page shows (brand, last four digits, expiry) is asked of
Stripe each time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chatgrid.admin.payments import StripeSecrets, payments, stripe_secrets
from chatgrid.admin.stripe_charges import collect_open_invoices, stripe_client
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import Conflict, InvalidRequest, NotFound, ServiceUnavailable

if TYPE_CHECKING:
    import stripe

MAX_SETUP_INTENT_ID = 255


@dataclass(frozen=True)
class Card:
    """What may be shown of a saved card."""

    brand: str
    last4: str
    exp_month: int
    exp_year: int

    def public(self) -> dict[str, Any]:
        return {
            "brand": self.brand,
            "last4": self.last4,
            "exp_month": self.exp_month,
            "exp_year": self.exp_year,
        }


@dataclass(frozen=True)
class CardSetup:
    """What Stripe.js needs in the browser to send a card to Stripe."""

    client_secret: str
    publishable_key: str
    js_url: str

    def public(self) -> dict[str, str]:
        return {
            "client_secret": self.client_secret,
            "publishable_key": self.publishable_key,
            "js_url": self.js_url,
        }


def card_page_settings(ctx: AppContext) -> StripeSecrets | None:
    """Stripe's settings when the card page can work (a publishable key is set), else None."""
    found = stripe_secrets(ctx)
    return found if found is not None and found.publishable_key else None


def saved_card(ctx: AppContext, org_id: str) -> Card | None:
    """The org's default card as Stripe has it (None: no customer or no card)."""
    secrets = stripe_secrets(ctx)
    customer_id = payments(ctx).customer_of(org_id)
    if secrets is None or customer_id is None:
        return None
    client = stripe_client(secrets)
    with _asking_stripe():
        customer = client.v1.customers.retrieve(customer_id)
        settings = customer.invoice_settings
        method = None if settings is None else settings.default_payment_method
        if not method:
            return None
        found = client.v1.payment_methods.retrieve(method if isinstance(method, str) else method.id)
    return _card_of(found)


def start_card_setup(ctx: AppContext, org_id: str, actor: Actor) -> CardSetup:
    """A SetupIntent for the org's customer (made and linked on first use)."""
    secrets = card_page_settings(ctx)
    if secrets is None or secrets.publishable_key is None:
        raise NotFound("card payments are not set up on this server", code="cards_not_configured")
    client = stripe_client(secrets)
    org = ctx.orgs.by_id(org_id)
    with _asking_stripe():
        customer_id = payments(ctx).customer_of(org.id)
        if customer_id is None:
            customer = client.v1.customers.create(
                params={
                    "name": org.name,
                    "email": actor.email,
                    "metadata": {"chatgrid_org_id": org.id},
                }
            )
            customer_id = customer.id
            payments(ctx).link_customer(org.id, customer_id)
            ctx.audit.record(
                org.id, actor, "payments.customer_linked", customer_id, {"org": org.name}
            )
        intent = client.v1.setup_intents.create(
            params={
                "customer": customer_id,
                "usage": "off_session",
                "metadata": {"chatgrid_org_id": org.id},
            }
        )
    if not intent.client_secret:
        raise ServiceUnavailable("Stripe gave no client secret for the card form")
    return CardSetup(intent.client_secret, secrets.publishable_key, secrets.js_url)


def adopt_card(ctx: AppContext, org_id: str, setup_intent_id: str, actor: Actor) -> Card:
    """Make the card of a succeeded SetupIntent of the org's customer its default, and
    charge it the org's open invoices (once: a card already the default changes nothing)."""
    import stripe

    if not setup_intent_id.startswith("seti_") or len(setup_intent_id) > MAX_SETUP_INTENT_ID:
        raise InvalidRequest("a SetupIntent id starts with seti_", param="setup_intent")
    secrets = stripe_secrets(ctx)
    customer_id = payments(ctx).customer_of(org_id)
    if secrets is None or customer_id is None:
        raise NotFound("the org has no Stripe customer", code="no_stripe_customer")
    client = stripe_client(secrets)
    with _asking_stripe():
        try:
            intent = client.v1.setup_intents.retrieve(setup_intent_id)
        except stripe.InvalidRequestError:
            raise NotFound("Stripe has no such SetupIntent", code="setup_not_found") from None
        # Another org's SetupIntent is as unknown as a made-up one.
        if intent.customer != customer_id and getattr(intent.customer, "id", None) != customer_id:
            raise NotFound("Stripe has no such SetupIntent", code="setup_not_found")
        if intent.status != "succeeded" or not intent.payment_method:
            raise Conflict("Stripe has not saved this card", code="card_not_saved")
        method_id = (
            intent.payment_method
            if isinstance(intent.payment_method, str)
            else intent.payment_method.id
        )
        method = client.v1.payment_methods.retrieve(method_id)
        if method.customer is None:  # Stripe attaches it; a test server may leave it to us
            method = client.v1.payment_methods.attach(method_id, params={"customer": customer_id})
        customer = client.v1.customers.retrieve(customer_id)
        current = customer.invoice_settings and customer.invoice_settings.default_payment_method
        if current == method_id or getattr(current, "id", None) == method_id:
            return _card_of(method)
        client.v1.customers.update(
            customer_id, params={"invoice_settings": {"default_payment_method": method_id}}
        )
    card = _card_of(method)
    details = {"brand": card.brand, "last4": card.last4}
    ctx.audit.record(org_id, actor, "payments.card_saved", customer_id, details)
    collect_open_invoices(ctx, org_id, method_id, actor)
    return card


def _card_of(method: stripe.PaymentMethod) -> Card:
    card = method.card
    if card is None:
        raise Conflict("the saved payment method is not a card", code="not_a_card")
    return Card(str(card.brand), str(card.last4), int(card.exp_month), int(card.exp_year))


@contextmanager
def _asking_stripe() -> Iterator[None]:
    """Stripe's own failures as clear refusals (never its raw message: it may echo input)."""
    import stripe

    try:
        yield
    except stripe.CardError as exc:
        message = exc.user_message or "the card was refused"
        raise Conflict(f"Stripe refused the card: {message}", code="card_declined") from None
    except stripe.StripeError as exc:
        raise ServiceUnavailable(
            f"Stripe could not be asked ({type(exc).__name__}); nothing was changed"
        ) from None
