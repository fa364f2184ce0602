"""Markdown to sections: headings make the path, blocks stay whole.

Markdown is parsed with markdown-it-py's block parser only, and each
top-level block is taken from the source lines it spans, so a fenced code
block, a table or a list reaches the chunker exactly as written.

Inline syntax (links, emphasis, code spans) is never parsed: the blocks are
kept as written, so it would only serve to strip marks from headings, and
markdown-it's inline parser is quadratic on unmatched brackets (1 MB of ``[``
took 53 s). Headings are cleaned by a few linear patterns instead, on at most
``_HEADING_CHARS`` characters. Block nesting deeper than markdown-it's
``maxNesting`` (20) ends the parse of that block, so deep quotes and lists
cost nothing either.

HTML lives in ``extract_html``.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

from chatgrid.documents.extract_model import (
    ExtractedDocument,
    SectionBuilder,
    collapse_spaces,
    title_from_filename,
    unreadable,
)

_BLOCKS_ONLY = MarkdownIt("commonmark").enable("table").disable("inline")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_MATTER_TITLE = re.compile(r"^title:[ \t]*(.+)$", re.MULTILINE)

_HEADING_CHARS = 500
"""Longer headings are cut before cleaning: a heading path is a label, not a passage."""

# Each pattern excludes its own opening character from what it skips, so a
# failed match stops at the next opener: linear however many openers there are.
_IMAGE_OR_LINK = re.compile(r"!?\[([^\[\]]*)\](?:\([^()]*\)|\[[^\[\]]*\])?")
_AUTOLINK = re.compile(r"<((?:https?|mailto|ftp):[^<>\s]*|[^<>\s@]+@[^<>\s]+)>")
_CODE_SPAN = re.compile(r"(`+)([^`]+)\1")
# Emphasis marks touch a word on one side ("*this*"); "5 * 3" and snake_case stay.
_EMPHASIS = re.compile(r"(?<!\\)\*+(?=\S)|(?<=[^\s\\])\*+|(?<![\w\\])_+(?=\S)|(?<=[^\s\\])_+(?!\w)")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def extract_markdown(text: str, *, filename: str, max_bytes: int) -> ExtractedDocument:
    front_title, text = _split_front_matter(text)
    try:
        tokens = _BLOCKS_ONLY.parse(text)
    except Exception as exc:  # markdown-it-py does not raise on text; guard anyway
        raise unreadable("Markdown") from exc
    lines = text.splitlines()
    builder = SectionBuilder(max_bytes=max_bytes)
    for index, token in enumerate(tokens):
        if token.level != 0 or token.map is None:
            continue
        if token.type == "heading_open":
            builder.heading(int(token.tag[1:]), heading_words(tokens[index + 1].content))
        else:
            start, end = token.map
            builder.block("\n".join(lines[start:end]))
    title = front_title or builder.first_heading or title_from_filename(filename)
    return ExtractedDocument(title=title, sections=builder.build(), pages=None)


def heading_words(source: str) -> str:
    """A heading's words without Markdown's marks: link and image text kept, targets dropped.

    Code spans are taken out first, so the marks inside them are kept as written.
    """
    source = source[:_HEADING_CHARS]
    parts: list[str] = []
    position = 0
    for code in _CODE_SPAN.finditer(source):
        parts.append(_plain(source[position : code.start()]))
        parts.append(code.group(2).strip() or code.group(2))
        position = code.end()
    parts.append(_plain(source[position:]))
    return "".join(parts)


def _plain(source: str) -> str:
    source = _IMAGE_OR_LINK.sub(r"\1", source)
    source = _AUTOLINK.sub(r"\1", source)
    source = _EMPHASIS.sub("", source)
    return _ESCAPE.sub(r"\1", source)


def _split_front_matter(text: str) -> tuple[str | None, str]:
    """YAML front matter is metadata, not prose; its ``title:`` names the document."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return None, text
    title_match = _FRONT_MATTER_TITLE.search(match.group(1))
    title = collapse_spaces(title_match.group(1).strip("'\"")) if title_match else ""
    return title[:200] or None, text[match.end() :]
