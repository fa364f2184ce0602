"""Sections to chunks: the passages that are embedded, searched and cited.

Boundaries follow the document's own structure, coarsest first: a chunk never
spans two sections (so it has one heading and one page), paragraphs are packed
whole up to the target size, and only a paragraph too long on its own is split,
at sentence ends, then line ends, then spaces. A word is cut only when it alone
is longer than a chunk (a pasted key or a base64 blob), since a length bound
is what keeps every chunk under the embedding model's input limit.

Consecutive chunks of one section overlap: the next chunk starts with the
previous one's last sentences (up to ``overlap_chars``, from a sentence or
word start), so a fact stated across a boundary is still found whole.

A chunk's ``text`` starts with its heading path on a line of its own, then
the passage. The heading is part of what a passage means ("Pricing > Refunds"
then "within 30 days"), so it is embedded and keyword-indexed with it; the
``heading`` field repeats it for display. Every ``text`` is at most
``target_chars`` long, heading line included. Chunking is a pure function:
the same document always gives the same chunks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chatgrid.documents.extract_model import HEADING_SEPARATOR, ExtractedDocument

MIN_TARGET_CHARS = 40

_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")
_LINE_BREAK = re.compile(r"[ \t]*\n\s*")
_WORD_BREAK = re.compile(r"\s+")
_SPLIT_LEVELS = (_SENTENCE_BREAK, _LINE_BREAK, _WORD_BREAK)
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")


@dataclass(frozen=True, slots=True)
class ChunkDraft:
    """One passage before it is stored; ``ordinal`` counts from 0 across the document."""

    ordinal: int
    text: str
    heading: str | None
    page: int | None


def chunk_document(
    doc: ExtractedDocument, *, target_chars: int = 1200, overlap_chars: int = 200
) -> list[ChunkDraft]:
    if target_chars < MIN_TARGET_CHARS:
        raise ValueError(f"target_chars must be at least {MIN_TARGET_CHARS}")
    if overlap_chars < 0:
        raise ValueError("overlap_chars must not be negative")
    drafts: list[ChunkDraft] = []
    for section in doc.sections:
        prefix = _heading_line(section.heading, target_chars)
        budget = target_chars - len(prefix)
        overlap = min(overlap_chars, budget // 2)
        for body in chunk_text(section.text, budget=budget, overlap=overlap):
            drafts.append(
                ChunkDraft(
                    ordinal=len(drafts),
                    text=prefix + body,
                    heading=section.heading,
                    page=section.page,
                )
            )
    return drafts


def chunk_text(text: str, *, budget: int, overlap: int) -> list[str]:
    """One section's text as passages of at most ``budget`` characters."""
    pieces: list[tuple[str, str]] = []
    for paragraph in _paragraphs(text):
        split = _split_long(paragraph, budget, 1 if _FENCE.match(paragraph) else 0)
        pieces.append(("\n\n", split[0][1]))
        pieces.extend(split[1:])
    chunks: list[str] = []
    current = ""
    for separator, piece in pieces:
        if not current:
            current = piece
        elif len(current) + len(separator) + len(piece) <= budget:
            current += separator + piece
        else:
            chunks.append(current)
            room = budget - len(separator) - len(piece)
            seed = _tail(current, min(overlap, room))
            current = seed + separator + piece if seed else piece
    if current:
        chunks.append(current)
    return chunks


def _heading_line(heading: str | None, target_chars: int) -> str:
    """The heading path as the chunk's first line, shortened so the passage keeps room.

    A path too long drops its outermost headings first: "Linux" says more
    about a passage than the book's title does.
    """
    if not heading:
        return ""
    limit = target_chars // 4
    parts = heading.split(HEADING_SEPARATOR)
    while len(parts) > 1 and len(HEADING_SEPARATOR.join(parts)) > limit:
        parts.pop(0)
    line = HEADING_SEPARATOR.join(parts)
    if len(line) > limit:
        cut = line.rfind(" ", 0, limit + 1)
        line = line[: cut if cut > 0 else limit].rstrip()
    return line + "\n" if line else ""


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks, except inside a fenced code block, which stays whole."""
    paragraphs: list[str] = []
    lines: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        marker = _FENCE.match(line)
        if fence is None and marker:
            fence = marker.group(1)[0] * 3
        elif fence is not None and line.lstrip().startswith(fence):
            fence = None
        if fence is None and not line.strip():
            if lines:
                paragraphs.append("\n".join(lines))
                lines = []
            continue
        lines.append(line.rstrip())
    if lines:
        paragraphs.append("\n".join(lines))
    return [paragraph for paragraph in paragraphs if paragraph.strip()]


def _split_long(text: str, budget: int, level: int) -> list[tuple[str, str]]:
    """``text`` as (separator before, piece) pairs, each piece at most ``budget`` long.

    Joining the pairs gives the text back with whitespace runs shortened to
    one space or newline, which is all the packing step needs to re-join them.
    """
    if len(text) <= budget:
        return [("", text)]
    if level >= len(_SPLIT_LEVELS):
        return [("", text[start : start + budget]) for start in range(0, len(text), budget)]
    parts = _split_keeping_separators(text, _SPLIT_LEVELS[level])
    if len(parts) == 1:
        return _split_long(text, budget, level + 1)
    pieces: list[tuple[str, str]] = []
    for separator, part in parts:
        split = _split_long(part, budget, level + 1)
        pieces.append((separator, split[0][1]))
        pieces.extend(split[1:])
    return pieces


def _split_keeping_separators(text: str, pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    parts: list[tuple[str, str]] = []
    separator = ""
    position = 0
    for match in pattern.finditer(text):
        part = text[position : match.start()]
        if part.strip():
            parts.append((separator, part))
            separator = ""
        separator = _short_separator(separator + match.group())
        position = match.end()
    tail = text[position:]
    if tail.strip():
        parts.append((separator, tail))
    if parts:
        parts[0] = ("", parts[0][1])
    return parts


def _short_separator(whitespace: str) -> str:
    return "\n" if "\n" in whitespace else " "


def _tail(text: str, limit: int) -> str:
    """The end of ``text``, at most ``limit`` long, starting at a sentence or word start."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    start = len(text) - limit
    for pattern in (_SENTENCE_BREAK, _WORD_BREAK):
        match = pattern.search(text, start - 1)
        if match is not None and match.end() < len(text):
            return text[match.end() :]
    return ""
