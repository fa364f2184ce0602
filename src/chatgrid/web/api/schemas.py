"""Request and response bodies of the admin API.

``…Create`` / ``…Update`` are what a caller sends, ``…Public`` what comes
back. No response model has a field for a key, a password or a token hash;
the only secrets ever returned are a new token (``TokenCreated.secret``)
and an invitation link (``InvitationCreated.url``), each once.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from chatgrid.admin import dates
from chatgrid.errors import InvalidRequest
from chatgrid.identity.models import BillingMode, Role
from chatgrid.providers.base import Provider


class Strict(BaseModel):
    """What a caller sends: no unknown fields, and no coercion between JSON types.

    Lax pydantic reads ``true`` as the integer 1 and ``"yes"`` or ``1`` as a
    boolean, so ``{"expires_in_days": true}`` made a one-day token. Strict
    mode takes a JSON number for an int and a JSON boolean for a bool, nothing
    else. Enum fields opt back into lax mode (``Field(strict=False)``) because
    strict mode wants the Python member, never its JSON value; a date field
    uses ``IsoDay``.
    """

    model_config = ConfigDict(extra="forbid", strict=True)


def _iso_day(value: object) -> date:
    """A JSON ``YYYY-MM-DD`` string (strict mode alone would refuse every string)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value  # built in Python, not read from JSON
    try:
        day = dates.parse_day(value, "date") if isinstance(value, str) else None
    except InvalidRequest:
        day = None
    if day is None:
        raise PydanticCustomError("date_format", f"Input should be {dates.DAY_HINT}")
    return day


#: A day in a request body: ``YYYY-MM-DD`` and nothing else (not a number of seconds).
IsoDay = Annotated[date, BeforeValidator(_iso_day)]


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorResponse(BaseModel):
    error: ErrorDetail


# Accounts and sessions


class CsrfPublic(BaseModel):
    csrf_token: str = Field(description="Send back as X-CSRF-Token (pre-session calls only).")


class SignIn(Strict):
    email: str = Field(max_length=400)
    password: str = Field(max_length=4096)


class SignUp(Strict):
    email: str = Field(max_length=400)
    password: str = Field(max_length=4096, description="At least 8 characters, not a common one.")
    org_name: str = Field(max_length=200)


class UserPublic(BaseModel):
    id: str
    email: str
    is_operator: bool


class MembershipPublic(BaseModel):
    org_id: str
    org_name: str
    role: Role
    member_id: str
    billing_mode: BillingMode


class SessionPublic(BaseModel):
    user: UserPublic
    csrf_token: str = Field(description="Send as X-CSRF-Token on every call that changes state.")
    orgs: list[MembershipPublic]
    expires_at: datetime


class PasswordChange(Strict):
    current_password: str = Field(max_length=4096)
    new_password: str = Field(max_length=4096)


class InvitationAccept(Strict):
    token: str = Field(max_length=200)
    password: str | None = Field(default=None, max_length=4096)


# Orgs


class OrgCreate(Strict):
    name: str = Field(max_length=200)


class OrgPublic(BaseModel):
    id: str
    name: str
    billing_mode: BillingMode
    status: str
    shared_allowed: bool
    trial_ends_at: datetime | None
    your_role: Role


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


class UsagePublic(BaseModel):
    since: datetime
    requests: int
    prompt_tokens: int
    completion_tokens: int
    list_cost_micros: int = Field(description="List price of the tokens, in micro-dollars.")
    charged_micros: int = Field(description="What shared credits charged, in micro-dollars.")


class OverviewPublic(BaseModel):
    org: OrgPublic
    seats: int = Field(description="Active members.")
    credential: CredentialPublic | None
    usage_this_month: UsagePublic


class ModeUpdate(Strict):
    mode: BillingMode = Field(strict=False)


class CredentialCreate(Strict):
    provider: Provider = Field(default=Provider.OPENAI, strict=False)
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


class PolicyPublic(BaseModel):
    org_rpm: int | None
    org_tpm: int | None
    member_rpm: int | None
    member_tpm: int | None
    member_concurrency: int | None
    allowed_models: list[str] | None = Field(description="null: every model the upstream offers.")


class PolicyUpdate(Strict):
    org_rpm: int | None = Field(default=None, ge=1, le=100_000_000)
    org_tpm: int | None = Field(default=None, ge=1, le=100_000_000)
    member_rpm: int | None = Field(default=None, ge=1, le=100_000_000)
    member_tpm: int | None = Field(default=None, ge=1, le=100_000_000)
    member_concurrency: int | None = Field(default=None, ge=1, le=100_000_000)
    allowed_models: list[str] | None = Field(default=None, max_length=500)


# Members and invitations


class MemberPublic(BaseModel):
    id: str
    email: str
    role: Role
    status: str
    created_at: datetime


class MembersPublic(BaseModel):
    seats: int = Field(description="Active members.")
    members: list[MemberPublic]


class MemberUpdate(Strict):
    role: Role = Field(strict=False)


class InvitationCreate(Strict):
    email: str = Field(max_length=400)
    role: Role = Field(default=Role.MEMBER, strict=False)
    send_email: bool = Field(
        default=True, description="Email the link when SMTP is set up; else it is returned once."
    )


class InvitationPublic(BaseModel):
    id: str
    email: str
    role: Role
    created_at: datetime
    expires_at: datetime
    status: str


class InvitationCreated(BaseModel):
    invitation: InvitationPublic
    emailed: bool
    url: str | None = Field(description="The link to pass on, shown this once (null if emailed).")


# Tokens


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


class TokenCreated(BaseModel):
    token: TokenPublic
    secret: str = Field(description="The token itself, shown this once.")


# Reports


class AuditEntryPublic(BaseModel):
    id: int
    created_at: datetime
    actor_email: str | None
    action: str
    target: str | None
    details: dict[str, object]
    client_addr: str | None
    user_agent: str | None


class CallPublic(BaseModel):
    started_at: datetime
    member_email: str | None
    token_prefix: str | None
    client_addr: str | None
    model: str
    endpoint: str
    upstream_request_id: str | None
    status_code: int
    outcome: str
    prompt_tokens: int
    completion_tokens: int
    list_cost_micros: int | None
