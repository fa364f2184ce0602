"""Tiny ASGI helpers for the hot path (no framework between us and the socket)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from chatgrid.errors import ChatGridError, InvalidRequest, RequestTooLarge

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

JSON_HEADERS = [(b"content-type", b"application/json")]
SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


class ClientDisconnected(Exception):
    """The client went away before its request body arrived."""


def header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def client_address(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


async def read_body(receive: Receive, limit: int, seconds: float = 30.0) -> bytes:
    """The whole request body, refused past ``limit`` bytes or ``seconds``.

    Small bodies arrive in one message; only a body in several parts pays for
    the timer that stops a client trickling bytes forever.
    """
    first = await _body_part(receive)
    size = len(first[0])
    if size > limit:
        raise RequestTooLarge(f"request body is larger than {limit} bytes")
    if not first[1]:
        return first[0]
    chunks = [first[0]]
    try:
        async with asyncio.timeout(seconds):
            more = True
            while more:
                chunk, more = await _body_part(receive)
                size += len(chunk)
                if size > limit:
                    raise RequestTooLarge(f"request body is larger than {limit} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise InvalidRequest(
            f"the request body did not arrive within {seconds:.0f} seconds",
            code="request_timeout",
            status=408,
        ) from None
    return b"".join(chunks)


async def _body_part(receive: Receive) -> tuple[bytes, bool]:
    message = await receive()
    if message["type"] == "http.disconnect":
        raise ClientDisconnected
    return message.get("body", b""), bool(message.get("more_body", False))


async def send_bytes(
    send: Send,
    status: int,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_error(
    send: Send, error: ChatGridError, extra_headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [*JSON_HEADERS, *error.headers(), *(extra_headers or [])]
    await send_bytes(send, error.status, error.to_json(), headers)
