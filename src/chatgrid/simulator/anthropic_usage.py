"""Input tokens of a Messages request, and the simulated prompt cache behind them.

Counting rule
-------------
The chat rule of ``tokens``, so a chat request translated to a Messages
request counts the same: input total = 3 + (when ``system`` is present: 3 +
Σ ``count_text`` of its text blocks) + Σ per message (3 + Σ per block), where
a block counts: ``text`` → ``count_text(text)``; ``image`` → 85; ``document``
→ ``count_text`` of a text source's ``data``, else 85; ``tool_use`` →
``count_text(name) + count_text(json(input))``; ``tool_result`` → the count
of its string content, or of its text parts + 85 per image part;
``thinking`` → ``count_text(thinking)``; any other block → 0. Tool
definitions count nothing (as in chat).

Cache rule
----------
The prompt is read in Anthropic's order: tools, system, messages. A block
carrying ``cache_control`` (and, for a top-level ``cache_control``, the last
block of the last message) is a breakpoint: the prompt up to and including it
is a cacheable prefix, identified by its content without the markers, the
model and the API key (the key stands in for Anthropic's organization). For
each request:

- ``cache_read_input_tokens`` = the tokens of the longest breakpoint prefix
  already written by an earlier request;
- ``cache_creation_input_tokens`` = the tokens from there to the last
  breakpoint (split into ``ephemeral_5m`` / ``ephemeral_1h`` by the TTL of the
  breakpoint that closes each stretch), and every breakpoint prefix is then
  remembered as written;
- ``input_tokens`` = the rest (the tokens after the last breakpoint).

So the first request with a marked prefix writes it and the same prefix sent
again reads it. Unlike Anthropic there is no minimum cacheable length and no
expiry: a prefix stays written until ``POST /_sim/reset``. ``[sim:cached=N]``
overrides the rule for one request: N tokens read (capped at the total),
none written, nothing remembered.
"""

from __future__ import annotations

import hashlib
from typing import Final

import orjson

from chatgrid.simulator.anthropic_blocks import Block
from chatgrid.simulator.anthropic_request import MessagesRequest
from chatgrid.simulator.tokens import PER_IMAGE, PER_MESSAGE, PER_REQUEST, count_text

MAX_PREFIXES: Final = 100_000


class InputUsage:
    __slots__ = ("cache_read", "input_tokens", "write_1h", "write_5m")

    def __init__(self, input_tokens: int, write_5m: int, write_1h: int, cache_read: int) -> None:
        self.input_tokens = input_tokens
        self.write_5m = write_5m
        self.write_1h = write_1h
        self.cache_read = cache_read

    @property
    def cache_creation(self) -> int:
        return self.write_5m + self.write_1h


class PromptCache:
    """The digests of the prefixes written so far; forgotten wholesale when full."""

    def __init__(self) -> None:
        self._written: set[bytes] = set()

    def __contains__(self, digest: bytes) -> bool:
        return digest in self._written

    def remember(self, digests: list[bytes]) -> None:
        if len(self._written) + len(digests) > MAX_PREFIXES:
            self._written.clear()
        self._written.update(digests)

    def clear(self) -> None:
        self._written.clear()


def block_tokens(block: Block) -> int:
    kind = block.get("type")
    if kind == "text":
        return count_text(str(block.get("text", "")))
    if kind == "image":
        return PER_IMAGE
    if kind == "document":
        source = block.get("source")
        if isinstance(source, dict) and source.get("type") == "text":
            return count_text(str(source.get("data", "")))
        return PER_IMAGE
    if kind == "tool_use":
        arguments = orjson.dumps(block.get("input", {})).decode()
        return count_text(str(block.get("name", ""))) + count_text(arguments)
    if kind == "tool_result":
        content = block.get("content")
        if isinstance(content, str):
            return count_text(content)
        if isinstance(content, list):
            return sum(block_tokens(part) for part in content if isinstance(part, dict))
        return 0
    if kind == "thinking":
        return count_text(str(block.get("thinking", "")))
    return 0


def _canonical(block: Block) -> bytes:
    unmarked = {name: value for name, value in block.items() if name != "cache_control"}
    return orjson.dumps(unmarked, option=orjson.OPT_SORT_KEYS)


class _Breakpoint:
    __slots__ = ("digest", "tokens", "ttl")

    def __init__(self, tokens: int, digest: bytes, ttl: str) -> None:
        self.tokens = tokens
        self.digest = digest
        self.ttl = ttl


def _walk(request: MessagesRequest, namespace: bytes) -> tuple[int, list[_Breakpoint]]:
    """The total input tokens and the breakpoints, in prompt order."""
    hasher = hashlib.blake2b(namespace + b"\0" + request.model.encode(), digest_size=16)
    total = PER_REQUEST
    found: list[_Breakpoint] = []

    def visit(block: Block, tokens: int, forced: str | None = None) -> None:
        nonlocal total
        total += tokens
        hasher.update(_canonical(block))
        control = block.get("cache_control")
        ttl = forced
        if isinstance(control, dict):
            ttl = str(control.get("ttl", "5m"))
        if ttl is not None:
            found.append(_Breakpoint(total, hasher.copy().digest(), ttl))

    for tool in request.tool_defs:
        visit(tool, 0)
    if request.system:
        total += PER_MESSAGE
        hasher.update(b"\0system")
        for block in request.system:
            visit(block, block_tokens(block))
    last = len(request.messages) - 1
    for number, message in enumerate(request.messages):
        total += PER_MESSAGE
        hasher.update(b"\0" + message.role.encode())
        final = len(message.blocks) - 1
        for index, block in enumerate(message.blocks):
            forced = request.cache_last if number == last and index == final else None
            visit(block, block_tokens(block), forced)
    return total, found


def input_total(request: MessagesRequest) -> int:
    """All input tokens, cached or not (``POST /v1/messages/count_tokens``)."""
    total = PER_REQUEST
    if request.system:
        total += PER_MESSAGE + sum(block_tokens(block) for block in request.system)
    for message in request.messages:
        total += PER_MESSAGE + sum(block_tokens(block) for block in message.blocks)
    return total


def input_usage(
    request: MessagesRequest, cache: PromptCache, key: str, cached: int | None
) -> InputUsage:
    """Split the request's input tokens into uncached, written and read (see above)."""
    if cached is not None or not request.breakpoints:
        total = input_total(request)
        read = min(cached or 0, total)
        return InputUsage(total - read, 0, 0, read)
    total, breakpoints = _walk(request, key.encode())
    read = 0
    for breakpoint in breakpoints:
        if breakpoint.digest in cache:
            read = breakpoint.tokens
    write = {"5m": 0, "1h": 0}
    start = read
    for breakpoint in breakpoints:
        if breakpoint.tokens > start:
            write[breakpoint.ttl] += breakpoint.tokens - start
            start = breakpoint.tokens
    cache.remember([breakpoint.digest for breakpoint in breakpoints])
    cached_end = breakpoints[-1].tokens
    return InputUsage(total - cached_end, write["5m"], write["1h"], read)
