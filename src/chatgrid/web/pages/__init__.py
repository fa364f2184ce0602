"""The console's pages: one router per area, all server-rendered."""

from fastapi import APIRouter

from chatgrid.web.pages import (
    account,
    alerts,
    auth,
    chat,
    docs,
    domains,
    invoices,
    key_refresh,
    keys,
    members,
    operator,
    operator_pool,
    operator_tenant,
    org_security,
    overview,
    own_sessions,
    prompts,
    recovery,
    reports,
    saml,
    scim,
    second_step,
    service_accounts,
    settings,
    shared,
    sso,
    teams,
    tokens,
    two_step,
    usage,
)


def page_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for module in (
        auth,
        recovery,
        account,
        overview,
        keys,
        key_refresh,
        members,
        sso,
        saml,
        domains,
        alerts,
        tokens,
        settings,
        reports,
        usage,
        operator,
        operator_pool,
        operator_tenant,
        invoices,
        docs,
        chat,
        shared,
        prompts,
        second_step,
        two_step,
        own_sessions,
        org_security,
        scim,
        service_accounts,
        teams,
    ):
        router.include_router(module.router)
    return router
