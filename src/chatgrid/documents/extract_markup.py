"""Markdown and HTML to sections: headings make the path, blocks stay whole.

Markdown is parsed with markdown-it-py and each top-level block is taken from
the source lines it spans, so a fenced code block, a table or a list reaches
the chunker exactly as written. HTML is parsed with BeautifulSoup on the
standard library's parser, which never fetches anything: no stylesheet,
image, frame or entity is loaded, and scripts, styles and navigation are
dropped before any text is read.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PageElement, Tag
from markdown_it import MarkdownIt
from markdown_it.token import Token

from chatgrid.documents.extract_model import (
    ExtractedDocument,
    ExtractionFailed,
    SectionBuilder,
    collapse_spaces,
    title_from_filename,
    unreadable,
)

_MARKDOWN = MarkdownIt("commonmark").enable("table")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_MATTER_TITLE = re.compile(r"^title:[ \t]*(.+)$", re.MULTILINE)
_HTML_WHITESPACE = re.compile(r"\s+")

_DROPPED_TAGS = (
    "script",
    "style",
    "nav",
    "noscript",
    "template",
    "iframe",
    "object",
    "embed",
    "svg",
    "canvas",
    "head",
    "button",
    "select",
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_BLOCKS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "header",
        "hr",
        "html",
        "li",
        "main",
        "ol",
        "p",
        "section",
        "summary",
        "ul",
    ]
)


def extract_markdown(text: str, *, filename: str, max_bytes: int) -> ExtractedDocument:
    front_title, text = _split_front_matter(text)
    try:
        tokens = _MARKDOWN.parse(text)
    except Exception as exc:  # markdown-it-py does not raise on text; guard anyway
        raise unreadable("Markdown") from exc
    lines = text.splitlines()
    builder = SectionBuilder(max_bytes=max_bytes)
    for index, token in enumerate(tokens):
        if token.level != 0 or token.map is None:
            continue
        if token.type == "heading_open":
            builder.heading(int(token.tag[1:]), _inline_text(tokens[index + 1]))
        else:
            start, end = token.map
            builder.block("\n".join(lines[start:end]))
    title = front_title or builder.first_heading or title_from_filename(filename)
    return ExtractedDocument(title=title, sections=builder.build(), pages=None)


def extract_html(data: bytes, *, filename: str, max_bytes: int) -> ExtractedDocument:
    try:
        soup = BeautifulSoup(data, "html.parser")
        page_title = collapse_spaces(soup.title.get_text(" ")) if soup.title else ""
        for tag in soup(list(_DROPPED_TAGS)):
            tag.decompose()
        builder = SectionBuilder(max_bytes=max_bytes)
        _walk_html(soup, builder)
    except ExtractionFailed:
        raise
    except Exception as exc:  # the parser's assertions on malformed markup
        raise unreadable("HTML") from exc
    title = page_title[:200] or builder.first_heading or title_from_filename(filename)
    return ExtractedDocument(title=title, sections=builder.build(), pages=None)


def _split_front_matter(text: str) -> tuple[str | None, str]:
    """YAML front matter is metadata, not prose; its ``title:`` names the document."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return None, text
    title_match = _FRONT_MATTER_TITLE.search(match.group(1))
    title = collapse_spaces(title_match.group(1).strip("'\"")) if title_match else ""
    return title[:200] or None, text[match.end() :]


def _inline_text(inline: Token) -> str:
    """A heading's words without Markdown's emphasis marks or link targets."""
    parts: list[str] = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts) or inline.content


def _walk_html(root: Tag, builder: SectionBuilder) -> None:
    """Depth-first with an explicit stack, so deeply nested markup cannot overflow it."""
    inline: list[str] = []

    def flush() -> None:
        lines = (line.strip() for line in "".join(inline).split("\n"))
        builder.block("\n".join(line for line in lines if line))
        inline.clear()

    stack: list[tuple[PageElement, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        if closing:
            flush()
        elif isinstance(node, NavigableString):
            if type(node) is NavigableString:  # not a comment, doctype or CDATA
                inline.append(_HTML_WHITESPACE.sub(" ", str(node)))
        elif isinstance(node, Tag):
            name = node.name.lower()
            if name in _HEADINGS:
                flush()
                builder.heading(int(name[1]), node.get_text(" "))
            elif name == "pre":
                flush()
                builder.block(_fenced(node.get_text()))
            elif name == "table":
                flush()
                builder.block(_table_text(node))
            elif name == "br":
                inline.append("\n")
            else:
                if name in _BLOCKS:
                    flush()
                    stack.append((node, True))
                stack.extend((child, False) for child in reversed(node.contents))
    flush()


def _fenced(code: str) -> str:
    """Preformatted text is fenced so the chunker keeps it in one piece, blank lines and all."""
    code = code.strip("\n")
    return f"```\n{code}\n```" if code.strip() else ""


def _table_text(table: Tag) -> str:
    lines: list[str] = []
    for row in table.find_all("tr"):
        cells = [collapse_spaces(cell.get_text(" ")) for cell in row.find_all(["td", "th"])]
        line = " | ".join(cells).strip(" |")
        if line:
            lines.append(line)
    return "\n".join(lines)
