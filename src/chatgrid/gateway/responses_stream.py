"""Follow a Responses API event stream as it is relayed (pure: bytes in, bytes out).

Its events are ``event: TYPE`` / ``data: {...}`` pairs; the last one
(``response.completed``, ``response.incomplete`` or ``response.failed``)
carries the call's usage in its ``response``. That event is held back
(:attr:`ResponsesStreamTracker.held`) until the ledger entry is committed, as
chat holds back ``data: [DONE]``.
"""

from __future__ import annotations

import orjson

from chatgrid.gateway.usage import usage_from_mapping
from chatgrid.ledger.pricing import Usage

_FINAL = (
    b"event: response.completed",
    b"event: response.incomplete",
    b"event: response.failed",
)
_ERROR = b"event: error"
_DELTAS = (b"event: response.output_text.delta", b"event: response.function_call_arguments.delta")


class ResponsesStreamTracker:
    def __init__(self) -> None:
        self.usage: Usage | None = None
        self.done = False
        self.content_chunks = 0
        #: The final event, sent once the ledger entry is committed.
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
        passed = []
        for event in complete.split(b"\n\n"):
            if not event:
                continue
            if event.startswith(_DELTAS):
                self.content_chunks += 1
            elif event.startswith(_FINAL):
                self._final(event)
                self.held += event + b"\n\n"
                continue
            elif event.startswith(_ERROR):
                self.done = True
            passed.append(event + b"\n\n")
        return b"".join(passed)

    def _final(self, event: bytes) -> None:
        self.done = True
        _, _, payload = event.partition(b"\ndata:")
        try:
            data = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return
        response = data.get("response") if isinstance(data, dict) else None
        if isinstance(response, dict):
            self.usage = usage_from_mapping(response.get("usage"))
