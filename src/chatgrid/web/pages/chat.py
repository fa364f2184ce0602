"""The chat workspace, the documents page and the cited-passage page.

Chat and documents are shells the browser fills through the JSON API
(``/api/orgs/{org}/conversations``, ``…/collections``), so a streamed answer
and an upload's progress need no page reload. The passage page is rendered
here, in full, because a citation link must open on its own and be readable
without any script.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.errors import NotFound
from chatgrid.web.deps import Console, OrgAccess, OrgMember, url_id
from chatgrid.web.pages.common import render
from chatgrid.web.state import ConsoleState

router = APIRouter()


@router.get("/orgs/{org_id}/chat")
def chat_page(request: Request, state: Console, access: OrgMember) -> Response:
    return render(request, state, "chat.html", access=access, section="chat", conversation=None)


@router.get("/orgs/{org_id}/chat/{conversation_id}")
def conversation_page(
    request: Request, state: Console, access: OrgMember, conversation_id: str
) -> Response:
    """Conversations are the member's own: anyone else's, even a teammate's, is a 404."""
    conversation = state.ctx.conversations.get(
        access.org.id, access.member.id, url_id(conversation_id, "conversation")
    )
    if conversation is None:
        raise NotFound("no such conversation", code="conversation_not_found")
    return render(
        request,
        state,
        "chat.html",
        access=access,
        section="chat",
        conversation=conversation,
    )


@router.get("/orgs/{org_id}/documents")
def documents_page(request: Request, state: Console, access: OrgMember) -> Response:
    return render(
        request,
        state,
        "documents.html",
        access=access,
        section="documents",
        can_share=access.is_admin,
    )


@router.get("/orgs/{org_id}/documents/{document_id}/passages/{chunk_id}")
def passage_page(
    request: Request,
    state: Console,
    access: OrgMember,
    document_id: str,
    chunk_id: str,
    conversation: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """One cited passage, looked up inside the org and checked against the member.

    Every way of being wrong (another org's ids, a chunk of another
    document, someone else's private collection) is the same 404, so a
    guessed id tells nothing about what exists.
    """
    org_id = access.org.id
    documents = state.ctx.documents
    missing = NotFound("no such passage", code="passage_not_found")
    try:
        chunk = documents.chunk(org_id, url_id(chunk_id, "passage"))
        document = documents.document(org_id, url_id(document_id, "document"))
        collection = documents.collection(org_id, document.collection_id) if document else None
    except NotFound:
        raise missing from None
    if chunk is None or document is None or collection is None:
        raise missing
    if chunk.document_id != document.id or chunk.org_id != org_id:
        raise missing
    if not collection.visible_to(access.member.id):
        raise missing
    return render(
        request,
        state,
        "passage.html",
        access=access,
        section="documents",
        document=document,
        collection=collection,
        chunk=chunk,
        back_to=_own_conversation(state, access, conversation),
    )


def _own_conversation(state: ConsoleState, access: OrgAccess, wanted: str | None) -> str | None:
    """The conversation a citation was opened from, for the way back: only the
    member's own (anything else just leads back to a new chat)."""
    if not wanted:
        return None
    try:
        found = state.ctx.conversations.get(
            access.org.id, access.member.id, url_id(wanted, "conversation")
        )
    except NotFound:
        return None
    return found.id if found is not None else None
