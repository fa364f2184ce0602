"""The operator console: tenants and margin, prices; suspend, resume, extend a trial, add a
price. Pooled keys, plans and one tenant's page live in ``operator_*.py`` beside it. For
anyone but an operator, every page is a 404; every page warns while a pooled key is broken."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import analytics, operator, prices
from chatgrid.analytics.usage import dollars
from chatgrid.errors import ChatGridError
from chatgrid.gateway.pool_alerts import broken_pool_keys
from chatgrid.ledger.units import UNIT_NAMES, UnitPrice
from chatgrid.web.deps import Console, OperatorOrg, OperatorUser, Viewer
from chatgrid.web.pages.common import form_action, redirect, render, whole_number
from chatgrid.web.state import ConsoleState

router = APIRouter()

NOTICES = {
    "suspended": "The organization is suspended: its calls are refused from now on.",
    "resumed": "The organization is active again.",
    "trial_extended": "The trial is extended.",
    "price_added": "The price is added; calls from its date on use it.",
    "unit_price_added": "The unit price is added; calls from its date on use it.",
    "limits_saved": "The operator limits are saved; every server enforces them now.",
    "plan_assigned": "The plan is assigned from now on.",
    "shared_allowed": "Shared credits are allowed; its admins can switch to them now.",
    "shared_taken": "Shared credits are taken away; every server knows it now.",
    "plan_created": "The plan is created.",
    "plan_saved": "The plan is saved; it applies from now on to every org on it.",
    "pool_key_saved": "The pooled key's weight and budget are saved.",
}


def operator_page(
    request: Request,
    state: ConsoleState,
    viewer: Viewer,
    template: str,
    tab: str,
    *,
    refused: ChatGridError | None = None,
    **values: Any,
) -> Response:
    return render(
        request,
        state,
        template,
        viewer=viewer,
        section="operator",
        tab=tab,
        dollars=dollars,
        operator_notice=NOTICES.get(request.query_params.get("done", "")),
        broken_pool_keys=broken_pool_keys(state.ctx),
        refused=refused,
        **values,
    )


def _tenants_page(
    request: Request, state: ConsoleState, viewer: Viewer, *, refused: ChatGridError | None = None
) -> Response:
    rows = operator.tenants(state.ctx)
    return operator_page(
        request,
        state,
        viewer,
        "operator/tenants.html",
        "tenants",
        tenants=rows,
        overall=operator.overall_margin(rows),
        refused=refused,
    )


@router.get("/operator")
def tenants_page(request: Request, state: Console, viewer: OperatorUser) -> Response:
    return _tenants_page(request, state, viewer)


@router.post("/operator/tenants/{tenant_id}/suspend")
def suspend(
    request: Request,
    tenant: OperatorOrg,
    state: Console,
    viewer: OperatorUser,
    reason: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    def act() -> Response:
        operator.suspend(state.ctx, viewer.actor, tenant.id, reason)
        return redirect("/operator?done=suspended")

    return form_action(act, partial(_tenants_page, request, state, viewer))


@router.post("/operator/tenants/{tenant_id}/resume")
def resume(request: Request, tenant: OperatorOrg, state: Console, viewer: OperatorUser) -> Response:
    def act() -> Response:
        operator.resume(state.ctx, viewer.actor, tenant.id)
        return redirect("/operator?done=resumed")

    return form_action(act, partial(_tenants_page, request, state, viewer))


@router.post("/operator/tenants/{tenant_id}/trial")
def extend_trial(
    request: Request,
    tenant: OperatorOrg,
    state: Console,
    viewer: OperatorUser,
    days: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    def act() -> Response:
        operator.extend_trial(state.ctx, viewer.actor, tenant.id, whole_number(days, "days") or 0)
        return redirect("/operator?done=trial_extended")

    return form_action(act, partial(_tenants_page, request, state, viewer))


def _prices_page(
    request: Request, state: ConsoleState, viewer: Viewer, *, refused: ChatGridError | None = None
) -> Response:
    return operator_page(
        request,
        state,
        viewer,
        "operator/prices.html",
        "prices",
        prices=operator.price_book(state.ctx),
        unit_prices=prices.unit_price_book(state.ctx),
        unit_kinds=UNIT_NAMES,
        refused=refused,
    )


@router.get("/operator/prices")
def prices_page(request: Request, state: Console, viewer: OperatorUser) -> Response:
    return _prices_page(request, state, viewer)


@router.post("/operator/prices")
def add_price(
    request: Request,
    state: Console,
    viewer: OperatorUser,
    model: Annotated[str, Form(max_length=100)] = "",
    effective_from: Annotated[str, Form(max_length=20)] = "",
    input: Annotated[str, Form(max_length=20)] = "",
    cached_input: Annotated[str, Form(max_length=20)] = "",
    output: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    def add() -> Response:
        price = operator.price_from_dollars(
            model,
            analytics.parse_day(effective_from, "effective_from"),
            input.strip(),
            output.strip(),
            cached_input.strip() or None,
        )
        operator.set_price(state.ctx, viewer.actor, price)
        return redirect("/operator/prices?done=price_added")

    return form_action(add, partial(_prices_page, request, state, viewer))


@router.post("/operator/prices/units")
def add_unit_price(
    request: Request,
    state: Console,
    viewer: OperatorUser,
    model: Annotated[str, Form(max_length=100)] = "",
    kind: Annotated[str, Form(max_length=16)] = "",
    variant: Annotated[str, Form(max_length=32)] = "",
    effective_from: Annotated[str, Form(max_length=20)] = "",
    price: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    def add() -> Response:
        day = analytics.parse_day(effective_from, "effective_from")
        unit = UnitPrice(
            model=model,
            kind=kind,
            micros=prices.dollars_per_mtok(price.strip(), "price"),
            variant=variant,
            effective_from=day or datetime.now(UTC).date(),
        )
        prices.set_unit_price(state.ctx, viewer.actor, unit)
        return redirect("/operator/prices?done=unit_price_added")

    return form_action(add, partial(_prices_page, request, state, viewer))
