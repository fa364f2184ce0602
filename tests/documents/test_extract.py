"""Extraction turns each supported upload into titled sections, and every bad
upload into an ExtractionFailed a member can read, never a server error."""

from __future__ import annotations

import codecs
import io
import socket
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatgrid.documents.extract import (
    ExtractedDocument,
    ExtractionFailed,
    Section,
    count_pages,
    extract,
    sniff_type,
)
from chatgrid.errors import ChatGridError, InvalidRequest
from tests.support.documents import encrypt_pdf, make_docx, make_pdf, make_zip_bomb_docx

MB = 1_000_000


def _extract(
    filename: str,
    data: bytes,
    *,
    content_type: str | None = None,
    max_pages: int = 50,
    max_bytes: int = MB,
) -> ExtractedDocument:
    return extract(filename, content_type, data, max_bytes=max_bytes, max_pages=max_pages)


def _failure(filename: str, data: bytes, **kwargs: int) -> ExtractionFailed:
    with pytest.raises(ExtractionFailed) as caught:
        extract(
            filename,
            None,
            data,
            max_bytes=kwargs.get("max_bytes", MB),
            max_pages=kwargs.get("max_pages", 50),
        )
    return caught.value


HANDBOOK_PDF = make_pdf(
    [
        "Welcome to the handbook. Read it before your first day.",
        "Refunds are paid within 30 days of a written request.",
        "Invoices are sent on the first working day of each month.",
    ],
    title="Employee Handbook",
    outline={0: [(1, "Welcome")], 1: [(1, "Money"), (2, "Refunds")], 2: [(2, "Invoices")]},
)


# --- PDF ---------------------------------------------------------------------------------


def test_pdf_sections_keep_their_page_and_outline_heading() -> None:
    document = _extract("handbook.pdf", HANDBOOK_PDF)

    assert document.title == "Employee Handbook"
    assert document.pages == 3
    assert [(s.heading, s.page) for s in document.sections] == [
        ("Welcome", 1),
        ("Money > Refunds", 2),
        ("Money > Invoices", 3),
    ]
    assert "within 30 days" in document.sections[1].text
    assert document.characters == sum(len(s.text) for s in document.sections)


def test_pdf_without_metadata_or_outline_is_titled_by_its_file_name() -> None:
    document = _extract("C:\\Users\\ann\\Q3 report.pdf", make_pdf(["Revenue grew."]))

    assert document.title == "Q3 report"
    assert document.sections == [Section(heading=None, text="Revenue grew.", page=1)]


def test_password_protected_pdf_is_refused_as_encrypted() -> None:
    failure = _failure("secret.pdf", encrypt_pdf(HANDBOOK_PDF, user_password="hunter2"))

    assert failure.code == "document_encrypted"
    assert failure.status == 400
    assert "password" in failure.message
    assert "hunter2" not in failure.message


def test_pdf_encrypted_only_against_editing_still_opens() -> None:
    restricted = encrypt_pdf(HANDBOOK_PDF, user_password="", owner_password="owner-only")

    document = _extract("restricted.pdf", restricted)

    assert document.pages == 3
    assert "within 30 days" in document.sections[1].text


def test_pdf_over_the_page_limit_is_refused_before_extraction() -> None:
    failure = _failure("handbook.pdf", HANDBOOK_PDF, max_pages=2)

    assert failure.code == "document_too_many_pages"
    assert failure.status == 413
    assert "3 pages" in failure.message
    assert count_pages("handbook.pdf", "application/pdf", HANDBOOK_PDF) == 3


def test_count_pages_is_none_for_formats_without_pages() -> None:
    assert count_pages("notes.md", None, b"# Notes\n\nhello") is None


