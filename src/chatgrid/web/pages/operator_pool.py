"""The operator console's pooled keys and plans: read them, change a key's weight and
budget, create and edit plans. Every change is audited and in force on every server."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import billing, operator
from chatgrid.analytics.usage import dollars
from chatgrid.billing.plans import parse_dollars
from chatgrid.errors import ChatGridError, InvalidRequest
from chatgrid.web.deps import Console, OperatorPlan, OperatorPoolKey, OperatorUser, Viewer
from chatgrid.web.pages.common import form_action, redirect, whole_number
from chatgrid.web.pages.operator import operator_page
from chatgrid.web.state import ConsoleState

router = APIRouter()

Number = Annotated[str, Form(max_length=12)]


def _pool_page(
    request: Request, state: ConsoleState, viewer: Viewer, *, refused: ChatGridError | None = None
) -> Response:
    keys = operator.pool_usage(state.ctx)
    return operator_page(
        request,
        state,
        viewer,
        "operator/pool.html",
        "pool",
        keys=keys,
        refused=refused,
    )


@router.get("/operator/pool")
def pool_page(request: Request, state: Console, viewer: OperatorUser) -> Response:
    return _pool_page(request, state, viewer)


@router.post("/operator/pool/{key_id}")
def set_pool_budget(
    request: Request,
    key: OperatorPoolKey,
    state: Console,
    viewer: OperatorUser,
    weight: Number = "",
    rpm_limit: Number = "",
    tpm_limit: Number = "",
) -> Response:
    def save() -> Response:
        operator.set_pool_budget(
            state.ctx,
            viewer.actor,
            key.id,
            weight=whole_number(weight, "weight") or 0,
            rpm_limit=whole_number(rpm_limit, "rpm_limit", optional=True),
            tpm_limit=whole_number(tpm_limit, "tpm_limit", optional=True),
        )
        return redirect("/operator/pool?done=pool_key_saved")

    return form_action(save, partial(_pool_page, request, state, viewer))


def usd(micros: int) -> str:
    """Exact dollars for a form field (``5.00``, ``0.0015``)."""
    return dollars(micros).removeprefix("$")


def _plans_page(
    request: Request, state: ConsoleState, viewer: Viewer, *, refused: ChatGridError | None = None
) -> Response:
    return operator_page(
        request,
        state,
        viewer,
        "operator/plans.html",
        "plans",
        plans=state.ctx.plans.list(),
        usd=usd,
        refused=refused,
    )


@router.get("/operator/plans")
def plans_page(request: Request, state: Console, viewer: OperatorUser) -> Response:
    return _plans_page(request, state, viewer)


def _overage(value: str) -> bool:
    if value not in ("hard_stop", "metered"):
        raise InvalidRequest("overage is hard_stop or metered", param="overage")
    return value == "metered"


@router.post("/operator/plans")
def create_plan(
    request: Request,
    state: Console,
    viewer: OperatorUser,
    name: Annotated[str, Form(max_length=100)] = "",
    seat_price: Number = "",
    markup_bps: Number = "",
    allowance_per_seat: Number = "",
    overage: Annotated[str, Form(max_length=20)] = "hard_stop",
) -> Response:
    def create() -> Response:
        billing.create_plan(
            state.ctx,
            name,
            seat_price_micros=parse_dollars(seat_price, "seat_price"),
            markup_bps=whole_number(markup_bps, "markup_bps") or 0,
            allowance_micros_per_seat=parse_dollars(allowance_per_seat, "allowance_per_seat"),
            overage=_overage(overage),
            actor=viewer.actor,
        )
        return redirect("/operator/plans?done=plan_created")

    return form_action(create, partial(_plans_page, request, state, viewer))


@router.post("/operator/plans/{plan_id}")
def update_plan(
    request: Request,
    plan: OperatorPlan,
    state: Console,
    viewer: OperatorUser,
    seat_price: Number = "",
    markup_bps: Number = "",
    allowance_per_seat: Number = "",
    overage: Annotated[str, Form(max_length=20)] = "hard_stop",
) -> Response:
    def save() -> Response:
        billing.update_plan(
            state.ctx,
            plan.id,
            seat_price_micros=parse_dollars(seat_price, "seat_price"),
            markup_bps=whole_number(markup_bps, "markup_bps") or 0,
            allowance_micros_per_seat=parse_dollars(allowance_per_seat, "allowance_per_seat"),
            overage=_overage(overage),
            actor=viewer.actor,
        )
        return redirect("/operator/plans?done=plan_saved")

    return form_action(save, partial(_plans_page, request, state, viewer))
