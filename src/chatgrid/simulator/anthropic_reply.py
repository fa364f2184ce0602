"""The reply to a Messages request: its text or tool call, stop reason, and wire bytes.

Decided like a chat reply (``chat.plan_reply``), so the same rules steer
both APIs: 16 words by default or ``[sim:tokens=N]``, capped by
``max_tokens`` (stop reason ``max_tokens``); ``[sim:echo]``, ``[sim:cite]``;
a ``tool_use`` block when ``tool_choice`` is ``any`` or names a tool, or is
``auto`` and the text says ``[sim:tool]``, with input ``{}`` and
``count_text(name) + 2`` output tokens. Then ``stop_sequences``: the reply is
generated word by word and stops at the first word after which any sequence
occurs in the text; the text ends just before the sequence, ``stop_reason``
is ``stop_sequence``, and ``output_tokens`` counts the words generated, the
one that completed the sequence included.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

import orjson

from chatgrid.simulator import tokens
from chatgrid.simulator.anthropic_request import MessagesRequest
from chatgrid.simulator.anthropic_usage import InputUsage
from chatgrid.simulator.chat import DEFAULT_REPLY_TOKENS
from chatgrid.simulator.directives import Directives, strip_directives

SERVICE_TIER: Final = "standard"
_EXCERPT_RE: Final = re.compile(r"^\[(\d{1,2})\] ", re.MULTILINE)


class MessageReply:
    """``words`` are the text deltas, or ``tool_name`` names the tool called."""

    __slots__ = ("output_tokens", "stop_reason", "stop_sequence", "tool_id", "tool_name", "words")

    def __init__(self, words: list[str], output_tokens: int, stop_reason: str) -> None:
        self.words = words
        self.output_tokens = output_tokens
        self.stop_reason = stop_reason
        self.stop_sequence: str | None = None
        self.tool_name: str | None = None
        self.tool_id = ""


def plan_message(request: MessagesRequest, directives: Directives) -> MessageReply:
    turns: list[dict[str, object]] = [{"system": request.system}]
    turns += [{m.role: m.blocks} for m in request.messages]
    seed = tokens.messages_seed(turns)
    tool = _tool_to_call(request, directives)
    if tool is not None:
        reply = MessageReply([], tokens.tool_call_tokens(tool), "tool_use")
        reply.tool_name = tool
        reply.tool_id = "toolu_01" + hashlib.blake2b(seed, digest_size=11).hexdigest()
        return reply
    echoed = _echo_words(request) if directives.echo else None
    if echoed is not None:
        wanted = len(echoed)
    else:
        wanted = DEFAULT_REPLY_TOKENS if directives.tokens is None else directives.tokens
    count = min(wanted, request.max_tokens)
    stop_reason = "max_tokens" if count < wanted else "end_turn"
    words = echoed[:count] if echoed is not None else tokens.reply_words(seed, 0, count)
    if directives.cite and stop_reason == "end_turn":
        words += _citations(request)
    reply = MessageReply(words, len(words), stop_reason)
    if request.stop_sequences:
        _apply_stop_sequences(reply, request.stop_sequences)
    return reply


def _tool_to_call(request: MessagesRequest, directives: Directives) -> str | None:
    if not request.tools or request.tool_choice == "none":
        return None
    if request.tool_choice.startswith("tool:"):
        return request.tool_choice.removeprefix("tool:")
    if request.tool_choice == "any" or directives.tool:
        return request.tools[0]
    return None


def _apply_stop_sequences(reply: MessageReply, sequences: list[str]) -> None:
    text = ""
    longest = max(len(sequence) for sequence in sequences)
    for generated, word in enumerate(reply.words, start=1):
        start = max(0, len(text) - longest + 1)
        text += word
        hits = [(text.find(s, start), s) for s in sequences if text.find(s, start) >= 0]
        if not hits:
            continue
        position, sequence = min(hits, key=lambda hit: hit[0])
        kept: list[str] = []
        length = 0
        for piece in reply.words[:generated]:
            piece = piece[: max(0, position - length)]
            length += len(piece)
            if piece:
                kept.append(piece)
        reply.words = kept
        reply.output_tokens = generated
        reply.stop_reason = "stop_sequence"
        reply.stop_sequence = sequence
        return


def _echo_words(request: MessagesRequest) -> list[str]:
    """``[sim:echo]``: the last turn's text, then `` [images: N]`` for its N images."""
    text = strip_directives(request.directive_text())
    words = tokens.ECHO_TOKEN_RE.findall(text) or ["."]
    images = sum(1 for block in request.messages[-1].blocks if block.get("type") == "image")
    if images:
        words += tokens.ECHO_TOKEN_RE.findall(f" [images: {images}]")
    return words


def _citations(request: MessagesRequest) -> list[str]:
    """``[sim:cite]``: `` [n]`` for each numbered excerpt (a line ``[n] ...``), in order."""
    found: dict[str, None] = {}
    texts = [str(block.get("text")) for block in request.system]
    for message in request.messages:
        texts += [str(b.get("text")) for b in message.blocks if b.get("type") == "text"]
    for text in texts:
        found.update(dict.fromkeys(_EXCERPT_RE.findall(text)))
    return [f" [{n}]" for n in found]


def usage_object(usage: InputUsage, output_tokens: int) -> dict[str, object]:
    return {
        "input_tokens": usage.input_tokens,
        "cache_creation_input_tokens": usage.cache_creation,
        "cache_read_input_tokens": usage.cache_read,
        "cache_creation": {
            "ephemeral_5m_input_tokens": usage.write_5m,
            "ephemeral_1h_input_tokens": usage.write_1h,
        },
        "output_tokens": output_tokens,
        "service_tier": SERVICE_TIER,
    }


def content_blocks(reply: MessageReply) -> list[dict[str, object]]:
    if reply.tool_name is not None:
        return [{"type": "tool_use", "id": reply.tool_id, "name": reply.tool_name, "input": {}}]
    return [{"type": "text", "text": "".join(reply.words)}]


def render_message(reply: MessageReply, message_id: str, model: str, usage: InputUsage) -> bytes:
    """The non-streaming ``message`` body."""
    return orjson.dumps(
        {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content_blocks(reply),
            "stop_reason": reply.stop_reason,
            "stop_sequence": reply.stop_sequence,
            "usage": usage_object(usage, reply.output_tokens),
        }
    )
