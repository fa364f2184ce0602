"""Follow an upstream SSE stream as it is relayed (pure: bytes in, bytes out).

Complete events go out as soon as their blank line arrives. Along the way the
tracker picks up the usage chunk (which the client sees only if it asked for
it), counts content chunks (the fallback estimate if the stream is cut), and
holds back ``data: [DONE]`` so the gateway can commit the ledger entry first.
"""

from __future__ import annotations

import orjson

from chatgrid.gateway.usage import usage_from_mapping
from chatgrid.ledger.pricing import Usage

DONE_EVENT = b"data: [DONE]\n\n"
_USAGE = b'"usage"'
_NULL_USAGE = b',"usage":null'
_CONTENT = b'"content":"'
_EMPTY_CONTENT = b'"content":""'
_TOOL_ARGS = b'"arguments":"'


class StreamTracker:
    def __init__(self, *, forward_usage: bool) -> None:
        self.forward_usage = forward_usage
        self.usage: Usage | None = None
        self.done = False
        self.content_chunks = 0
        #: Chat holds back nothing but ``[DONE]``, which the sink writes itself.
        self.held = b""
        self._pending = b""

    def feed(self, data: bytes) -> bytes:
        """Take bytes from upstream; return the bytes to relay now."""
        buffer = self._pending + data if self._pending else data
        if b"\r" in buffer:  # on the joined bytes: a read may end between \r and \n
            buffer = buffer.replace(b"\r\n", b"\n")
        end = buffer.rfind(b"\n\n")
        if end < 0:
            self._pending = buffer
            return b""
        complete, self._pending = buffer[: end + 2], buffer[end + 2 :]
        if _USAGE not in complete and b"[DONE]" not in complete and b'"error"' not in complete:
            self.content_chunks += _count_content(complete)
            return complete
        return b"".join(self._event(event) for event in complete.split(b"\n\n") if event)

    def _event(self, event: bytes) -> bytes:
        if event.startswith(b"data: [DONE]") or event.startswith(b"data:[DONE]"):
            self.done = True
            return b""
        if _USAGE in event:
            event = self._take_usage(event)
            if not event:
                return b""
        self.content_chunks += _count_content(event)
        return event + b"\n\n"

    def _take_usage(self, event: bytes) -> bytes:
        if _NULL_USAGE in event:
            return event if self.forward_usage else event.replace(_NULL_USAGE, b"")
        try:
            chunk = orjson.loads(event.partition(b":")[2])
        except orjson.JSONDecodeError:
            return event
        if not isinstance(chunk, dict):
            return event
        usage = usage_from_mapping(chunk.get("usage"))
        if usage is None:
            return event
        self.usage = usage
        if self.forward_usage:
            return event
        if not chunk.get("choices"):
            return b""  # the usage-only chunk the client did not ask for
        del chunk["usage"]
        return b"data: " + orjson.dumps(chunk)


def _count_content(events: bytes) -> int:
    """Chunks that carried generated text (one token each, as OpenAI streams them)."""
    return events.count(_CONTENT) - events.count(_EMPTY_CONTENT) + events.count(_TOOL_ARGS)
