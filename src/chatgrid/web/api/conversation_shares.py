"""A conversation's exports and its read-only link for the org.

Exports are the owner's: the same 404 as any conversation that is not
yours. A link is made and revoked by the owner (audited) and opened by any
signed-in member of the same org; in any other org, or once revoked, it is
the same 404 as an id that never existed.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, status
from starlette.responses import Response

from chatgrid.chat.export import export_filename, export_json, export_markdown
from chatgrid.chat.models import Conversation
from chatgrid.errors import NotFound
from chatgrid.web.api.chat import OwnConversation, WorkspaceDep
from chatgrid.web.api.conversation_shares_schemas import (
    SharedConversation,
    SharePublic,
    ShareState,
    share_public,
    share_state,
    shared_conversation,
)
from chatgrid.web.deps import Ctx, OrgMember, url_id

router = APIRouter(tags=["chat"])


def _download(body: bytes, media_type: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={
            "content-disposition": f'attachment; filename="{filename}"',
            "cache-control": "no-store",
        },
    )


@router.get(
    "/api/orgs/{org_id}/conversations/{conversation_id}/export.md",
    response_class=Response,
    responses={200: {"content": {"text/markdown": {}}}},
    summary="Download a conversation as Markdown",
)
def export_conversation_markdown(ctx: Ctx, conversation: OwnConversation) -> Response:
    messages = ctx.conversations.messages(conversation.org_id, conversation.id)
    return _download(
        export_markdown(conversation, messages).encode(),
        "text/markdown; charset=utf-8",
        export_filename(conversation, "md"),
    )


@router.get(
    "/api/orgs/{org_id}/conversations/{conversation_id}/export.json",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
    summary="Download a conversation as JSON (money in micro-dollars)",
)
def export_conversation_json(ctx: Ctx, conversation: OwnConversation) -> Response:
    messages = ctx.conversations.messages(conversation.org_id, conversation.id)
    body = orjson.dumps(export_json(conversation, messages), option=orjson.OPT_INDENT_2)
    return _download(body, "application/json", export_filename(conversation, "json"))


@router.get(
    "/api/orgs/{org_id}/conversations/{conversation_id}/share",
    response_model=ShareState,
    summary="Your conversation's read-only link, if it has one",
)
def get_share(ctx: Ctx, conversation: OwnConversation) -> ShareState:
    return share_state(ctx.shares.find(conversation.org_id, conversation.id))


@router.post(
    "/api/orgs/{org_id}/conversations/{conversation_id}/share",
    response_model=SharePublic,
    status_code=201,
    summary="Share your conversation read-only with your org (the same link if shared)",
)
def create_share(
    conversation: OwnConversation, access: OrgMember, workspace: WorkspaceDep
) -> SharePublic:
    return share_public(workspace.sharing.share(conversation, access.actor))


@router.delete(
    "/api/orgs/{org_id}/conversations/{conversation_id}/share",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke your conversation's link (a 404 for everyone at once)",
)
def delete_share(conversation: OwnConversation, access: OrgMember, workspace: WorkspaceDep) -> None:
    workspace.sharing.unshare(conversation, access.actor)


def shared_with_member(share_id: str, access: OrgMember, ctx: Ctx) -> Conversation:
    """The conversation behind a link, for a member of its org; anything else is a 404.

    A link whose owner has left the org dies with their seat: what they
    shared was theirs to keep sharing.
    """
    found = ctx.shares.shared(access.org.id, url_id(share_id, "shared conversation"))
    if found is None or ctx.members.get(found.org_id, found.member_id).status != "active":
        raise NotFound("No such shared conversation.", code="share_not_found")
    return found


SharedWithMember = Annotated[Conversation, Depends(shared_with_member)]


@router.get(
    "/api/orgs/{org_id}/shared/{share_id}",
    response_model=SharedConversation,
    summary="A conversation shared with your org (read-only)",
)
def get_shared(share_id: str, ctx: Ctx, conversation: SharedWithMember) -> SharedConversation:
    messages = ctx.conversations.messages(conversation.org_id, conversation.id)
    return shared_conversation(share_id, conversation, messages)
