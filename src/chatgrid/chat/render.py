"""Markdown written by a model (or found in a document) → a safe HTML fragment.

The chat page sets this fragment with ``innerHTML``, so it is the one place
where untrusted text becomes markup. Two independent layers make it safe:

1. **markdown-it-py** parses CommonMark (+ tables, strikethrough) with raw
   HTML *disabled*, so ``<script>`` typed by a model is shown as text, never
   parsed as a tag. Links are kept only for ``http``, ``https`` and
   ``mailto``; images are never emitted, only ``[image: alt]`` as text, so no
   answer can make the browser fetch a remote URL (a classic way to leak a
   conversation through a query string).
2. **nh3** (ammonia) re-parses the result with an HTML5 parser and keeps only
   an allow-list of tags, attributes and classes. It is the backstop for any
   renderer bug: even if layer 1 let something through, an event handler, a
   ``style``, an ``<img>`` or a ``javascript:`` URL cannot reach the page.

The page's Content-Security-Policy is a third wall, not a reason to relax
these two.

Streaming re-renders the whole growing answer on every chunk, so this is on a
hot path: the parser, the sanitizer and the lexers are built once, and each
highlighted code block is cached so finished blocks cost nothing on the next
chunk (``bench/render.py`` measures it). An unclosed code fence mid-stream is
already a code block in CommonMark: it runs to the end of the document.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Sequence
from html import escape

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import unescapeAll
from markdown_it.renderer import RendererProtocol
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from pygments import highlight
from pygments.formatter import Formatter
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

__all__ = ["ALLOWED_LINK_SCHEMES", "highlight_css", "render_markdown", "sanitize_html"]

ALLOWED_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"
HIGHLIGHT_STYLE = "default"
"""Pygments' ``default`` style: light, and its colours meet WCAG AA contrast."""

MAX_HIGHLIGHTED_CHARS = 50_000
"""Past this a code block is shown plain: a regex lexer's cost on a huge,
adversarial block is not worth paying on every streamed chunk."""

_ALIGN_CLASSES = {
    "text-align:left": "align-left",
    "text-align:center": "align-center",
    "text-align:right": "align-right",
}
_TOKEN_CLASSES = frozenset(name for name in STANDARD_TYPES.values() if name)
_SAFE_HREF = re.compile(r"(?:https?://|mailto:)", re.IGNORECASE)
_LABEL_UNSAFE = re.compile(r"[^\w+#.\-]")

