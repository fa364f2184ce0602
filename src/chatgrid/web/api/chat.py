"""The chat workspace's API: conversations, and answers streamed as server-sent events.

A message is answered in two steps: everything that can refuse it (bad
input, a conversation that is not yours, the gateway's limits, allowance,
trial and key) answers as an ordinary JSON error before any byte of the
stream; after that, the stream always ends with ``done`` (or ``error`` then
``done``) and the answer is kept whatever happens to the connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, status
from starlette.responses import StreamingResponse

from chatgrid.chat.answer import Delta, Failed, Finished, Started, Turn
from chatgrid.chat.model_kinds import chat_models, refuse_unless_chat_model
from chatgrid.chat.models import Conversation
from chatgrid.chat.turns import TurnRequest
from chatgrid.chat.workspace import Workspace
from chatgrid.errors import (
    ChatGridError,
    CredentialUnusable,
    InvalidRequest,
    ModelNotAllowed,
    NotFound,
)
from chatgrid.identity.models import BillingMode
from chatgrid.web.api.chat_schemas import (
    ConversationCreate,
    ConversationDetail,
    ConversationPublic,
    ConversationRename,
    MessageCreate,
    ModelsPublic,
    conversation_detail,
    conversation_public,
    message_public,
    models_public,
    models_refused,
)
from chatgrid.web.deps import Console, Ctx, OrgMember, url_id

router = APIRouter(tags=["chat"])

_SSE_HEADERS = {"cache-control": "no-store", "x-accel-buffering": "no"}


def workspace_of(state: Console) -> Workspace:
    if state.workspace is None:
        raise ChatGridError("The chat workspace is not running in this process.", status=503)
    return state.workspace


WorkspaceDep = Annotated[Workspace, Depends(workspace_of)]


def own_conversation(conversation_id: str, access: OrgMember, ctx: Ctx) -> Conversation:
    conversation_id = url_id(conversation_id, "conversation")
    found = ctx.conversations.get(access.org.id, access.member.id, conversation_id)
    if found is None:
        raise NotFound("No such conversation.")
    return found


OwnConversation = Annotated[Conversation, Depends(own_conversation)]


@router.get(
    "/api/orgs/{org_id}/models", response_model=ModelsPublic, summary="Models you may chat with"
)
async def models(access: OrgMember, workspace: WorkspaceDep, ctx: Ctx) -> ModelsPublic:
    """Chat models only: the org's embedding models can be called, but not chatted with."""
    try:
        ids = await workspace.gateway.models(access.org.id, access.member.id)
    except ChatGridError as refusal:
        if refusal.code == CredentialUnusable.default_code:
            refusal = no_key_yet(access.is_admin)
        return models_refused(refusal)
    offered = chat_models(ids, ctx.settings.embedding_model)
    if not offered:
        return models_refused(no_chat_model(access.org.billing_mode, access.is_admin))
    return models_public(offered)


@router.get(
    "/api/orgs/{org_id}/conversations",
    response_model=list[ConversationPublic],
    summary="Your conversations, newest first",
)
def list_conversations(
    ctx: Ctx, access: OrgMember, q: Annotated[str | None, Query(max_length=200)] = None
) -> list[ConversationPublic]:
    found = ctx.conversations.search(access.org.id, access.member.id, q)
    return [conversation_public(c) for c in found]


@router.post(
    "/api/orgs/{org_id}/conversations",
    response_model=ConversationPublic,
    status_code=201,
    summary="Start a conversation",
)
def create_conversation(
    body: ConversationCreate, ctx: Ctx, access: OrgMember
) -> ConversationPublic:
    title = (body.title or "").strip() or "New chat"
    created = ctx.conversations.create(access.org.id, access.member.id, title, body.model)
    return conversation_public(created)


@router.get(
    "/api/orgs/{org_id}/conversations/{conversation_id}",
    response_model=ConversationDetail,
    summary="A conversation and its messages",
)
def get_conversation(ctx: Ctx, conversation: OwnConversation) -> ConversationDetail:
    messages = ctx.conversations.messages(conversation.org_id, conversation.id)
    return conversation_detail(conversation, messages)


