"""One turn of a conversation: find passages, call the model, stream, keep the answer.

A turn is opened before anything is written: the question's embedding and
the chat call both go through the gateway, and only once the gateway has
accepted the call are the question and a placeholder answer stored. A
refusal (limit, allowance, trial, key) therefore leaves the conversation as
it was and the member's text in the composer. Once streaming, the answer is
always finished in the store — complete, stopped (the member hung up) or
failed — with the ids of the ledger rows it cost.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Final, Literal

import anyio

from chatgrid.chat.models import ChatMessage, Citation, Conversation, title_from
from chatgrid.chat.prompt import build_messages, citations_for, cited
from chatgrid.chat.render import render_markdown
from chatgrid.context import AppContext
from chatgrid.documents.models import Passage
from chatgrid.documents.retrieval import Retriever
from chatgrid.errors import ChatGridError, InvalidRequest, NotFound
from chatgrid.gateway.internal import ChatStream, WorkspaceGateway
from chatgrid.store.conversations import ConversationRepository

Mode = Literal["send", "regenerate", "edit"]
MAX_QUESTION_CHARS: Final = 32_000
PASSAGES_PER_ANSWER: Final = 6
NEW_TITLE: Final = "New chat"


@dataclass(frozen=True, slots=True)
class TurnRequest:
    content: str
    model: str
    collection_ids: list[str] = field(default_factory=list)
    mode: Mode = "send"


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


class ChatService:
    def __init__(self, ctx: AppContext, workspace: WorkspaceGateway, retriever: Retriever) -> None:
        self.ctx = ctx
        self.workspace = workspace
        self.retriever = retriever

    async def open_turn(self, conversation: Conversation, request: TurnRequest) -> Turn:
        """Validate, retrieve, and open the model call; raise a refusal before writing."""
        org_id, member_id = conversation.org_id, conversation.member_id
        store = self.ctx.conversations
        history = await asyncio.to_thread(store.messages, org_id, conversation.id)
        question, keep_until = _question(history, request)
        collection_ids = await self._visible(org_id, member_id, request.collection_ids)
        passages: list[Passage] = []
        retrieval_call_id = None
        if collection_ids:
            passages, retrieval_call_id = await self._retrieve(
                org_id, member_id, collection_ids, question
            )
        body = {
            "model": request.model,
            "messages": build_messages(history[:keep_until], question, passages),
        }
        stack = contextlib.AsyncExitStack()
        try:
            stream = await stack.enter_async_context(
                self.workspace.chat_stream(org_id, member_id, body)
            )
            user_message, assistant = await asyncio.to_thread(
                self._record_question, conversation, history, keep_until, question, request
            )
        except BaseException:
            with anyio.CancelScope(shield=True):
                await stack.aclose()
            raise
        return Turn(
            store=self.ctx.conversations,
            stack=stack,
            stream=stream,
            org_id=org_id,
            user_message=user_message,
            assistant=assistant,
            given=citations_for(passages),
            retrieval_call_id=retrieval_call_id,
        )

    async def _visible(self, org_id: str, member_id: str, wanted: list[str]) -> list[str]:
        if not wanted:
            return []
        visible = await asyncio.to_thread(self.ctx.documents.collections_visible, org_id, member_id)
        ids = {c.id for c in visible}
        unknown = [c for c in wanted if c not in ids]
        if unknown:
            raise NotFound("No such collection.", param="collection_ids")
        return list(dict.fromkeys(wanted))

    async def _retrieve(
        self, org_id: str, member_id: str, collection_ids: list[str], question: str
    ) -> tuple[list[Passage], str | None]:
        settings = self.ctx.settings
        vectors, call_id = await self.workspace.embed(
            org_id,
            member_id,
            [question],
            settings.embedding_model,
            settings.embedding_dimensions,
        )
        passages = await asyncio.to_thread(
            self.retriever.search,
            org_id,
            collection_ids,
            question,
            vectors[0],
            PASSAGES_PER_ANSWER,
        )
        return passages, call_id

    def _record_question(
        self,
        conversation: Conversation,
        history: list[ChatMessage],
        keep_until: int,
        question: str,
        request: TurnRequest,
    ) -> tuple[ChatMessage | None, ChatMessage]:
        store = self.ctx.conversations
        org_id = conversation.org_id
        user_message = None
        if request.mode == "send":
            user_message = store.append(
                conversation, "user", question, model=request.model, status="complete"
            )
        else:
            asked = history[keep_until - 1]
            store.drop_from(org_id, conversation.id, asked.position + 1)
            if request.mode == "edit":
                store.set_content(org_id, asked.id, question)
        assistant = store.append(
            conversation, "assistant", "", model=request.model, status="streaming"
        )
        if conversation.title == NEW_TITLE or conversation.model != request.model:
            title = title_from(question) if conversation.title == NEW_TITLE else None
            store.update(conversation, title=title, model=request.model)
        return user_message, assistant


def _question(history: list[ChatMessage], request: TurnRequest) -> tuple[str, int]:
    """The question to answer, and how much of the history comes before it."""
    if request.mode == "send":
        question = request.content.strip()
        if not question:
            raise InvalidRequest("Type a message first.", param="content")
        if len(question) > MAX_QUESTION_CHARS:
            raise InvalidRequest(
                f"A message can be at most {MAX_QUESTION_CHARS:,} characters.", param="content"
            )
        return question, len(history)
    last_user = next(
        (i for i in range(len(history) - 1, -1, -1) if history[i].role == "user"), None
    )
    if last_user is None:
        raise InvalidRequest("There is no message to answer again yet.", param="mode")
    if request.mode == "regenerate":
        return history[last_user].content, last_user + 1
    edited = _question(history, TurnRequest(request.content, request.model))[0]
    return edited, last_user + 1


@dataclass
class Turn:
    """An answer being streamed; iterate :meth:`events` once."""

    store: ConversationRepository
    stack: contextlib.AsyncExitStack
    stream: ChatStream
    org_id: str
    user_message: ChatMessage | None
    assistant: ChatMessage
    given: list[Citation]
    retrieval_call_id: str | None

    async def events(self) -> AsyncIterator[TurnEvent]:
        yield Started(self.user_message, self.assistant.id)
        text = ""
        status: Literal["complete", "stopped", "failed"] = "stopped"
        failure: ChatGridError | None = None
        try:
            async for piece in self.stream.deltas():
                text += piece
                yield Delta(piece, render_markdown(text))
            status = "complete"
        except ChatGridError as error:
            status, failure = "failed", error
        finally:
            # A stop cancels us; finishing the record must not be cancelled with it.
            # The ledger row of a finished stream is committed before its last
            # event; a stopped one is ledgered once the gateway has drained it.
            with anyio.CancelScope(shield=True):
                message = await asyncio.to_thread(self._finish, text, status, failure)
                await self.stack.aclose()
        if failure is not None:
            yield Failed(failure.message, failure.code)
        yield Finished(message)

    def _finish(
        self,
        text: str,
        status: Literal["complete", "stopped", "failed"],
        failure: ChatGridError | None,
    ) -> ChatMessage:
        return self.store.finish(
            self.org_id,
            self.assistant.id,
            content=text,
            status=status,
            call_id=self.stream.call_id,
            retrieval_call_id=self.retrieval_call_id,
            citations=cited(text, self.given) if self.given else [],
            error=failure.message if failure else None,
            error_code=failure.code if failure else None,
        )
