"""Bodies of the operator API (money in integer micro-dollars), each beside its converter.

What an operator sends derives from ``Strict``, like every request body of
the API; what comes back is built from the admin layer's rows here, so a
new field is added in one place.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from chatgrid.admin import operator
from chatgrid.billing.plans import Plan
from chatgrid.ledger.pricing import Price
from chatgrid.ledger.units import UNIT_NAMES, UnitPrice
from chatgrid.web.api.schemas import IsoDay, Strict

# Tenants


class TenantPublic(BaseModel):
    id: str
    name: str
    mode: str
    status: str
    suspended_reason: str | None
    shared_allowed: bool = Field(description="Whether the operator lets it use shared credits")
    plan_name: str | None = Field(description="None: on the trial or the default plan")
    seats: int
    trial_ends_at: datetime | None
    on_trial: bool
    requests: int = Field(description="Month to date")
    tokens: int
    charged_micros: int
    list_cost_micros: int = Field(description="Shared-credit calls' list cost, month to date")
    margin_micros: int
    units: dict[str, int] = Field(
        description="Month to date, non-token units by kind (images, audio_ms, characters, inputs)"
    )


def tenant_public(t: operator.Tenant) -> TenantPublic:
    return TenantPublic(
        id=t.id,
        name=t.name,
        mode=t.billing_mode.value,
        status=t.status.value,
        suspended_reason=t.suspended_reason,
        shared_allowed=t.shared_allowed,
        plan_name=t.plan_name,
        seats=t.seats,
        trial_ends_at=t.trial_ends_at,
        on_trial=t.on_trial,
        requests=t.requests,
        tokens=t.tokens,
        charged_micros=t.charged_micros,
        list_cost_micros=t.list_cost_micros,
        margin_micros=t.margin_micros,
        units=dict(t.units),
    )


class MarginPublic(BaseModel):
    charged_micros: int
    list_cost_micros: int
    margin_micros: int


def margin_public(m: operator.Margin) -> MarginPublic:
    return MarginPublic(
        charged_micros=m.charged_micros,
        list_cost_micros=m.list_cost_micros,
        margin_micros=m.margin_micros,
    )


class TenantsPublic(BaseModel):
    tenants: list[TenantPublic]
    overall: MarginPublic


def tenants_public(rows: list[operator.Tenant]) -> TenantsPublic:
    return TenantsPublic(
        tenants=[tenant_public(t) for t in rows],
        overall=margin_public(operator.overall_margin(rows)),
    )


class SharedCredits(Strict):
    allowed: bool = Field(
        description="Let the org use shared credits; false is refused (409 "
        "org_on_shared_credits) while it is on them"
    )


class Suspension(Strict):
    reason: str = Field(min_length=1, max_length=300)


class TrialExtension(Strict):
    days: int = Field(ge=1, le=365)


class TrialPublic(BaseModel):
    org_id: str
    trial_ends_at: datetime


# Pooled keys and plans


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


def pool_key_public(key: operator.PoolKeyUsage) -> PoolKeyPublic:
    return PoolKeyPublic.model_validate(key, from_attributes=True)


class PlanPublic(BaseModel):
    id: str
    name: str
    seat_price_micros: int
    markup_bps: int
    allowance_micros_per_seat: int
    overage: bool
    is_default: bool


def plan_public(plan: Plan) -> PlanPublic:
    return PlanPublic.model_validate(plan, from_attributes=True)


# Prices


class PricePublic(BaseModel):
    model: str
    effective_from: date
    input_per_mtok: int = Field(description="Micro-dollars per 1M tokens")
    cached_input_per_mtok: int
    output_per_mtok: int


def price_public(price: Price) -> PricePublic:
    return PricePublic.model_validate(price, from_attributes=True)


class PriceCreate(Strict):
    model: str = Field(min_length=1, max_length=100)
    effective_from: IsoDay | None = Field(None, description="Today when omitted; never earlier")
    input: str = Field(max_length=20, description="Dollars per 1M input tokens, e.g. '2.50'")
    output: str = Field(max_length=20)
    cached_input: str | None = Field(None, max_length=20)


class UnitPricePublic(BaseModel):
    model: str
    kind: str = Field(description="images, audio_ms, characters or inputs")
    variant: str = Field(description="An image's SIZE/QUALITY; empty for other kinds")
    effective_from: date
    micros: int = Field(description="Micro-dollars per unit")
    per: str = Field(description="What one price is for: image, minute, 1M characters, input")


def unit_price_public(price: UnitPrice) -> UnitPricePublic:
    return UnitPricePublic(
        model=price.model,
        kind=price.kind,
        variant=price.variant,
        effective_from=price.effective_from,
        micros=price.micros,
        per=UNIT_NAMES[price.kind],
    )


class UnitPriceCreate(Strict):
    model: str = Field(min_length=1, max_length=100)
    kind: str = Field(max_length=16, description="images, audio_ms, characters or inputs")
    variant: str = Field("", max_length=32, description="SIZE/QUALITY, as 1024x1024/high")
    effective_from: IsoDay | None = Field(None, description="Today when omitted; never earlier")
    price: str = Field(max_length=20, description="Dollars per unit, e.g. '0.042'")
