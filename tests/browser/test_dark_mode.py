"""Dark mode: the pages follow the system's prefers-color-scheme until the person picks a
theme with the top bar's toggle; the pick is remembered across reloads and applied
before the first paint (no flash of the other theme); axe finds nothing serious or
critical in either scheme, on the chat page and across the console.
"""

from __future__ import annotations

from typing import Literal

import pytest
from playwright.sync_api import Browser, Page, StorageState, expect

from tests.support.axe import describe, run_axe, serious
from tests.support.browser import WAIT_MS, Member, last_answer, new_member, open_chat, sign_in
from tests.support.console_tenant import VIEWPORT, Tenant, seed_tenant, signed_in
from tests.support.deployment import Deployment

Scheme = Literal["light", "dark"]

# The page's background, and the theme on <html> at the first animation frame
# (before anything is painted).
BACKGROUND = "() => getComputedStyle(document.documentElement).backgroundColor"
THEME_AT_FIRST_FRAME = """
requestAnimationFrame(() => {
  window.__themeAtFirstFrame = document.documentElement.dataset.theme || "";
});
"""
CONSOLE_PAGES = [
    "/orgs/{org}",
    "/orgs/{org}/members",
    "/orgs/{org}/key",
    "/orgs/{org}/limits",
    "/orgs/{org}/usage",
    "/orgs/{org}/calls",
    "/orgs/{org}/audit",
    "/orgs/{org}/invoices/{period}",
    "/account",
]
OPERATOR_PAGES = ["/operator", "/operator/tenants/{org}"]


@pytest.fixture(scope="module")
def member(deployment: Deployment) -> Member:
    return new_member(deployment)


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


def dark(page: Page) -> bool:
    """Whether the page is painted dark: its background's red channel is low."""
    colour: str = page.evaluate(BACKGROUND)
    return int(colour.split("(")[1].split(",")[0]) < 80


def test_the_theme_follows_the_system_until_chosen_and_the_choice_is_remembered(
    browser: Browser, deployment: Deployment, member: Member
) -> None:
    base = deployment.instance.base_url
    context = browser.new_context(viewport=VIEWPORT, color_scheme="dark")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, base, member.email)
    open_chat(page, base, member)
    toggle = page.get_by_role("button", name="Dark theme")
    assert dark(page)
    expect(toggle).to_have_attribute("aria-pressed", "true")

    page.emulate_media(color_scheme="light")  # the system changes: the page follows
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert not dark(page)

    toggle.click()  # chosen: dark, whatever the system says
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert dark(page)
    page.add_init_script(THEME_AT_FIRST_FRAME)
    page.reload()
    open_chat(page, base, member)
    assert dark(page)
    assert page.evaluate("window.__themeAtFirstFrame") == "dark", "the light theme flashed first"
    expect(page.get_by_role("button", name="Dark theme")).to_have_attribute("aria-pressed", "true")

    page.goto(f"{base}/orgs/{member.org_id}")  # every page, not only the chat
    assert dark(page)
    page.get_by_role("button", name="Dark theme").click()  # and back to light
    page.reload()
    assert not dark(page)
    assert page.evaluate("window.__themeAtFirstFrame") == "light"
    assert errors == []
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_serious_on_the_chat_in_either_scheme(
    browser: Browser, deployment: Deployment, member: Member, scheme: Scheme
) -> None:
    base = deployment.instance.base_url
    context = browser.new_context(viewport=VIEWPORT, color_scheme=scheme)
    page = context.new_page()
    sign_in(page, base, member.email)
    open_chat(page, base, member)
    prompt = page.get_by_label("Message", exact=True)
    prompt.fill(
        '[sim:echo] Some *code*:\n\n```python\ndef greet():\n    return "hi"  # done\n```\n'
    )
    prompt.press("Enter")
    expect(last_answer(page).locator(".usage")).to_contain_text("tokens", timeout=WAIT_MS)
    assert (found := serious(run_axe(page))) == [], describe(found)
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_serious_on_the_console_in_either_scheme(
    browser: Browser,
    deployment: Deployment,
    tenant: Tenant,
    sessions: dict[str, StorageState],
    scheme: Scheme,
) -> None:
    base = deployment.instance.base_url
    values = {"org": tenant.org_id, "period": tenant.period}
    visits = [("owner", path) for path in CONSOLE_PAGES] + [
        ("operator", path) for path in OPERATOR_PAGES
    ]
    problems: dict[str, str] = {}
    for who, path in visits:
        context = browser.new_context(
            viewport=VIEWPORT, storage_state=sessions[who], color_scheme=scheme
        )
        page = context.new_page()
        url = path.format(**values)
        response = page.goto(base + url)
        assert response is not None and response.status == 200, url
        assert dark(page) == (scheme == "dark"), url
        if found := serious(run_axe(page)):
            problems[url] = describe(found)
        context.close()
    assert problems == {}, "\n".join(f"{url}: {text}" for url, text in problems.items())
