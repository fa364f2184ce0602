"""The JSON admin API under ``/api``: the console's actions, documented at ``/docs``."""

from fastapi import APIRouter

from chatgrid.web.api import (
    alerts,
    attachments,
    auth,
    budgets,
    chat,
    chat_settings,
    conversation_shares,
    documents,
    domains,
    key_refresh,
    members,
    operator,
    operator_alerts,
    org_export,
    orgs,
    payment_method,
    prompts,
    reconciliation,
    recovery,
    reports,
    retention,
    second_factor,
    service_accounts,
    sso,
    teams,
    tokens,
    usage,
)
from chatgrid.web.api.schemas import ErrorResponse

_ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in (
        (400, "Bad input"),
        (401, "Not signed in"),
        (403, "Not allowed, or no valid CSRF token"),
        (404, "No such object (or not yours to see)"),
        (409, "Clashes with the current state"),
        (410, "An invitation or emailed link (confirm, reset) that expired, was used or withdrawn"),
        (413, "The body or upload is too large"),
        (429, "Too many attempts"),
        (502, "The upstream (the org's key or the shared pool) failed or cannot serve this"),
        (503, "A service ChatGrid asks (Stripe) cannot be reached now; nothing was changed"),
    )
}


def api_router() -> APIRouter:
    router = APIRouter(responses=_ERRORS)
    for module in (
        auth,
        orgs,
        key_refresh,
        members,
        tokens,
        reports,
        usage,
        operator,
        operator_alerts,
        chat,
        attachments,
        chat_settings,
        conversation_shares,
        documents,
        prompts,
        second_factor,
        sso,
        domains,
        recovery,
        service_accounts,
        teams,
        budgets,
        payment_method,
        retention,
        reconciliation,
        org_export,
        alerts,
    ):
        router.include_router(module.router)
    return router
