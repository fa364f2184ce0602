"""The key page: the org's upstream keys (one per provider, OpenAI-compatible servers
named), each connected, rotated or revoked on its own, with its health; and which key
a model two of them serve goes to."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import credentials
from chatgrid.errors import ChatGridError
from chatgrid.providers.base import DEFAULT_AZURE_API_VERSION, PROVIDER_LABELS, Provider
from chatgrid.web.deps import Console, OrgAccess, OrgAdmin
from chatgrid.web.pages.common import form_action, redirect, render
from chatgrid.web.state import ConsoleState

router = APIRouter()

PROVIDERS = {provider.value: label for provider, label in PROVIDER_LABELS.items()}
Text = Annotated[str, Form(max_length=1000)]
ProviderField = Annotated[str, Form(max_length=40)]
NameField = Annotated[str, Form(max_length=100)]


def _key_page(
    request: Request,
    state: ConsoleState,
    access: OrgAccess,
    *,
    provider: str,
    refused: ChatGridError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    ctx = state.ctx
    keys = credentials.credential_statuses(ctx, access.org.id)
    provider = provider if provider in PROVIDERS else "openai"
    return render(
        request,
        state,
        "keys.html",
        access=access,
        section="key",
        keys=keys,
        # The key this form rotates (compatible servers: the unnamed one).
        credential=next((k for k in keys if k.provider == provider and not k.name), None),
        preferred=sorted(ctx.credentials.choices(access.org.id).items()),
        provider=provider,
        providers=PROVIDERS,
        default_api_version=DEFAULT_AZURE_API_VERSION,
        allow_private=ctx.settings.allow_private_upstreams,
        form=form or {},
        refused=refused,
    )


def _provider(value: str) -> Provider:
    return Provider(value) if value in PROVIDERS else Provider.OPENAI


@router.get("/orgs/{org_id}/key")
def key_page(
    request: Request, state: Console, access: OrgAdmin, provider: str = "openai"
) -> Response:
    return _key_page(request, state, access, provider=provider)


@router.post("/orgs/{org_id}/key")
def connect_key(
    request: Request,
    state: Console,
    access: OrgAdmin,
    provider: ProviderField = "openai",
    name: NameField = "",
    api_key: Text = "",
    base_url: Text = "",
    organization: Text = "",
    project: Text = "",
    api_version: Text = "",
    deployments: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    # Everything the admin typed comes back on error, except the key.
    form = {
        "name": name,
        "base_url": base_url,
        "organization": organization,
        "project": project,
        "api_version": api_version,
        "deployments": deployments,
    }

    def connect() -> Response:
        kind = _provider(provider)
        config = credentials.upstream_config(
            kind,
            base_url=base_url or None,
            organization=organization or None,
            project=project or None,
            api_version=api_version or None,
            deployments=credentials.parse_deployments(deployments),
        )
        asyncio.run(
            credentials.connect_credential(
                state.ctx, access.org.id, access.actor, config, api_key, name
            )
        )
        return redirect(f"/orgs/{access.org.id}/key", "key_connected")

    return form_action(
        connect, partial(_key_page, request, state, access, provider=provider, form=form)
    )


@router.post("/orgs/{org_id}/key/revoke")
def revoke_key(
    request: Request,
    state: Console,
    access: OrgAdmin,
    provider: ProviderField = "",
    name: NameField = "",
) -> Response:
    """One key, named by its provider and name (none named: the org's only key)."""

    def revoke() -> Response:
        kind = _provider(provider) if provider else None
        credentials.revoke_credential(
            state.ctx, access.org.id, access.actor, kind, name if kind else None
        )
        return redirect(f"/orgs/{access.org.id}/key", "key_revoked")

    return form_action(revoke, partial(_key_page, request, state, access, provider="openai"))


@router.post("/orgs/{org_id}/key/prefer")
def prefer_key(
    request: Request,
    state: Console,
    access: OrgAdmin,
    model: Annotated[str, Form(max_length=200)] = "",
    key: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """``key`` is ``PROVIDER`` or ``PROVIDER:NAME``, as the page's choices write it."""

    def prefer() -> Response:
        provider, _, name = key.partition(":")
        credentials.prefer_key(
            state.ctx, access.org.id, access.actor, model, _provider(provider), name
        )
        return redirect(f"/orgs/{access.org.id}/key", "key_preferred")

    return form_action(prefer, partial(_key_page, request, state, access, provider="openai"))
