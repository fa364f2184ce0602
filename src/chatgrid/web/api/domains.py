"""Verified email domains through the API (org admins): claim, verify by DNS, list, remove.

The handlers are plain functions, so FastAPI runs them in a worker thread:
a verification waiting on DNS never holds up the server's event loop.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from chatgrid.admin import domains
from chatgrid.web.api.domains_schemas import DomainCreate, DomainPublic, domain_public
from chatgrid.web.deps import Console, OrgAdmin, TargetDomain

router = APIRouter(tags=["domains"])


@router.get(
    "/api/orgs/{org_id}/domains",
    response_model=list[DomainPublic],
    summary="The org's email domains, pending and verified",
)
def list_domains(state: Console, access: OrgAdmin) -> list[DomainPublic]:
    return [domain_public(c) for c in state.ctx.domains.list(access.org.id)]


@router.post(
    "/api/orgs/{org_id}/domains",
    response_model=DomainPublic,
    status_code=201,
    summary="Claim a domain (answers with the TXT record to publish)",
)
def add_domain(body: DomainCreate, state: Console, access: OrgAdmin) -> DomainPublic:
    """400 for a name that cannot be verified (a wildcard, an IP address, a public
    suffix such as ``co.uk``); 409 when the org claimed it already or holds 50 claims."""
    return domain_public(domains.add_domain(state.ctx, access.org.id, access.actor, body.domain))


@router.post(
    "/api/orgs/{org_id}/domains/{domain_id}/verify",
    response_model=DomainPublic,
    summary="Check the domain's TXT record now",
)
def verify_domain(state: Console, access: OrgAdmin, claim: TargetDomain) -> DomainPublic:
    """400 ``txt_record_missing`` or ``txt_record_mismatch`` when the record is not there
    (yet), 409 ``domain_taken`` when another org holds the domain verified, 502
    ``dns_unavailable`` when DNS does not answer; none of them changes anything."""
    return domain_public(domains.verify_domain(state.ctx, claim, access.actor))


@router.delete(
    "/api/orgs/{org_id}/domains/{domain_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a domain (a verified one is free for another org from then on)",
)
def remove_domain(state: Console, access: OrgAdmin, claim: TargetDomain) -> None:
    domains.remove_domain(state.ctx, claim, access.actor)
