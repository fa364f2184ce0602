"""PDF to sections with pypdf: one section per page, headed by the outline.

A PDF has no paragraphs or headings in its text, only positioned glyphs, so
each page becomes its own section: every chunk then knows the page a citation
opens at. When the PDF has an outline (bookmarks), its entries name the pages
they point at, which gives chunks a heading path as a Word or Markdown file
would.

Uploads are hostile until proven otherwise: any exception pypdf raises on a
damaged file becomes ``document_unreadable``, never a server error. pypdf
caps how far one stream may decompress; the section builder caps the text.
"""

from __future__ import annotations

import io
import logging

from pypdf import PasswordType, PdfReader
from pypdf.generic import Destination

from chatgrid.documents.extract_model import (
    ExtractedDocument,
    ExtractionFailed,
    SectionBuilder,
    collapse_spaces,
    title_from_filename,
    unreadable,
)

logger = logging.getLogger(__name__)

_MAX_OUTLINE_ENTRIES = 5_000


def extract_pdf(data: bytes, *, filename: str, max_bytes: int, max_pages: int) -> ExtractedDocument:
    reader = open_pdf(data)
    pages = _page_count(reader)
    if pages > max_pages:
        raise too_many_pages(pages, max_pages)
    outline = _outline_by_page(reader)
    builder = SectionBuilder(max_bytes=max_bytes)
    try:
        for index, page in enumerate(reader.pages):
            builder.set_page(index + 1)
            for level, title in outline.get(index, []):
                builder.heading(level, title)
            builder.block(page.extract_text())
    except ExtractionFailed:
        raise
    except Exception as exc:  # any pypdf failure on a hostile file is the file's fault
        raise unreadable("PDF") from exc
    title = _metadata_title(reader) or builder.first_heading or title_from_filename(filename)
    return ExtractedDocument(title=title, sections=builder.build(), pages=pages)


def count_pdf_pages(data: bytes) -> int:
    """Pages of a PDF without extracting its text, to refuse an over-long one early."""
    return _page_count(open_pdf(data))


def open_pdf(data: bytes) -> PdfReader:
    """A reader ready to give text, or the error the member should see.

    A PDF encrypted with an empty user password (restrictions only, as many
    exported PDFs are) opens; one that needs a password to open is refused.
    """
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
    except Exception as exc:
        raise unreadable("PDF") from exc
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
        except Exception as exc:  # unknown cipher or broken encryption dictionary
            raise _encrypted() from exc
        if not opened:
            raise _encrypted()
    return reader


def too_many_pages(pages: int, max_pages: int) -> ExtractionFailed:
    return ExtractionFailed(
        f"This PDF has {pages:,} pages; the limit is {max_pages:,}. Split it and upload the parts.",
        code="document_too_many_pages",
        status=413,
    )


def _encrypted() -> ExtractionFailed:
    return ExtractionFailed(
        "This PDF is password-protected. Save a copy without the password and upload that.",
        code="document_encrypted",
    )


def _page_count(reader: PdfReader) -> int:
    try:
        return len(reader.pages)
    except Exception as exc:
        raise unreadable("PDF") from exc


def _metadata_title(reader: PdfReader) -> str | None:
    try:
        metadata = reader.metadata
        raw = metadata.title if metadata is not None else None
    except Exception:  # a broken Info dictionary only costs the title
        logger.info("pdf metadata unreadable; using another title")
        return None
    title = collapse_spaces(str(raw))[:200] if raw else ""
    return title or None


def _outline_by_page(reader: PdfReader) -> dict[int, list[tuple[int, str]]]:
    """Outline entries by the 0-based page they point at, in outline order.

    The outline is optional decoration: a broken one costs the headings, not
    the document, so its failures are logged and the text still comes out.
    """
    by_page: dict[int, list[tuple[int, str]]] = {}
    try:
        entries: list[tuple[int, int, str]] = []
        _flatten_outline(reader, reader.outline, 1, entries)
    except Exception:
        logger.info("pdf outline unreadable; extracting without headings")
        return {}
    for page, level, title in entries:
        by_page.setdefault(page, []).append((level, title))
    return by_page


def _flatten_outline(
    reader: PdfReader, items: object, level: int, out: list[tuple[int, int, str]]
) -> None:
    if not isinstance(items, list):
        return
    for item in items:
        if len(out) >= _MAX_OUTLINE_ENTRIES:
            return
        if isinstance(item, list):
            _flatten_outline(reader, item, level + 1, out)
        elif isinstance(item, Destination):
            page = reader.get_destination_page_number(item)
            title = collapse_spaces(str(item.title or ""))
            if page is not None and page >= 0 and title:
                out.append((page, level, title))
