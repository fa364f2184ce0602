"""The org's chat settings for its admins: generated conversation titles on or off."""

from __future__ import annotations

from fastapi import APIRouter

from chatgrid.admin import chat_settings
from chatgrid.web.api.chat_settings_schemas import (
    ChatSettingsPublic,
    ChatSettingsUpdate,
    chat_settings_public,
)
from chatgrid.web.deps import Ctx, OrgAdmin

router = APIRouter(tags=["chat"])


@router.get(
    "/api/orgs/{org_id}/chat-settings",
    response_model=ChatSettingsPublic,
    summary="Chat settings (generated titles)",
)
def get_chat_settings(ctx: Ctx, access: OrgAdmin) -> ChatSettingsPublic:
    return chat_settings_public(chat_settings.chat_settings(ctx, access.org.id))


@router.put(
    "/api/orgs/{org_id}/chat-settings",
    response_model=ChatSettingsPublic,
    summary="Turn generated conversation titles on or off",
)
def put_chat_settings(body: ChatSettingsUpdate, ctx: Ctx, access: OrgAdmin) -> ChatSettingsPublic:
    saved = chat_settings.set_generated_titles(
        ctx, access.org.id, access.actor, body.generated_titles
    )
    return chat_settings_public(saved)
