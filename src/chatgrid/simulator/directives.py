"""``[sim:...]`` directives: how a test, even one behind a gateway, steers a reply.

A gateway forwards message text untouched, so instructions hidden in the text
reach the simulator without any side channel. Syntax: ``[sim:NAME]`` or
``[sim:NAME=INTEGER]``, anywhere in the last message's text (embeddings: the
first input string); several may be combined; a later one overrides an earlier
one of the same name; unknown names are ignored.

=================  ===========================================================
``[sim:429]``      429 ``rate_limit_exceeded`` with ``Retry-After: 2``
``[sim:429=S]``    same, ``Retry-After: S``
``[sim:500]``      500 ``server_error``
``[sim:503]``      503 ``server_error`` (overloaded)
``[sim:401]``      401 ``invalid_api_key``, as if the key had been revoked
``[sim:403]``      403, as if the key's project lacked the permission
``[sim:delay=MS]`` wait MS milliseconds before the first byte (errors too)
``[sim:slow=MS]``  streaming: wait MS milliseconds between chunks
``[sim:cut=K]``    streaming: abort the connection after K content chunks;
                   otherwise close it without any response (``[sim:cut]`` = 0)
``[sim:tokens=N]`` reply with N tokens (before the ``max_tokens`` cap)
``[sim:cached=N]`` report N cached prompt tokens (capped at prompt_tokens)
``[sim:echo]``     reply with the last message's own text, directives removed
                   (how a test makes the "model" say something exact)
``[sim:tool]``     call a tool when ``tools`` are given and ``tool_choice``
                   allows it
``[sim:cite]``     end the reply by citing, as `` [n]``, every numbered excerpt
                   (a line starting ``[n] ``) in the request's messages, as a
                   model told to cite its sources does
=================  ===========================================================
"""

from __future__ import annotations

import re
from typing import Final

_DIRECTIVE_RE: Final = re.compile(r"\[sim:([a-z0-9]+)(?:=(\d{1,9}))?\]")

FAULT_STATUSES: Final = frozenset({401, 403, 429, 500, 503})
DEFAULT_RETRY_AFTER: Final = 2
MAX_TOKENS_DIRECTIVE: Final = 100_000


class Directives:
    """What the text asked for; every field ``None`` / ``False`` when it asked nothing."""

    __slots__ = (
        "cached",
        "cite",
        "cut",
        "delay_ms",
        "echo",
        "fault",
        "retry_after",
        "slow_ms",
        "tokens",
        "tool",
    )

    def __init__(self) -> None:
        self.fault: int | None = None
        self.retry_after = DEFAULT_RETRY_AFTER
        self.delay_ms = 0
        self.slow_ms = 0
        self.cut: int | None = None
        self.tokens: int | None = None
        self.cached: int | None = None
        self.tool = False
        self.echo = False
        self.cite = False


NONE: Final = Directives()


def strip_directives(text: str) -> str:
    """``text`` without its directives (what ``[sim:echo]`` replies with)."""
    return _DIRECTIVE_RE.sub("", text).strip()


def parse_directives(text: str) -> Directives:
    """Read the directives in ``text``; the shared empty result when there are none."""
    if "[sim:" not in text:
        return NONE
    found = Directives()
    for name, raw in _DIRECTIVE_RE.findall(text):
        value = int(raw) if raw else None
        if name.isdigit() and int(name) in FAULT_STATUSES:
            found.fault = int(name)
            if name == "429" and value is not None:
                found.retry_after = value
        elif name == "delay":
            found.delay_ms = value or 0
        elif name == "slow":
            found.slow_ms = value or 0
        elif name == "cut":
            found.cut = value or 0
        elif name == "tokens" and value is not None:
            found.tokens = min(value, MAX_TOKENS_DIRECTIVE)
        elif name == "cached" and value is not None:
            found.cached = value
        elif name == "tool":
            found.tool = True
        elif name == "echo":
            found.echo = True
        elif name == "cite":
            found.cite = True
    return found
