"""Chat and documents in a real browser: a member's day, and what a stranger cannot see.

sign in → a new conversation whose answer streams in → stop an answer →
upload a PDF and watch it become ready → ask about it with its collection
selected → the citation opens the right passage → a member of another org
gets 404 for that passage and that document. Then the model turns hostile:
its answer carries scripts, event handlers, remote images and ``javascript:``
links, and none of them runs or loads.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fpdf import FPDF
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import (
    WAIT_MS,
    Member,
    answer_text,
    last_answer,
    new_member,
    open_chat,
    screenshot,
    sign_in,
)
from tests.support.deployment import Deployment

CANARY = "The Nimbus launch code is PELICAN-SEVEN and only the night crew may use it."
# Every value the upload's progress bar shows, recorded as the page changes.
WATCH_PROGRESS = """() => {
  window.__progress = [];
  const record = () => {
    for (const bar of document.querySelectorAll("tr.document progress")) {
      window.__progress.push(bar.value);
    }
  };
  new MutationObserver(record).observe(document.getElementById("collections-list"),
    { subtree: true, childList: true, characterData: true });
}"""


def ask(page: Page, text: str) -> None:
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_label("Message", exact=True).press("Enter")


def wait_for_text(page: Page) -> str:
    page.wait_for_function(
        "() => { const a = [...document.querySelectorAll('article.message-assistant')].pop();"
        " return a && a.querySelector('.message-body').textContent.trim().length > 0; }",
        timeout=WAIT_MS,
    )
    return answer_text(page)


def wait_until_longer_than(page: Page, length: int) -> None:
    page.wait_for_function(
        "(n) => { const a = [...document.querySelectorAll('article.message-assistant')].pop();"
        " return a.querySelector('.message-body').textContent.length > n; }",
        arg=length,
        timeout=WAIT_MS,
    )


def handbook_pdf(path: Path) -> Path:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, "Operations handbook\n\nEvery crew signs the logbook at the gate.")
    pdf.add_page()
    pdf.multi_cell(0, 8, f"Launch procedures\n\n{CANARY}")
    pdf.output(str(path))
    return path


@pytest.fixture
def people(deployment: Deployment) -> tuple[Member, Member]:
    return new_member(deployment), new_member(deployment)


def test_a_member_chats_stops_uploads_and_follows_a_citation(
    browser: Browser, deployment: Deployment, people: tuple[Member, Member], tmp_path: Path
) -> None:
    base = deployment.instance.base_url
    alice, charlie = people
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, base, alice.email)
    open_chat(page, base, alice)

    # A new conversation: the answer is drawn while it streams, not at the end.
    page.get_by_role("button", name="New chat").click()
    expect(page.get_by_label("Message", exact=True)).to_be_focused()
    ask(page, "Tell me about the crew rota [sim:slow=120] [sim:tokens=40]")
    first = wait_for_text(page)
    wait_until_longer_than(page, len(first))
    expect(last_answer(page)).to_have_class(re.compile("is-streaming"))
    screenshot(page, "chat-streaming")
    expect(last_answer(page).locator(".usage")).to_contain_text("tokens", timeout=WAIT_MS)
    expect(last_answer(page)).not_to_have_class(re.compile("is-streaming"))
    assert len(answer_text(page)) > len(first)
    expect(page.locator("#conversations a[aria-current=page]")).to_contain_text("crew rota")
    conversation_url = page.url
    assert "/chat/" in conversation_url

    # Stop: the answer stops growing and is kept, marked stopped.
    ask(page, "Now a long story [sim:slow=150] [sim:tokens=60]")
    wait_for_text(page)
    page.get_by_role("button", name="Stop").click()
    expect(last_answer(page).locator(".status-stopped")).to_be_visible()
    stopped_text = answer_text(page)
    page.wait_for_timeout(1000)  # several chunk intervals: nothing more may arrive
    assert answer_text(page) == stopped_text
    # Its tokens and cost show once the gateway has drained the upstream and ledgered it.
    expect(last_answer(page).locator(".usage")).to_contain_text("tokens", timeout=WAIT_MS)
    assert answer_text(page) == stopped_text
    page.reload()
    expect(last_answer(page).locator(".status-stopped")).to_be_visible(timeout=WAIT_MS)
    assert answer_text(page).strip()
    assert stopped_text.strip().startswith(answer_text(page).strip()[:10])
    screenshot(page, "chat-stopped")

    # Upload a PDF and watch it go from queued/processing to ready.
    page.get_by_role("link", name="Documents", exact=True).click()
    page.get_by_label("Name", exact=True).fill("Handbook")
    page.get_by_role("button", name="Create collection").click()
    upload = page.get_by_label("Upload to Handbook")
    expect(upload).to_be_focused()
    upload.set_input_files(str(handbook_pdf(tmp_path / "handbook.pdf")))
    page.evaluate(WATCH_PROGRESS)
    page.get_by_role("button", name="Upload", exact=True).click()
    row = page.locator("tr.document", has_text="handbook.pdf")
    expect(row).to_be_visible()
    screenshot(page, "documents-progress")
    expect(row.locator(".badge.ok")).to_have_text("ready", timeout=60_000)
    progress = page.evaluate("() => window.__progress")
    assert progress, "the upload was never shown in progress"
    assert progress == sorted(progress) and all(0 <= p <= 100 for p in progress)
    screenshot(page, "documents-ready")

    # A broken file fails with its reason shown beside it.
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7 this is not really a PDF")
    page.get_by_label("Upload to Handbook").set_input_files(str(broken))
    page.get_by_role("button", name="Upload", exact=True).click()
    failed = page.locator("tr.document", has_text="broken.pdf")
    expect(failed.locator(".badge.bad")).to_have_text("failed", timeout=60_000)
    expect(failed.locator(".document-error")).not_to_be_empty()
    screenshot(page, "documents-failed")

    # Ask about it with the collection selected; the citation opens the passage.
    open_chat(page, base, alice)
    page.get_by_label("Handbook").check()
    ask(page, "What is the Nimbus launch code? [sim:cite]")
    citation = last_answer(page).locator("a.citation").first
    expect(citation).to_be_visible(timeout=WAIT_MS)
    expect(citation).to_contain_text("[1] handbook.pdf")
    screenshot(page, "chat-citations")
    citations = last_answer(page).locator("a.citation")
    hrefs = [citations.nth(i).get_attribute("href") or "" for i in range(citations.count())]
    canary_link = None
    for href in hrefs:
        passage = page.context.request.get(base + href)
        assert passage.status == 200
        if "PELICAN-SEVEN" in passage.text():
            canary_link = href
    assert canary_link, f"no citation points at the launch-code passage: {hrefs}"
    page.locator(f'a.citation[href="{canary_link}"]').first.click()
    expect(page.locator(".passage-text")).to_contain_text("PELICAN-SEVEN")
    expect(page.get_by_role("heading", level=1)).to_have_text("handbook.pdf")
    screenshot(page, "documents-passage")
    # The way back leads to the conversation the citation was opened from.
    asked_in = page.url.split("?conversation=")[1]
    page.get_by_role("link", name="Back to the conversation").click()
    page.wait_for_url(f"**/chat/{asked_in}")
    expect(last_answer(page).locator("a.citation").first).to_be_visible(timeout=WAIT_MS)
    canary_link = canary_link.split("?")[0]
    document_id = canary_link.split("/documents/")[1].split("/")[0]
    chunk_id = canary_link.rsplit("/", 1)[1]

    # Someone from another org: the same 404 as for something that does not exist.
    stranger = browser.new_context().new_page()
    sign_in(stranger, base, charlie.email)
    for url in (
        f"{base}{canary_link}",
        f"{base}/orgs/{charlie.org_id}/documents/{document_id}/passages/{chunk_id}",
    ):
        response = stranger.goto(url)
        assert response is not None and response.status == 404, url
        assert "PELICAN" not in stranger.content()
    for url in (
        f"{base}/api/orgs/{alice.org_id}/documents/{document_id}",
        f"{base}/api/orgs/{charlie.org_id}/documents/{document_id}",
    ):
        answer = stranger.context.request.get(url)
        assert answer.status == 404, url
        assert "handbook" not in answer.text()
    stranger.context.close()
    page.context.close()


class Listener:
    """A loopback HTTP server that remembers every request it gets."""

    def __init__(self) -> None:
        hits: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/gif")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self.hits = hits
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Listener:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    with Listener() as running:
        yield running


def test_hostile_model_output_runs_no_script_and_loads_nothing(
    browser: Browser, deployment: Deployment, people: tuple[Member, Member], listener: Listener
) -> None:
    base = deployment.instance.base_url
    alice, _ = people
    page = browser.new_context().new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, base, alice.email)
    open_chat(page, base, alice)
    loopback = f"http://127.0.0.1:{listener.port}"
    hostile = (
        "[sim:echo] Here you go: <script>window.__pwned = 1; alert('script')</script>\n\n"
        f'<img src="{loopback}/img" onerror="window.__pwned = 2; alert(\'img\')">\n\n'
        f"![chart]({loopback}/markdown-image)\n\n"
        "[click me](javascript:window.__pwned=3;alert('link'))\n\n"
        f'<a href="javascript:alert(4)">raw link</a> <svg onload="window.__pwned = 5"></svg>\n\n'
        f'<iframe src="{loopback}/frame"></iframe> <style>body {{ display: none }}</style>'
    )
    ask(page, hostile)
    answer = last_answer(page)
    expect(answer.locator(".usage")).to_contain_text("tokens", timeout=WAIT_MS)
    expect(answer.locator(".message-body")).to_contain_text("Here you go")
    for link in answer.locator(".message-body a").all():
        click_target = link.get_attribute("href") or ""
        assert not click_target.lower().startswith("javascript:"), click_target
        if click_target == "" or click_target.startswith("#"):
            link.click()
    body = answer.locator(".message-body")
    assert body.locator("script, iframe, svg, style, [onerror], [onload]").count() == 0
    for image in answer.locator(".message-body img").all():
        assert not (image.get_attribute("src") or "").startswith("http"), image.get_attribute("src")
    screenshot(page, "chat-hostile-output")
    page.reload()
    expect(last_answer(page).locator(".message-body")).to_contain_text("Here you go")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("body").is_visible()
    assert dialogs == []
    assert listener.hits == []
    page.context.close()


def test_failures_are_told_in_plain_words(
    browser: Browser, deployment: Deployment, people: tuple[Member, Member]
) -> None:
    base = deployment.instance.base_url
    alice, _ = people
    page = browser.new_context().new_page()
    sign_in(page, base, alice.email)
    open_chat(page, base, alice)
    alert = page.get_by_role("alert")

    ask(page, "Are you busy? [sim:429=7]")
    expect(alert).to_contain_text("rate limit", timeout=WAIT_MS)
    expect(alert).to_contain_text("7 seconds")
    screenshot(page, "chat-rate-limited")

    ask(page, "And now? [sim:401]")
    expect(alert).to_contain_text("key was rejected or revoked", timeout=WAIT_MS)
    expect(alert).to_contain_text("Ask an admin")
    page.context.close()


def test_regenerate_edit_rename_search_and_delete(
    browser: Browser, deployment: Deployment, people: tuple[Member, Member]
) -> None:
    base = deployment.instance.base_url
    alice, _ = people
    page = browser.new_context().new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, base, alice.email)
    open_chat(page, base, alice)

    ask(page, "Name a colour [sim:echo] blue")
    expect(last_answer(page).locator(".message-body")).to_have_text("Name a colour  blue")
    page.get_by_role("button", name="Regenerate the last answer").click()
    expect(last_answer(page).locator(".usage")).to_contain_text("tokens", timeout=WAIT_MS)
    expect(page.locator("article.message")).to_have_count(2)

    page.get_by_role("button", name="Edit and resend your last message").click()
    prompt = page.get_by_label("Message", exact=True)
    expect(prompt).to_be_focused()
    expect(prompt).to_have_value("Name a colour [sim:echo] blue")
    prompt.fill("Name a fruit [sim:echo] pear")
    prompt.press("Enter")
    expect(last_answer(page).locator(".message-body")).to_have_text(
        "Name a fruit  pear", timeout=WAIT_MS
    )
    expect(page.locator("article.message")).to_have_count(2)
    page.reload()
    expect(page.locator("article.message-user .message-body")).to_have_text(
        "Name a fruit [sim:echo] pear"
    )
    expect(page.locator("article.message")).to_have_count(2)

    page.get_by_role("button", name="New chat").click()
    ask(page, "A second conversation")
    expect(last_answer(page).locator(".usage")).to_contain_text("tokens", timeout=WAIT_MS)
    conversations = page.locator("#conversations li")
    expect(conversations).to_have_count(2)

    page.get_by_role("button", name="Rename “A second conversation”").click()
    title = page.get_by_label("New title for “A second conversation”")
    expect(title).to_be_focused()
    title.fill("Quarterly planning")
    title.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Quarterly planning")
    page.get_by_label("Search by title").fill("quarterly")
    expect(conversations).to_have_count(1)
    expect(conversations.first).to_contain_text("Quarterly planning")

    page.get_by_role("button", name="Delete “Quarterly planning”").click()
    expect(conversations).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_text("New chat")
    page.get_by_label("Search by title").fill("")
    expect(conversations).to_have_count(1)
    expect(conversations.first).to_contain_text("Name a colour")
    page.context.close()
