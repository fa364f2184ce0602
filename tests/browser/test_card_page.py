"""The payment method page in a real browser, with localstripe as Stripe and its Stripe.js.

An owner saves a card the way a customer does: Stripe.js (localstripe's
copy, loaded from localstripe as the page's policy allows) sends the number
to Stripe, never to ChatGrid. A card the bank refuses is refused on the page
and changes nothing; a good one becomes the card the org's invoices are
charged to, and last month's invoice, still open, is paid with it at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from chatgrid.admin import billing, payments
from chatgrid.ledger.money import round_half_up
from chatgrid.store.tables import audit_log
from tests.support.axe import describe, run_axe, serious
from tests.support.console_tenant import VIEWPORT, seed_tenant, signed_in
from tests.support.deployment import Deployment
from tests.support.localstripe import LocalStripe, running_localstripe, use_localstripe

PUBLISHABLE_KEY = "pk_test_" + secrets.token_hex(12)


@pytest.fixture
def localstripe(tmp_path: Path) -> Iterator[LocalStripe]:
    with running_localstripe(tmp_path) as running:
        yield running


def fill_card(page: Page, number: str) -> None:
    """localstripe's card field: plain inputs named by their placeholders."""
    field = page.locator("#card-element")
    for placeholder, value in [
        ("number", number),
        ("exp_month", "12"),
        ("exp_year", "40"),
        ("cvc", "123"),
        ("postal_code", "10001"),
    ]:
        field.locator(f"input[placeholder={placeholder}]").fill(value)


def test_an_owner_saves_a_card_with_stripe_js_and_the_invoice_is_charged_to_it(
    browser: Browser, deployment: Deployment, localstripe: LocalStripe
) -> None:
    ctx, base = deployment.context, deployment.instance.base_url
    tenant = seed_tenant(deployment)
    client = use_localstripe(deployment, localstripe, publishable_key=PUBLISHABLE_KEY)
    context = browser.new_context(
        viewport=VIEWPORT, storage_state=signed_in(browser, base, tenant.owner_email)
    )
    refused_by_policy: list[str] = []
    try:
        page = context.new_page()
        page.on(
            "console",
            lambda m: refused_by_policy.append(m.text) if "Content Security" in m.text else None,
        )
        response = page.goto(f"{base}/orgs/{tenant.org_id}/payment")
        assert response is not None and response.status == 200
        assert localstripe.url in response.headers["content-security-policy"]
        expect(page.locator("#card-on-file")).to_have_text("No card yet.")
        expect(page.locator("#card-element input[placeholder=number]")).to_be_visible()
        # The card field is Stripe's own widget (an iframe in production): not ours to check.
        violations = serious(run_axe(page, exclude=("#card-element",)))
        assert not violations, describe(violations)

        fill_card(page, "4000000000000002")  # the bank refuses to save it
        page.get_by_role("button", name="Save card").click()
        expect(page.locator("#card-status")).to_contain_text("declined")
        customer_id = payments.payments(ctx).customer_of(tenant.org_id)
        assert customer_id is not None  # made on the first try, and linked to the org
        customer = client.v1.customers.retrieve(customer_id)
        assert customer.metadata["chatgrid_org_id"] == tenant.org_id
        assert customer.invoice_settings.default_payment_method is None

        fill_card(page, "4242424242424242")
        page.get_by_role("button", name="Save card").click()
        page.wait_for_url("**notice=card_saved")
        expect(page.locator("#card-on-file")).to_have_text("Visa ending in 4242, expires 12/2040")
        assert not refused_by_policy
    finally:
        context.close()

    customer = client.v1.customers.retrieve(customer_id)
    method = client.v1.payment_methods.retrieve(customer.invoice_settings.default_payment_method)
    assert method.card is not None and method.card.last4 == "4242"
    with ctx.engine.connect() as conn:
        actions = conn.execute(
            select(audit_log.c.action).where(audit_log.c.org_id == tenant.org_id)
        ).scalars()
        assert {"payments.customer_linked", "payments.card_saved"} <= set(actions)

    # Saving the card paid last month's invoice, still open, with it.
    paid = billing.get_invoice(ctx, tenant.org_id, tenant.period)
    assert paid.status == "paid" and paid.payment_reference is not None
    intent = client.v1.payment_intents.retrieve(paid.payment_reference)
    assert intent.payment_method == method.id
    assert intent.amount == round_half_up(paid.total_micros, 10_000)  # to the cent, once
