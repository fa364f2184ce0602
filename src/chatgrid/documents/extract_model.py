"""The values extraction produces, its one error type, and the shared section builder.

Kept apart from ``extract`` so each format module (PDF, DOCX, markup) can
import them without importing the dispatcher that imports the formats.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from chatgrid.errors import InvalidRequest

HEADING_SEPARATOR = " > "
"""Joins a heading path ("Guide > Install > Linux") so a passage keeps its context."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff\ud800-\udfff]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


class ExtractionFailed(InvalidRequest):
    """An upload that cannot become text; the message is shown to the member as is.

    Codes: ``unsupported_document_type``, ``document_unreadable``,
    ``document_encrypted`` (400) and ``document_too_large``,
    ``document_too_many_pages`` (413).
    """

    default_code = "document_unreadable"


def unsupported(detail: str = "") -> ExtractionFailed:
    message = "This file type is not supported. Upload PDF, DOCX, Markdown, text or HTML."
    if detail:
        message = f"{detail} {message}"
    return ExtractionFailed(message, code="unsupported_document_type")


def unreadable(kind: str) -> ExtractionFailed:
    return ExtractionFailed(
        f"This {kind} file could not be read; it may be damaged. Try saving it again.",
        code="document_unreadable",
    )


def too_large(max_bytes: int) -> ExtractionFailed:
    return ExtractionFailed(
        f"This document is too large: its file or its text is over {max_bytes:,} bytes.",
        code="document_too_large",
        status=413,
    )


@dataclass(frozen=True, slots=True)
class Section:
    """A run of text under one heading path, with the page it starts on (PDF) or None.

    Paragraphs inside ``text`` are separated by a blank line; chunking splits
    there first, so extractors keep a table or a code block free of blank lines
    (or fenced, for code) when it must stay in one piece.
    """

    heading: str | None
    text: str
    page: int | None


@dataclass(frozen=True, slots=True)
class ExtractedDocument:
    title: str
    sections: list[Section]
    pages: int | None

    @property
    def characters(self) -> int:
        """Length of the extracted text, for progress and for the ingestion benchmark."""
        return sum(len(section.text) for section in self.sections)


def clean_text(text: str) -> str:
    """Normalise what every format yields, so chunk boundaries and search see one form.

    NFC makes "é" one code point whichever editor wrote it; control characters
    (NUL above all, which PostgreSQL refuses in text) are dropped.
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    text = _BLANK_LINES.sub("\n\n", text).rstrip()
    # Leading spaces stay: they are the indentation of a code block's first line.
    return text.lstrip("\n") if text.strip() else ""


def collapse_spaces(text: str) -> str:
    """One line of running text: what a heading or a table cell becomes."""
    return _SPACES.sub(" ", text.replace("\n", " ")).strip()


def title_from_filename(filename: str) -> str:
    """The file's own name without folders or extension; never a path from the client."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    stem = base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base
    return collapse_spaces(stem)[:200] or "Untitled document"


class SectionBuilder:
    """Collects headings and blocks in reading order into sections.

    Headings form a path by level, so "Linux" under "Install" under "Guide"
    becomes the heading "Guide > Install > Linux". The builder also counts the
    UTF-8 bytes it keeps and stops a decompression bomb at ``max_bytes``.
    """

    def __init__(self, *, max_bytes: int, page: int | None = None) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._path: list[tuple[int, str]] = []
        self._blocks: list[str] = []
        self._page = page
        self._section_page = page
        self._bare_heading = False
        self.first_heading: str | None = None
        self.sections: list[Section] = []

    def heading(self, level: int, text: str) -> None:
        text = collapse_spaces(text)
        if not text:
            return
        self._flush()
        self._count(text)
        if self.first_heading is None:
            self.first_heading = text
        if self._bare_heading and self._path[-1][0] >= level:
            self._keep_bare_heading()
        while self._path and self._path[-1][0] >= level:
            self._path.pop()
        self._path.append((level, text))
        self._bare_heading = True

    def block(self, text: str) -> None:
        text = clean_text(text)
        if not text:
            return
        self._count(text)
        if not self._blocks:
            self._section_page = self._page
        self._blocks.append(text)
        self._bare_heading = False

    def set_page(self, page: int) -> None:
        """Start a new section at a page break, so every chunk knows its page."""
        self._flush()
        self._page = page

    def build(self) -> list[Section]:
        self._flush()
        if self._bare_heading:
            self._keep_bare_heading()
            self._bare_heading = False
        return self.sections

    def _keep_bare_heading(self) -> None:
        """A heading with nothing under it (an outline, a trailing title) is its own text,
        so its words are still found; a heading followed by a sub-heading is not, as it
        lives on in the sub-heading's path."""
        self._section_page = self._page
        self._blocks.append(self._path[-1][1])
        self._flush()

    def _flush(self) -> None:
        if self._blocks:
            heading = HEADING_SEPARATOR.join(text for _, text in self._path) or None
            self.sections.append(
                Section(heading=heading, text="\n\n".join(self._blocks), page=self._section_page)
            )
        self._blocks = []

    def _count(self, text: str) -> None:
        self._bytes += len(text.encode("utf-8", "surrogatepass"))
        if self._bytes > self._max_bytes:
            raise too_large(self._max_bytes)
