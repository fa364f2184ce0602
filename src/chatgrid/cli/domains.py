"""Verified email domains: claim, prove by DNS, list, remove (``docs/identity.md``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from chatgrid.admin import domains
from chatgrid.audit import Actor
from chatgrid.cli.common import OrgArg, admin_context, emit
from chatgrid.identity.domains import EmailDomain

domain_app = typer.Typer(help="Email domains an org proves it owns by DNS.", no_args_is_help=True)

DomainArg = Annotated[str, typer.Argument(help="The domain, e.g. example.com.")]


def domain_view(claim: EmailDomain) -> dict[str, Any]:
    """A claim as the command prints it: where to publish what, and whether it is proven."""
    return {
        "id": claim.id,
        "domain": claim.domain,
        "display_name": claim.display_name,
        "status": claim.status,
        "record": {"type": "TXT", "name": claim.record_name, "value": claim.record_value},
        "created_at": claim.created_at,
        "verified_at": claim.verified_at,
    }


@domain_app.command("add")
def domain_add(org: OrgArg, domain: DomainArg) -> None:
    """Claim a domain for an org; prints the TXT record to publish before `domain verify`."""
    with admin_context() as ctx:
        claim = domains.add_domain(ctx, ctx.orgs.get(org).id, Actor.cli(), domain)
        emit(domain_view(claim))


@domain_app.command("verify")
def domain_verify(org: OrgArg, domain: DomainArg) -> None:
    """Look up the domain's TXT record now; verified when it holds the org's value."""
    with admin_context() as ctx:
        claim = domains.find_domain(ctx, ctx.orgs.get(org).id, domain)
        emit(domain_view(domains.verify_domain(ctx, claim, Actor.cli())))


@domain_app.command("list")
def domain_list(org: OrgArg) -> None:
    """The org's domains, pending and verified, with their records."""
    with admin_context() as ctx:
        emit([domain_view(c) for c in ctx.domains.list(ctx.orgs.get(org).id)])


@domain_app.command("remove")
def domain_remove(org: OrgArg, domain: DomainArg) -> None:
    """Withdraw an org's claim (a verified domain is free for another org from then on)."""
    with admin_context() as ctx:
        claim = domains.find_domain(ctx, ctx.orgs.get(org).id, domain)
        domains.remove_domain(ctx, claim, Actor.cli())
        emit({"id": claim.id, "domain": claim.domain, "removed": True})
