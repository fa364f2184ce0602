"""HTML to sections in one pass over the parser's events, with no tree.

libxml2's HTML parser (through lxml) reads the markup in C, in one linear
pass, and never fetches anything (``no_network``; HTML has no external
entities): no stylesheet, image, frame or entity is loaded. It hands each
start tag, end tag and run of text to ``_Reader``, which skips scripts,
styles, navigation and the like whole, makes headings the path, fences
``<pre>``, turns a table into one line per row, and lets block elements
separate paragraphs.

Why events and not a tree (BeautifulSoup on ``html.parser``, as before): a
tree is as deep as the markup nests, and 3 MB of unclosed ``<b><i>`` made
one a million levels deep, taking 56 s to build and walk; and this Python's
``html.parser`` is quadratic on some malformed markup (1.5 MB of ``<a`` did
not finish in ten minutes). Here each event costs the same at any depth:
the parser closes what the markup leaves open (its events always balance),
the reader remembers at most ``MAX_DEPTH`` open elements, and tags deeper
than that are ignored as tags while their text is still read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bs4.dammit import UnicodeDammit
from lxml import etree  # type: ignore[import-untyped]  # (python-docx brings lxml)

from chatgrid.documents.extract_model import (
    ExtractedDocument,
    ExtractionFailed,
    SectionBuilder,
    collapse_spaces,
    title_from_filename,
    unreadable,
)

MAX_DEPTH = 512
"""Open elements remembered; far past anything a page lays out (browsers stop near 512 too)."""

_WHITESPACE = re.compile(r"\s+")
_DROPPED = frozenset(
    {
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
    }
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_BLOCKS = frozenset(
    {
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
    }
)


def extract_html(data: bytes, *, filename: str, max_bytes: int) -> ExtractedDocument:
    reader = _Reader(SectionBuilder(max_bytes=max_bytes))
    try:
        # bs4's detector reads the BOM, a <meta charset> or the bytes themselves.
        markup = UnicodeDammit(data, is_html=True).unicode_markup
        if markup is None:
            raise unreadable("HTML")
        parser = etree.HTMLParser(target=reader, no_network=True, recover=True)
        parser.feed(markup)
        parser.close()
    except (ExtractionFailed, MemoryError):
        raise
    except Exception as exc:  # lxml's errors on markup it cannot recover from
        raise unreadable("HTML") from exc
    builder = reader.builder
    title = reader.title[:200] or builder.first_heading or title_from_filename(filename)
    return ExtractedDocument(title=title, sections=builder.build(), pages=None)


@dataclass
class _Capture:
    """An element read as a whole (heading, ``<pre>``, table) until it closes.

    Text is kept as a tree's strings would be: a run of text between two tags
    is one string (an entity does not split it), and strings are joined with
    ``separator``. A table's cells collect their text the same way; a cell's
    text is handed to the cell around it when it closes, so nested cells cost
    no more than flat ones.
    """

    kind: str
    depth: int
    separator: str
    level: int = 0
    strings: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    open_rows: list[int] = field(default_factory=list)
    cells: list[tuple[int | None, list[str]]] = field(default_factory=list)

    def data(self, text: str) -> None:
        self.current.append(text)
        if self.cells:
            self.cells[-1][1].append(text)

    def boundary(self) -> None:
        """A tag between two runs of text: the run so far is one string."""
        if self.current:
            self.strings.append("".join(self.current))
            self.current = []
        if self.cells and self.cells[-1][1]:
            self.cells[-1][1].append(" ")

    def start(self, name: str) -> None:
        """A row or cell of this table (or of one nested in it) begins."""
        if name == "tr":
            self.open_rows.append(len(self.rows))
            self.rows.append([])
        elif name in ("td", "th"):
            self.cells.append((self.open_rows[-1] if self.open_rows else None, []))

    def end(self, name: str) -> None:
        """A cell's text goes to its own row, even when a nested table's rows came between."""
        if name == "tr" and self.open_rows:
            self.open_rows.pop()
        elif name in ("td", "th") and self.cells:
            row, pieces = self.cells.pop()
            text = "".join(pieces)
            if self.cells:  # a cell around this one reads its text too, as a tree's would
                self.cells[-1][1].extend((text, " "))
            if row is not None:
                self.rows[row].append(collapse_spaces(text))

    def text(self) -> str:
        self.boundary()
        return self.separator.join(self.strings)


class _Reader:
    """lxml's parser target: start, end, data and comment events, then close."""

    def __init__(self, builder: SectionBuilder) -> None:
        self.builder = builder
        self.title = ""
        self._title: list[str] | None = None
        self._open: list[str] = []
        self._too_deep = 0
        self._dropped = 0
        self._inline: list[str] = []
        self._capture: _Capture | None = None

    def start(self, tag: str, attrib: object) -> None:
        if self._capture is not None:
            self._capture.boundary()
        if len(self._open) >= MAX_DEPTH:
            self._too_deep += 1  # too deep to be layout: read its text, ignore the tag
            return
        name = tag.lower() if isinstance(tag, str) else ""
        self._open.append(name)
        if name == "title" and self._title is None and not self.title:
            self._title = []
        if name in _DROPPED:
            self._dropped += 1
        if self._dropped:
            return
        capture = self._capture
        if capture is not None:
            if capture.kind == "table":
                capture.start(name)
        elif name in _HEADINGS:
            self._flush()
            self._capture = _Capture("heading", len(self._open), " ", level=int(name[1]))
        elif name == "pre":
            self._flush()
            self._capture = _Capture("pre", len(self._open), "")
        elif name == "table":
            self._flush()
            self._capture = _Capture("table", len(self._open), " ")
        elif name == "br":
            self._inline.append("\n")
        elif name in _BLOCKS:
            self._flush()

    def end(self, tag: str) -> None:
        if self._capture is not None:
            self._capture.boundary()
        if self._too_deep:
            self._too_deep -= 1
            return
        if not self._open:
            return
        depth = len(self._open)
        name = self._open.pop()
        if name == "title" and self._title is not None:
            self.title = collapse_spaces(" ".join(self._title))
            self._title = None
        if name in _DROPPED:
            self._dropped -= 1
            return
        if self._dropped:
            return
        capture = self._capture
        if capture is None:
            if name in _BLOCKS:
                self._flush()
        elif capture.depth == depth:
            self._capture = None
            self._finish(capture)
        elif capture.kind == "table":
            capture.end(name)

    def data(self, data: str) -> None:
        if self._title is not None:
            self._title.append(data)
        if self._dropped:
            return
        if self._capture is not None:
            self._capture.data(data)
        else:
            self._inline.append(_WHITESPACE.sub(" ", data))

    def comment(self, text: str) -> None:
        if self._capture is not None:
            self._capture.boundary()

    def close(self) -> None:
        while self._open:
            self.end(self._open[-1])
        self._flush()

    def _finish(self, capture: _Capture) -> None:
        if capture.kind == "heading":
            self.builder.heading(capture.level, capture.text())
        elif capture.kind == "pre":
            self.builder.block(_fenced(capture.text()))
        else:
            lines = (" | ".join(row).strip(" |") for row in capture.rows)
            self.builder.block("\n".join(line for line in lines if line))

    def _flush(self) -> None:
        lines = (line.strip() for line in "".join(self._inline).split("\n"))
        self.builder.block("\n".join(line for line in lines if line))
        self._inline.clear()


def _fenced(code: str) -> str:
    """Preformatted text is fenced so the chunker keeps it in one piece, blank lines and all."""
    code = code.strip("\n")
    return f"```\n{code}\n```" if code.strip() else ""
