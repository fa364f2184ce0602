"""A real browser: Playwright driving Debian's Chromium (``/usr/bin/chromium``)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Module-scoped: Playwright's sync API keeps an event loop running in this thread,
    which would break ``asyncio.run`` in the tests collected after the browser tests."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


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
