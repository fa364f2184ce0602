"""Bodies of the usage-analytics and operator API (money in integer micro-dollars)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from chatgrid.web.api.schemas import IsoDay, Strict


class BucketPublic(BaseModel):
    key: str = Field(description="The day (YYYY-MM-DD), member id or model")
    label: str
    requests: int
    tokens: int
    list_cost_micros: int = Field(description="What the upstream bills at list price")
    charged_micros: int = Field(description="What ChatGrid charged (shared credits only)")


class UsageReportPublic(BaseModel):
    since: date
    until: date = Field(description="The last day included (UTC)")
    member_id: str | None
    model: str | None
    total: BucketPublic
    days: list[BucketPublic]
    members: list[BucketPublic]
    models: list[BucketPublic]


class TenantPublic(BaseModel):
    id: str
    name: str
    mode: str
    status: str
    suspended_reason: str | None
    plan_name: str | None = Field(description="None: on the trial or the default plan")
    seats: int
    trial_ends_at: datetime | None
    on_trial: bool
    requests: int = Field(description="Month to date")
    tokens: int
    charged_micros: int
    list_cost_micros: int = Field(description="Shared-credit calls' list cost, month to date")
    margin_micros: int


class MarginPublic(BaseModel):
    charged_micros: int
    list_cost_micros: int
    margin_micros: int


class TenantsPublic(BaseModel):
    tenants: list[TenantPublic]
    overall: MarginPublic


class PoolKeyPublic(BaseModel):
    id: str
    name: str
    fingerprint: str
    last4: str
    weight: int
    status: str
    status_reason: str | None
    rpm_limit: int | None
    tpm_limit: int | None
    requests: int = Field(description="Month to date")
    list_cost_micros: int


class PlanPublic(BaseModel):
    id: str
    name: str
    seat_price_micros: int
    markup_bps: int
    allowance_micros_per_seat: int
    overage: bool
    is_default: bool


class PricePublic(BaseModel):
    model: str
    effective_from: date
    input_per_mtok: int = Field(description="Micro-dollars per 1M tokens")
    cached_input_per_mtok: int
    output_per_mtok: int


class PriceCreate(Strict):
    model: str = Field(min_length=1, max_length=100)
    effective_from: IsoDay | None = Field(None, description="Today when omitted; never earlier")
    input: str = Field(max_length=20, description="Dollars per 1M input tokens, e.g. '2.50'")
    output: str = Field(max_length=20)
    cached_input: str | None = Field(None, max_length=20)


class Suspension(Strict):
    reason: str = Field(min_length=1, max_length=300)


class TrialExtension(Strict):
    days: int = Field(ge=1, le=365)


class TrialPublic(BaseModel):
    org_id: str
    trial_ends_at: datetime
