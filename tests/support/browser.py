"""A real browser: Playwright driving Debian's Chromium (``/usr/bin/chromium``), screenshots,
and the steps of a member's chat in it. The fixtures live in ``tests/browser/conftest.py``."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from chatgrid.identity.models import BillingMode
from chatgrid.identity.passwords import hash_password
from tests.support.deployment import Deployment

CHROMIUM = os.environ.get("CHATGRID_TEST_CHROMIUM", "/usr/bin/chromium")


FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def screenshot(page: Page, name: str) -> None:
    """Keep a picture of a main page under docs/screenshots (refreshed by every run).

    Chat pages are taken as the window shows them, scrolled to the latest
    answer: their composer sticks to the window's bottom, which a full-page
    picture would paint mid-page.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    full_page = not name.startswith("chat-")
    if not full_page:
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # the latest answer
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


PASSWORD = "correct horse battery staple"


WAIT_MS = 20_000


@dataclass
class Member:
    org_id: str
    email: str


def new_member(deployment: Deployment) -> Member:
    """An org with its own key (the simulator) and an owner who can sign in.

    Connecting the key runs its own event loop, and Playwright's sync API
    already runs one in this thread, so the org is made in a worker thread.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        org = pool.submit(deployment.new_org, BillingMode.BYOK).result()
    ctx = deployment.context
    owner = ctx.members.get(org.id, org.member_id)
    ctx.accounts.set_password(owner.user_id, hash_password(PASSWORD))
    return Member(org.id, owner.email)


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Continue").click()  # the email step comes first
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/orgs/**")


def open_chat(page: Page, base: str, member: Member) -> None:
    page.goto(f"{base}/orgs/{member.org_id}/chat")
    expect(page.locator("#model option").first).to_be_attached(timeout=WAIT_MS)


def last_answer(page: Page) -> Locator:
    return page.locator("article.message-assistant").last


def answer_text(page: Page) -> str:
    return last_answer(page).locator(".message-body").inner_text()
