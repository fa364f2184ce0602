"""The prompt library in a real browser: saved on the Prompts page, inserted with "/"
in the composer by keyboard alone, with the listbox pattern screen readers know."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.support.axe import axe_violations, describe
from tests.support.browser import WAIT_MS, new_member, open_chat, sign_in
from tests.support.deployment import Deployment

SUMMARIZE = "Summarize the text below in three bullet points, then give a one-line verdict."
BULLETS = "Turn this into a bullet list."


def test_typing_slash_sum_and_enter_inserts_a_saved_prompt(
    browser: Browser, deployment: Deployment
) -> None:
    member = new_member(deployment)
    base = deployment.instance.base_url
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, base, member.email)

    # An admin saves a shared prompt and one of their own on the Prompts page.
    page.goto(f"{base}/orgs/{member.org_id}/prompts")
    for name, text, everyone in (("summarize", SUMMARIZE, True), ("sum-bullets", BULLETS, False)):
        page.get_by_label("Name", exact=True).fill(name)
        page.get_by_label("Text", exact=True).fill(text)
        if everyone:
            page.get_by_label("Everyone in").check()
        page.get_by_role("button", name="Save prompt").click()
        whose = "shared prompt" if everyone else "your prompt"
        # The page it lands on lists the new prompt (and says it is saved).
        expect(page.get_by_label(f"Text of {whose} /{name}")).to_have_value(text)
        expect(page.get_by_role("status").first).to_contain_text("The prompt is saved")
    assert (found := axe_violations(page)) == [], describe(found)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    page.set_viewport_size({"width": 1280, "height": 800})

    open_chat(page, base, member)
    prompt = page.get_by_label("Message", exact=True)
    expect(page.locator("#prompt-hint")).to_contain_text("Type / at the start for saved prompts.")
    prompt.click()
    page.keyboard.type("/sum")
    listbox = page.get_by_role("listbox", name="Saved prompts")
    expect(listbox).to_be_visible(timeout=WAIT_MS)
    options = listbox.get_by_role("option")
    expect(options).to_have_count(2)
    expect(options.nth(0)).to_contain_text("/sum-bullets")  # by name
    expect(options.nth(1)).to_contain_text("/summarize")
    expect(options.nth(1)).to_contain_text("shared")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    expect(prompt).to_have_attribute("aria-activedescendant", options.nth(0).get_attribute("id"))
    assert (found := axe_violations(page)) == [], describe(found)
    page.emulate_media(color_scheme="dark")
    assert (found := axe_violations(page)) == [], describe(found)
    page.emulate_media(color_scheme="light")

    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(options.nth(0)).to_have_attribute("aria-selected", "false")
    expect(prompt).to_have_attribute("aria-activedescendant", options.nth(1).get_attribute("id"))
    page.keyboard.press("Enter")  # inserts; does not send
    expect(prompt).to_have_value(SUMMARIZE)
    expect(listbox).to_be_hidden()
    expect(prompt).to_be_focused()
    assert prompt.get_attribute("aria-activedescendant") is None
    expect(page.locator("article.message-user")).to_have_count(0)

    # Filtering narrows the list; Escape closes it and leaves what was typed.
    prompt.fill("")
    page.keyboard.type("/summ")
    expect(options).to_have_count(1)
    page.keyboard.press("Escape")
    expect(listbox).to_be_hidden()
    expect(prompt).to_have_value("/summ")
    # A click inserts too.
    prompt.fill("")
    page.keyboard.type("/bul")
    options.first.click()
    expect(prompt).to_have_value(BULLETS)
    assert errors == []
    page.context.close()
