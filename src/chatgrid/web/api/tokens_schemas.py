"""Bodies of personal API tokens, each beside its converter."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from chatgrid.identity.models import ApiToken
from chatgrid.web.api.schemas import Strict


class TokenCreate(Strict):
    name: str = Field(default="", max_length=200)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class TokenPublic(BaseModel):
    id: str
    member_id: str
    prefix: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


def token_public(token: ApiToken) -> TokenPublic:
    return TokenPublic(
        id=token.id,
        member_id=token.member_id,
        prefix=token.prefix,
        name=token.name,
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
    )


class TokenCreated(BaseModel):
    token: TokenPublic
    secret: str = Field(description="The token itself, shown this once.")


def token_created(token: ApiToken, secret: str) -> TokenCreated:
    return TokenCreated(token=token_public(token), secret=secret)
