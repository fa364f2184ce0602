"""One tenant in the operator console: its plan, the operator's limits on it, its invoices.

Each change is audited and in force on every server when the redirect
comes back. The invoice pages reuse the org console's exports.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import billing, operator
from chatgrid.errors import ChatGridError
from chatgrid.web.deps import Console, OperatorUser, Viewer
from chatgrid.web.pages.common import redirect, whole_number
from chatgrid.web.pages.invoices import find_invoice, invoice_download
from chatgrid.web.pages.operator import operator_page
from chatgrid.web.pages.operator_pool import Number
from chatgrid.web.state import ConsoleState

router = APIRouter()


def _tenant_page(
    request: Request,
    state: ConsoleState,
    viewer: Viewer,
    tenant_id: str,
    *,
    status: int = 200,
    error: str = "",
) -> Response:
    ctx = state.ctx
    tenant = operator.tenant(ctx, tenant_id[:64])
    return operator_page(
        request,
        state,
        viewer,
        "operator/tenant.html",
        "tenants",
        tenant=tenant,
        plans=ctx.plans.list(),
        limits=operator.operator_limits(ctx, tenant.id),
        invoices=list(reversed(ctx.billing.invoices(tenant.id))),
        status=status,
        error=error or None,
    )


@router.get("/operator/tenants/{tenant_id}")
def tenant_page(request: Request, tenant_id: str, state: Console, viewer: OperatorUser) -> Response:
    return _tenant_page(request, state, viewer, tenant_id)


@router.post("/operator/tenants/{tenant_id}/limits")
def set_limits(
    request: Request,
    tenant_id: str,
    state: Console,
    viewer: OperatorUser,
    org_rpm: Number = "",
    org_tpm: Number = "",
    member_rpm: Number = "",
    member_tpm: Number = "",
) -> Response:
    values = {"org_rpm": org_rpm, "org_tpm": org_tpm, "member_rpm": member_rpm}
    values["member_tpm"] = member_tpm
    try:
        tenant = operator.tenant(state.ctx, tenant_id[:64])
        limits = {k: whole_number(v, k, optional=True) for k, v in values.items()}
        operator.set_operator_limits(state.ctx, viewer.actor, tenant.id, limits)
    except ChatGridError as exc:
        if exc.status == 404:
            raise
        return _tenant_page(request, state, viewer, tenant_id, status=exc.status, error=exc.message)
    return redirect(f"/operator/tenants/{tenant.id}?done=limits_saved")


@router.post("/operator/tenants/{tenant_id}/plan")
def assign_plan(
    request: Request,
    tenant_id: str,
    state: Console,
    viewer: OperatorUser,
    plan_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    try:
        tenant = operator.tenant(state.ctx, tenant_id[:64])
        billing.assign_plan(state.ctx, tenant.id, plan_id, actor=viewer.actor)
    except ChatGridError as exc:
        if exc.code == "org_not_found":
            raise
        return _tenant_page(request, state, viewer, tenant_id, status=exc.status, error=exc.message)
    return redirect(f"/operator/tenants/{tenant.id}?done=plan_assigned")


@router.get("/operator/tenants/{tenant_id}/invoices/{period}")
def tenant_invoice(
    request: Request, tenant_id: str, period: str, state: Console, viewer: OperatorUser
) -> Response:
    tenant = operator.tenant(state.ctx, tenant_id[:64])
    invoice = find_invoice(state, tenant.id, period)
    return operator_page(
        request, state, viewer, "operator/invoice.html", "tenants", tenant=tenant, invoice=invoice
    )


@router.get("/operator/tenants/{tenant_id}/invoices/{period}/{fmt}")
def tenant_invoice_file(
    tenant_id: str, period: str, fmt: str, state: Console, viewer: OperatorUser
) -> Response:
    tenant = operator.tenant(state.ctx, tenant_id[:64])
    return invoice_download(find_invoice(state, tenant.id, period), tenant.name, fmt)
