"""Extraction in a child process: results, clear errors, and a deadline that holds."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from chatgrid.documents.extract import ExtractionFailed
from chatgrid.documents.sandbox import ExtractionSandbox, SandboxClosed
from tests.support.documents import encrypt_pdf, make_pdf
from tests.support.hostile_corpus import MiB, huge_text

LIMITS = {"max_bytes": 10_000_000, "max_pages": 50}
BIG = {"max_bytes": 20 * MiB, "max_pages": 50}


@pytest.fixture
def sandbox() -> Iterator[ExtractionSandbox]:
    box = ExtractionSandbox(deadline_seconds=60)
    yield box
    box.close()


def test_a_document_comes_back_as_pages_and_chunks(sandbox: ExtractionSandbox) -> None:
    pdf = make_pdf(["Expense reports are due on the fifth.", "Flights go through the desk."])
    pages, drafts = asyncio.run(sandbox.run("h.pdf", "application/pdf", pdf, **LIMITS))
    assert pages == 2
    assert [d.page for d in drafts] == [1, 2]
    assert "Expense reports" in drafts[0].text


def test_errors_keep_their_code_across_the_process_boundary(sandbox: ExtractionSandbox) -> None:
    locked = encrypt_pdf(make_pdf(["secret"]), user_password="pw")
    with pytest.raises(ExtractionFailed) as caught:
        asyncio.run(sandbox.run("x.pdf", "application/pdf", locked, **LIMITS))
    assert caught.value.code == "document_encrypted"
    assert caught.value.status == 400
    # The child survives an ordinary failure and serves the next document.
    pages, _ = asyncio.run(sandbox.run("a.txt", "text/plain", b"plain words", **LIMITS))
    assert pages is None


def test_a_document_past_the_deadline_fails_and_the_next_one_gets_a_fresh_child() -> None:
    slow = ExtractionSandbox(deadline_seconds=0.05)
    try:
        # 20 MiB of text: about a second of reading, far past the deadline.
        with pytest.raises(ExtractionFailed) as caught:
            asyncio.run(slow.run("big.txt", "text/plain", huge_text(20 * MiB), **BIG))
        assert caught.value.code == "document_too_slow"
        slow.deadline_seconds = 60
        _, drafts = asyncio.run(slow.run("ok.md", "text/markdown", b"# T\n\nfine", **LIMITS))
        assert drafts and "fine" in drafts[0].text
    finally:
        slow.close()


def test_closing_abandons_a_document_being_read_without_waiting_out_its_deadline() -> None:
    box = ExtractionSandbox(deadline_seconds=600)
    text = huge_text(20 * MiB)
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            asyncio.run(box.run("big.txt", "text/plain", text, **BIG))
        except BaseException as error:  # what the reader saw
            outcome.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    while box._child is None:  # the child has been asked
        time.sleep(0.01)
    box.close()
    reader.join(timeout=60)
    assert not reader.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], SandboxClosed)
