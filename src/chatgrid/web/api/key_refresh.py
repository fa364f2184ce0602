"""Refresh an org's keys' model lists from their providers (the console's *Refresh models*)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter

from chatgrid.gateway.model_refresh import refresh_org_keys
from chatgrid.web.api.key_refresh_schemas import ModelRefreshPublic, model_refresh_public
from chatgrid.web.deps import Console, OrgAdmin

router = APIRouter(tags=["key"])


@router.post(
    "/api/orgs/{org_id}/credential/refresh",
    response_model=ModelRefreshPublic,
    summary="Ask the providers for the org's keys' models now; what was added and removed",
)
def refresh_credential_models(state: Console, access: OrgAdmin) -> ModelRefreshPublic:
    """Audited as ``credential.models_refreshed``; 502 ``model_list_unavailable`` when a
    provider gives no list (the stored list is left as it was)."""
    changes = asyncio.run(refresh_org_keys(state.ctx, access.org.id, access.actor))
    return model_refresh_public(changes)
