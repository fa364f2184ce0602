"""The SSE events of a streamed Messages reply, as Anthropic sends them.

Each event has its ``event:`` line (the SDK ignores events without one) and
one ``data:`` line, in Anthropic's order: ``message_start`` (usage with
``output_tokens`` 1, stop fields null), ``content_block_start``, ``ping``,
one ``content_block_delta`` per word (``text_delta``; a tool call sends its
input as one ``input_json_delta``), ``content_block_stop``, ``message_delta``
(stop reason and the cumulative usage), ``message_stop``. The first three
carry no content, so ``[sim:cut=K]`` cuts after K deltas and a cut stream
never shows its ``message_delta``; ``[sim:overload=K]`` ends it after K
deltas with Anthropic's mid-stream ``error`` event instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import orjson

from chatgrid.simulator.anthropic_reply import MessageReply, content_blocks, usage_object
from chatgrid.simulator.anthropic_usage import InputUsage

#: Events before the first delta: message_start, content_block_start, ping.
PREAMBLE: Final = 3

_PING: Final = b'event: ping\ndata: {"type": "ping"}\n\n'
_BLOCK_STOP: Final = b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
_OVERLOADED: Final = (
    b"event: error\n"
    b'data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
)
_MESSAGE_STOP: Final = b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
_TEXT_DELTA: Final = (
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":%s}}\n\n'
)
_JSON_DELTA: Final = (
    b"event: content_block_delta\ndata: "
    b'{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{}"}}'
    b"\n\n"
)


def _event(name: bytes, payload: dict[str, object]) -> bytes:
    return b"event: " + name + b"\ndata: " + orjson.dumps(payload) + b"\n\n"


def stream_events(
    reply: MessageReply,
    message_id: str,
    model: str,
    usage: InputUsage,
    overload_after: int | None = None,
) -> Iterator[tuple[bytes, int]]:
    """Every event of the stream, each with the output tokens it delivers.

    ``overload_after=K``: after K deltas an ``error`` event (``overloaded_error``)
    ends the stream, as Anthropic ends one it cannot finish.
    """
    start: dict[str, object] = {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage_object(usage, min(1, reply.output_tokens)),
    }
    yield _event(b"message_start", {"type": "message_start", "message": start}), 0
    block = content_blocks(reply)[0]
    if reply.tool_name is None:
        block["text"] = ""
    yield (
        _event(
            b"content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": block},
        ),
        0,
    )
    yield _PING, 0
    undelivered = reply.output_tokens
    if reply.tool_name is not None:
        yield _JSON_DELTA, undelivered
        undelivered = 0
    last = len(reply.words) - 1
    for index, word in enumerate(reply.words):
        if index == overload_after:
            yield _OVERLOADED, 0
            return
        # The words a stop sequence swallowed are charged to the last delta.
        tokens = undelivered if index == last else 1
        undelivered -= tokens
        yield _TEXT_DELTA % orjson.dumps(word), tokens
    if overload_after is not None:
        yield _OVERLOADED, 0
        return
    yield _BLOCK_STOP, undelivered
    final = usage_object(usage, reply.output_tokens)
    del final["cache_creation"], final["service_tier"]
    delta = {"stop_reason": reply.stop_reason, "stop_sequence": reply.stop_sequence}
    yield _event(b"message_delta", {"type": "message_delta", "delta": delta, "usage": final}), 0
    yield _MESSAGE_STOP, 0
