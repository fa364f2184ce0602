"""Copy buttons in a real browser: a whole answer as the model wrote it, and one code block."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.support.axe import axe_violations, describe
from tests.support.browser import WAIT_MS, new_member, open_chat, sign_in
from tests.support.deployment import Deployment

ANSWER = "Run **this**:\n\n```python\nprint('hello')\n```\n\nThen stop."


def test_an_answer_and_its_code_block_are_copied_as_written(
    browser: Browser, deployment: Deployment
) -> None:
    member = new_member(deployment)
    base = deployment.instance.base_url
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, base, member.email)
    open_chat(page, base, member)
    prompt = page.get_by_label("Message", exact=True)
    prompt.fill(f"[sim:echo]{ANSWER}")
    prompt.press("Enter")
    answer = page.locator("article.message-assistant").last
    expect(answer.locator(".message-body pre")).to_contain_text("print", timeout=WAIT_MS)
    copy_code = answer.get_by_role("button", name="Copy code")
    expect(copy_code).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled(timeout=WAIT_MS)

    copy_code.click()
    expect(answer.locator("button[data-copy-text=code]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()").strip() == "print('hello')"
    answer.get_by_role("button", name="Copy the answer").click()
    assert page.evaluate("navigator.clipboard.readText()") == ANSWER
    # Not while the answer streams: the buttons come with the finished answer only.
    prompt.fill("[sim:slow=150] [sim:tokens=30] Tell me more")
    prompt.press("Enter")
    streaming = page.locator("article.message-assistant.is-streaming")
    expect(streaming).to_be_visible(timeout=WAIT_MS)
    expect(streaming.get_by_role("button", name="Copy the answer")).to_have_count(0)
    expect(page.locator("article.message-assistant.is-streaming")).to_have_count(0, timeout=WAIT_MS)
    assert not axe_violations(page), describe(axe_violations(page))
    assert errors == []
    context.close()
