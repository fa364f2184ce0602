"""DOCX to sections with python-docx: Heading styles make the path, tables become rows.

A DOCX is a ZIP of XML, so a small upload can inflate a thousandfold, and
python-docx holds every part as a tree (about twenty times the XML's size).
Before python-docx reads any part, the archive is held to what Word writes:

- only stored or deflated members (``zipfile`` inflates a whole bzip2 or
  LZMA read at once, before cutting it to the declared size);
- at most ``MAX_INFLATION`` times the upload's own size in all (with a floor
  for small files, whose shared style parts alone inflate twentyfold), read
  from the directory;
- the same again while every member is actually inflated, so a directory that
  lies about its sizes is caught by what the data turns out to be (a size or
  CRC that does not match), not trusted.

Styles are resolved once per document: python-docx looks a paragraph's style
up by scanning every style in the file, which made a body of many short
paragraphs quadratic (4 MB of XML took over a minute).
"""

from __future__ import annotations

import io
import re
import zipfile

import docx
from docx.document import Document as WordDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.table import Table
from docx.text.paragraph import Paragraph

from chatgrid.documents.extract_model import (
    ExtractedDocument,
    ExtractionFailed,
    SectionBuilder,
    collapse_spaces,
    title_from_filename,
    unreadable,
)

MAX_INFLATION = 40
"""How far a DOCX may inflate, in all, over its own size: Word's XML compresses
about tenfold, media not at all; a bomb of small paragraphs inflates 300-fold."""

INFLATION_FLOOR = 8 * 1024 * 1024
"""What any DOCX may inflate to: python-docx's own template inflates from 37 KB to 826 KB."""

_MAX_MEMBERS = 5_000
_READ_CHUNK = 1024 * 1024
_WORD_COMPRESSIONS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
_HEADING_STYLE = re.compile(r"^heading\s*([1-9])$", re.IGNORECASE)


def extract_docx(data: bytes, *, filename: str, max_bytes: int) -> ExtractedDocument:
    _check_archive(data, max_bytes)
    builder = SectionBuilder(max_bytes=max_bytes)
    try:
        document = docx.Document(io.BytesIO(data))
        title = collapse_spaces(document.core_properties.title or "")[:200]
        title_paragraph: str | None = None
        styles = _ParagraphStyles(document)
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                builder.block(_table_text(item))
                continue
            style = styles.names(item)
            level = _heading_level(style)
            if level is not None:
                builder.heading(level, item.text)
                continue
            if "title" in style and title_paragraph is None:
                title_paragraph = collapse_spaces(item.text)[:200] or None
            builder.block(item.text)
    except (ExtractionFailed, MemoryError):
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
    """Refuse an archive Word would not write, or one that inflates too far (see the module)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > _MAX_MEMBERS:
                raise unreadable("Word")
            if any(member.compress_type not in _WORD_COMPRESSIONS for member in members):
                raise _not_word("it is compressed in a way Word never uses")
            budget = max(len(data) * MAX_INFLATION, INFLATION_FLOOR)
            if sum(member.file_size for member in members) > budget:
                raise _inflates_too_far(max_bytes)
            _inflate_within(archive, members, budget, max_bytes)
    except ExtractionFailed:
        raise
    except Exception as exc:  # BadZipFile (a size or CRC that lies), NotImplementedError, ...
        raise _not_word("its contents do not match its own index") from exc


def _inflate_within(
    archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], budget: int, max_bytes: int
) -> None:
    """Inflate every member, counting: the directory's sizes are the file's claim, not a fact."""
    inflated = 0
    for member in members:
        seen = 0
        with archive.open(member) as stream:
            while piece := stream.read(_READ_CHUNK):
                seen += len(piece)
                inflated += len(piece)
                if seen > member.file_size:
                    raise _not_word("its contents do not match its own index")
                if inflated > budget:
                    raise _inflates_too_far(max_bytes)


def _inflates_too_far(max_bytes: int) -> ExtractionFailed:
    return ExtractionFailed(
        f"This Word file unpacks to more than {MAX_INFLATION} times its own size, "
        "far more than Word writes; it cannot be read safely. "
        f"Save it again from Word, or upload its text (up to {max_bytes:,} bytes).",
        code="document_too_large",
        status=413,
    )


def _not_word(reason: str) -> ExtractionFailed:
    return ExtractionFailed(
        f"This Word file cannot be read: {reason}. Save it again from Word and upload that.",
        code="document_unreadable",
    )


class _ParagraphStyles:
    """A paragraph's style name and id, lower-cased, looked up in a table built once.

    Word stores "heading 1" or "Heading1"; a paragraph with no style, or one
    that names a style the file lacks, has the default paragraph style, as in
    python-docx.
    """

    def __init__(self, document: WordDocument) -> None:
        self._by_id: dict[str, list[str]] = {}
        for style in document.styles:
            if style.type == WD_STYLE_TYPE.PARAGRAPH and style.style_id:
                self._by_id[style.style_id] = _lower_names(style.name, style.style_id)
        default = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)
        self._default = _lower_names(default.name, default.style_id) if default else []

    def names(self, paragraph: Paragraph) -> list[str]:
        style_id = paragraph._p.style
        if style_id is None:
            return self._default
        return self._by_id.get(style_id, self._default)


def _lower_names(*names: str | None) -> list[str]:
    return [name.lower() for name in names if name]


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
