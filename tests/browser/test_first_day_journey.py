"""The product's first day in one journey, in a real browser, at 1280×800 and 390×844, each
in light and in dark (issue 12's proof): sign-up → the onboarding checklist → connect a key (the
simulator) → the checklist's key step is done → a shared prompt → invite a member → the
member joins and lands on Chat → attaches a handbook and gets an answer citing it → exports
Markdown → shares with the org → inserts the saved prompt with "/".

On every page: nothing scrolls sideways and nothing is logged as an error; on the chat page
the composer has focus, and after the answer streams the composer and the newest message
are in the window. On the phone the organization's pages are behind the Menu button.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, FilePayload, ViewportSize, expect

from tests.support.browser import PASSWORD, WAIT_MS, last_answer
from tests.support.deployment import Deployment
from tests.support.workspace import HANDBOOK

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
RUNS: list[tuple[ViewportSize, str]] = [
    (size, scheme) for size in (DESKTOP, PHONE) for scheme in ("light", "dark")
]
PROMPT_NAME = "tldr"
PROMPT_TEXT = "Summarize the answer above in two sentences for a busy manager."

# Whether the last element matching the selector is wholly inside the window.
IN_WINDOW = """(sel) => {
  const box = [...document.querySelectorAll(sel)].pop().getBoundingClientRect();
  return box.top >= 0 && box.bottom <= innerHeight + 1
    && box.left >= 0 && box.right <= innerWidth + 1;
}"""
# Whether the bottom edge of the last element matching the selector is on screen.
BOTTOM_IN_WINDOW = """(sel) => {
  const box = [...document.querySelectorAll(sel)].pop().getBoundingClientRect();
  return box.bottom > 0 && box.bottom <= innerHeight + 1;
}"""


class Visitor:
    """One person's tab: the errors it logs, and the checks made on every page it shows."""

    def __init__(self, context: BrowserContext, phone: bool) -> None:
        self.page = context.new_page()
        self.phone = phone
        self.errors: list[str] = []
        self.seen: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def check(self) -> None:
        """Nothing scrolls sideways and nothing was logged as an error, so far."""
        page = self.page
        page.wait_for_load_state()
        self.seen.append(page.url)
        wide = page.evaluate("document.documentElement.scrollWidth - innerWidth")
        assert wide <= 0, f"{page.url} scrolls sideways by {wide}px"
        assert self.errors == [], (page.url, self.errors)

    def open(self, name: str) -> None:
        """Follow the organization's nav link `name`, the way this screen offers it."""
        page = self.page
        if self.phone:
            menu = page.get_by_role("button", name="Menu", exact=True)
            menu.click()
            expect(menu).to_have_attribute("aria-expanded", "true")
        pages = page.get_by_text("Organization pages", exact=True)  # folded on the chat page
        if pages.is_visible():
            pages.click()
        page.locator("nav.sidebar").get_by_role("link", name=name, exact=True).click()
        page.wait_for_load_state()
        self.check()


