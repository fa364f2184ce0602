"""Bodies of an org's API (overview, billing mode, key, limits), each beside its converter."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from chatgrid.admin.credentials import CredentialStatus
from chatgrid.admin.org_settings import MonthUsage, Overview
from chatgrid.identity.models import BillingMode, Org, Role
from chatgrid.limits.policy import OrgPolicy
from chatgrid.providers.base import Provider
from chatgrid.web.api.schemas import Strict

# What a caller sends


class OrgCreate(Strict):
    name: str = Field(max_length=200)


class ModeUpdate(Strict):
    mode: BillingMode = Field(strict=False)


class CredentialCreate(Strict):
    provider: Provider = Field(default=Provider.OPENAI, strict=False)
    name: str = Field(
        default="",
        max_length=100,
        description="OpenAI-compatible servers only: tells an org's servers apart.",
    )
    api_key: str = Field(max_length=1000, description="Validated upstream, then never shown.")
    base_url: str | None = Field(
        default=None, max_length=500, description="Azure: the endpoint; compatible: the base URL."
    )
    organization: str | None = Field(default=None, max_length=200)
    project: str | None = Field(default=None, max_length=200)
    api_version: str | None = Field(default=None, max_length=40)
    deployments: dict[str, str] = Field(
        default_factory=dict, max_length=200, description="Azure: model → deployment name."
    )


class CredentialChoice(Strict):
    model: str = Field(max_length=200, description="A model two of the org's keys serve.")
    provider: Provider = Field(strict=False)
    name: str = Field(default="", max_length=100)


class PolicyUpdate(Strict):
    org_rpm: int | None = Field(default=None, ge=1, le=100_000_000)
    org_tpm: int | None = Field(default=None, ge=1, le=100_000_000)
    member_rpm: int | None = Field(default=None, ge=1, le=100_000_000)
    member_tpm: int | None = Field(default=None, ge=1, le=100_000_000)
    member_concurrency: int | None = Field(default=None, ge=1, le=100_000_000)
    allowed_models: list[str] | None = Field(default=None, max_length=500)


def org_policy(body: PolicyUpdate) -> OrgPolicy:
    """The policy a ``PolicyUpdate`` asks for (null: no limit, or every model)."""
    return OrgPolicy(
        org_rpm=body.org_rpm,
        org_tpm=body.org_tpm,
        member_rpm=body.member_rpm,
        member_tpm=body.member_tpm,
        member_concurrency=body.member_concurrency,
        allowed_models=None if body.allowed_models is None else frozenset(body.allowed_models),
    )


# What comes back


class OrgPublic(BaseModel):
    id: str
    name: str
    billing_mode: BillingMode
    status: str
    shared_allowed: bool
    trial_ends_at: datetime | None
    your_role: Role


def org_public(
    org: Org, role: Role, shared_allowed: bool, trial_ends_at: datetime | None
) -> OrgPublic:
    return OrgPublic(
        id=org.id,
        name=org.name,
        billing_mode=org.billing_mode,
        status=org.status.value,
        shared_allowed=shared_allowed,
        trial_ends_at=trial_ends_at,
        your_role=role,
    )


class CredentialPublic(BaseModel):
    id: str
    provider: Provider
    base_url: str
    organization: str | None
    project: str | None
    api_version: str | None
    deployments: dict[str, str]
    models: list[str]
    fingerprint: str
    last4: str
    created_by: str | None
    created_at: datetime
    last_used_at: datetime | None
    status: Literal["active", "broken"]
    status_reason: str | None
    name: str = Field(default="", description="An OpenAI-compatible server's name.")


def credential_public(status: CredentialStatus) -> CredentialPublic:
    return CredentialPublic.model_validate(status, from_attributes=True)


class UsagePublic(BaseModel):
    since: datetime
    requests: int
    prompt_tokens: int
    completion_tokens: int
    list_cost_micros: int = Field(description="List price of the tokens, in micro-dollars.")
    charged_micros: int = Field(description="What shared credits charged, in micro-dollars.")


def usage_public(usage: MonthUsage) -> UsagePublic:
    return UsagePublic.model_validate(usage, from_attributes=True)


class OverviewPublic(BaseModel):
    org: OrgPublic
    seats: int = Field(description="Active members.")
    credential: CredentialPublic | None
    usage_this_month: UsagePublic


def overview_public(overview: Overview, role: Role) -> OverviewPublic:
    return OverviewPublic(
        org=org_public(overview.org, role, overview.shared_allowed, overview.trial_ends_at),
        seats=overview.seats,
        credential=credential_public(overview.credential) if overview.credential else None,
        usage_this_month=usage_public(overview.usage),
    )


class PolicyPublic(BaseModel):
    org_rpm: int | None
    org_tpm: int | None
    member_rpm: int | None
    member_tpm: int | None
    member_concurrency: int | None
    allowed_models: list[str] | None = Field(description="null: every model the upstream offers.")


def policy_public(policy: OrgPolicy) -> PolicyPublic:
    return PolicyPublic.model_validate(policy.public())