@router.patch(
    "/api/orgs/{org_id}/conversations/{conversation_id}",
    response_model=ConversationPublic,
    summary="Rename a conversation",
)
def rename_conversation(
    body: ConversationRename, ctx: Ctx, conversation: OwnConversation
) -> ConversationPublic:
    title = body.title.strip()
    if not title:
        raise InvalidRequest("A title cannot be blank.", param="title")
    return conversation_public(ctx.conversations.update(conversation, title=title))


@router.delete(
    "/api/orgs/{org_id}/conversations/{conversation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a conversation, its messages and its attachments",
)
def delete_conversation(ctx: Ctx, conversation: OwnConversation) -> None:
    """Its images go with it; so does the collection its attached documents went into."""
    org_id = conversation.org_id
    attached = ctx.attachments.collection_of(org_id, conversation.id)
    ctx.conversations.delete(org_id, conversation.member_id, conversation.id)
    if attached is not None:
        ctx.documents.delete_collection(org_id, attached)


@router.post(
    "/api/orgs/{org_id}/conversations/{conversation_id}/messages",
    summary="Send a message (or regenerate / edit the last); the answer streams as SSE",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def send_message(
    body: MessageCreate, conversation: OwnConversation, workspace: WorkspaceDep, ctx: Ctx
) -> StreamingResponse:
    embedding_model = ctx.settings.embedding_model
    refuse_unless_chat_model(body.model, embedding_model)
    request = TurnRequest(
        content=body.content, model=body.model, collection_ids=body.collection_ids, mode=body.mode
    )
    try:
        turn = await workspace.chat.open_turn(conversation, request)
    except ModelNotAllowed:
        policy = ctx.policies.get(conversation.org_id)
        attached = workspace.attachments.store.collection_of(conversation.org_id, conversation.id)
        uses_documents = bool(request.collection_ids) or attached is not None
        if uses_documents and not policy.allows(embedding_model):
            raise document_search_refused(embedding_model) from None
        raise
    return StreamingResponse(
        _events(conversation.org_id, turn), media_type="text/event-stream", headers=_SSE_HEADERS
    )


def no_key_yet(is_admin: bool) -> ChatGridError:
    """One message, for the one person who can act on it (not "ask an admin" to an admin).

    Its code is not one the page rewords, so the page shows this sentence alone.
    """
    step = (
        "Connect one on the Key page, or choose shared credits on the Overview page."
        if is_admin
        else "An admin connects one on the Key page; until then chat cannot answer."
    )
    return CredentialUnusable(
        f"Your organization has no working OpenAI key connected. {step}", code="setup_needed"
    )


def no_chat_model(mode: BillingMode, is_admin: bool) -> ChatGridError:
    """Why the picker is empty, pointing at the page that can change it for this org's mode."""
    if mode is BillingMode.SHARED:
        why = "No pooled key serves a chat model your organization allows right now."
        step = (
            "Ask the operator to add a pooled key, or switch back to your own key on the Overview."
            if is_admin
            else "An admin can ask the operator, or switch the organization back to its own key."
        )
    else:
        why = "Your organization allows none of the chat models its key offers."
        step = (
            "Choose the models members may use on the Limits & models page."
            if is_admin
            else "An admin chooses them on the Limits & models page."
        )
    return ModelNotAllowed(f"{why} {step}", code="setup_needed")


def document_search_refused(embedding_model: str) -> ModelNotAllowed:
    """The member chose a chat model, not this one: say what document search needs."""
    return ModelNotAllowed(
        f"Document search needs the embedding model '{embedding_model}', which your "
        "organization does not allow. Ask an admin to allow it on the Limits & models page, "
        "or ask without documents.",
        param="collection_ids",
        code="embedding_model_not_allowed",
    )


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


async def _events(org_id: str, turn: Turn) -> AsyncIterator[bytes]:
    async for event in turn.events():
        if isinstance(event, Delta):
            yield _sse("delta", {"text": event.text, "html": event.html})
        elif isinstance(event, Started):
            user = event.user_message
            yield _sse(
                "start",
                {
                    "user_message": (
                        message_public(org_id, user).model_dump(mode="json") if user else None
                    ),
                    "assistant_message_id": event.assistant_message_id,
                },
            )
        elif isinstance(event, Failed):
            yield _sse("error", {"message": event.message, "code": event.code})
        elif isinstance(event, Finished):
            public = message_public(org_id, event.message)
            yield _sse("done", {"message": public.model_dump(mode="json")})
