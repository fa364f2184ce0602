"""BYOK reconciliation for org admins (``docs/ledger.md``, "BYOK reconciliation"): OpenAI's
usage for the org's key against the ledger, from uploaded pages or read from OpenAI with the
org's stored admin key, which is write-only."""

from __future__ import annotations

from fastapi import APIRouter

from chatgrid.admin import reconciliation, reconciliation_fetch
from chatgrid.web.api.reconciliation_schemas import (
    AdminKeySet,
    AdminKeyStatus,
    FetchAsked,
    ReconciliationPublic,
    UsageUpload,
)
from chatgrid.web.deps import Console, OrgAdmin

router = APIRouter(tags=["reconciliation"])


@router.get(
    "/api/orgs/{org_id}/reconciliation",
    response_model=AdminKeyStatus,
    summary="Whether the org stored an OpenAI admin key (its last four characters only)",
)
def show_admin_key(state: Console, access: OrgAdmin) -> AdminKeyStatus:
    return AdminKeyStatus(**reconciliation_fetch.admin_key_status(state.ctx, access.org.id))


@router.post(
    "/api/orgs/{org_id}/reconciliation",
    response_model=ReconciliationPublic,
    summary="Reconcile uploaded Usage API pages with the ledger (alerts outside use)",
)
def reconcile_upload(body: UsageUpload, state: Console, access: OrgAdmin) -> ReconciliationPublic:
    """400 with ``param`` ``usage`` for pages that are not OpenAI's usage pages."""
    found = reconciliation.reconcile_usage(
        state.ctx,
        access.org.id,
        access.actor,
        body.usage,
        api_key_id=body.api_key_id,
        threshold=body.threshold,
    )
    return ReconciliationPublic(**found)


@router.post(
    "/api/orgs/{org_id}/reconciliation/fetch",
    response_model=ReconciliationPublic,
    summary="Read OpenAI's Usage and Costs APIs with the stored admin key and reconcile",
)
def reconcile_fetched(body: FetchAsked, state: Console, access: OrgAdmin) -> ReconciliationPublic:
    """404 without a stored admin key; 502 when OpenAI refuses it or cannot be reached."""
    found = reconciliation_fetch.fetch_and_reconcile(
        state.ctx, access.org.id, access.actor, days=body.days, threshold=body.threshold
    )
    return ReconciliationPublic(**found)


@router.put(
    "/api/orgs/{org_id}/reconciliation/key",
    response_model=AdminKeyStatus,
    summary="Store (or replace) the org's OpenAI admin key; it is never shown again",
)
def set_admin_key(body: AdminKeySet, state: Console, access: OrgAdmin) -> AdminKeyStatus:
    shown = reconciliation_fetch.set_admin_key(
        state.ctx, access.org.id, access.actor, body.admin_key, api_key_id=body.api_key_id
    )
    return AdminKeyStatus(**shown)


@router.delete(
    "/api/orgs/{org_id}/reconciliation/key",
    response_model=AdminKeyStatus,
    summary="Erase the org's OpenAI admin key (404 when there is none)",
)
def remove_admin_key(state: Console, access: OrgAdmin) -> AdminKeyStatus:
    shown = reconciliation_fetch.remove_admin_key(state.ctx, access.org.id, access.actor)
    return AdminKeyStatus(**shown)
