"""Bodies of service accounts, each beside its converter."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from chatgrid.admin.service_accounts import Scope
from chatgrid.store.service_accounts import ServiceAccount
from chatgrid.web.api.schemas import Strict


class ServiceAccountCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    scope: Scope = Field(
        strict=False, description="v1: calls /v1; admin: this org's admin routes of /api."
    )


class ServiceAccountPublic(BaseModel):
    id: str
    name: str
    scope: str
    prefix: str | None = Field(description="The start of the live token; null once revoked.")
    created_at: datetime
    revoked_at: datetime | None


def service_account_public(account: ServiceAccount) -> ServiceAccountPublic:
    return ServiceAccountPublic(
        id=account.id,
        name=account.name,
        scope=account.scope,
        prefix=account.token_prefix if account.revoked_at is None else None,
        created_at=account.created_at,
        revoked_at=account.revoked_at,
    )


class ServiceAccountCreated(BaseModel):
    service_account: ServiceAccountPublic
    secret: str = Field(description="The token itself, shown this once.")


def service_account_created(account: ServiceAccount, secret: str) -> ServiceAccountCreated:
    return ServiceAccountCreated(service_account=service_account_public(account), secret=secret)
