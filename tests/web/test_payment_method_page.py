"""The payment method page and API on a server that does not take cards (no Stripe set up):
the page says invoices are paid by hand and keeps the console's strict policy, the API
answers `available: false` and refuses to start a card setup; members get 403, another
org 404, and a card setup needs the CSRF token. With Stripe: tests/browser/test_card_page.py.
"""

from __future__ import annotations

from chatgrid.web.security import CONTENT_SECURITY_POLICY
from tests.support.console import World


def test_without_stripe_the_page_says_invoices_are_paid_by_hand(world: World) -> None:
    alice = world.alice.browser
    page = alice.get(f"/orgs/{world.org_a}/payment")
    assert page.status_code == 200
    assert "paid by hand" in page.text and "card-form" not in page.text
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert f'href="/orgs/{world.org_a}/payment"' in alice.get(f"/orgs/{world.org_a}").text

    shown = alice.api("GET", f"/api/orgs/{world.org_a}/payment-method")
    assert shown.status_code == 200 and shown.json() == {"available": False, "card": None}
    setup = alice.api("POST", f"/api/orgs/{world.org_a}/payment-method/setup")
    assert setup.status_code == 404
    assert setup.json()["error"]["code"] == "cards_not_configured"
    saved = alice.api(
        "POST", f"/api/orgs/{world.org_a}/payment-method", {"setup_intent": "seti_123"}
    )
    assert saved.status_code == 404 and saved.json()["error"]["code"] == "no_stripe_customer"
    unknown_field = alice.api(
        "POST", f"/api/orgs/{world.org_a}/payment-method", {"setup_intent": "seti_1", "x": 1}
    )
    assert unknown_field.status_code == 400


def test_members_other_orgs_and_forged_requests_are_refused(world: World) -> None:
    page, api = f"/orgs/{world.org_a}/payment", f"/api/orgs/{world.org_a}/payment-method"
    assert world.bob.browser.get(page).status_code == 403
    assert world.charlie.browser.get(page).status_code == 404
    assert world.bob.browser.api("GET", api).status_code == 403
    assert world.charlie.browser.api("GET", api).status_code == 404
    forged = world.alice.browser.api("POST", f"{api}/setup", csrf=False)
    assert forged.status_code == 403