_TAGS = frozenset(
    {
        "a", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3",
        "h4", "h5", "h6", "hr", "li", "ol", "p", "pre", "s", "span", "strong",
        "table", "tbody", "td", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    # Dropped with their content, should any ever reach the sanitizer.
    clean_content_tags={"script", "style", "iframe", "noscript", "template", "svg", "math"},
    attributes={"*": set(), "a": {"href", "title"}, "ol": {"start"}},
    allowed_classes={
        "div": {"code-block"},
        "span": {"code-lang", *_TOKEN_CLASSES},
        "code": {"highlight"},
        "th": set(_ALIGN_CLASSES.values()),
        "td": set(_ALIGN_CLASSES.values()),
    },
    set_tag_attribute_values={"a": {"target": "_blank"}},
    link_rel=LINK_REL,
    url_schemes=set(ALLOWED_LINK_SCHEMES),
    url_relative="deny",
    strip_comments=True,
)


def render_markdown(text: str) -> str:
    """The sanitized HTML fragment for ``text``, ready for ``innerHTML``."""
    return sanitize_html(_MARKDOWN.render(text))


def sanitize_html(html: str) -> str:
    """Only the allow-listed tags, attributes, classes and link schemes of ``html``.

    Safe on arbitrary HTML on its own, so it is also the backstop if the
    markdown layer ever lets raw markup through.
    """
    return _CLEANER.clean(html)


def _is_safe_href(href: str | int | float | None) -> bool:
    return isinstance(href, str) and _SAFE_HREF.match(href) is not None


def _unlink_unsafe(state: StateCore) -> None:
    """Keep the text of a link whose target is not http/https/mailto, drop the link.

    ``validateLink`` already refuses other targets while parsing, but an empty
    destination (``[x]()``) still becomes ``<a href="">``, and this rule holds
    whatever a future parser version lets through. Links cannot nest in
    CommonMark, so the stack never holds more than one.
    """
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        kept: list[Token] = []
        open_links: list[bool] = []
        for token in block.children:
            if token.type == "link_open":
                safe = _is_safe_href(token.attrGet("href"))
                open_links.append(safe)
                if safe:
                    kept.append(token)
            elif token.type == "link_close":
                if open_links.pop() if open_links else False:
                    kept.append(token)
            else:
                kept.append(token)
        block.children = kept


def _render_image(
    self: RendererProtocol,
    tokens: Sequence[Token],
    idx: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    """Never an ``<img>``: a remote image would load on view and could carry data out."""
    alt = _inline_text(tokens[idx].children or [])
    return f"[image: {escape(alt)}]" if alt else "[image]"


def _inline_text(tokens: Sequence[Token]) -> str:
    parts: list[str] = []
    for token in tokens:
        if token.type in ("text", "code_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif token.children:
            parts.append(_inline_text(token.children))
    return "".join(parts)


def _render_fence(
    self: RendererProtocol,
    tokens: Sequence[Token],
    idx: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    token = tokens[idx]
    info = unescapeAll(token.info).strip().split(maxsplit=1)
    return _code_block(token.content, info[0] if info else "")


def _render_cell_open(
    self: RendererProtocol,
    tokens: Sequence[Token],
    idx: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    """Table alignment as a class: ``style`` attributes never reach the page."""
    token = tokens[idx]
    align = _ALIGN_CLASSES.get(str(token.attrGet("style") or ""))
    return f'<{token.tag} class="{align}">' if align else f"<{token.tag}>"


@functools.lru_cache(maxsize=128)
def _code_block(code: str, language: str) -> str:
    """One fenced block as HTML; cached because every streamed chunk re-renders it."""
    lexer = _lexer_for(language.lower())
    label = lexer.name if lexer is not None else _LABEL_UNSAFE.sub("", language)[:32]
    if lexer is not None and len(code) <= MAX_HIGHLIGHTED_CHARS:
        body = highlight(code, lexer, _FORMATTER)
    else:
        body = escape(code, quote=False)
    label_html = f'<span class="code-lang">{escape(label)}</span>' if label else ""
    return (
        f'<div class="code-block">{label_html}'
        f'<pre><code class="highlight">{body}</code></pre></div>\n'
    )


@functools.lru_cache(maxsize=256)
def _lexer_for(language: str) -> Lexer | None:
    if not language:
        return None
    try:
        return get_lexer_by_name(language)
    except ClassNotFound:
        return None


def highlight_css() -> str:
    """The stylesheet for the classes this module emits (``web/static/highlight.css``)."""
    formatter: Formatter[str] = HtmlFormatter(style=HIGHLIGHT_STYLE)
    # Only rules scoped to .highlight: Pygments also styles every bare <pre>.
    rules = [
        line
        for line in formatter.get_style_defs(".highlight").splitlines()
        if line.startswith(".highlight")
    ]
    tokens = "\n".join(rules)
    return (
        "/* Generated from Pygments' "
        f'"{HIGHLIGHT_STYLE}" style for chatgrid.chat.render; do not edit by hand.\n'
        "   Regenerate with:\n"
        "   .venv/bin/python -m chatgrid.chat.render > src/chatgrid/web/static/highlight.css\n"
        "*/\n"
        f"{_FRAME_CSS}\n{tokens}\n"
    )


_FRAME_CSS = """\
.code-block {
  margin: 12px 0; border: 1px solid var(--line, #e2e5eb); border-radius: 8px;
  background: #f8f8f8; overflow: hidden;
}
.code-block .code-lang {
  display: block; padding: 4px 12px; border-bottom: 1px solid var(--line, #e2e5eb);
  color: var(--muted, #5d6577); font-size: 0.75rem;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}
.code-block pre {
  margin: 0; padding: 12px 14px; border-radius: 0; overflow-x: auto;
  background: transparent; color: var(--text, #1b1f29); line-height: 1.45;
}
th.align-left, td.align-left { text-align: left; }
th.align-center, td.align-center { text-align: center; }
th.align-right, td.align-right { text-align: right; }"""


class _ChatMarkdown(MarkdownIt):
    """CommonMark + tables + strikethrough, raw HTML off, links only to safe schemes."""

    def __init__(self) -> None:
        super().__init__("commonmark", {"html": False})
        self.enable(["table", "strikethrough"])

    def validateLink(self, url: str) -> bool:
        return _is_safe_href(url)


_FORMATTER = HtmlFormatter(nowrap=True)
_MARKDOWN = _ChatMarkdown()
_MARKDOWN.core.ruler.push("unlink_unsafe", _unlink_unsafe)
_MARKDOWN.add_render_rule("image", _render_image)
_MARKDOWN.add_render_rule("fence", _render_fence)
_MARKDOWN.add_render_rule("th_open", _render_cell_open)
_MARKDOWN.add_render_rule("td_open", _render_cell_open)


if __name__ == "__main__":
    sys.stdout.write(highlight_css())
