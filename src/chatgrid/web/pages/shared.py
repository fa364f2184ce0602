"""A conversation shared with the org, read-only, rendered in full on the server.

Only signed-in members of the conversation's org see it; for everyone else
(another org, a revoked or unknown link) it is the same 404, and a visitor
who is not signed in is sent to sign in, as for an unknown link. Tokens and
cost are left out: they are the owner's spending, not the team's business.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.web.api.conversation_shares import SharedWithMember
from chatgrid.web.api.conversation_shares_schemas import shared_conversation
from chatgrid.web.deps import Console, OrgMember
from chatgrid.web.pages.common import render

router = APIRouter()


@router.get("/orgs/{org_id}/shared/{share_id}")
def shared_page(
    request: Request,
    state: Console,
    access: OrgMember,
    share_id: str,
    conversation: SharedWithMember,
) -> Response:
    messages = state.ctx.conversations.messages(conversation.org_id, conversation.id)
    owner = state.ctx.members.get(conversation.org_id, conversation.member_id)
    return render(
        request,
        state,
        "shared.html",
        access=access,
        section="chat",
        shared=shared_conversation(share_id, conversation, messages),
        owner_email=owner.email,
    )
