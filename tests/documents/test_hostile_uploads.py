"""Issue 9's hostile uploads, each ending failed with a reason or ready, in a bounded child.

Every file goes through the real extraction child with a 512 MiB memory
limit and a 30 s deadline. What is asserted is the outcome (ready, or failed
with the reason a member reads) and the child's own peak memory; the deadline
is there so that a parse that is slow again fails as ``document_too_slow``
instead of passing late. Sizes are chosen so that the parsers as they were
(quadratic on brackets, a tree as deep as the markup, a style scan per
paragraph, a 1200-fold inflation allowed) take minutes on them.
"""

from __future__ import annotations

import asyncio
import io
import random
import zipfile
from collections.abc import Callable, Iterator

import pytest

from chatgrid.documents.extract_model import ExtractionFailed
from chatgrid.documents.sandbox import ExtractionSandbox
from tests.support import hostile_corpus as corpus
from tests.support.documents import make_docx

MiB = 1024 * 1024
LIMIT = 512 * MiB

pytestmark = pytest.mark.child_processes


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ExtractionSandbox]:
    box = ExtractionSandbox(deadline_seconds=30, max_memory_bytes=LIMIT)
    yield box
    box.close()


def read(
    box: ExtractionSandbox, name: str, data: bytes, max_bytes: int = 20 * MiB
) -> int | ExtractionFailed:
    """The number of chunks, or the failure a member would read."""
    try:
        _, drafts = asyncio.run(box.run(name, None, data, max_bytes=max_bytes, max_pages=500))
    except ExtractionFailed as failure:
        return failure
    return len(drafts)


def wordy_docx(xml_bytes: int) -> bytes:
    """A Word file of varied prose: it compresses like real Word XML (about 3:1 here),
    so it passes the inflation check, yet python-docx needs ~10x its XML in memory."""
    rng = random.Random(9)
    words = [
        "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 9))) for _ in range(5000)
    ]
    template = zipfile.ZipFile(io.BytesIO(make_docx([("paragraph", "seed")])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member in template.infolist():
            if member.filename != "word/document.xml":
                archive.writestr(member.filename, template.read(member.filename))
                continue
            with archive.open(member.filename, "w") as body:
                body.write(corpus.BODY_OPEN)
                written = 0
                while written < xml_bytes:
                    text = " ".join(rng.choices(words, k=6000))
                    piece = "".join(
                        f"<w:p><w:r><w:t>{text[i : i + 20]}</w:t></w:r></w:p>"
                        for i in range(0, len(text), 20)
                    ).encode()
                    body.write(piece)
                    written += len(piece)
                body.write(corpus.BODY_CLOSE)
    return out.getvalue()


Expected = Callable[[int | ExtractionFailed], bool]


def ready(outcome: int | ExtractionFailed) -> bool:
    return isinstance(outcome, int) and outcome > 0


def failed(code: str, words: str) -> Expected:
    def check(outcome: int | ExtractionFailed) -> bool:
        return (
            isinstance(outcome, ExtractionFailed)
            and outcome.code == code
            and words in outcome.message
        )

    return check


CORPUS: list[tuple[str, Callable[[], bytes], Expected]] = [
    (
        "bomb.docx",  # ~0.5 MB inflating to 100 MB of paragraphs, as in the probe
        lambda: corpus.docx_bomb(100_000_000),
        failed("document_too_large", "unpacks to more than 40 times its own size"),
    ),
    (
        "lying-sizes.docx",  # the directory claims 4 KB; the data inflates to 20 MB
        lambda: corpus.docx_with_lying_sizes(20_000_000),
        failed("document_unreadable", "do not match its own index"),
    ),
    (
        "bzip2.docx",  # bzip2 inflates a whole read at once, past any declared size
        lambda: corpus.docx_bzip2_bomb(20_000_000),
        failed("document_unreadable", "compressed in a way Word never uses"),
    ),
    ("brackets.md", lambda: corpus.markdown_brackets(2_000_000), ready),
    ("quotes.md", lambda: corpus.markdown_deep_quotes(200_000), ready),
    ("lists.md", lambda: corpus.markdown_deep_lists(1_000), ready),
    ("nested.html", lambda: corpus.html_nested(6_000_000), ready),
    (
        "unclosed-tags.html",  # html.parser rescans to the end for every "<a"
        lambda: b"<html><body><p>Intro.</p>" + b"<a" * 750_000,
        ready,
    ),
    ("huge.txt", lambda: corpus.huge_text(20 * MiB), ready),
]


@pytest.mark.parametrize(("name", "build", "expected"), CORPUS, ids=[name for name, _, _ in CORPUS])
def test_a_hostile_upload_ends_ready_or_failed_with_a_reason_in_bounded_memory(
    sandbox: ExtractionSandbox, name: str, build: Callable[[], bytes], expected: Expected
) -> None:
    outcome = read(sandbox, name, build())

    assert expected(outcome), outcome
    assert sandbox.last_peak_memory_bytes is not None
    assert sandbox.last_peak_memory_bytes <= LIMIT


def test_a_document_that_needs_more_memory_than_the_limit_fails_and_its_child_is_replaced() -> None:
    box = ExtractionSandbox(deadline_seconds=60, max_memory_bytes=LIMIT)
    try:
        hungry = wordy_docx(40_000_000)
        # Within the inflation allowed, and an operator allows 64 MiB: memory decides.
        assert len(hungry) * 40 > 40_000_000

        outcome = read(box, "hungry.docx", hungry, max_bytes=64 * MiB)

        assert failed("document_too_large", "needs more memory to read")(outcome), outcome
        assert box.last_peak_memory_bytes is not None
        assert box.last_peak_memory_bytes <= LIMIT
        # Its memory is not kept: the next document is read by a fresh child.
        assert read(box, "next.md", b"# Next\n\nStill served.") == 1
        assert box.children_started == 2
    finally:
        box.close()


def test_a_child_whose_peak_memory_grew_large_is_recycled_after_answering() -> None:
    box = ExtractionSandbox(
        deadline_seconds=60, max_memory_bytes=LIMIT, recycle_after_bytes=128 * MiB
    )
    try:
        assert read(box, "small.md", b"# Small\n\nFine.") == 1
        assert box.children_started == 1
        assert box.last_peak_memory_bytes is not None
        assert box.last_peak_memory_bytes < 128 * MiB
        assert ready(read(box, "big.docx", wordy_docx(8_000_000)))
        assert box.last_peak_memory_bytes > 128 * MiB  # what makes it retire
        assert read(box, "after.md", b"# After\n\nFine.") == 1
        assert box.children_started == 2
    finally:
        box.close()
