"""Where a relayed answer goes: a ``/v1`` client's socket, or the workspace.

The relay does the I/O with the upstream and the ledger, and hands the
answer to a sink in the order the ledger promises (the entry is committed
before a whole answer is handed over, and before a stream is closed). A
sink only says how the answer leaves: :class:`AsgiSink` writes it to the
client as HTTP bytes; the workspace's sink (``gateway/workspace.py``) keeps
it as values for the chat and the document pipeline.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from chatgrid.errors import ChatGridError
from chatgrid.gateway.http import (
    JSON_HEADERS,
    SSE_HEADERS,
    Message,
    Receive,
    Send,
    send_bytes,
    send_error,
)
from chatgrid.gateway.sse import DONE_EVENT


class Sink(Protocol):
    """The receiving end of one relayed call.

    Each call gets exactly one of: :meth:`answer`, :meth:`refuse`, or
    :meth:`open_stream` followed by :meth:`stream_events` (any number),
    :meth:`stop_listening` and, unless the receiver hung up, :meth:`close_stream`.
    """

    async def answer(
        self, body: bytes, content_type: bytes, call_id: str, upstream_id: str | None
    ) -> None:
        """A whole successful answer, its ledger entry already committed."""

    async def refuse(
        self,
        error: ChatGridError,
        call_id: str | None,
        upstream_id: str | None,
        upstream_body: bytes | None = None,
    ) -> None:
        """The call failed (``call_id`` None: no ledger entry names it). ``upstream_body``
        is the upstream's own OpenAI-shaped error, which ``/v1`` passes on as it was sent."""

    async def open_stream(self, call_id: str, upstream_id: str | None) -> None:
        """A stream begins (the upstream answered 200)."""

    def hung_up(self) -> bool:
        """The receiver has gone: the relay drains the upstream without passing it on."""

    async def stream_events(self, events: bytes) -> None:
        """Complete SSE events (each ending in a blank line), as the upstream sent them."""

    def stop_listening(self) -> bool:
        """The upstream stream is over: stop watching for a hang-up; whether one came."""

    async def close_stream(self, error: ChatGridError | None) -> None:
        """The end of the stream, after its ledger entry: complete (None) or broken off."""


def _id_headers(call_id: str, upstream_id: str | None) -> list[tuple[bytes, bytes]]:
    headers = [(b"x-request-id", call_id.encode())]
    if upstream_id:
        headers.append((b"x-upstream-request-id", upstream_id.encode()[:200]))
    return headers


class AsgiSink:
    """The ``/v1`` client: the answer as OpenAI's wire format, on the request's ASGI channel."""

    __slots__ = ("_disconnected", "receive", "request_id", "send", "status")

    def __init__(self, receive: Receive, send: Send, request_id: str | None = None) -> None:
        self.receive = receive
        self.send = send
        #: The request's own id (``request_ids``); without one, the call's id names it.
        self.request_id = request_id
        self._disconnected: asyncio.Future[Message] | None = None
        #: The HTTP status the client was answered with (for ``/metrics``); 0 before that.
        self.status = 0

    async def answer(
        self, body: bytes, content_type: bytes, call_id: str, upstream_id: str | None
    ) -> None:
        headers = [(b"content-type", content_type), *self._ids(call_id, upstream_id)]
        self.status = 200
        await send_bytes(self.send, 200, body, headers)

    async def refuse(
        self,
        error: ChatGridError,
        call_id: str | None,
        upstream_id: str | None,
        upstream_body: bytes | None = None,
    ) -> None:
        ids = self._ids(call_id, upstream_id)
        self.status = error.status
        if upstream_body is None:
            await send_error(self.send, error, ids)
        else:
            await send_bytes(self.send, error.status, upstream_body, [*JSON_HEADERS, *ids])

    async def open_stream(self, call_id: str, upstream_id: str | None) -> None:
        start = {
            "type": "http.response.start",
            "status": 200,
            "headers": [*SSE_HEADERS, *self._ids(call_id, upstream_id)],
        }
        self.status = 200
        await self.send(start)
        # The request body has been read: the next message is the client hanging up.
        self._disconnected = asyncio.ensure_future(self.receive())

    def _ids(self, call_id: str | None, upstream_id: str | None) -> list[tuple[bytes, bytes]]:
        named = self.request_id or call_id
        return [] if named is None else _id_headers(named, upstream_id)

    def hung_up(self) -> bool:
        return self._disconnected is not None and self._disconnected.done()

    async def stream_events(self, events: bytes) -> None:
        await self.send({"type": "http.response.body", "body": events, "more_body": True})

    def stop_listening(self) -> bool:
        disconnected = self._disconnected
        if disconnected is None:
            return False
        disconnected.cancel()
        return disconnected.done() and not disconnected.cancelled()

    async def close_stream(self, error: ChatGridError | None) -> None:
        tail = DONE_EVENT if error is None else b"data: " + error.to_json() + b"\n\n"
        with contextlib.suppress(OSError):
            await self.send({"type": "http.response.body", "body": tail, "more_body": False})
