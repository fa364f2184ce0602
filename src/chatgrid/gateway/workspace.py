"""The workspace's calls: a signed-in member's chat answers and embeddings.

They meet the same billing mode, limits, reservations and ledger as an SDK
call on ``/v1`` — never a side road around them — because they go through
the same two steps: ``Gatekeeper.admit`` (a refusal is raised here, as the
typed exception admission raised) and ``Gateway.relay_and_settle``. Only the
sink differs: :class:`WorkspaceSink` keeps the answer as values (the
upstream's events, its JSON, or the typed error the relay chose) instead of
writing HTTP bytes. Leaving early is a client hanging up: the relay drains
the upstream and ledgers the real usage, as it does for ``/v1``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from chatgrid.errors import ChatGridError, UpstreamFailed
from chatgrid.gateway.bodies import PreparedCall, chat_call, embeddings_call
from chatgrid.gateway.directory import Caller
from chatgrid.gateway.upstream_answers import upstream_error
from chatgrid.identity.tokens import member_user_tag
from chatgrid.ledger.entries import LedgerEntry

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


def _broke_off() -> ChatGridError:
    return UpstreamFailed("The answer broke off; try again.", code="answer_failed")


class WorkspaceSink:
    """The relay's answer kept for the workspace: no wire, no JSON of our own in between."""

    def __init__(self) -> None:
        self.answered = asyncio.Event()  # an answer, a refusal, a stream, or the relay's end
        self.call_id: str | None = None
        self.body = b""
        self.error: ChatGridError | None = None
        #: Complete SSE events; then None (complete) or the error that ended the stream.
        self.events: asyncio.Queue[bytes | ChatGridError | None] = asyncio.Queue()
        self._closed = False
        self._gone = False

    def hang_up(self) -> None:
        """The reader left: the relay drains the upstream and passes nothing on."""
        self._gone = True

    def relay_ended(self, _: object = None) -> None:
        """The relay is done, however it ended: nobody waits for a word that will not come."""
        self.answered.set()
        if not self._closed:
            self._closed = True
            self.events.put_nowait(_broke_off())

    async def answer(
        self, body: bytes, content_type: bytes, call_id: str, upstream_id: str | None
    ) -> None:
        self.call_id, self.body = call_id, body
        self.answered.set()

    async def refuse(
        self,
        error: ChatGridError,
        call_id: str | None,
        upstream_id: str | None,
        upstream_body: bytes | None = None,
    ) -> None:
        self.call_id, self.error = call_id, error
        self.answered.set()

    async def open_stream(self, call_id: str, upstream_id: str | None) -> None:
        self.call_id = call_id
        self.answered.set()

    def hung_up(self) -> bool:
        return self._gone

    async def stream_events(self, events: bytes) -> None:
        self.events.put_nowait(events)

    def stop_listening(self) -> bool:
        return self._gone

    async def close_stream(self, error: ChatGridError | None) -> None:
        if not self._closed:
            self._closed = True
            self.events.put_nowait(error)


class WorkspaceGateway:
    """Chat streams and embeddings for a member, through :class:`Gateway`'s own steps."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def models(self, org_id: str, member_id: str) -> list[str]:
        self.gateway.sync.check()
        return await self.gateway.gatekeeper.models_for(workspace_caller(org_id, member_id))

    @contextlib.asynccontextmanager
    async def _call(self, caller: Caller, prepared: PreparedCall) -> AsyncIterator[WorkspaceSink]:
        """Admit the call here (a refusal is raised as is), relay it in a task of its own.

        The relay runs apart from the reader so that a reader who leaves (a
        Stop, a closed tab, a cancelled ingestion) only hangs up: the call is
        still drained, ledgered and settled before the block is left.
        """
        gateway = self.gateway
        gateway.sync.check()
        admitted = await gateway.gatekeeper.admit(caller, prepared, None)
        sink = WorkspaceSink()
        relayed: asyncio.Future[LedgerEntry | None] = asyncio.ensure_future(
            gateway.relay_and_settle(admitted, sink)
        )
        relayed.add_done_callback(sink.relay_ended)
        try:
            await sink.answered.wait()
            if sink.error is not None:
                raise sink.error
            if sink.call_id is None:  # the relay ended without a word: raise what it raised
                relayed.result()
                raise _broke_off()
            yield sink
        finally:
            sink.hang_up()
            await asyncio.shield(relayed)

    @contextlib.asynccontextmanager
    async def chat_stream(
        self, org_id: str, member_id: str, body: dict[str, Any]
    ) -> AsyncIterator[ChatStream]:
        """Open a streamed chat completion; leaving the block early hangs up."""
        caller = workspace_caller(org_id, member_id)
        prepared = chat_call({**body, "stream": True}, caller.user_tag)
        async with self._call(caller, prepared) as sink:
            yield ChatStream(sink)

    async def embed(
        self, org_id: str, member_id: str, texts: list[str], model: str, dimensions: int
    ) -> tuple[list[bytes], str | None]:
        """Embed ``texts``; float32 little-endian vectors in input order, and the call id."""
        caller = workspace_caller(org_id, member_id)
        request = {
            "model": model,
            "input": texts,
            "dimensions": dimensions,
            "encoding_format": "base64",
        }
        async with self._call(caller, embeddings_call(request, caller.user_tag)) as sink:
            payload, call_id = sink.body, sink.call_id
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
    """The text of a streamed answer as it arrives, and the call id of its ledger entry."""

    sink: WorkspaceSink

    @property
    def call_id(self) -> str | None:
        return self.sink.call_id

    async def deltas(self) -> AsyncIterator[str]:
        """Content deltas; raises the error that ended the stream, as the relay typed it."""
        while (events := await self.sink.events.get()) is not None:
            if isinstance(events, ChatGridError):
                raise events
            for event in events.split(b"\n\n"):
                text = _content_of(event)
                if text:
                    yield text


def _content_of(event: bytes) -> str | None:
    """The first choice's content in one upstream SSE event (an upstream error is raised)."""
    data = b"\n".join(line[5:].lstrip() for line in event.split(b"\n") if line.startswith(b"data:"))
    if not data or data == b"[DONE]":
        return None
    chunk = orjson.loads(data)
    if not isinstance(chunk, dict):
        return None
    if "error" in chunk:  # the upstream's own error event, passed through by the relay
        message, code, param = upstream_error(chunk) or (
            "The upstream reported an error.",
            None,
            None,
        )
        raise UpstreamFailed(message, code=code, param=param)
    pieces: list[str] = []
    for choice in chunk.get("choices") or []:
        if choice.get("index", 0) != 0:
            continue
        content = (choice.get("delta") or {}).get("content")
        if content:
            pieces.append(content)
    return "".join(pieces) or None
