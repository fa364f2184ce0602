"""How long an org keeps its conversations, documents and audit entries (org admins only).

The instance's periods are a ceiling the org cannot pass; expired data is
deleted by the servers' sweep, with a receipt in the audit log
(``docs/retention.md``).
"""

from __future__ import annotations

from fastapi import APIRouter

from chatgrid.admin import retention
from chatgrid.web.api.retention_schemas import RetentionPublic, RetentionSet, retention_public
from chatgrid.web.deps import Console, OrgAdmin

router = APIRouter(tags=["retention"])


@router.get(
    "/api/orgs/{org_id}/retention",
    response_model=RetentionPublic,
    summary="The org's retention periods, the instance's ceiling, and what the org keeps",
)
def show_retention(state: Console, access: OrgAdmin) -> RetentionPublic:
    return retention_public(retention.show_retention(state.ctx, access.org.id))


@router.put(
    "/api/orgs/{org_id}/retention",
    response_model=RetentionPublic,
    summary="Change the org's retention periods (the kinds given; the others stay)",
)
def set_retention(body: RetentionSet, state: Console, access: OrgAdmin) -> RetentionPublic:
    """400 with ``param`` the kind for a period that is not 1 to 36,500 days or "forever"."""
    shown = retention.set_org_retention(state.ctx, access.org.id, access.actor, body.periods())
    return retention_public(shown)
