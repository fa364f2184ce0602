"""Bodies of BYOK reconciliation: OpenAI's usage (and costs) against the ledger, per day and
model; the org's OpenAI admin key, write-only (shown as its last four characters)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from chatgrid.admin.reconciliation import MAX_THRESHOLD
from chatgrid.admin.reconciliation_fetch import DEFAULT_DAYS, MAX_DAYS
from chatgrid.web.api.schemas import Strict


class AdminKeySet(Strict):
    admin_key: str = Field(
        min_length=1, max_length=500, description="The OpenAI admin key (sk-admin-…); never shown"
    )
    api_key_id: str | None = Field(
        default=None,
        max_length=100,
        description="OpenAI's id of the org's key (key_…): only its usage is read",
    )


class AdminKeyPublic(BaseModel):
    last4: str
    fingerprint: str
    api_key_id: str | None
    updated_at: str
    updated_by: str | None


class AdminKeyStatus(BaseModel):
    org_id: str
    admin_key: AdminKeyPublic | None


class UsageUpload(Strict):
    usage: dict[str, Any] | list[Any] = Field(
        description="OpenAI's Usage API completions pages (1d buckets): one page or a list"
    )
    api_key_id: str | None = Field(default=None, max_length=100)
    threshold: int = Field(default=0, ge=0, le=MAX_THRESHOLD)


class FetchAsked(Strict):
    days: int = Field(default=DEFAULT_DAYS, ge=1, le=MAX_DAYS)
    threshold: int = Field(default=0, ge=0, le=MAX_THRESHOLD)


class CountsPublic(BaseModel):
    requests: int
    input_tokens: int
    output_tokens: int


class LinePublic(BaseModel):
    day: str
    model: str = Field(description='The model, or "*" when OpenAI\'s pages were not per model')
    openai: CountsPublic
    chatgrid: CountsPublic
    difference: CountsPublic


class CostLinePublic(BaseModel):
    day: str
    openai_micros: str = Field(description="What OpenAI charged, micro-dollars (exact decimal)")
    chatgrid_micros: str = Field(description="The ledger's list cost, micro-dollars")
    difference_micros: str


class ReconciliationPublic(BaseModel):
    org_id: str
    first_day: str
    last_day: str
    api_key_id: str | None
    threshold: int
    per_model: bool
    extra_requests: int
    days_with_outside_use: list[str]
    lines: list[LinePublic]
    used_outside: list[LinePublic]
    source: str = Field(default="upload", description='"upload", or "openai" when fetched')
    costs: list[CostLinePublic] = Field(default_factory=list)
