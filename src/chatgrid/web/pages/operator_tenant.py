"""One tenant in the operator console: its plan, shared credits allowed or not, the
operator's limits on it, its invoices.

Each change is audited and in force on every server when the redirect
comes back. The invoice pages reuse the org console's exports.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import billing, operator
from chatgrid.errors import ChatGridError, InvalidRequest
from chatgrid.identity.models import Org
from chatgrid.web.deps import Console, OperatorOrg, OperatorUser, Viewer
from chatgrid.web.pages.common import form_action, redirect, whole_number
from chatgrid.web.pages.invoices import find_invoice, invoice_download
from chatgrid.web.pages.operator import operator_page
from chatgrid.web.pages.operator_pool import Number
from chatgrid.web.state import ConsoleState

router = APIRouter()


def _tenant_page(
    request: Request,
    state: ConsoleState,
    viewer: Viewer,
    org: Org,
    *,
    refused: ChatGridError | None = None,
) -> Response:
    ctx = state.ctx
    tenant = operator.tenant(ctx, org.id)
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
        refused=refused,
    )


@router.get("/operator/tenants/{tenant_id}")
def tenant_page(
    request: Request, org: OperatorOrg, state: Console, viewer: OperatorUser
) -> Response:
    return _tenant_page(request, state, viewer, org)


@router.post("/operator/tenants/{tenant_id}/limits")
def set_limits(
    request: Request,
    org: OperatorOrg,
    state: Console,
    viewer: OperatorUser,
    org_rpm: Number = "",
    org_tpm: Number = "",
    member_rpm: Number = "",
    member_tpm: Number = "",
) -> Response:
    values = {"org_rpm": org_rpm, "org_tpm": org_tpm, "member_rpm": member_rpm}
    values["member_tpm"] = member_tpm

    def save() -> Response:
        limits = {k: whole_number(v, k, optional=True) for k, v in values.items()}
        operator.set_operator_limits(state.ctx, viewer.actor, org.id, limits)
        return redirect(f"/operator/tenants/{org.id}?done=limits_saved")

    return form_action(save, partial(_tenant_page, request, state, viewer, org))


@router.post("/operator/tenants/{tenant_id}/plan")
def assign_plan(
    request: Request,
    org: OperatorOrg,
    state: Console,
    viewer: OperatorUser,
    plan_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    def assign() -> Response:
        billing.assign_plan(state.ctx, org.id, plan_id, actor=viewer.actor)
        return redirect(f"/operator/tenants/{org.id}?done=plan_assigned")

    return form_action(assign, partial(_tenant_page, request, state, viewer, org))


@router.post("/operator/tenants/{tenant_id}/shared")
def set_shared_allowed(
    request: Request,
    org: OperatorOrg,
    state: Console,
    viewer: OperatorUser,
    allowed: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """The console's door to ``admin.operator.set_shared_allowed`` (same rules, same audit)."""

    def save() -> Response:
        if allowed not in ("true", "false"):
            raise InvalidRequest("allowed is true or false", param="allowed")
        operator.set_shared_allowed(state.ctx, viewer.actor, org.id, allowed == "true")
        done = "shared_allowed" if allowed == "true" else "shared_taken"
        return redirect(f"/operator/tenants/{org.id}?done={done}")

    return form_action(save, partial(_tenant_page, request, state, viewer, org))


@router.get("/operator/tenants/{tenant_id}/invoices/{period}")
def tenant_invoice(
    request: Request, org: OperatorOrg, period: str, state: Console, viewer: OperatorUser
) -> Response:
    tenant = operator.tenant(state.ctx, org.id)
    invoice = find_invoice(state, tenant.id, period)
    return operator_page(
        request, state, viewer, "operator/invoice.html", "tenants", tenant=tenant, invoice=invoice
    )


@router.get("/operator/tenants/{tenant_id}/invoices/{period}/{fmt}")
def tenant_invoice_file(
    org: OperatorOrg, period: str, fmt: str, state: Console, viewer: OperatorUser
) -> Response:
    return invoice_download(find_invoice(state, org.id, period), org.name, fmt)
