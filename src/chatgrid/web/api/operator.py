"""The operator console through the API: tenants, pooled keys, plans, prices, suspensions,
shared credits.

Operators only; for anyone else every route is a 404, and so is a tenant id that is not an
org's (``deps.operator_org``), whatever the body.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from chatgrid.admin import operator, prices
from chatgrid.ledger.units import UnitPrice
from chatgrid.web.api.operator_schemas import (
    PlanPublic,
    PoolKeyPublic,
    PriceCreate,
    PricePublic,
    SharedCredits,
    Suspension,
    TenantPublic,
    TenantsPublic,
    TrialExtension,
    TrialPublic,
    UnitPriceCreate,
    UnitPricePublic,
    plan_public,
    pool_key_public,
    price_public,
    tenant_public,
    tenants_public,
    unit_price_public,
)
from chatgrid.web.deps import Console, OperatorOrg, OperatorUser

router = APIRouter(tags=["operator"])


def _tenants(state: Console) -> TenantsPublic:
    return tenants_public(operator.tenants(state.ctx))


@router.get(
    "/api/operator/tenants",
    response_model=TenantsPublic,
    summary="Every org, with month-to-date usage and margin",
)
def tenants(state: Console, viewer: OperatorUser) -> TenantsPublic:
    return _tenants(state)


@router.post(
    "/api/operator/tenants/{tenant_id}/suspend",
    response_model=TenantsPublic,
    summary="Suspend an org: every replica refuses its /v1 calls when this returns",
)
def suspend(
    tenant: OperatorOrg, body: Suspension, state: Console, viewer: OperatorUser
) -> TenantsPublic:
    operator.suspend(state.ctx, viewer.actor, tenant.id, body.reason)
    return _tenants(state)


@router.post(
    "/api/operator/tenants/{tenant_id}/resume",
    response_model=TenantsPublic,
    summary="Resume a suspended org",
)
def resume(tenant: OperatorOrg, state: Console, viewer: OperatorUser) -> TenantsPublic:
    operator.resume(state.ctx, viewer.actor, tenant.id)
    return _tenants(state)


@router.post(
    "/api/operator/tenants/{tenant_id}/trial",
    response_model=TrialPublic,
    summary="Extend an org's trial by some days",
)
def extend_trial(
    tenant: OperatorOrg, body: TrialExtension, state: Console, viewer: OperatorUser
) -> TrialPublic:
    ends = operator.extend_trial(state.ctx, viewer.actor, tenant.id, body.days)
    return TrialPublic(org_id=tenant.id, trial_ends_at=ends)


@router.put(
    "/api/operator/tenants/{tenant_id}/shared",
    response_model=TenantPublic,
    summary="Allow an org shared credits, or take them away (refused while it is on them)",
)
def set_shared_allowed(
    tenant: OperatorOrg, body: SharedCredits, state: Console, viewer: OperatorUser
) -> TenantPublic:
    operator.set_shared_allowed(state.ctx, viewer.actor, tenant.id, body.allowed)
    return tenant_public(operator.tenant(state.ctx, tenant.id))


@router.get(
    "/api/operator/pool",
    response_model=list[PoolKeyPublic],
    summary="Pooled keys, their health and month-to-date use",
)
def pool(state: Console, viewer: OperatorUser) -> list[PoolKeyPublic]:
    return [pool_key_public(k) for k in operator.pool_usage(state.ctx)]


@router.get("/api/operator/plans", response_model=list[PlanPublic], summary="Plans (read-only)")
def plans(state: Console, viewer: OperatorUser) -> list[PlanPublic]:
    return [plan_public(p) for p in operator.plans(state.ctx)]


@router.get("/api/operator/prices", response_model=list[PricePublic], summary="The price book")
def price_book(state: Console, viewer: OperatorUser) -> list[PricePublic]:
    return [price_public(p) for p in operator.price_book(state.ctx)]


@router.post(
    "/api/operator/prices",
    response_model=PricePublic,
    status_code=201,
    summary="Add a dated price (today or later; never retroactive)",
)
def add_price(body: PriceCreate, state: Console, viewer: OperatorUser) -> PricePublic:
    price = operator.price_from_dollars(
        body.model, body.effective_from, body.input, body.output, body.cached_input
    )
    added = operator.set_price(state.ctx, viewer.actor, price)
    return price_public(added)


@router.get(
    "/api/operator/prices/units",
    response_model=list[UnitPricePublic],
    summary="The unit price book: images, audio minutes, characters, moderation inputs",
)
def unit_price_book(state: Console, viewer: OperatorUser) -> list[UnitPricePublic]:
    return [unit_price_public(p) for p in prices.unit_price_book(state.ctx)]


@router.post(
    "/api/operator/prices/units",
    response_model=UnitPricePublic,
    status_code=201,
    summary="Add a dated unit price (today or later; never retroactive)",
)
def add_unit_price(body: UnitPriceCreate, state: Console, viewer: OperatorUser) -> UnitPricePublic:
    unit = UnitPrice(
        model=body.model,
        kind=body.kind,
        micros=prices.dollars_per_mtok(body.price.strip(), "price"),
        variant=body.variant,
        effective_from=body.effective_from or datetime.now(UTC).date(),
    )
    return unit_price_public(prices.set_unit_price(state.ctx, viewer.actor, unit))