@pytest.mark.parametrize(
    "data",
    [
        HANDBOOK_PDF[: len(HANDBOOK_PDF) // 3],
        b"%PDF-1.7\n" + b"\x00garbage\xff" * 50,
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>",
    ],
    ids=["truncated", "garbage", "dangling-references"],
)
def test_broken_pdf_is_unreadable(data: bytes) -> None:
    failure = _failure("broken.pdf", data)

    assert failure.code in {"document_unreadable", "document_empty"}
    assert failure.status == 400


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_damaged_pdf_bytes_never_escape_as_another_exception(data: st.DataObject) -> None:
    damaged = bytearray(HANDBOOK_PDF)
    for _ in range(data.draw(st.integers(1, 20))):
        position = data.draw(st.integers(0, len(damaged) - 1))
        damaged[position] = data.draw(st.integers(0, 255))
    outcome: ExtractedDocument | ExtractionFailed
    try:
        outcome = _extract("damaged.pdf", bytes(damaged))
    except ExtractionFailed as failure:
        outcome = failure
    if isinstance(outcome, ExtractionFailed):
        assert outcome.status in {400, 413}
    else:
        assert outcome.pages is not None


def test_pdf_text_that_inflates_past_the_limit_is_too_large() -> None:
    pdf = make_pdf(["All work and no play makes a dull report. " * 60] * 4)
    text_bytes = len("All work and no play makes a dull report. " * 60) * 4
    assert len(pdf) < text_bytes  # the file itself is under the limit set below

    failure = _failure("dull.pdf", pdf, max_bytes=len(pdf) + 10)

    assert failure.code == "document_too_large"
    assert failure.status == 413


# --- DOCX --------------------------------------------------------------------------------


def test_docx_headings_paragraphs_and_tables_become_sections() -> None:
    data = make_docx(
        [
            ("heading", (1, "Install")),
            ("paragraph", "Run the installer as an administrator."),
            ("heading", (2, "Linux")),
            ("paragraph", "Use the package manager."),
            ("table", [["Plan", "Price"], ["Team", "$5 per seat"]]),
            ("heading", (1, "Support")),
            ("paragraph", "Write to the help desk."),
        ],
        title="Admin Guide",
    )

    document = _extract("guide.docx", data)

    assert document.title == "Admin Guide"
    assert document.pages is None
    assert document.sections == [
        Section("Install", "Run the installer as an administrator.", None),
        Section(
            "Install > Linux", "Use the package manager.\n\nPlan | Price\nTeam | $5 per seat", None
        ),
        Section("Support", "Write to the help desk.", None),
    ]


def test_docx_without_core_title_is_titled_by_its_title_paragraph() -> None:
    data = make_docx([("title", "Travel Policy"), ("paragraph", "Book economy.")])

    assert _extract("policy.docx", data).title == "Travel Policy"


def test_docx_that_inflates_past_the_limit_is_too_large() -> None:
    bomb = make_zip_bomb_docx(inflated_bytes=50 * MB)
    assert len(bomb) < 100_000

    failure = _failure("bomb.docx", bomb, max_bytes=MB)

    assert failure.code == "document_too_large"
    assert failure.status == 413


def test_docx_with_broken_xml_is_unreadable() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types")
        archive.writestr("word/document.xml", "<w:document><unclosed>")

    assert _failure("broken.docx", out.getvalue()).code == "document_unreadable"


# --- Markdown, HTML, text ----------------------------------------------------------------


MARKDOWN = b"""---
title: Runbook
owner: ops
---
# Deploys

Deploy from the main branch only.

## Rollback

```sh
git revert HEAD

make deploy
```

| step | who |
|------|-----|
| page | on-call |
"""


def test_markdown_headings_make_the_path_and_code_blocks_stay_whole() -> None:
    document = _extract("runbook.md", MARKDOWN)

    assert document.title == "Runbook"
    assert [s.heading for s in document.sections] == ["Deploys", "Deploys > Rollback"]
    rollback = document.sections[1].text
    assert "```sh\ngit revert HEAD\n\nmake deploy\n```" in rollback
    assert "| page | on-call |" in rollback
    assert "owner: ops" not in "".join(s.text for s in document.sections)


def test_markdown_without_front_matter_is_titled_by_its_first_heading() -> None:
    document = _extract("x.md", b"Intro line.\n\n# Release notes\n\nFixed *everything*.\n")

    assert document.title == "Release notes"
    assert document.sections[0] == Section(None, "Intro line.", None)


def test_a_heading_with_nothing_under_it_keeps_its_words() -> None:
    document = _extract("outline.md", b"# Plan\n## Goals\n## Risks\nFew.\n# Appendix\n")

    assert document.sections == [
        Section("Plan > Goals", "Goals", None),
        Section("Plan > Risks", "Few.", None),
        Section("Appendix", "Appendix", None),
    ]


HOSTILE_HTML = """<!doctype html><html><head><title>Pricing</title>
<link rel="stylesheet" href="http://127.0.0.1:{port}/style.css">
<style>body {{ background: url(http://127.0.0.1:{port}/bg.png) }}</style>
<script>fetch("http://127.0.0.1:{port}/steal")</script></head>
<body><nav>Home | About</nav>
<h1>Plans</h1><p>The <b>Team</b> plan costs $5<br>per seat.</p>
<img src="http://127.0.0.1:{port}/pixel.gif">
<iframe src="http://127.0.0.1:{port}/frame"></iframe>
<h2>Limits</h2><div>Fair use applies.<p>Nested paragraph.</p></div>
<pre>line one

line three</pre>
<table><tr><th>Plan</th><th>Seats</th></tr><tr><td>Team</td><td>50</td></tr></table>
<!-- a comment --></body></html>"""


def test_html_keeps_headings_and_text_and_drops_scripts_styles_and_navigation() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]

        document = _extract("pricing.html", HOSTILE_HTML.format(port=port).encode())

        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing connected: extraction fetched nothing

    assert document.title == "Pricing"
    assert document.sections == [
        Section("Plans", "The Team plan costs $5\nper seat.", None),
        Section(
            "Plans > Limits",
            "Fair use applies.\n\nNested paragraph.\n\n```\nline one\n\nline three\n```"
            "\n\nPlan | Seats\nTeam | 50",
            None,
        ),
    ]
    everything = "".join(s.text for s in document.sections)
    for dropped in ("fetch", "background", "Home | About", "a comment"):
        assert dropped not in everything


