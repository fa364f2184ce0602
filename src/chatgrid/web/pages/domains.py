"""The domains page (org admins): claim an email domain, publish its TXT record, verify it."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import domains
from chatgrid.errors import ChatGridError
from chatgrid.identity.domains import MAX_DOMAINS_PER_ORG
from chatgrid.web.deps import Console, OrgAccess, OrgAdmin, TargetDomain
from chatgrid.web.pages.common import NOTICES, form_action, redirect, render
from chatgrid.web.state import ConsoleState

router = APIRouter()

DOMAIN_NOTICES = {
    "domain_added": "The domain is claimed. Publish its TXT record at your DNS provider, "
    "then press Verify.",
    "domain_verified": "The domain is verified: it belongs to this organization.",
    "domain_removed": "The domain is removed.",
}


def _domains_page(
    request: Request,
    state: ConsoleState,
    access: OrgAccess,
    *,
    refused: ChatGridError | None = None,
    typed: str = "",
) -> Response:
    asked = request.query_params.get("notice", "")
    return render(
        request,
        state,
        "domains.html",
        access=access,
        section="domains",
        claims=state.ctx.domains.list(access.org.id),
        limit=MAX_DOMAINS_PER_ORG,
        typed=typed,
        notice=DOMAIN_NOTICES.get(asked) or NOTICES.get(asked),
        refused=refused,
    )


@router.get("/orgs/{org_id}/domains")
def domains_page(request: Request, state: Console, access: OrgAdmin) -> Response:
    return _domains_page(request, state, access)


@router.post("/orgs/{org_id}/domains")
def add_domain(
    request: Request,
    state: Console,
    access: OrgAdmin,
    domain: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    def add() -> Response:
        domains.add_domain(state.ctx, access.org.id, access.actor, domain)
        return redirect(f"/orgs/{access.org.id}/domains", "domain_added")

    return form_action(add, partial(_domains_page, request, state, access, typed=domain))


def _then_back(
    request: Request, state: ConsoleState, access: OrgAccess, act: Callable[[], object], notice: str
) -> Response:
    """Run one claim's action, then back to the page with its notice (or its refusal)."""

    def run() -> Response:
        act()
        return redirect(f"/orgs/{access.org.id}/domains", notice)

    return form_action(run, partial(_domains_page, request, state, access))


@router.post("/orgs/{org_id}/domains/{domain_id}/verify")
def verify_domain(
    request: Request, state: Console, access: OrgAdmin, claim: TargetDomain
) -> Response:
    """A plain function, so it runs in a worker thread while it waits for DNS."""
    verify = partial(domains.verify_domain, state.ctx, claim, access.actor)
    return _then_back(request, state, access, verify, "domain_verified")


@router.post("/orgs/{org_id}/domains/{domain_id}/remove")
def remove_domain(
    request: Request, state: Console, access: OrgAdmin, claim: TargetDomain
) -> Response:
    remove = partial(domains.remove_domain, state.ctx, claim, access.actor)
    return _then_back(request, state, access, remove, "domain_removed")
