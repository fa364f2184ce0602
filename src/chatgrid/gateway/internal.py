"""The workspace's door into the gateway: a member's call on ``/v1``'s own path.

Chat messages and document embeddings made in the browser must meet the
same billing mode, limits, reservations and ledger as an SDK call — never a
side road around them. So the workspace hands the gateway the same request
body an SDK would send, over an in-memory ASGI exchange, and reads the
answer back the way a client would: status, headers, then body pieces.
Closing the exchange early is a client hanging up, so the gateway drains
the upstream and ledgers the real usage, as it does for ``/v1``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from chatgrid.errors import (
    AuthenticationFailed,
    ChatGridError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    QuotaExhausted,
    RateLimited,
    UpstreamFailed,
)
from chatgrid.gateway.directory import Caller
from chatgrid.gateway.http import Message
from chatgrid.identity.tokens import member_user_tag

if TYPE_CHECKING:
    from chatgrid.gateway.app import Gateway

#: ``ledger_entries.token_id`` of calls made from the workspace (no API token involved).
WORKSPACE_TOKEN_ID = "workspace"  # noqa: S105 (an id, not a secret)


def workspace_caller(org_id: str, member_id: str) -> Caller:
    """The caller of a signed-in member's workspace call (the console checked membership)."""
    return Caller(
        token_id=WORKSPACE_TOKEN_ID,
        org_id=org_id,
        member_id=member_id,
        user_tag=member_user_tag(member_id),
        expires_at=None,
    )


_ERRORS_BY_STATUS: dict[int, type[ChatGridError]] = {
    400: InvalidRequest,
    401: AuthenticationFailed,
    403: PermissionDenied,
    404: NotFound,
    429: RateLimited,
}


def error_from_body(status: int, body: bytes, retry_after: str | None = None) -> ChatGridError:
    """Turn the gateway's OpenAI-shaped error back into an exception of the same kind."""
    try:
        error = orjson.loads(body)["error"]
        message = str(error["message"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return UpstreamFailed(f"the call failed (HTTP {status})", status=status)
    code = error.get("code") if isinstance(error.get("code"), str) else None
    param = error.get("param") if isinstance(error.get("param"), str) else None
    kind = _ERRORS_BY_STATUS.get(status, UpstreamFailed)
    if code == "insufficient_quota":
        kind = QuotaExhausted
    seconds = int(retry_after) if retry_after and retry_after.isdigit() else None
    return kind(message, code=code, param=param, retry_after=seconds, status=status)


@dataclass
class Exchange:
    """One in-memory HTTP exchange with the gateway, read as a client would."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    _pieces: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    _gone: asyncio.Event = field(default_factory=asyncio.Event)
    _started: asyncio.Event = field(default_factory=asyncio.Event)

    async def receive(self) -> Message:
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            self.headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in message["headers"]}
            self._started.set()
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            if body:
                self._pieces.put_nowait(body)
            if not message.get("more_body", False):
                self._pieces.put_nowait(None)

    def hang_up(self) -> None:
        self._gone.set()

    @property
    def answered(self) -> bool:
        """The gateway has sent the status line and headers."""
        return self._started.is_set()

    async def wait_answered(self) -> None:
        await self._started.wait()

    async def pieces(self) -> AsyncIterator[bytes]:
        while (piece := await self._pieces.get()) is not None:
            yield piece

    async def body(self) -> bytes:
        return b"".join([piece async for piece in self.pieces()])


class WorkspaceGateway:
    """Chat streams and embeddings for a member, through :class:`Gateway`."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def models(self, org_id: str, member_id: str) -> list[str]:
        return await self.gateway.models_for(workspace_caller(org_id, member_id))

    @contextlib.asynccontextmanager
    async def _call(
        self, org_id: str, member_id: str, endpoint: str, body: dict[str, Any]
    ) -> AsyncIterator[Exchange]:
        exchange = Exchange()
        caller = workspace_caller(org_id, member_id)
        task = asyncio.ensure_future(
            self.gateway.call_as(
                caller, endpoint, orjson.dumps(body), exchange.receive, exchange.send
            )
        )
        started = asyncio.ensure_future(exchange.wait_answered())
        try:
            await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
            if not exchange.answered:
                task.result()  # the call ended without an answer: raise what it raised
                raise UpstreamFailed("the gateway gave no answer")
            yield exchange
        finally:
            started.cancel()
            exchange.hang_up()
            # The gateway ledgers the call before it returns; wait for that.
            await asyncio.shield(task)

    @contextlib.asynccontextmanager
    async def chat_stream(
        self, org_id: str, member_id: str, body: dict[str, Any]
    ) -> AsyncIterator[ChatStream]:
        """Open a streamed chat completion; leaving the block early hangs up."""
        body = {**body, "stream": True, "stream_options": {"include_usage": True}}
        async with self._call(org_id, member_id, "chat", body) as exchange:
            if exchange.status != 200:
                raise error_from_body(
                    exchange.status, await exchange.body(), exchange.headers.get("retry-after")
                )
            yield ChatStream(exchange)

    async def embed(
        self, org_id: str, member_id: str, texts: list[str], model: str, dimensions: int
    ) -> tuple[list[bytes], str | None]:
        """Embed ``texts``; float32 little-endian vectors in input order, and the call id."""
        body = {
            "model": model,
            "input": texts,
            "dimensions": dimensions,
            "encoding_format": "base64",
        }
        async with self._call(org_id, member_id, "embeddings", body) as exchange:
            payload = await exchange.body()
            if exchange.status != 200:
                raise error_from_body(exchange.status, payload, exchange.headers.get("retry-after"))
            call_id = exchange.headers.get("x-request-id")
        try:
            items = sorted(orjson.loads(payload)["data"], key=lambda item: item["index"])
            vectors = [base64.b64decode(item["embedding"]) for item in items]
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise UpstreamFailed("the embeddings answer could not be read") from exc
        if len(vectors) != len(texts) or any(len(v) != dimensions * 4 for v in vectors):
            raise UpstreamFailed("the embeddings answer did not match the request")
        return vectors, call_id


@dataclass
class ChatStream:
    """The text of a streamed answer as it arrives, then its usage and call id."""

    exchange: Exchange
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None

    @property
    def call_id(self) -> str | None:
        return self.exchange.headers.get("x-request-id")

    async def deltas(self) -> AsyncIterator[str]:
        """Content deltas; raises the stream's error event as a :class:`ChatGridError`."""
        buffer = b""
        async for piece in self.exchange.pieces():
            buffer += piece
            while b"\n\n" in buffer:
                event, buffer = buffer.split(b"\n\n", 1)
                text = self._read_event(event)
                if text:
                    yield text

    def _read_event(self, event: bytes) -> str | None:
        data = b"\n".join(
            line[5:].lstrip() for line in event.split(b"\n") if line.startswith(b"data:")
        )
        if not data or data == b"[DONE]":
            return None
        chunk = orjson.loads(data)
        if "error" in chunk:
            raise error_from_body(502, data)
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        pieces: list[str] = []
        for choice in chunk.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
            content = (choice.get("delta") or {}).get("content")
            if content:
                pieces.append(content)
        return "".join(pieces) or None
