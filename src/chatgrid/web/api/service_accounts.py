"""Service accounts through the API (org admins, or an admin-scope service token)."""

from __future__ import annotations

from fastapi import APIRouter, status

from chatgrid.admin import service_accounts as accounts
from chatgrid.web.api.service_accounts_schemas import (
    ServiceAccountCreate,
    ServiceAccountCreated,
    ServiceAccountPublic,
    service_account_created,
    service_account_public,
)
from chatgrid.web.deps import Console, OrgAdmin, TargetServiceAccount

router = APIRouter(tags=["service accounts"])


@router.get(
    "/api/orgs/{org_id}/service-accounts",
    response_model=list[ServiceAccountPublic],
    summary="The org's service accounts",
)
def list_accounts(state: Console, access: OrgAdmin) -> list[ServiceAccountPublic]:
    found = accounts.list_service_accounts(state.ctx, access.org)
    return [service_account_public(a) for a in found]


@router.post(
    "/api/orgs/{org_id}/service-accounts",
    response_model=ServiceAccountCreated,
    status_code=201,
    summary="Create a service account (its token shown once)",
)
def create_account(
    body: ServiceAccountCreate, state: Console, access: OrgAdmin
) -> ServiceAccountCreated:
    account, secret = accounts.create_service_account(
        state.ctx,
        access.org,
        access.actor,
        body.name,
        body.scope.value,
        by_service_account=access.by_service_account,
    )
    return service_account_created(account, secret)


@router.post(
    "/api/orgs/{org_id}/service-accounts/{service_account_id}/rotate",
    response_model=ServiceAccountCreated,
    summary="A new token for a service account (the old one refused at once)",
)
def rotate_account(
    state: Console, access: OrgAdmin, account: TargetServiceAccount
) -> ServiceAccountCreated:
    rotated, secret = accounts.rotate_service_account(
        state.ctx,
        access.org,
        access.actor,
        account.id,
        by_service_account=access.by_service_account,
    )
    return service_account_created(rotated, secret)


@router.delete(
    "/api/orgs/{org_id}/service-accounts/{service_account_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a service account and its token",
)
def revoke_account(state: Console, access: OrgAdmin, account: TargetServiceAccount) -> None:
    accounts.revoke_service_account(state.ctx, access.org, access.actor, account.id)
