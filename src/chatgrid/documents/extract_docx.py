"""DOCX to sections with python-docx: Heading styles make the path, tables become rows.

A DOCX is a ZIP of XML, so a small upload can inflate a thousandfold. The
archive's declared sizes are checked before python-docx reads any part
(``zipfile`` never inflates a member past its declared size), and the section
builder caps the text that comes out.
"""

from __future__ import annotations

import io
import re
import zipfile

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from chatgrid.documents.extract_model import (
    ExtractedDocument,
    ExtractionFailed,
    SectionBuilder,
    collapse_spaces,
    title_from_filename,
    too_large,
    unreadable,
)

_MAX_EXPANSION = 20
"""How far a DOCX may inflate: Word's XML compresses about tenfold, media not at all."""

_MAX_MEMBERS = 5_000
_HEADING_STYLE = re.compile(r"^heading\s*([1-9])$", re.IGNORECASE)


def extract_docx(data: bytes, *, filename: str, max_bytes: int) -> ExtractedDocument:
    _check_archive(data, max_bytes)
    builder = SectionBuilder(max_bytes=max_bytes)
    try:
        document = docx.Document(io.BytesIO(data))
        title = collapse_spaces(document.core_properties.title or "")[:200]
        title_paragraph: str | None = None
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                builder.block(_table_text(item))
                continue
            style = _style_names(item)
            level = _heading_level(style)
            if level is not None:
                builder.heading(level, item.text)
                continue
            if "title" in style and title_paragraph is None:
                title_paragraph = collapse_spaces(item.text)[:200] or None
            builder.block(item.text)
    except ExtractionFailed:
        raise
    except Exception as exc:  # any python-docx or lxml failure on a hostile file
        raise unreadable("Word") from exc
    title = title or title_paragraph or builder.first_heading or title_from_filename(filename)
    return ExtractedDocument(title=title, sections=builder.build(), pages=None)


def is_docx(data: bytes) -> bool:
    """A ZIP is a Word document when it holds the main document part."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except Exception:  # zipfile raises several types on hostile archives
        return False


def _check_archive(data: bytes, max_bytes: int) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except Exception as exc:  # BadZipFile, NotImplementedError, OSError, ...
        raise unreadable("Word") from exc
    if len(members) > _MAX_MEMBERS:
        raise unreadable("Word")
    if sum(member.file_size for member in members) > max_bytes * _MAX_EXPANSION:
        raise too_large(max_bytes)


def _style_names(paragraph: Paragraph) -> list[str]:
    """The style's name and id, lower-cased: Word stores "heading 1" or "Heading1"."""
    style = paragraph.style
    if style is None:
        return []
    return [name.lower() for name in (style.name, style.style_id) if name]


def _heading_level(style_names: list[str]) -> int | None:
    for name in style_names:
        match = _HEADING_STYLE.match(name)
        if match:
            return int(match.group(1))
    return None


def _table_text(table: Table) -> str:
    """One line per row, cells joined by " | ", so a row stays a unit of meaning.

    Merged cells repeat in python-docx's rows; a repeat next to itself is kept once.
    """
    lines: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = collapse_spaces(cell.text)
            if not cells or cells[-1] != text:
                cells.append(text)
        line = " | ".join(cells).strip(" |")
        if line:
            lines.append(line)
    return "\n".join(lines)