@pytest.mark.parametrize(("viewport", "scheme"), RUNS, ids=[f"{v['width']}-{s}" for v, s in RUNS])
def test_the_first_day_from_sign_up_to_a_shared_cited_answer(
    browser: Browser,
    deployment: Deployment,
    tmp_path: Path,
    viewport: ViewportSize,
    scheme: str,
) -> None:
    base = deployment.instance.base_url
    phone = viewport["width"] < 768
    tag = secrets.token_hex(3)

    def context() -> BrowserContext:
        return browser.new_context(
            viewport=viewport,
            color_scheme=scheme,  # type: ignore[arg-type]
            accept_downloads=True,
        )

    # Sign-up: a new org and its owner; signing up never signs in, so sign in next.
    owner_context = context()
    owner = Visitor(owner_context, phone)
    page = owner.page
    page.goto(f"{base}/signup")
    owner.check()
    page.get_by_label("Organization name").fill(f"Firstday {tag}")
    page.get_by_label("Your work email").fill(f"owner-{tag}@firstday.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create organization").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/orgs/*")
    owner.check()
    org_path = "/orgs/" + page.url.split("/orgs/")[1].split("?")[0].split("/")[0]

    # The overview's checklist says the next steps, none done yet.
    checklist = page.locator("#onboarding")
    expect(checklist.get_by_role("heading", name="Get started")).to_be_visible()
    steps = checklist.locator("li")
    expect(steps).to_have_count(3)
    expect(checklist.locator(".badge.ok")).to_have_count(0)

    # Connect a key: the checklist's first step leads to the Key page.
    checklist.get_by_role("link", name=re.compile("Connect an OpenAI key")).click()
    page.wait_for_url(f"**{org_path}/key")
    owner.check()
    page.get_by_role("link", name="OpenAI-compatible server").first.click()
    owner.check()
    page.get_by_label("Base URL").fill(f"{deployment.simulator.base_url}/v1")
    page.get_by_label("API key").fill(f"sk-firstday-{secrets.token_hex(12)}")
    page.get_by_role("button", name="Validate and connect").click()
    expect(page.get_by_role("button", name="Revoke key")).to_be_visible(timeout=WAIT_MS)
    owner.check()

    # Back on the overview, the key step is done and the others are still to do.
    owner.open("Overview")
    key_step = steps.filter(has_text="Connect an OpenAI key")
    expect(key_step.locator(".badge.ok")).to_have_text("done")
    expect(steps.filter(has_text="Invite someone").get_by_role("link")).to_be_visible()

    # An admin curates a prompt for everyone on the Prompts page.
    owner.open("Prompts")
    page.get_by_label("Name", exact=True).fill(PROMPT_NAME)
    page.get_by_label("Text", exact=True).fill(PROMPT_TEXT)
    page.get_by_label("Everyone in").check()
    page.get_by_role("button", name="Save prompt").click()
    expect(page.get_by_label(f"Text of shared prompt /{PROMPT_NAME}")).to_have_value(PROMPT_TEXT)
    owner.check()

    # Invite a member: no mail server, so the page shows the link to hand over.
    owner.open("Members")
    member_email = f"member-{tag}@firstday.example"
    page.get_by_label("Email").fill(member_email)
    send_email = page.get_by_label("Send by email")
    if send_email.count():
        send_email.uncheck()
    page.get_by_role("button", name="Invite").click()
    invite_link = page.locator("#invite-link").input_value()
    assert invite_link.startswith("http")
    owner.check()

    # The member opens it in their own browser, sets a password and lands on Chat.
    member_context = context()
    member = Visitor(member_context, phone)
    chat = member.page
    chat.goto(invite_link)
    member.check()
    chat.get_by_label("Password").fill(f"Firstday member {tag}")
    chat.get_by_role("button", name=re.compile("^Join")).last.click()
    chat.wait_for_url(f"**{org_path}/chat**")
    expect(chat.locator("#model option").first).to_be_attached(timeout=WAIT_MS)
    prompt = chat.get_by_label("Message", exact=True)
    expect(prompt).to_be_focused()  # typing starts at once
    member.check()

    # The first chat: attach the handbook, ask, and get an answer that cites it.
    handbook: list[FilePayload] = [
        {"name": "handbook.md", "mimeType": "text/markdown", "buffer": HANDBOOK.encode()}
    ]
    chat.locator("#attach-input").set_input_files(handbook)
    attached = chat.get_by_role("list", name="Attached files")
    expect(attached.locator("li", has_text="handbook.md")).to_contain_text(
        "ready", timeout=2 * WAIT_MS
    )
    prompt.fill("When are expense reports due? [sim:cite]")
    prompt.press("Enter")
    answer = last_answer(chat)
    cited = answer.locator(".citations").get_by_role("link", name=re.compile(r"handbook\.md"))
    expect(cited.first).to_be_visible(timeout=WAIT_MS)
    assert "/passages/" in str(cited.first.get_attribute("href"))
    expect(answer.locator(".usage")).to_contain_text("tokens", timeout=WAIT_MS)
    assert chat.evaluate(IN_WINDOW, "#composer"), "the composer left the window"
    assert chat.evaluate(BOTTOM_IN_WINDOW, "article.message-assistant"), "answer out of view"
    member.check()

    # Export Markdown: a download with the question and the answer.
    tools = chat.get_by_role("group", name="Export and share")
    expect(tools).to_be_visible(timeout=WAIT_MS)
    with chat.expect_download() as download:
        tools.get_by_role("link", name="Export Markdown").click()
    saved = tmp_path / "chat.md"
    download.value.save_as(saved)
    assert download.value.suggested_filename.endswith(".md")
    assert "expense reports" in saved.read_text()

    # Share with the org: a link to the read-only page appears.
    tools.get_by_role("button", name="Share with org").click()
    shared = tools.get_by_role("link", name="Shared link")
    expect(shared).to_be_visible(timeout=WAIT_MS)
    assert str(shared.get_attribute("href")).startswith(f"{org_path}/shared/")
    member.check()

    # The saved prompt goes in with "/" and Enter (inserted, not sent).
    prompt.click()
    chat.keyboard.type(f"/{PROMPT_NAME[:2]}")
    options = chat.get_by_role("listbox", name="Saved prompts").get_by_role("option")
    expect(options.filter(has_text=f"/{PROMPT_NAME}")).to_be_visible(timeout=WAIT_MS)
    chat.keyboard.press("Enter")
    expect(prompt).to_have_value(PROMPT_TEXT)
    expect(chat.locator("article.message-user")).to_have_count(1)
    member.check()

    # The owner's checklist is finished, so it is gone.
    owner.open("Overview")
    expect(page.locator("#onboarding")).to_have_count(0)
    assert owner.errors == [] and member.errors == []
    member_context.close()
    owner_context.close()
