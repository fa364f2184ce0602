"""An org through the API: overview, billing mode, its key, limits and models."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, status

from chatgrid.admin import credentials, org_settings
from chatgrid.providers.base import Provider
from chatgrid.web.api.orgs_schemas import (
    CredentialChoice,
    CredentialCreate,
    CredentialPublic,
    ModeUpdate,
    OrgPublic,
    OverviewPublic,
    PolicyPublic,
    PolicyUpdate,
    credential_public,
    org_policy,
    org_public,
    overview_public,
    policy_public,
)
from chatgrid.web.deps import Console, OrgAdmin, OrgMember

router = APIRouter(tags=["orgs"])


@router.get("/api/orgs/{org_id}", response_model=OrgPublic, summary="An org you belong to")
def get_org(access: OrgMember) -> OrgPublic:
    return org_public(access.org, access.member.role, access.shared_allowed, access.trial_ends_at)


@router.get(
    "/api/orgs/{org_id}/overview",
    response_model=OverviewPublic,
    summary="Mode, key health, seats and this month's usage",
)
def get_overview(state: Console, access: OrgAdmin) -> OverviewPublic:
    return overview_public(org_settings.overview(state.ctx, access.org.id), access.member.role)


@router.put("/api/orgs/{org_id}/mode", response_model=OrgPublic, summary="Switch billing mode")
def set_mode(body: ModeUpdate, state: Console, access: OrgAdmin) -> OrgPublic:
    """BYOK ↔ shared credits; shared only where the operator allows it (else 403)."""
    org = org_settings.switch_mode(state.ctx, access.org.id, access.actor, body.mode)
    return org_public(org, access.member.role, access.shared_allowed, access.trial_ends_at)


@router.get(
    "/api/orgs/{org_id}/credential",
    response_model=CredentialPublic | None,
    tags=["key"],
    summary="The org's first key: fingerprint, last four, health (null when none)",
)
def get_credential(state: Console, access: OrgAdmin) -> CredentialPublic | None:
    current = credentials.credential_status(state.ctx, access.org.id)
    return credential_public(current) if current is not None else None


@router.get(
    "/api/orgs/{org_id}/credentials",
    response_model=list[CredentialPublic],
    tags=["key"],
    summary="Every key of the org (one per provider, compatible servers named)",
)
def list_credentials(state: Console, access: OrgAdmin) -> list[CredentialPublic]:
    return [credential_public(s) for s in credentials.credential_statuses(state.ctx, access.org.id)]


@router.post(
    "/api/orgs/{org_id}/credential/prefer",
    response_model=CredentialPublic,
    tags=["key"],
    summary="Send a model two of the org's keys serve to one of them",
)
def prefer_credential(body: CredentialChoice, state: Console, access: OrgAdmin) -> CredentialPublic:
    stored = credentials.prefer_key(
        state.ctx, access.org.id, access.actor, body.model, body.provider, body.name
    )
    return _status_of(state, access.org.id, stored.id)


def _status_of(state: Console, org_id: str, credential_id: str) -> CredentialPublic:
    statuses = credentials.credential_statuses(state.ctx, org_id)
    return credential_public(next(s for s in statuses if s.id == credential_id))


@router.put(
    "/api/orgs/{org_id}/credential",
    response_model=CredentialPublic,
    tags=["key"],
    summary="Connect or rotate the org's key for a provider (and name)",
)
def put_credential(body: CredentialCreate, state: Console, access: OrgAdmin) -> CredentialPublic:
    """Validated upstream first (400 with a plain reason when refused), then swapped in;
    the org's keys of other providers stay."""
    config = credentials.upstream_config(
        body.provider,
        base_url=body.base_url,
        organization=body.organization,
        project=body.project,
        api_version=body.api_version,
        deployments=body.deployments,
    )
    stored = asyncio.run(
        credentials.connect_credential(
            state.ctx, access.org.id, access.actor, config, body.api_key, body.name
        )
    )
    return _status_of(state, access.org.id, stored.id)


@router.delete(
    "/api/orgs/{org_id}/credential",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["key"],
    summary="Revoke one of the org's keys (in force when this returns)",
)
def delete_credential(
    state: Console, access: OrgAdmin, provider: Provider | None = None, name: str | None = None
) -> None:
    """Without ``provider``: the org's only key (409 ``credential_ambiguous`` when it has
    several)."""
    credentials.revoke_credential(state.ctx, access.org.id, access.actor, provider, name)


@router.get(
    "/api/orgs/{org_id}/policy",
    response_model=PolicyPublic,
    tags=["limits"],
    summary="Limits and allowed models",
)
def get_policy(state: Console, access: OrgAdmin) -> PolicyPublic:
    return policy_public(state.ctx.policies.get(access.org.id))


@router.put(
    "/api/orgs/{org_id}/policy",
    response_model=PolicyPublic,
    tags=["limits"],
    summary="Set limits and allowed models (null: no limit / every model)",
)
def put_policy(body: PolicyUpdate, state: Console, access: OrgAdmin) -> PolicyPublic:
    policy = org_settings.update_policy(state.ctx, access.org.id, access.actor, org_policy(body))
    return policy_public(policy)
