"""An uploaded file to titled sections of text: the first step of ingestion.

``extract`` is blocking and CPU-bound; ingestion calls it in a child process
with a deadline and a memory limit (``sandbox``), so a ``MemoryError`` passes
through untouched for the child to report as such.
It trusts nothing about the upload: the type is read from the bytes before
the name, every library failure becomes an ``ExtractionFailed`` with a
message a member can act on (never a server error), and both the file and
the text it inflates to are held to ``max_bytes``.

Formats live in their own modules (``extract_pdf``, ``extract_docx``,
``extract_markup`` for Markdown, ``extract_html``, ``extract_text``); this
one picks the format and holds the limits.
"""

from __future__ import annotations

from typing import Literal

from chatgrid.documents.extract_docx import extract_docx, is_docx
from chatgrid.documents.extract_html import extract_html
from chatgrid.documents.extract_markup import extract_markdown
from chatgrid.documents.extract_model import (
    ExtractedDocument,
    ExtractionFailed,
    Section,
    SectionBuilder,
    title_from_filename,
    too_large,
    unreadable,
    unsupported,
)
from chatgrid.documents.extract_pdf import count_pdf_pages, extract_pdf
from chatgrid.documents.extract_text import decode_text

__all__ = [
    "DocumentType",
    "ExtractedDocument",
    "ExtractionFailed",
    "Section",
    "count_pages",
    "extract",
    "sniff_type",
]

DocumentType = Literal["pdf", "docx", "markdown", "text", "html"]

_BINARY_MAGIC = (
    b"\xd0\xcf\x11\xe0",  # OLE: .doc, .xls, .ppt
    b"\x89PNG",
    b"\xff\xd8\xff",  # JPEG
    b"\x1f\x8b",  # gzip
    b"\xfd7zXZ",
    b"7z\xbc\xaf",
    b"\x7fELF",
    b"{\\rtf",  # RTF is text, but its markup would bury the words
)
_PDF_NAMES = frozenset({".pdf"})
_DOCX_NAMES = frozenset({".docx", ".docm", ".dotx"})
_MARKDOWN_NAMES = frozenset({".md", ".markdown", ".mdown", ".mkd", ".mkdn"})
_HTML_NAMES = frozenset({".html", ".htm", ".xhtml"})
_TEXT_NAMES = frozenset({".txt", ".text", ".log", ".csv", ".tsv", ".rst", ".adoc"})
_PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})
_DOCX_TYPES = frozenset({"application/vnd.openxmlformats-officedocument.wordprocessingml.document"})
_MARKDOWN_TYPES = frozenset({"text/markdown", "text/x-markdown"})
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_SNIFF_BYTES = 1024


def sniff_type(filename: str, content_type: str | None, data: bytes) -> DocumentType:
    """The document's format: magic bytes first, then the name, then the client's type.

    A browser's content type and a file's name are claims; the bytes are not.
    A ``.pdf`` that is not a PDF is a damaged PDF to the member, so it is
    called unreadable rather than unsupported.
    """
    head = data[:_SNIFF_BYTES]
    if b"%PDF-" in head:
        return "pdf"
    suffix = _suffix(filename)
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if head.startswith(b"PK\x03\x04"):
        # A damaged .docx is still the member's Word file: extraction says "unreadable".
        if suffix in _DOCX_NAMES or media in _DOCX_TYPES or is_docx(data):
            return "docx"
        raise unsupported("This archive is not a Word document.")
    if suffix in _PDF_NAMES or (not suffix and media in _PDF_TYPES):
        raise unreadable("PDF")
    if suffix in _DOCX_NAMES or (not suffix and media in _DOCX_TYPES):
        raise unreadable("Word")
    if head.startswith(_BINARY_MAGIC) or _has_nul(head):
        raise unsupported()
    if suffix in _MARKDOWN_NAMES:
        return "markdown"
    if suffix in _HTML_NAMES:
        return "html"
    if suffix in _TEXT_NAMES:
        return "text"
    if media in _MARKDOWN_TYPES:
        return "markdown"
    if media in _HTML_TYPES or _looks_like_html(head):
        return "html"
    return "text"


def extract(
    filename: str, content_type: str | None, data: bytes, *, max_bytes: int, max_pages: int
) -> ExtractedDocument:
    """The document's title, sections and page count, or the reason it has none."""
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    if not data.strip():
        raise _empty()
    try:
        kind = sniff_type(filename, content_type, data)
    except (ExtractionFailed, MemoryError):
        raise
    except Exception as exc:  # sniffing reads archives too; a hostile one is unsupported
        raise unsupported() from exc
    try:
        document = _extract_as(kind, filename, data, max_bytes=max_bytes, max_pages=max_pages)
    except (ExtractionFailed, MemoryError):  # running out of memory is the reader's limit
        raise
    except Exception as exc:  # last line of defence: a library bug is still the file's error
        raise unreadable(_KIND_NAMES[kind]) from exc
    if not document.sections:
        raise _empty()
    return document


def count_pages(filename: str, content_type: str | None, data: bytes) -> int | None:
    """A PDF's page count without extracting it (None for other formats).

    Lets the upload route refuse an over-long PDF before queueing ingestion.
    """
    if sniff_type(filename, content_type, data) != "pdf":
        return None
    return count_pdf_pages(data)


_KIND_NAMES: dict[DocumentType, str] = {
    "pdf": "PDF",
    "docx": "Word",
    "markdown": "Markdown",
    "text": "text",
    "html": "HTML",
}


def _extract_as(
    kind: DocumentType, filename: str, data: bytes, *, max_bytes: int, max_pages: int
) -> ExtractedDocument:
    if kind == "pdf":
        return extract_pdf(data, filename=filename, max_bytes=max_bytes, max_pages=max_pages)
    if kind == "docx":
        return extract_docx(data, filename=filename, max_bytes=max_bytes)
    if kind == "html":
        return extract_html(data, filename=filename, max_bytes=max_bytes)
    text = decode_text(data)
    if kind == "markdown":
        return extract_markdown(text, filename=filename, max_bytes=max_bytes)
    builder = SectionBuilder(max_bytes=max_bytes)
    builder.block(text)
    return ExtractedDocument(
        title=title_from_filename(filename), sections=builder.build(), pages=None
    )


def _suffix(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return "." + base.rsplit(".", 1)[1] if "." in base.lstrip(".") else ""


def _has_nul(head: bytes) -> bool:
    """NUL bytes mean binary, unless the text is UTF-16 (which its BOM announces)."""
    return b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff"))


def _looks_like_html(head: bytes) -> bool:
    start = head.lstrip()[:64].lower()
    return start.startswith((b"<!doctype html", b"<html"))


def _empty() -> ExtractionFailed:
    return ExtractionFailed(
        "No text was found in this document. A scanned PDF needs text recognition (OCR) first.",
        code="document_empty",
    )
