"""Bodies of the prompt library, each beside its converter.

A prompt's body travels as ``text``: a field named ``body`` would be reported
as the request body itself when it is refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from chatgrid.chat.prompt_library import BODY_MAX, NAME_MAX, NAME_PATTERN, SavedPrompt
from chatgrid.web.api.schemas import Strict

PromptName = Field(
    min_length=1,
    max_length=NAME_MAX,
    pattern=NAME_PATTERN,
    description="The command typed after '/' in the composer, e.g. summarize",
)
PromptText = Field(min_length=1, max_length=BODY_MAX, description="The text inserted")


class PromptCreate(Strict):
    name: str = PromptName
    text: str = PromptText
    scope: Literal["org", "private"] = "private"


class PromptUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX, pattern=NAME_PATTERN)
    text: str | None = Field(default=None, min_length=1, max_length=BODY_MAX)


class PromptPublic(BaseModel):
    id: str
    name: str
    text: str
    scope: Literal["org", "private"]
    created_at: datetime
    updated_at: datetime


def prompt_public(prompt: SavedPrompt) -> PromptPublic:
    return PromptPublic(
        id=prompt.id,
        name=prompt.name,
        text=prompt.body,
        scope="org" if prompt.is_shared else "private",
        created_at=prompt.created_at,
        updated_at=prompt.updated_at,
    )
