"""An answer in flight: produced by its own task, read as events by the page.

The answer is made by a task of its own, not by the response that streams
it, so it is finished in the store whatever the connection does: read to
the end (``complete``), left early because the member pressed Stop or
closed the tab (``stopped``, with the text so far), or broken off by the
upstream (``failed``, with the reason, as the gateway's typed error said
it). Leaving the event stream cancels the task, which hangs up on the
gateway: the gateway then drains the upstream and ledgers the real usage,
as for any client that hangs up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from chatgrid.chat.models import ChatMessage, Citation, Status
from chatgrid.chat.prompt import cited
from chatgrid.chat.render import render_markdown
from chatgrid.errors import ChatGridError, UpstreamFailed

log = logging.getLogger(__name__)

Ending = Literal["complete", "stopped", "failed"]


class AnswerStore(Protocol):
    """Where a finished answer is written (the conversation repository).

    Declared here, by the part that needs it, so chat depends on no storage
    module and storage keeps depending on chat's models only.
    """

    def finish(
        self,
        org_id: str,
        message_id: str,
        *,
        content: str,
        status: Status,
        call_id: str | None,
        retrieval_call_id: str | None,
        citations: Iterable[Citation],
        error: str | None = None,
        error_code: str | None = None,
    ) -> ChatMessage: ...


class AnswerStream(Protocol):
    """The model's answer as it arrives (``gateway.workspace.ChatStream``)."""

    @property
    def call_id(self) -> str | None:
        """The ledger entry's call id, once the upstream has answered."""

    def deltas(self) -> AsyncIterator[str]:
        """Pieces of text; raises the typed error that ended the answer."""


@dataclass(frozen=True, slots=True)
class Started:
    user_message: ChatMessage | None
    assistant_message_id: str


@dataclass(frozen=True, slots=True)
class Delta:
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class Finished:
    message: ChatMessage


@dataclass(frozen=True, slots=True)
class Failed:
    message: str
    code: str | None


TurnEvent = Started | Delta | Finished | Failed


@dataclass
class Turn:
    """One answer being streamed; :meth:`start` it, then iterate :meth:`events` once."""

    store: AnswerStore
    stack: contextlib.AsyncExitStack
    stream: AnswerStream
    org_id: str
    user_message: ChatMessage | None
    assistant: ChatMessage
    given: list[Citation]
    retrieval_call_id: str | None
    _events: asyncio.Queue[TurnEvent | None] = field(default_factory=asyncio.Queue)
    _task: asyncio.Task[None] | None = None
    #: The answer as it was kept, once the turn is over (what comes after it reads it).
    final: ChatMessage | None = None

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.ensure_future(self._produce())
        return self._task

    async def ended(self) -> ChatMessage | None:
        """The answer as kept, once the turn is over; waiting here does not read its events."""
        if self._task is not None:
            await asyncio.wait([self._task])
        return self.final

    async def events(self) -> AsyncIterator[TurnEvent]:
        """The answer's events; leaving before the end stops the answer."""
        try:
            while (event := await self._events.get()) is not None:
                yield event
        finally:
            if self._task is not None and not self._task.done():
                self._task.cancel()

    async def _produce(self) -> None:
        put = self._events.put_nowait
        put(Started(self.user_message, self.assistant.id))
        text = ""
        ending: Ending = "stopped"
        failure: ChatGridError | None = None
        try:
            async for piece in self.stream.deltas():
                text += piece
                put(Delta(piece, render_markdown(text)))
            ending = "complete"
        except asyncio.CancelledError:
            pass  # Stop: keep what was said so far
        except ChatGridError as error:
            ending, failure = "failed", error
        except Exception:
            log.exception("an answer broke off: message=%s", self.assistant.id)
            ending = "failed"
            failure = UpstreamFailed("The answer broke off; try again.", code="answer_failed")
        # A finished stream's ledger row is committed before its last event; a
        # stopped one is ledgered once the gateway has drained the upstream.
        message = await asyncio.to_thread(self._finish, text, ending, failure)
        await self.stack.aclose()
        self.final = message
        if failure is not None:
            put(Failed(failure.message, failure.code))
        put(Finished(message))
        put(None)

    def _finish(self, text: str, ending: Ending, failure: ChatGridError | None) -> ChatMessage:
        return self.store.finish(
            self.org_id,
            self.assistant.id,
            content=text,
            status=ending,
            call_id=self.stream.call_id,
            retrieval_call_id=self.retrieval_call_id,
            citations=cited(text, self.given) if self.given else [],
            error=failure.message if failure else None,
            error_code=failure.code if failure else None,
        )
