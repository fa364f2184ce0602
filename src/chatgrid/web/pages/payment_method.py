"""The payment method page (org admins): the card invoices are charged to, and saving a new one.

The card form is Stripe's (Stripe.js, loaded from Stripe, sending the number
straight to Stripe), so this page alone opens its Content-Security-Policy to
Stripe's origins; ``static/card.js`` drives it through
``/api/orgs/{org_id}/payment-method``. Without JavaScript the page still
shows the saved card and the payment standing.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import stripe_cards
from chatgrid.admin.payments import StripeSecrets, payments
from chatgrid.admin.stripe_cards import Card
from chatgrid.errors import ChatGridError
from chatgrid.store.types import utcnow
from chatgrid.web.deps import Console, OrgAdmin
from chatgrid.web.pages.common import NOTICES, render
from chatgrid.web.security import policy_allowing

router = APIRouter()

CARD_NOTICES = {
    "card_saved": "The card is saved: open invoices and every new one are charged to it."
}
#: Stripe.js, its frames (the card field, 3-D Secure) and its API, as Stripe's CSP guide lists.
STRIPE_ORIGINS = (
    "https://js.stripe.com",
    "https://*.js.stripe.com",
    "https://api.stripe.com",
    "https://hooks.stripe.com",
)


def stripe_origins(settings: StripeSecrets) -> list[str]:
    """Where Stripe.js comes from and what it talks to: Stripe's, or one test server's."""
    if settings.api_base is None:
        return list(STRIPE_ORIGINS)
    parts = urlsplit(settings.api_base)
    return [f"{parts.scheme}://{parts.netloc}"]


@router.get("/orgs/{org_id}/payment")
def payment_page(request: Request, state: Console, access: OrgAdmin) -> Response:
    ctx, org_id = state.ctx, access.org.id
    settings = stripe_cards.card_page_settings(ctx)
    card: Card | None = None
    unreachable = None
    if settings is not None:
        try:
            card = stripe_cards.saved_card(ctx, org_id)
        except ChatGridError as exc:
            unreachable = exc.message
    failure = payments(ctx).failure(org_id)
    asked = request.query_params.get("notice", "")
    response = render(
        request,
        state,
        "payment.html",
        access=access,
        section="payment",
        settings=settings,
        card=card,
        unreachable=unreachable,
        standing=None if failure is None else failure.message(utcnow()),
        notice=CARD_NOTICES.get(asked) or NOTICES.get(asked),
    )
    if settings is not None:
        response.headers["content-security-policy"] = policy_allowing(stripe_origins(settings))
    return response
