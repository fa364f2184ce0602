"""Limits and models: requests and tokens per minute, concurrency, the models members may use;
and whether a small model titles new conversations (``admin/chat_settings.py``)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import chat_settings, org_settings
from chatgrid.errors import ChatGridError, InvalidRequest
from chatgrid.identity.models import BillingMode
from chatgrid.limits.policy import OrgPolicy
from chatgrid.web.deps import Console, OrgAccess, OrgAdmin
from chatgrid.web.pages.common import form_action, redirect, render, whole_number
from chatgrid.web.state import ConsoleState

router = APIRouter()

LIMIT_FIELDS = {
    "org_rpm": "Requests per minute, whole org",
    "org_tpm": "Tokens per minute, whole org",
    "member_rpm": "Requests per minute, each member",
    "member_tpm": "Tokens per minute, each member",
    "member_concurrency": "Requests at once, each member",
}
Limit = Annotated[str, Form(max_length=20)]
#: The refusal that asks an admin to confirm a list without the embedding model.
EMBEDDING_LEFT_OUT = "embedding_model_left_out"


def parse_limit(value: str, name: str) -> int | None:
    return whole_number(value, name, optional=True, label=LIMIT_FIELDS[name])


def parse_models(checked: list[str], text: str) -> frozenset[str]:
    names = {m.strip() for m in checked if m.strip()}
    names |= {m.strip() for m in text.replace(",", "\n").splitlines() if m.strip()}
    if not names:
        raise InvalidRequest("choose at least one model, or allow every model", param="models")
    if len(names) > 500:
        raise InvalidRequest("at most 500 models can be listed", param="models")
    return frozenset(names)


def _limits_page(
    request: Request,
    state: ConsoleState,
    access: OrgAccess,
    *,
    policy: OrgPolicy | None = None,
    refused: ChatGridError | None = None,
) -> Response:
    ctx = state.ctx
    current = ctx.credentials.current(access.org.id)
    offered = sorted(current.models) if current is not None else []
    policy = policy or ctx.policies.get(access.org.id)
    allowed = sorted(policy.allowed_models) if policy.allowed_models is not None else None
    extra = [m for m in (allowed or []) if m not in offered]
    return render(
        request,
        state,
        "limits.html",
        access=access,
        section="limits",
        policy=policy,
        fields=LIMIT_FIELDS,
        offered=offered,
        allowed=allowed,
        extra_models="\n".join(extra),
        shared=access.org.billing_mode is BillingMode.SHARED,
        embedding_model=ctx.settings.embedding_model,
        confirm_embedding=refused is not None and refused.code == EMBEDDING_LEFT_OUT,
        titles=chat_settings.chat_settings(ctx, access.org.id),
        refused=refused,
    )


@router.get("/orgs/{org_id}/limits")
def limits_page(request: Request, state: Console, access: OrgAdmin) -> Response:
    return _limits_page(request, state, access)


@router.post("/orgs/{org_id}/limits")
def save_limits(
    request: Request,
    state: Console,
    access: OrgAdmin,
    org_rpm: Limit = "",
    org_tpm: Limit = "",
    member_rpm: Limit = "",
    member_tpm: Limit = "",
    member_concurrency: Limit = "",
    models_mode: Annotated[str, Form(max_length=10)] = "all",
    model: Annotated[list[str] | None, Form(max_length=100)] = None,
    models_text: Annotated[str, Form(max_length=20_000)] = "",
    without_documents: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    def save() -> Response:
        allowed = None
        if models_mode == "some":
            allowed = parse_models(model or [], models_text)
        policy = OrgPolicy(
            org_rpm=parse_limit(org_rpm, "org_rpm"),
            org_tpm=parse_limit(org_tpm, "org_tpm"),
            member_rpm=parse_limit(member_rpm, "member_rpm"),
            member_tpm=parse_limit(member_tpm, "member_tpm"),
            member_concurrency=parse_limit(member_concurrency, "member_concurrency"),
            allowed_models=allowed,
        )
        embedding_model = state.ctx.settings.embedding_model
        if not policy.allows(embedding_model) and not without_documents:
            return _limits_page(
                request,
                state,
                access,
                policy=policy,
                refused=InvalidRequest(
                    f"This list leaves out {embedding_model}, the model that reads uploaded "
                    "documents and searches them for document questions: both would stop "
                    f"working. Add {embedding_model}, or tick “Save anyway” to confirm.",
                    param="models",
                    code=EMBEDDING_LEFT_OUT,
                ),
            )
        org_settings.update_policy(state.ctx, access.org.id, access.actor, policy)
        return redirect(f"/orgs/{access.org.id}/limits", "policy_saved")

    return form_action(save, partial(_limits_page, request, state, access))


@router.post("/orgs/{org_id}/limits/titles")
def save_titles(
    request: Request,
    state: Console,
    access: OrgAdmin,
    generated_titles: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    def save() -> Response:
        enabled = generated_titles == "on"
        chat_settings.set_generated_titles(state.ctx, access.org.id, access.actor, enabled)
        return redirect(f"/orgs/{access.org.id}/limits", "titles_saved")

    return form_action(save, partial(_limits_page, request, state, access))
