"""The admin and operator console is usable by everyone: axe-core finds nothing
serious or critical on any page a person sees, and the members page works from
the keyboard alone.

Every page is checked with data on it (members, an invitation, usage so the
charts draw, an issued invoice), since empty tables hide most of what can go wrong.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, StorageState, expect

from tests.support.axe import Violation, describe, run_axe, serious
from tests.support.console_tenant import VIEWPORT, Tenant, seed_tenant, signed_in
from tests.support.deployment import Deployment


@pytest.fixture(scope="module")
def tenant(deployment: Deployment) -> Tenant:
    return seed_tenant(deployment)


@pytest.fixture(scope="module")
def sessions(browser: Browser, deployment: Deployment, tenant: Tenant) -> dict[str, StorageState]:
    base = deployment.instance.base_url
    return {
        "owner": signed_in(browser, base, tenant.owner_email),
        "operator": signed_in(browser, base, tenant.operator_email),
    }


class Visit(NamedTuple):
    who: str | None  # the session it is seen with: "owner", "operator" or signed out
    path: str
    title: str  # what the page's <title> starts with


CONSOLE_PAGES = {
    "sign-in": Visit(None, "/login", "Sign in"),
    "sign-up": Visit(None, "/signup", "Create your organization"),
    "forgot-password": Visit(None, "/password/forgot", "Reset your password"),
    "confirm-again": Visit(None, "/email/resend", "Confirm your email address"),
    "overview": Visit("owner", "/orgs/{org}", "{name}"),
    "key": Visit("owner", "/orgs/{org}/key", "Key"),
    "members": Visit("owner", "/orgs/{org}/members", "Members"),
    "erase-member": Visit("owner", "/orgs/{org}/members/{member}/erase", "Erase a member"),
    "domains": Visit("owner", "/orgs/{org}/domains", "Domains"),
    "alerts": Visit("owner", "/orgs/{org}/alerts", "Alerts"),
    "budgets": Visit("owner", "/orgs/{org}/budgets", "Budgets"),
    "service-accounts": Visit("owner", "/orgs/{org}/service-accounts", "Service accounts"),
    "tokens": Visit("owner", "/orgs/{org}/tokens", "API tokens"),
    "limits": Visit("owner", "/orgs/{org}/limits", "Limits & models"),
    "audit": Visit("owner", "/orgs/{org}/audit", "Audit log"),
    "usage": Visit("owner", "/orgs/{org}/usage", "Usage"),
    "calls": Visit("owner", "/orgs/{org}/calls", "Calls"),
    "invoices": Visit("owner", "/orgs/{org}/invoices", "Invoices"),
    "invoice": Visit("owner", "/orgs/{org}/invoices/{period}", "Invoice {period}"),
    "payment": Visit("owner", "/orgs/{org}/payment", "Payment method"),
    "retention": Visit("owner", "/orgs/{org}/retention", "Data retention"),
    "account": Visit("owner", "/account", "Your account"),
    "two-step": Visit("owner", "/account/two-step", "Two-step sign-in"),
    "security": Visit("owner", "/orgs/{org}/security", "Sign-in security"),
    "operator": Visit("operator", "/operator", "Operator · tenants"),
    "operator-pool": Visit("operator", "/operator/pool", "Operator · pooled keys"),
    "operator-prices": Visit("operator", "/operator/prices", "Operator · price book"),
    "operator-plans": Visit("operator", "/operator/plans", "Operator · plans"),
    "operator-alerts": Visit("operator", "/operator/alerts", "Operator · alerts"),
    "operator-tenant": Visit("operator", "/operator/tenants/{org}", "Operator · {name}"),
}


@pytest.fixture
def visit(
    browser: Browser, deployment: Deployment, tenant: Tenant, sessions: dict[str, StorageState]
) -> Iterator[Callable[[Visit], Page]]:
    """Open a page in its own context, signed in as the visit says, and check it is that page."""
    contexts: list[BrowserContext] = []

    def open_page(where: Visit) -> Page:
        context = browser.new_context(
            viewport=VIEWPORT, storage_state=sessions[where.who] if where.who else None
        )
        contexts.append(context)
        page = context.new_page()
        values = {
            "org": tenant.org_id,
            "name": tenant.org_name,
            "period": tenant.period,
            "member": tenant.teammate_id,
        }
        response = page.goto(deployment.instance.base_url + where.path.format(**values))
        assert response is not None and response.status == 200, where.path
        assert page.title().startswith(where.title.format(**values)), page.title()
        return page

    yield open_page
    for context in contexts:
        context.close()


def report_moderate(name: str, violations: list[Violation]) -> None:
    """Moderate findings do not fail the check; they are printed (``pytest -s``) to fix later."""
    moderate = sorted({v["id"] for v in violations if v.get("impact") == "moderate"})
    if moderate:
        print(f"\n{name}: moderate axe violations: {', '.join(moderate)}")


@pytest.mark.parametrize("name", list(CONSOLE_PAGES))
def test_axe_finds_nothing_serious_on_the_console_page(
    name: str, visit: Callable[[Visit], Page]
) -> None:
    page = visit(CONSOLE_PAGES[name])
    if name == "usage":
        expect(page.locator("svg.chart")).to_have_count(3)  # the charts are part of the check
    violations = run_axe(page)
    report_moderate(name, violations)
    assert (found := serious(violations)) == [], describe(found)


# The focused element, and whether a sighted keyboard user can see that it is.
FOCUSED = """() => {
  const el = document.activeElement;
  (window.__visited = window.__visited || []).push(el);
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    name: el.id || el.getAttribute("name") || el.textContent.trim().slice(0, 40),
    inMain: !!el.closest("main"),
    ring: (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
      || style.boxShadow !== "none",
    onScreen: box.width > 0 && box.height > 0 && box.top >= 0,
  };
}"""
# Stops visited out of document order (a positive tabindex, a reordered layout).
OUT_OF_ORDER = """() => window.__visited.filter(el => el.closest("main"))
  .filter((el, i, stops) => i > 0
    && !(stops[i - 1].compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING))
  .map(el => el.id || el.getAttribute("name") || el.textContent.trim())"""
# Controls of the page's forms that Tab never reached.
UNREACHED = """() => [...document.querySelectorAll(
    "main form :is(input:not([type=hidden]), select, textarea, button):not(:disabled)")]
  .filter(el => !window.__visited.includes(el))
  .map(el => el.id || el.getAttribute("name") || el.textContent.trim())"""


def tab(page: Page) -> dict[str, Any]:
    page.keyboard.press("Tab")
    focused: dict[str, Any] = page.evaluate(FOCUSED)
    return focused


def test_the_members_page_works_by_keyboard_alone(visit: Callable[[Visit], Page]) -> None:
    page = visit(CONSOLE_PAGES["members"])
    skip = tab(page)
    assert skip["name"] == "Skip to content" and skip["onScreen"] and skip["ring"], skip
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    email = tab(page)
    assert email["name"] == "f-email", "Tab after the skip link should reach the invite email"
    stops = [email]
    while stops[-1]["inMain"] and len(stops) < 100:
        stops.append(tab(page))
    in_main = stops[:-1]
    assert len(in_main) > 5, in_main
    assert [s["name"] for s in in_main if not s["ring"]] == [], "focused without a focus ring"
    assert [s["name"] for s in in_main if not s["onScreen"]] == [], "focused but not on screen"
    assert page.evaluate(OUT_OF_ORDER) == [], "focus jumps against the reading order"
    assert page.evaluate(UNREACHED) == [], "form controls Tab never reaches"

    # And the invitation goes out without the mouse.
    page.reload()
    tab(page)
    page.keyboard.press("Enter")
    tab(page)
    address = f"dana-{secrets.token_hex(3)}@example.com"
    page.keyboard.type(address)
    tab(page)
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Role", exact=True)).to_have_value("admin")
    for _ in range(3):  # past the "Send by email" box when mail is set up
        if tab(page)["name"] == "Invite":
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Invitation ready")).to_be_visible()
    expect(page.locator("main")).to_contain_text(address)
