"""ASGI plumbing: reading the body, writing responses, cutting a connection.

Kept apart from the handlers so they stay plain functions of the request, and
so the one uvicorn-specific trick (closing the socket to simulate an upstream
that dies mid-response) lives in one place.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from random import getrandbits
from typing import Any, Final

from chatgrid.simulator import errors

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

MAX_BODY: Final = 8 * 1024 * 1024

JSON_TYPE: Final = (b"content-type", b"application/json")
EVENT_STREAM_TYPE: Final = (b"content-type", b"text/event-stream; charset=utf-8")


class ConnectionCut(Exception):
    """Raised when the server gives no way to close the socket; servers then drop it."""


def new_request_id() -> str:
    return f"req_{getrandbits(128):032x}"


async def read_body(receive: Receive, declared_length: int | None) -> bytes:
    """The whole request body, refusing anything over ``MAX_BODY`` with a 413."""
    if declared_length is not None and declared_length > MAX_BODY:
        raise errors.body_too_large(MAX_BODY)
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        if len(body) > MAX_BODY:
            raise errors.body_too_large(MAX_BODY)
        return body
    chunks = [body]
    size = len(body)
    while message.get("more_body", False):
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise errors.body_too_large(MAX_BODY)
        chunks.append(chunk)
    return b"".join(chunks)


async def send_bytes(send: Send, status: int, body: bytes, headers: Headers) -> None:
    """A complete response; ``headers`` must not carry content-length already."""
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def abort_connection(
    send: Send, receive: Receive, watcher: asyncio.Future[None] | None = None
) -> None:
    """Close the client's socket without finishing the HTTP response.

    ASGI has no message for this, so reach uvicorn's transport through the
    bound ``send`` method, close it, and wait until uvicorn has noticed the
    loss (otherwise it logs "returned without completing response");
    ``watcher`` is a task already waiting for the disconnect, if there is one.
    Under a server without that attribute, raise ``ConnectionCut``: every ASGI
    server drops the connection when the application fails.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionCut
    transport.close()
    if watcher is None:
        await asyncio.wait_for(wait_for_disconnect(receive), timeout=5)
    else:
        await asyncio.wait_for(watcher, timeout=5)


async def wait_for_disconnect(receive: Receive) -> None:
    """Return once the client has gone (or the server says the exchange is over)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
