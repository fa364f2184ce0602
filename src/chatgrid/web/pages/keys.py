"""The key page: connect, rotate or revoke the org's own upstream key, and see its health."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import credentials
from chatgrid.errors import ChatGridError
from chatgrid.providers.base import DEFAULT_AZURE_API_VERSION, Provider
from chatgrid.web.deps import Console, OrgAccess, OrgAdmin
from chatgrid.web.pages.common import form_action, redirect, render
from chatgrid.web.state import ConsoleState

router = APIRouter()

PROVIDERS = {
    "openai": "OpenAI",
    "azure": "Azure OpenAI",
    "openai-compatible": "OpenAI-compatible server",
}
Text = Annotated[str, Form(max_length=1000)]


def _key_page(
    request: Request,
    state: ConsoleState,
    access: OrgAccess,
    *,
    provider: str,
    refused: ChatGridError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        state,
        "keys.html",
        access=access,
        section="key",
        credential=credentials.credential_status(state.ctx, access.org.id),
        provider=provider if provider in PROVIDERS else "openai",
        providers=PROVIDERS,
        default_api_version=DEFAULT_AZURE_API_VERSION,
        allow_private=state.ctx.settings.allow_private_upstreams,
        form=form or {},
        refused=refused,
    )


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
    provider: Annotated[str, Form(max_length=40)] = "openai",
    api_key: Text = "",
    base_url: Text = "",
    organization: Text = "",
    project: Text = "",
    api_version: Text = "",
    deployments: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    # Everything the admin typed comes back on error, except the key.
    form = {
        "base_url": base_url,
        "organization": organization,
        "project": project,
        "api_version": api_version,
        "deployments": deployments,
    }

    def connect() -> Response:
        kind = Provider(provider) if provider in PROVIDERS else Provider.OPENAI
        config = credentials.upstream_config(
            kind,
            base_url=base_url or None,
            organization=organization or None,
            project=project or None,
            api_version=api_version or None,
            deployments=credentials.parse_deployments(deployments),
        )
        asyncio.run(
            credentials.connect_credential(state.ctx, access.org.id, access.actor, config, api_key)
        )
        return redirect(f"/orgs/{access.org.id}/key", "key_connected")

    return form_action(
        connect, partial(_key_page, request, state, access, provider=provider, form=form)
    )


@router.post("/orgs/{org_id}/key/revoke")
def revoke_key(request: Request, state: Console, access: OrgAdmin) -> Response:
    def revoke() -> Response:
        credentials.revoke_credential(state.ctx, access.org.id, access.actor)
        return redirect(f"/orgs/{access.org.id}/key", "key_revoked")

    return form_action(revoke, partial(_key_page, request, state, access, provider="openai"))
