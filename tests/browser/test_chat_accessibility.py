"""Chat and documents are usable by everyone: axe-core finds nothing serious, and
the whole chat loop works from the keyboard alone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.support.axe import axe_violations, describe
from tests.support.browser import (
    WAIT_MS,
    Member,
    answer_text,
    last_answer,
    new_member,
    open_chat,
    sign_in,
)
from tests.support.deployment import Deployment


@pytest.fixture
def member(deployment: Deployment) -> Member:
    return new_member(deployment)


def test_axe_finds_no_serious_violation_on_chat_and_documents(
    browser: Browser, deployment: Deployment, member: Member
) -> None:
    base = deployment.instance.base_url
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, base, member.email)
    page.goto(f"{base}/orgs/{member.org_id}/documents")
    page.get_by_label("Name", exact=True).fill("Team notes")
    page.get_by_role("button", name="Create collection").click()
    expect(page.get_by_label("Upload to Team notes")).to_be_visible()
    assert (found := axe_violations(page)) == [], describe(found)

    open_chat(page, base, member)
    expect(page.get_by_label("Team notes")).to_be_visible()
    page.get_by_label("Message", exact=True).fill("Hello there [sim:tokens=12]")
    page.get_by_label("Message", exact=True).press("Enter")
    expect(last_answer(page).locator(".usage")).to_contain_text("tokens", timeout=WAIT_MS)
    assert (found := axe_violations(page)) == [], describe(found)
    page.context.close()


def test_the_chat_works_by_keyboard_alone(
    browser: Browser, deployment: Deployment, member: Member
) -> None:
    base = deployment.instance.base_url
    page = browser.new_context().new_page()
    sign_in(page, base, member.email)
    open_chat(page, base, member)
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement && document.activeElement.id") == "prompt":
            break
    prompt = page.get_by_label("Message", exact=True)
    expect(prompt).to_be_focused()
    focus_ring = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert focus_ring != "none", "the focused composer shows no focus ring"

    page.keyboard.type("First line")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line [sim:slow=150] [sim:tokens=400]")
    assert prompt.input_value() == "First line\nsecond line [sim:slow=150] [sim:tokens=400]"
    page.keyboard.press("Enter")
    user = page.locator("article.message-user").last
    expect(user.locator(".message-body")).to_have_text(
        "First line\nsecond line [sim:slow=150] [sim:tokens=400]"
    )
    expect(prompt).to_be_focused()
    expect(prompt).to_have_value("")
    page.wait_for_function(
        "() => document.querySelector('article.message-assistant .message-body')"
        ".textContent.trim().length > 0",
        timeout=WAIT_MS,
    )
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    page.keyboard.press("Escape")
    expect(last_answer(page).locator(".status-stopped")).to_be_visible()
    expect(page.get_by_role("button", name="Stop")).to_be_hidden()
    stopped = answer_text(page)
    page.wait_for_timeout(1000)  # several chunk intervals: nothing more may arrive
    assert answer_text(page) == stopped
    expect(page.locator("#messages")).to_have_attribute("aria-busy", "false")
    expect(page.get_by_role("log")).to_have_count(1)
    expect(page.get_by_role("button", name=re.compile("^Regenerate"))).to_be_visible()
    page.context.close()
