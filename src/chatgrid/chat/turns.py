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
import logging
from dataclasses import dataclass, field
from typing import Final, Literal

import anyio

from chatgrid.chat.answer import Turn
from chatgrid.chat.attachments import (
    MAX_IMAGES_SENT,
    data_url,
    is_vision_model,
    refuse_unless_vision,
)
from chatgrid.chat.models import AttachedImage, ChatMessage, Conversation
from chatgrid.chat.ports import AttachmentStore, ChatModels, ConversationStore
from chatgrid.chat.prompt import build_messages, citations_for
from chatgrid.chat.titles import (
    TitleMaker,
    TitlePreference,
    clean_first_line,
    is_placeholder,
)
from chatgrid.documents.library import DocumentLibrary
from chatgrid.documents.models import Passage
from chatgrid.errors import InvalidRequest

log = logging.getLogger(__name__)

Mode = Literal["send", "regenerate", "edit"]
MAX_QUESTION_CHARS: Final = 32_000
PASSAGES_PER_ANSWER: Final = 6


@dataclass(frozen=True, slots=True)
class TurnRequest:
    content: str
    model: str
    collection_ids: list[str] = field(default_factory=list)
    mode: Mode = "send"


class ChatService:
    def __init__(
        self,
        conversations: ConversationStore,
        models: ChatModels,
        library: DocumentLibrary,
        titles: TitleMaker,
        title_preference: TitlePreference,
        attachments: AttachmentStore | None = None,
    ) -> None:
        self.conversations = conversations
        #: What was attached in the composer: the conversation's own collection is
        #: searched on every turn, its images go with the question they came with.
        self.attachments = attachments
        self.models = models
        self.library = library
        self.titles = titles
        self.title_preference = title_preference
        self._answers: set[asyncio.Task[None]] = set()

    async def open_turn(self, conversation: Conversation, request: TurnRequest) -> Turn:
        """Validate, retrieve, and open the model call; raise a refusal before writing."""
        org_id, member_id = conversation.org_id, conversation.member_id
        store = self.conversations
        history = await asyncio.to_thread(store.messages, org_id, conversation.id)
        question, keep_until = _question(history, request)
        sent, resent = await self._images(conversation, history, keep_until, request)
        refuse_unless_vision(request.model, len(sent))
        collection_ids = list(request.collection_ids)
        own = await self._own_collection(conversation)
        if own is not None and own not in collection_ids:
            collection_ids.append(own)
        passages: list[Passage] = []
        retrieval_call_id = None
        if collection_ids:
            passages, retrieval_call_id = await self.library.search(
                org_id, member_id, question, collection_ids, PASSAGES_PER_ANSWER
            )
        urls = await self._data_urls(conversation, [*sent, *resent])
        body = {
            "model": request.model,
            "messages": build_messages(
                # Before the question: a regenerated or edited question is in the
                # kept history already, and is sent once, as the question.
                history[: keep_until if request.mode == "send" else keep_until - 1],
                question,
                passages,
                images=_by_message(resent, urls),
                question_images=[urls[i.id] for i in sent if i.id in urls],
            ),
        }
        stack = contextlib.AsyncExitStack()
        try:
            stream = await stack.enter_async_context(
                self.models.chat_stream(org_id, member_id, body)
            )
            user_message, assistant = await asyncio.to_thread(
                self._record_question, conversation, history, keep_until, question, request
            )
            if user_message is not None and sent and self.attachments is not None:
                await asyncio.to_thread(
                    self.attachments.claim_images,
                    org_id,
                    conversation.id,
                    [i.id for i in sent],
                    user_message.id,
                )
        except BaseException:
            with anyio.CancelScope(shield=True):
                await stack.aclose()
            raise
        turn = Turn(
            store=store,
            stack=stack,
            stream=stream,
            org_id=org_id,
            user_message=user_message,
            assistant=assistant,
            given=citations_for(passages),
            retrieval_call_id=retrieval_call_id,
        )
        # The answer is produced and kept even if nobody reads it; the loop only
        # holds tasks weakly, so the service keeps it until it is done.
        self._keep(turn.start())
        first_question = request.mode == "send" and not history
        if first_question and is_placeholder(conversation.title, question):
            self._keep(asyncio.ensure_future(self._title_after(turn, conversation, question)))
        return turn

    async def _own_collection(self, conversation: Conversation) -> str | None:
        """The conversation's private collection, if it has one that still exists."""
        if self.attachments is None:
            return None
        org_id = conversation.org_id
        linked = await asyncio.to_thread(self.attachments.collection_of, org_id, conversation.id)
        if linked is None:
            return None
        found = await asyncio.to_thread(self.library.store.collection, org_id, linked)
        return linked if found is not None else None

    async def _images(
        self,
        conversation: Conversation,
        history: list[ChatMessage],
        keep_until: int,
        request: TurnRequest,
    ) -> tuple[list[AttachedImage], list[AttachedImage]]:
        """The question's own images, and the earlier ones re-sent with it (newest
        first, up to ``MAX_IMAGES_SENT`` in all; none to a model that cannot see)."""
        if self.attachments is None:
            return [], []
        images = await asyncio.to_thread(
            self.attachments.images, conversation.org_id, conversation.id
        )
        if request.mode == "send":
            asked_id = None
            sent = [i for i in images if i.message_id is None]
        else:
            asked_id = history[keep_until - 1].id
            sent = [i for i in images if i.message_id == asked_id]
        if not is_vision_model(request.model):
            return sent, []
        earlier = {m.id for m in history[:keep_until]} - {asked_id}
        room = max(0, MAX_IMAGES_SENT - len(sent))
        resent = [i for i in reversed(images) if i.message_id in earlier][:room]
        return sent, resent

    async def _data_urls(
        self, conversation: Conversation, images: list[AttachedImage]
    ) -> dict[str, str]:
        if self.attachments is None or not images:
            return {}
        found = await asyncio.to_thread(
            self.attachments.image_bytes,
            conversation.org_id,
            conversation.id,
            [i.id for i in images],
        )
        return {i.id: data_url(i.media_type, found[i.id]) for i in images if i.id in found}

    def _keep(self, task: asyncio.Task[None]) -> None:
        self._answers.add(task)
        task.add_done_callback(self._answers.discard)

    async def _title_after(self, turn: Turn, conversation: Conversation, question: str) -> None:
        """After a first answer that completed: the model's title, where the org wants one.

        Runs apart from the answer, which is already finished and sent; any
        failure here leaves the first line as the title and is only logged.
        """
        final = await turn.ended()
        if final is None or final.status != "complete":
            return
        org_id, member_id = conversation.org_id, conversation.member_id
        try:
            if not await asyncio.to_thread(self.title_preference.generated_titles, org_id):
                return
            title = await self.titles.make(org_id, member_id, question)
            if title:
                await asyncio.to_thread(
                    self.conversations.retitle, conversation, clean_first_line(question), title
                )
        except Exception:
            log.exception("titling a conversation failed: conversation=%s", conversation.id)

    def _record_question(
        self,
        conversation: Conversation,
        history: list[ChatMessage],
        keep_until: int,
        question: str,
        request: TurnRequest,
    ) -> tuple[ChatMessage | None, ChatMessage]:
        store = self.conversations
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
        placeholder = not history and is_placeholder(conversation.title, question)
        chosen = list(dict.fromkeys(request.collection_ids))
        remember = chosen != list(conversation.collection_ids)
        if placeholder or conversation.model != request.model or remember:
            title = clean_first_line(question) if placeholder else None
            store.update(
                conversation,
                title=title,
                model=request.model,
                collection_ids=chosen if remember else None,
            )
        return user_message, assistant


def _by_message(images: list[AttachedImage], urls: dict[str, str]) -> dict[str, list[str]]:
    """Data URLs by the message they were sent with, each message's in attached order."""
    grouped: dict[str, list[str]] = {}
    for image in sorted(images, key=lambda i: (i.created_at, i.id)):
        if image.message_id is not None and image.id in urls:
            grouped.setdefault(image.message_id, []).append(urls[image.id])
    return grouped


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
