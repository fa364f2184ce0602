"""Bodies of the org's chat settings API, each beside its converter."""

from __future__ import annotations

from pydantic import BaseModel

from chatgrid.admin.chat_settings import ChatSettings
from chatgrid.web.api.schemas import Strict


class ChatSettingsUpdate(Strict):
    generated_titles: bool


class ChatSettingsPublic(BaseModel):
    #: Whether a small model titles each new conversation (one billed call per conversation).
    generated_titles: bool
    #: False while the billing mode's default applies (on for shared credits, off for BYOK).
    chosen: bool
    title_model: str


def chat_settings_public(settings: ChatSettings) -> ChatSettingsPublic:
    return ChatSettingsPublic(
        generated_titles=settings.generated_titles,
        chosen=settings.chosen,
        title_model=settings.title_model,
    )
