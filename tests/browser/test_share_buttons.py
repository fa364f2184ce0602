"""Export and share from the chat page in a real browser: downloads, a link for the org,
the shared page itself, and stopping the share, with axe in both colour schemes."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.support.axe import axe_violations, describe
from tests.support.browser import WAIT_MS, new_member, open_chat, sign_in
from tests.support.deployment import Deployment


def test_a_member_exports_shares_and_stops_sharing_a_conversation(
    browser: Browser, deployment: Deployment, tmp_path: Path
) -> None:
    member = new_member(deployment)
    base = deployment.instance.base_url
    page = browser.new_context(
        viewport={"width": 1280, "height": 800}, accept_downloads=True
    ).new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, base, member.email)
    open_chat(page, base, member)
    tools = page.get_by_role("group", name="Export and share")
    expect(tools).to_be_hidden()  # nothing to export before the first question

    prompt = page.get_by_label("Message", exact=True)
    prompt.fill("[sim:echo]Our **offsite** is in Porto")
    prompt.press("Enter")
    expect(page.locator("article.message-assistant .message-body").last).to_contain_text(
        "Porto", timeout=WAIT_MS
    )
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_visible(timeout=WAIT_MS)
    expect(tools).to_be_visible(timeout=WAIT_MS)

    with page.expect_download() as download:
        tools.get_by_role("link", name="Export Markdown").click()
    saved = tmp_path / "chat.md"
    download.value.save_as(saved)
    assert download.value.suggested_filename.endswith(".md")
    text = saved.read_text()
    assert text.startswith("# Our offsite is in Porto")
    assert "Our **offsite** is in Porto" in text.split("## Answer", 1)[1]  # as the model said it
    with page.expect_download() as download:
        tools.get_by_role("link", name="Export JSON").click()
    assert download.value.suggested_filename.endswith(".json")

    share = tools.get_by_role("button", name="Share with org")
    share.click()
    stop = tools.get_by_role("button", name="Stop sharing")
    expect(stop).to_be_visible(timeout=WAIT_MS)
    expect(stop).to_have_attribute("aria-pressed", "true")
    link = tools.get_by_role("link", name="Shared link")
    expect(link).to_be_visible()
    shared_url = str(link.get_attribute("href"))
    assert shared_url.startswith(f"/orgs/{member.org_id}/shared/share_")
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert (found := axe_violations(page)) == [], describe(found)
    page.emulate_media(color_scheme="light")
    chat_url = page.url
    assert _fits_a_phone(page)

    page.goto(base + shared_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Our offsite is in Porto")
    expect(page.locator("article.message-assistant")).to_contain_text("Porto")
    expect(page.get_by_text(f"by {member.email}")).to_be_visible()
    for shared_scheme in ("light", "dark"):
        page.emulate_media(color_scheme=shared_scheme)
        assert (found := axe_violations(page)) == [], describe(found)
    page.emulate_media(color_scheme="light")
    assert _fits_a_phone(page)

    page.goto(chat_url)
    stop = tools.get_by_role("button", name="Stop sharing")
    expect(stop).to_be_visible(timeout=WAIT_MS)
    stop.click()
    expect(tools.get_by_role("button", name="Share with org")).to_be_visible(timeout=WAIT_MS)
    expect(tools.get_by_role("status")).to_contain_text("the link no longer opens")
    expect(tools.get_by_role("link", name="Shared link")).to_be_hidden()
    assert page.request.get(base + shared_url).status == 404
    assert errors == []
    page.context.close()


def _fits_a_phone(page: Page) -> bool:
    """No sideways scroll at 390 px wide (then back to the desktop size)."""
    page.set_viewport_size({"width": 390, "height": 844})
    fits = page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 800})
    return bool(fits)