def test_plain_text_in_utf8_utf16_and_a_legacy_code_page() -> None:
    text = "Café menu: crème brûlée.\n\nOpen daily."
    for encoded in (
        text.encode("utf-8"),
        codecs.BOM_UTF8 + text.encode("utf-8"),
        text.encode("utf-16"),
        text.encode("cp1252"),
    ):
        document = _extract("menu.txt", encoded)
        assert document.sections == [Section(None, text, None)]
        assert document.title == "menu"


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
        bytes(range(256)) * 4,
        b"\x7fELF\x02\x01\x01" + b"\x00" * 100,
    ],
    ids=["png", "binary", "elf"],
)
def test_binary_files_are_unsupported_even_when_named_as_text(data: bytes) -> None:
    failure = _failure("notes.txt", data)

    assert failure.code == "unsupported_document_type"
    assert failure.status == 400


def test_empty_document_is_refused_with_a_clear_reason() -> None:
    failure = _failure("blank.txt", b"  \n\n ")

    assert failure.code == "document_empty"
    assert _failure("blank.pdf", make_pdf([" "])).code == "document_empty"


def test_file_over_the_byte_limit_is_too_large() -> None:
    failure = _failure("big.txt", b"word " * 1000, max_bytes=4999)

    assert failure.code == "document_too_large"
    assert failure.status == 413
    assert isinstance(failure, InvalidRequest)
    assert isinstance(failure, ChatGridError)
    assert failure.to_dict()["error"] == {
        "message": failure.message,
        "type": "invalid_request_error",
        "param": None,
        "code": "document_too_large",
    }


# --- sniffing ----------------------------------------------------------------------------


def test_type_is_read_from_the_bytes_before_the_name() -> None:
    docx_bytes = make_docx([("paragraph", "hi")])

    assert sniff_type("report.txt", "text/plain", HANDBOOK_PDF) == "pdf"
    assert sniff_type("upload", None, docx_bytes) == "docx"
    assert sniff_type("notes.md", None, b"# hi") == "markdown"
    assert sniff_type("page.htm", None, b"<p>hi</p>") == "html"
    assert sniff_type("readme.txt", None, b"<html>not parsed</html>") == "text"
    assert sniff_type("upload", "text/markdown; charset=utf-8", b"# hi") == "markdown"
    assert sniff_type("upload", None, b"  <!DOCTYPE html><p>x</p>") == "html"
    assert sniff_type("script.py", None, b"print('hi')\n") == "text"


def test_a_file_named_pdf_that_is_not_one_is_unreadable() -> None:
    with pytest.raises(ExtractionFailed) as caught:
        sniff_type("report.pdf", "application/pdf", b"just some text")

    assert caught.value.code == "document_unreadable"


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("sheet.xlsx", b"PK\x03\x04" + b"\x00" * 30),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64),
        ("letter.rtf", b"{\\rtf1\\ansi hello}"),
    ],
)
def test_other_office_and_archive_formats_are_unsupported(filename: str, data: bytes) -> None:
    with pytest.raises(ExtractionFailed) as caught:
        sniff_type(filename, None, data)

    assert caught.value.code == "unsupported_document_type"
    assert "PDF, DOCX, Markdown, text or HTML" in caught.value.message


HANDBOOK_DOCX = make_docx(
    [("heading", (1, "Leave")), ("paragraph", "Twenty days a year."), ("table", [["a", "b"]])]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_damaged_word_files_never_escape_as_another_exception(data: st.DataObject) -> None:
    damaged = bytearray(HANDBOOK_DOCX)
    for _ in range(data.draw(st.integers(1, 10))):
        position = data.draw(st.integers(0, len(damaged) - 1))
        damaged[position] = data.draw(st.integers(0, 255))
    _assert_extracts_or_fails_cleanly("damaged.docx", bytes(damaged))


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["a.pdf", "a.docx", "a.md", "a.html", "a.txt", "upload", "a.bin"]),
    st.binary(max_size=3000),
)
def test_arbitrary_bytes_under_any_name_extract_or_fail_cleanly(filename: str, data: bytes) -> None:
    _assert_extracts_or_fails_cleanly(filename, data)


def _assert_extracts_or_fails_cleanly(filename: str, data: bytes) -> None:
    outcome: ExtractedDocument | ExtractionFailed
    try:
        outcome = _extract(filename, data)
    except ExtractionFailed as failure:
        outcome = failure
    if isinstance(outcome, ExtractionFailed):
        assert outcome.status in {400, 413}
        assert outcome.code is not None
        assert outcome.code.startswith(("document_", "unsupported_"))
    else:
        assert outcome.sections
        assert all(section.text.strip() for section in outcome.sections)
