"""Org-wide settings: billing mode, limits and allowed models."""

from __future__ import annotations

from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest, PermissionDenied
from chatgrid.identity.models import BillingMode, Org
from chatgrid.limits.policy import OrgPolicy


def switch_mode(ctx: AppContext, org_ref: str, mode: BillingMode) -> Org:
    """BYOK ↔ shared credits, effective on every server when this returns.

    Shared credits only where the operator allows them for this org; a BYOK
    org keeps its key but never falls back to the pool. The write itself is
    conditional on the allowance (``OrgRepository.set_mode``), so an operator
    taking shared credits away at the same moment cannot be overtaken.
    """
    org = ctx.orgs.get(org_ref)
    if not ctx.orgs.set_mode(org.id, mode):
        raise PermissionDenied(
            "Shared credits are not available to this organization; ask the operator.",
            code="shared_not_allowed",
        )
    ctx.changes.bump()
    return ctx.orgs.by_id(org.id)


def set_policy(ctx: AppContext, org_ref: str, policy: OrgPolicy, *, actor: str | None) -> OrgPolicy:
    org = ctx.orgs.get(org_ref)
    ctx.policies.set(org.id, policy, actor)
    ctx.changes.bump()
    return ctx.policies.get(org.id)


def set_operator_policy(ctx: AppContext, org_ref: str, policy: OrgPolicy) -> OrgPolicy:
    """The operator's per-org and per-member limits for shared credits (on top of the admin's)."""
    if policy.member_concurrency is not None or policy.allowed_models is not None:
        raise InvalidRequest("the operator sets requests and tokens per minute only")
    org = ctx.orgs.get(org_ref)
    ctx.policies.set_operator(org.id, policy)
    ctx.changes.bump()
    return ctx.policies.operator(org.id)
