"""Attachments in the composer, in a real browser: pick a document and an image at once
with the file picker, see the document read, and get an answer that cites it; then drop
a refused file (named in the alert) and paste an image."""

from __future__ import annotations

import secrets

from playwright.sync_api import Browser, FilePayload, expect

from tests.support.axe import axe_violations, describe
from tests.support.browser import WAIT_MS, last_answer, new_member, open_chat, sign_in
from tests.support.deployment import Deployment
from tests.support.workspace import HANDBOOK


def test_a_member_attaches_files_with_the_picker_and_gets_a_cited_answer(
    browser: Browser, deployment: Deployment
) -> None:
    member = new_member(deployment)
    base = deployment.instance.base_url
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, base, member.email)
    open_chat(page, base, member)
    page.get_by_label("Model").select_option("gpt-4o-mini")

    image = b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(24)
    files: list[FilePayload] = [
        {"name": "handbook.md", "mimeType": "text/markdown", "buffer": HANDBOOK.encode()},
        {"name": "whiteboard.png", "mimeType": "image/png", "buffer": image},
    ]
    page.locator("#attach-input").set_input_files(files)
    attached = page.get_by_role("list", name="Attached files")
    document = attached.locator("li", has_text="handbook.md")
    expect(document).to_contain_text("ready", timeout=2 * WAIT_MS)  # read in the background
    expect(attached.locator("li", has_text="whiteboard.png")).to_contain_text(
        "goes with your next message"
    )
    assert "/chat/" in page.url  # attaching made the conversation
    assert axe_violations(page) == [], describe(axe_violations(page))

    prompt = page.get_by_label("Message", exact=True)
    prompt.fill("[sim:echo]When are expense reports due? [sim:cite]")
    prompt.press("Enter")
    answer = last_answer(page)
    expect(answer.locator(".citations")).to_contain_text("handbook.md", timeout=WAIT_MS)
    expect(answer.locator(".message-body")).to_contain_text("[images: 1]")
    # The image went with the message; the document stays attached to the conversation.
    expect(attached.locator("li", has_text="whiteboard.png")).to_have_count(0, timeout=WAIT_MS)
    expect(document).to_be_visible()

    # Dropping a file on the composer attaches it too; a refused one says why, by name.
    drop = """([name, text]) => {
        const data = new DataTransfer();
        data.items.add(new File([text], name, { type: "image/svg+xml" }));
        const form = document.getElementById("composer");
        form.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true }));
    }"""
    page.evaluate(drop, ["logo.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>"])
    alert = page.locator("#chat-error")
    expect(alert).to_contain_text("logo.svg", timeout=WAIT_MS)
    expect(alert).to_contain_text("PNG, JPEG, WebP and GIF")
    # Pasting an image into the message box attaches it for the next message.
    paste = """(name) => {
        const data = new DataTransfer();
        const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
        data.items.add(new File([png], name, { type: "image/png" }));
        const prompt = document.getElementById("prompt");
        prompt.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true }));
    }"""
    page.evaluate(paste, "pasted.png")
    expect(attached.locator("li", has_text="pasted.png")).to_contain_text(
        "goes with your next message", timeout=WAIT_MS
    )
    errors[:] = [e for e in errors if "400" not in e]  # the refused upload's own log line
    assert errors == []
