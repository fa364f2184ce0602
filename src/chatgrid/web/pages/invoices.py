"""Invoices for org admins: the list, one invoice as a page, and its CSV / JSON download.

The exports are ``billing.invoices``' own (what ``chatgrid invoice show``
prints), so the console, the CLI and the files always agree.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import billing
from chatgrid.analytics.usage import dollars
from chatgrid.billing.invoices import Invoice, invoice_csv, invoice_json
from chatgrid.errors import NotFound
from chatgrid.web.deps import Console, OrgAdmin
from chatgrid.web.pages.common import render

router = APIRouter()

_FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def find_invoice(state: Console, org_id: str, period: str) -> Invoice:
    """The org's issued invoice for the month; 404 for a malformed or unissued month."""
    if len(period) != 7:
        raise NotFound(f"no invoice for {period[:20]}", code="invoice_not_found")
    return billing.get_invoice(state.ctx, org_id, period)


def invoice_download(invoice: Invoice, org_name: str, fmt: str) -> Response:
    """The invoice as a file, named so that a folder of them sorts by org and month."""
    if fmt not in _FORMATS:
        raise NotFound("no such format", code="not_found")
    body = invoice_csv(invoice) if fmt == "csv" else invoice_json(invoice)
    slug = "".join(c if c.isalnum() else "-" for c in org_name.lower()).strip("-")[:40] or "org"
    filename = f"chatgrid-invoice-{slug}-{invoice.period}.{fmt}"
    return Response(
        body,
        media_type=_FORMATS[fmt],
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/orgs/{org_id}/invoices")
def invoices_page(request: Request, state: Console, access: OrgAdmin) -> Response:
    invoices = list(reversed(state.ctx.billing.invoices(access.org.id)))
    return render(
        request,
        state,
        "invoices.html",
        access=access,
        section="invoices",
        invoices=invoices,
        dollars=dollars,
    )


@router.get("/orgs/{org_id}/invoices/{period}")
def invoice_page(request: Request, period: str, state: Console, access: OrgAdmin) -> Response:
    invoice = find_invoice(state, access.org.id, period)
    return render(
        request,
        state,
        "invoice.html",
        access=access,
        section="invoices",
        invoice=invoice,
        dollars=dollars,
    )


@router.get("/orgs/{org_id}/invoices/{period}/{fmt}")
def invoice_file(period: str, fmt: str, state: Console, access: OrgAdmin) -> Response:
    return invoice_download(find_invoice(state, access.org.id, period), access.org.name, fmt)
