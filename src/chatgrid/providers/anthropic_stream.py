"""Anthropic stream events → OpenAI `chat.completion.chunk` events (pure: bytes in, bytes out).

It stands where ``gateway.sse.StreamTracker`` stands for an OpenAI upstream,
with the same surface (``feed``, ``done``, ``usage``, ``content_chunks``),
so the relay drives either the same way. What Anthropic sends, and what
goes out for it:

=======================================  ===========================================
Anthropic event                          OpenAI chunk(s)
=======================================  ===========================================
``message_start``                        ``delta: {role: assistant, content: ""}``
``content_block_start`` text             its text, if it has any
``content_block_start`` tool_use         ``tool_calls[{index, id, type, function: {name,
                                         arguments: ""}}]``
``content_block_delta`` text_delta       ``delta: {content}``
``content_block_delta`` input_json_delta ``tool_calls[{index, function: {arguments}}]``
``message_delta``                        ``delta: {}`` with ``finish_reason``
``message_stop``                         the usage chunk (``choices: []``), if the
                                         client asked ``stream_options.include_usage``
``error``                                ``{"error": {...}}`` in OpenAI's shape
``ping``, thinking, anything new         nothing
=======================================  ===========================================

``data: [DONE]`` is not written here: as for OpenAI, the relay sends it once
the ledger entry is committed (``done`` says the upstream finished).
Chunks are assembled from pre-built byte strings around the one part that
changes; a text delta in Anthropic's own layout is not even parsed: its JSON
string goes into the chunk as it came (anything else is parsed and rebuilt).
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from chatgrid.errors import ChatGridError
from chatgrid.ledger.pricing import Usage
from chatgrid.providers.anthropic_answer import AnthropicUsage, finish_reason
from chatgrid.providers.anthropic_errors import error_from_anthropic

_OPEN_END: Final = b',"logprobs":null,"finish_reason":null}]}\n\n'
_ROLE: Final = b'{"role":"assistant","content":""}'
_CONTENT: Final = b'{"content":'
_TEXT_DELTA_HEAD: Final = b'{"type":"content_block_delta","index":'
_TEXT_DELTA_TEXT: Final = b',"delta":{"type":"text_delta","text":"'


class AnthropicStream:
    """Translate one streamed Anthropic answer for an OpenAI client."""

    def __init__(self, *, forward_usage: bool, created: int, model: str = "") -> None:
        self.forward_usage = forward_usage
        self.created = created
        self.done = False
        self.content_chunks = 0
        #: Nothing is held back to go after the ledger entry but ``[DONE]`` (the sink's).
        self.held = b""
        self.error: ChatGridError | None = None
        """Set by an ``error`` event: the stream failed part-way (already sent to the client)."""
        self.anthropic_usage: AnthropicUsage | None = None
        """The counts so far: input from ``message_start``, all four after ``message_delta``."""
        self._finished = False
        self._pending = b""
        self._id = ""
        self._model = model
        self._head = b""
        self._tools: dict[int, int] = {}  # Anthropic block index → OpenAI tool call index
        self._set_head()

    @property
    def usage(self) -> Usage | None:
        """The call's exact usage for the ledger, once ``message_delta`` reported it."""
        if not self._finished or self.anthropic_usage is None:
            return None
        return self.anthropic_usage.ledger_usage()

    def estimate(self) -> Usage | None:
        """For a stream cut short: the prompt as ``message_start`` counted it, one output
        token per content chunk; None if the stream never started."""
        if self.anthropic_usage is None:
            return None
        known = self.anthropic_usage
        return Usage(
            prompt_tokens=known.prompt_tokens,
            cached_tokens=known.cache_read_tokens,
            completion_tokens=max(known.output_tokens, self.content_chunks),
            cache_write_tokens=known.cache_write_tokens,
            cache_write_1h_tokens=known.cache_write_1h_tokens,
        )

    def feed(self, data: bytes) -> bytes:
        """Take bytes from upstream (split anywhere); return the OpenAI events to relay now."""
        buffer = self._pending + data if self._pending else data
        if b"\r" in buffer:  # on the joined bytes: a CRLF may be split between two reads
            buffer = buffer.replace(b"\r\n", b"\n")
        end = buffer.rfind(b"\n\n")
        if end < 0:
            self._pending = buffer
            return b""
        complete, self._pending = buffer[: end + 2], buffer[end + 2 :]
        if complete.find(b"\n\n") == end:  # one event: the usual read
            return self._translate_raw(complete)
        return b"".join([self._translate_raw(raw) for raw in complete.split(b"\n\n") if raw])

    def _translate_raw(self, raw: bytes) -> bytes:
        line = raw.find(b"\ndata: ")  # Anthropic's way: an event line, then one data line
        end = raw.find(b"\n", line + 7) if line >= 0 else -1
        if end >= 0 and raw.find(b"\ndata:", end) < 0:
            payload: bytes | None = raw[line + 7 : end]
        else:
            payload = _data_of(raw)
        if payload is None:
            return b""
        if payload.startswith(_TEXT_DELTA_HEAD) and payload.endswith(b'"}}'):
            start = payload.find(_TEXT_DELTA_TEXT, len(_TEXT_DELTA_HEAD))
            # With no quote inside, the rest is the text's own JSON string as Anthropic
            # escaped it, and the event holds nothing else: it goes out unparsed.
            if start > 0 and b'"' not in payload[start + len(_TEXT_DELTA_TEXT) : -3]:
                self.content_chunks += 1
                text = payload[start + len(_TEXT_DELTA_TEXT) - 1 : -2]
                return self._head + _CONTENT + text + b"}" + _OPEN_END
        try:
            event = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return b""  # not JSON: nothing a client could use
        return self.translate_event(event) if isinstance(event, dict) else b""

    def translate_event(self, event: dict[str, Any]) -> bytes:
        """The OpenAI SSE bytes for one Anthropic event already parsed."""
        kind = event.get("type")
        if kind == "content_block_delta":
            return self._delta(event)
        if kind == "message_start":
            return self._start(event.get("message") or {})
        if kind == "content_block_start":
            return self._block_start(event)
        if kind == "message_delta":
            return self._message_delta(event)
        if kind == "message_stop":
            self.done = True
            return self._usage_chunk() if self.forward_usage and self._finished else b""
        if kind == "error":
            error = event.get("error")
            self.error = error_from_anthropic(error if isinstance(error, dict) else {})
            return b"data: " + self.error.to_json() + b"\n\n"
        return b""  # ping, content_block_stop, and event types Anthropic may add

    def _set_head(self) -> None:
        self._head = (
            b'data: {"id":'
            + orjson.dumps(self._id)
            + b',"object":"chat.completion.chunk","created":'
            + str(self.created).encode()
            + b',"model":'
            + orjson.dumps(self._model)
            + b',"choices":[{"index":0,"delta":'
        )

    def _chunk(self, delta: bytes) -> bytes:
        return self._head + delta + _OPEN_END

    def _start(self, message: dict[str, Any]) -> bytes:
        self._id = message.get("id") or self._id
        self._model = message.get("model") or self._model
        self._set_head()
        self.anthropic_usage = AnthropicUsage.from_mapping(message.get("usage"))
        return self._chunk(_ROLE)

    def _block_start(self, event: dict[str, Any]) -> bytes:
        block = event.get("content_block") or {}
        kind = block.get("type")
        if kind == "text":
            text = block.get("text")
            return self._chunk(_CONTENT + orjson.dumps(text) + b"}") if text else b""
        if kind != "tool_use":
            return b""
        position = len(self._tools)
        self._tools[event.get("index", position)] = position
        call = {
            "index": position,
            "id": block.get("id"),
            "type": "function",
            "function": {"name": block.get("name"), "arguments": ""},
        }
        return self._chunk(orjson.dumps({"tool_calls": [call]}))

    def _delta(self, event: dict[str, Any]) -> bytes:
        delta = event.get("delta") or {}
        kind = delta.get("type")
        if kind == "text_delta":
            self.content_chunks += 1
            return self._chunk(_CONTENT + orjson.dumps(delta.get("text", "")) + b"}")
        if kind == "input_json_delta":
            fragment = delta.get("partial_json")
            position = self._tools.get(event.get("index", -1))
            if not fragment or position is None:
                return b""
            self.content_chunks += 1
            call = {"index": position, "function": {"arguments": fragment}}
            return self._chunk(orjson.dumps({"tool_calls": [call]}))
        return b""  # thinking, signatures, citations: no OpenAI form

    def _message_delta(self, event: dict[str, Any]) -> bytes:
        self.anthropic_usage = AnthropicUsage.from_mapping(event.get("usage"), self.anthropic_usage)
        self._finished = True
        reason = finish_reason((event.get("delta") or {}).get("stop_reason"))
        return (
            self._head + b'{},"logprobs":null,"finish_reason":' + orjson.dumps(reason) + b"}]}\n\n"
        )

    def _usage_chunk(self) -> bytes:
        usage = (self.anthropic_usage or AnthropicUsage()).openai_usage()
        chunk = {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self._model,
            "choices": [],
            "usage": usage,
        }
        return b"data: " + orjson.dumps(chunk) + b"\n\n"


def _data_of(event: bytes) -> bytes | None:
    """The data of one SSE event (its ``data:`` lines joined), None if it has none."""
    start = event.find(b"data:")
    if start < 0:
        return None
    if start == 0 or event[start - 1] == 10:  # a line of its own
        end = event.find(b"\n", start)
        if end < 0 or event.find(b"\ndata:", end) < 0:  # the one data line (Anthropic's way)
            line = event[start + 5 :] if end < 0 else event[start + 5 : end]
            return line[1:] if line[:1] == b" " else line
    found = [
        line[6:] if line.startswith(b"data: ") else line[5:]
        for line in event.split(b"\n")
        if line.startswith(b"data:")
    ]
    return b"\n".join(found) if found else None
