"""The product fits the screen it is on: no page scrolls sideways on a phone (390×844),
the Calls table keeps its last columns on a desktop (1280×800), and the chat page is
chat-first — conversations in a drawer on the phone, the composer focused and pinned,
the view following a streaming answer unless the reader scrolled up.

Every console page is seen with data on it (tests/support/console_tenant.py), since an
empty table never overflows.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, StorageState, ViewportSize, expect

from tests.support.browser import (
    SCREENSHOTS,
    WAIT_MS,
    Member,
    last_answer,
    new_member,
    open_chat,
    sign_in,
)
from tests.support.console_tenant import Tenant, seed_tenant, signed_in
from tests.support.deployment import Deployment

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}

# Pages seen by the owner, then by the operator; {org}, {period} and {member} are the tenant's.
OWNER_PAGES = [
    "/orgs/{org}",
    "/orgs/{org}/chat",
    "/orgs/{org}/documents",
    "/orgs/{org}/key",
    "/orgs/{org}/members",
    "/orgs/{org}/members/{member}/erase",
    "/orgs/{org}/domains",
    "/orgs/{org}/alerts",
    "/orgs/{org}/sso",
    "/orgs/{org}/scim",
    "/orgs/{org}/service-accounts",
    "/orgs/{org}/prompts",
    "/orgs/{org}/tokens",
    "/orgs/{org}/limits",
    "/orgs/{org}/security",
    "/orgs/{org}/audit",
    "/orgs/{org}/usage",
    "/orgs/{org}/calls",
    "/orgs/{org}/invoices",
    "/orgs/{org}/invoices/{period}",
    "/orgs",
    "/account",
    "/account/two-step",
    "/docs",
]
OPERATOR_PAGES = [
    "/operator",
    "/operator/pool",
    "/operator/prices",
    "/operator/plans",
    "/operator/tenants/{org}",
]
SIGNED_OUT_PAGES = ["/login", "/signup", "/password/forgot"]

# How far the page reaches past the window's right edge, and the elements that stick out
# with no scrolling box of their own around them (the ones that widen the page).
OVERFLOW = """() => {
  const width = window.innerWidth;
  const clipped = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") return true;
    }
    return false;
  };
  const widest = [...document.querySelectorAll("body *")]
    .filter(el => el.getBoundingClientRect().right > width + 1 && !clipped(el))
    .slice(0, 4)
    .map(el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
      + (typeof el.className === "string" && el.className ? "." + el.className.split(" ")[0] : ""));
  return {scroll: document.documentElement.scrollWidth, width, widest};
}"""


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


@pytest.fixture(scope="module")
def member(deployment: Deployment) -> Member:
    return new_member(deployment)


def watch_console(page: Page) -> list[str]:
    """Errors the page logs (or throws) from now on."""
    errors: list[str] = []

    def on_message(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_message)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.fixture
def phone_page(browser: Browser, member: Member, deployment: Deployment) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()
    sign_in(page, deployment.instance.base_url, member.email)
    yield page
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_page_scrolls_sideways_on_a_phone(
    browser: Browser,
    deployment: Deployment,
    tenant: Tenant,
    sessions: dict[str, StorageState],
    scheme: str,
) -> None:
    base = deployment.instance.base_url
    values = {"org": tenant.org_id, "period": tenant.period, "member": tenant.teammate_id}
    visits = (
        [(sessions["owner"], path) for path in OWNER_PAGES]
        + [(sessions["operator"], path) for path in OPERATOR_PAGES]
        + [(None, path) for path in SIGNED_OUT_PAGES]
    )
    wide: dict[str, object] = {}
    errors: list[str] = []
    for state, path in visits:
        context = browser.new_context(
            viewport=PHONE,
            storage_state=state,
            color_scheme=scheme,  # type: ignore[arg-type]
        )
        page = context.new_page()
        errors += watch_console(page)
        url = path.format(**values)
        response = page.goto(base + url)
        assert response is not None and response.status == 200, url
        page.wait_for_load_state("networkidle")
        found = page.evaluate(OVERFLOW)
        if found["scroll"] > found["width"]:
            wide[url] = found
        context.close()
    assert wide == {}, wide
    assert errors == []


def test_the_calls_table_keeps_its_last_columns_on_a_desktop(
    browser: Browser, deployment: Deployment, member: Member
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    base = deployment.instance.base_url
    sign_in(page, base, member.email)
    open_chat(page, base, member)  # a real call: upstream request id, address, token
    page.get_by_label("Message", exact=True).fill("Hi [sim:tokens=5]")
    page.get_by_label("Message", exact=True).press("Enter")
    expect(last_answer(page).locator(".usage")).to_contain_text("tokens", timeout=WAIT_MS)
    page.goto(f"{base}/orgs/{member.org_id}/calls")
    expect(page.locator("main table tbody tr").first).to_be_visible()
    fits = page.evaluate(
        """() => {
          const table = document.querySelector("main table");
          const box = table.parentElement;
          const last = table.querySelector("thead th:last-child").getBoundingClientRect();
          return {table: table.scrollWidth, box: box.clientWidth,
                  last: last.right, edge: box.getBoundingClientRect().right};
        }"""
    )
    assert fits["table"] <= fits["box"] and fits["last"] <= fits["edge"], fits
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    context.close()


def in_view(page: Page, selector: str) -> bool:
    """Whether the last element matching `selector` is wholly inside the window."""
    inside: bool = page.evaluate(
        """(sel) => {
          const el = [...document.querySelectorAll(sel)].pop();
          const box = el.getBoundingClientRect();
          return box.top >= 0 && box.bottom <= window.innerHeight + 1
            && box.left >= 0 && box.right <= window.innerWidth + 1;
        }""",
        selector,
    )
    return inside


def bottom_in_view(page: Page, selector: str) -> bool:
    """Whether the bottom edge of the last element matching `selector` is on screen."""
    inside: bool = page.evaluate(
        """(sel) => {
          const el = [...document.querySelectorAll(sel)].pop();
          const box = el.getBoundingClientRect();
          return box.bottom > 0 && box.bottom <= window.innerHeight + 1;
        }""",
        selector,
    )
    return inside


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_chat_follows_a_streaming_answer_and_opens_at_the_latest(
    browser: Browser, deployment: Deployment, member: Member, size: str
) -> None:
    viewport = PHONE if size == "phone" else DESKTOP
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    errors = watch_console(page)
    base = deployment.instance.base_url
    sign_in(page, base, member.email)
    open_chat(page, base, member)
    prompt = page.get_by_label("Message", exact=True)
    expect(prompt).to_be_focused()  # no Tab needed to start typing

    for _ in range(2):  # enough history that the log scrolls
        prompt.fill("Tell me a long story [sim:tokens=300]")
        prompt.press("Enter")
        expect(last_answer(page).locator(".usage")).to_contain_text("tokens", timeout=WAIT_MS)
        assert in_view(page, "#composer")
        assert bottom_in_view(page, "article.message-assistant")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")

    # While an answer streams the view keeps up with it.
    prompt.fill("And another one [sim:tokens=400] [sim:slow=40]")
    prompt.press("Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('article.message-assistant')].pop()"
        ".querySelector('.message-body').textContent.length > 300",
        timeout=WAIT_MS,
    )
    assert bottom_in_view(page, "article.message-assistant")
    assert in_view(page, "#composer")

    # Scrolled up, the reader stays where they are and is offered a way back.
    page.locator("#messages").evaluate("(log) => { log.scrollTop = 0; }")
    jump = page.get_by_role("button", name="Jump to latest")
    expect(jump).to_be_visible()
    top = page.locator("#messages").evaluate("(log) => log.scrollTop")
    page.wait_for_timeout(300)  # more of the answer arrives meanwhile
    assert page.locator("#messages").evaluate("(log) => log.scrollTop") == top
    expect(last_answer(page).locator(".usage")).to_contain_text("tokens", timeout=WAIT_MS)
    jump.click()
    expect(jump).to_be_hidden()
    assert bottom_in_view(page, "article.message-assistant")

    # Reopened, the conversation shows its latest message, composer focused.
    page.reload()
    expect(page.locator("article.message-assistant")).to_have_count(3, timeout=WAIT_MS)
    page.wait_for_function(
        "() => { const log = document.getElementById('messages');"
        " return log.scrollHeight - log.scrollTop - log.clientHeight < 4; }",
        timeout=WAIT_MS,
    )
    assert bottom_in_view(page, "article.message-assistant")
    expect(prompt).to_be_focused()
    assert errors == []
    context.close()


def test_an_error_shows_next_to_the_composer(
    browser: Browser, deployment: Deployment, member: Member
) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    base = deployment.instance.base_url
    sign_in(page, base, member.email)
    open_chat(page, base, member)
    page.get_by_label("Message", exact=True).press("Enter")  # nothing written yet
    error = page.get_by_role("alert").filter(has_text="Write a message first")
    expect(error).to_be_visible()
    assert in_view(page, "#chat-error")
    assert in_view(page, "#composer")
    context.close()


def test_the_conversations_drawer_opens_and_closes_on_a_phone(
    phone_page: Page, deployment: Deployment, member: Member
) -> None:
    page = phone_page
    errors = watch_console(page)
    open_chat(page, deployment.instance.base_url, member)
    menu = page.get_by_role("button", name="Menu", exact=True)
    drawer = page.locator("#drawer")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("button", name="New chat")).to_be_hidden()
    expect(page.get_by_label("Message", exact=True)).to_be_visible()

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("button", name="New chat")).to_be_visible()
    expect(drawer.get_by_role("link", name="Documents")).to_be_attached()
    page.wait_for_function(
        "() => { const box = document.getElementById('drawer').getBoundingClientRect();"
        " return box.left >= 0 && box.right <= innerWidth; }"
    )
    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()
    expect(page.get_by_role("button", name="New chat")).to_be_hidden()

    menu.click()
    page.get_by_role("button", name="Close menu").click()
    expect(page.get_by_role("button", name="New chat")).to_be_hidden()
    assert errors == []


def test_admin_pages_are_one_click_from_the_chat_on_a_desktop(
    browser: Browser, deployment: Deployment, member: Member
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    base = deployment.instance.base_url
    sign_in(page, base, member.email)
    open_chat(page, base, member)
    expect(page.get_by_role("button", name="New chat")).to_be_visible()
    assert in_view(page, "#composer")
    page.get_by_text("Organization pages", exact=True).click()
    page.get_by_role("link", name="Members").click()
    page.wait_for_url(f"**/orgs/{member.org_id}/members")
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_viewport_screenshots_of_the_chat_and_the_overview(
    browser: Browser, deployment: Deployment, member: Member, scheme: str
) -> None:
    """docs/screenshots/{chat,overview}-{desktop,phone}-{scheme}.png: the window as a
    person sees it, after an answer with a code block has streamed in."""
    base = deployment.instance.base_url
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(
            viewport=viewport,
            color_scheme=scheme,  # type: ignore[arg-type]
        )
        page = context.new_page()
        sign_in(page, base, member.email)
        open_chat(page, base, member)
        prompt = page.get_by_label("Message", exact=True)
        prompt.fill(
            "[sim:echo] Here is the helper:\n\n```python\ndef total(items):\n"
            "    return sum(i.price for i in items)\n```\n\nIt adds the prices up."
        )
        prompt.press("Enter")
        expect(last_answer(page).locator(".usage")).to_contain_text("tokens", timeout=WAIT_MS)
        assert bottom_in_view(page, "article.message-assistant")
        page.screenshot(path=str(SCREENSHOTS / f"chat-{size}-{scheme}.png"))
        page.goto(f"{base}/orgs/{member.org_id}")
        page.screenshot(path=str(SCREENSHOTS / f"overview-{size}-{scheme}.png"))
        context.close()


def test_model_ids_in_tables_keep_their_case(
    browser: Browser, deployment: Deployment, tenant: Tenant, sessions: dict[str, StorageState]
) -> None:
    """Only a table's head row is set in capitals; "gpt-4o-mini" in a row stays as written."""
    context = browser.new_context(viewport=DESKTOP, storage_state=sessions["owner"])
    page = context.new_page()
    base = deployment.instance.base_url
    for path in (f"/orgs/{tenant.org_id}/usage", f"/orgs/{tenant.org_id}/invoices/{tenant.period}"):
        page.goto(base + path)
        shown: str = page.evaluate(
            "() => [...document.querySelectorAll('main tbody')].map(b => b.innerText).join(' ')"
        )
        assert "gpt-4o-mini" in shown and "GPT-4O-MINI" not in shown, path
    context.close()
