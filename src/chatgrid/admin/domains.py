"""Verified email domains: claim one, prove it by a DNS TXT record, list and remove, audited.

Single sign-on and SCIM will trust an email domain only once it is
verified here, and a domain is verified for at most one org (the database
enforces it). Nothing servers cache depends on these rows yet, so no change
marker is bumped.

Who may act is decided at the door: the console and the API let an org's
owners and admins in (``web.deps.OrgAdmin``); the command line is the
operator's.
"""

from __future__ import annotations

from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.identity.dns_txt import txt_values
from chatgrid.identity.domains import (
    MAX_DOMAINS_PER_ORG,
    EmailDomain,
    check_proof,
    new_challenge_token,
    normalize_domain,
)
from chatgrid.store.domains import domain_taken


def add_domain(ctx: AppContext, org_id: str, actor: Actor, domain: str) -> EmailDomain:
    """Claim a domain for the org; the answer carries the TXT record to publish.

    Another org may hold the domain already: claiming it is allowed (the holder
    may give it up), verifying it is not.
    """
    name = normalize_domain(domain)
    claim = ctx.domains.claim(
        org_id,
        name,
        new_challenge_token(),
        created_by=actor.email,
        limit=MAX_DOMAINS_PER_ORG,
    )
    ctx.audit.record(
        org_id, actor, "domain.added", claim.id, {"domain": name, "record": claim.record_name}
    )
    return claim


def find_domain(ctx: AppContext, org_id: str, domain: str) -> EmailDomain:
    """The org's claim on a domain named as people write it (``Bücher.example.``)."""
    return ctx.domains.find(org_id, normalize_domain(domain))


def verify_domain(ctx: AppContext, claim: EmailDomain, actor: Actor) -> EmailDomain:
    """Look for the claim's TXT record now; mark the domain verified if it is there.

    Blocks for up to ``CHATGRID_DNS_TIMEOUT_SECONDS`` (call it off the event
    loop). A missing or different record, a DNS server that does not answer,
    or a domain another org holds is refused with its reason and writes
    nothing. A claim verified already is returned as it is.
    """
    if claim.verified:
        return claim
    holder = ctx.domains.verified_owner(claim.domain)
    if holder is not None and holder != claim.org_id:
        raise domain_taken(claim.domain)
    check_proof(claim, txt_values(ctx.settings, claim.record_name))
    verified = ctx.domains.mark_verified(claim.org_id, claim.id)
    ctx.audit.record(claim.org_id, actor, "domain.verified", claim.id, {"domain": claim.domain})
    return verified


def remove_domain(ctx: AppContext, claim: EmailDomain, actor: Actor) -> None:
    """Withdraw the claim; a verified domain is free for another org to verify from now on."""
    ctx.domains.remove(claim.org_id, claim.id)
    ctx.audit.record(
        claim.org_id,
        actor,
        "domain.removed",
        claim.id,
        {"domain": claim.domain, "was_verified": claim.verified},
    )
