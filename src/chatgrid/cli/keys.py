"""Upstream keys: an org's own, the operator's pool, and the master key."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from chatgrid.admin import credentials, keys, operator
from chatgrid.audit import Actor
from chatgrid.cli.common import (
    OrgArg,
    admin_context,
    emit,
    fail,
    read_secret,
    run_async,
)
from chatgrid.errors import InvalidRequest
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.store.credentials import StoredKey

credential_app = typer.Typer(
    help="An org's own upstream keys (BYOK): one per provider, OpenAI-compatible servers named.",
    no_args_is_help=True,
)
pool_app = typer.Typer(help="Pooled upstream keys for shared-credit orgs.", no_args_is_help=True)
vault_app = typer.Typer(help="The master key.", no_args_is_help=True)


def _deployments(pairs: list[str] | None) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in pairs or []:
        model, sep, deployment = pair.partition("=")
        if not sep or not model or not deployment:
            fail(f"--deployment takes MODEL=DEPLOYMENT, not {pair!r}")
        result[model] = deployment
    return result


def _upstream_config(
    provider: Provider,
    base_url: str | None,
    organization: str | None,
    project: str | None,
    api_version: str | None,
    deployment: list[str] | None,
) -> UpstreamConfig:
    try:
        return UpstreamConfig.create(
            provider,
            base_url=base_url,
            organization=organization,
            project=project,
            api_version=api_version,
            deployments=_deployments(deployment),
        )
    except InvalidRequest as exc:
        fail(exc.message)


ProviderOpt = Annotated[
    Provider, typer.Option(help="openai, azure, anthropic, gemini or openai-compatible.")
]
WhichProviderOpt = Annotated[
    Provider | None, typer.Option("--provider", help="Which of the org's keys (its provider).")
]
NameOpt = Annotated[
    str | None,
    typer.Option("--name", help="An OpenAI-compatible server's name (one org, several servers)."),
]
BaseUrlOpt = Annotated[str | None, typer.Option(help="Base URL (Azure: the resource endpoint).")]
OrganizationOpt = Annotated[str | None, typer.Option(help="OpenAI organization header.")]
ProjectOpt = Annotated[str | None, typer.Option(help="OpenAI project header.")]
ApiVersionOpt = Annotated[str | None, typer.Option(help="Azure api-version.")]
DeploymentOpt = Annotated[
    list[str] | None, typer.Option(help="Azure MODEL=DEPLOYMENT (repeat per model).")
]
RpmOpt = Annotated[
    int | None, typer.Option("--rpm", help="The key's own requests-per-minute budget.")
]
TpmOpt = Annotated[
    int | None, typer.Option("--tpm", help="The key's own tokens-per-minute budget.")
]


@credential_app.command("set")
def credential_set(
    org: OrgArg,
    provider: ProviderOpt = Provider.OPENAI,
    name: NameOpt = None,
    base_url: BaseUrlOpt = None,
    organization: OrganizationOpt = None,
    project: ProjectOpt = None,
    api_version: ApiVersionOpt = None,
    deployment: DeploymentOpt = None,
) -> None:
    """Connect (or rotate) the org's key for a provider, read from stdin, validated upstream
    first; the org's keys of other providers (and other names) are untouched."""
    config = _upstream_config(provider, base_url, organization, project, api_version, deployment)
    key = read_secret()
    with admin_context() as ctx:
        org_id = ctx.orgs.get(org).id
        stored = run_async(
            lambda: credentials.connect_credential(
                ctx, org_id, Actor.cli(), config, key, name or ""
            )
        )
        emit(stored.public())


@credential_app.command("show")
def credential_show(org: OrgArg) -> None:
    """List the org's keys (each provider's, each named server's): fingerprint and last four
    only, and which key the admin chose for a model two of them serve."""
    with admin_context() as ctx:
        org_id = ctx.orgs.get(org).id
        choices = ctx.credentials.choices(org_id)
        emit(
            {
                "keys": [stored.public() for stored in ctx.credentials.active(org_id)],
                "preferred": {
                    model: {"provider": provider.value, "name": name}
                    for model, (provider, name) in sorted(choices.items())
                },
            }
        )


@credential_app.command("revoke")
def credential_revoke(org: OrgArg, provider: WhichProviderOpt = None, name: NameOpt = None) -> None:
    """Revoke one of the org's keys (its only one needs no --provider); no server uses it
    once this returns."""
    with admin_context() as ctx:
        revoked = credentials.revoke_credential(
            ctx, ctx.orgs.get(org).id, Actor.cli(), provider, name
        )
        emit(
            {
                "id": revoked.id,
                "provider": revoked.config.provider.value,
                "name": revoked.name,
                "fingerprint": revoked.sealed.fingerprint,
                "revoked": True,
            }
        )


@credential_app.command("prefer")
def credential_prefer(
    org: OrgArg,
    model: Annotated[str, typer.Argument(help="The model two of the org's keys serve.")],
    provider: Annotated[Provider, typer.Option(help="The key to send it to: its provider.")],
    name: NameOpt = None,
) -> None:
    """Send a model to one key when several of the org's keys serve it (in force at once)."""
    with admin_context() as ctx:
        stored = credentials.prefer_key(
            ctx, ctx.orgs.get(org).id, Actor.cli(), model, provider, name or ""
        )
        emit({"model": model, "provider": provider.value, "name": stored.name, "id": stored.id})


@pool_app.command("add")
def pool_add(
    name: str,
    provider: ProviderOpt = Provider.OPENAI,
    base_url: BaseUrlOpt = None,
    organization: OrganizationOpt = None,
    project: ProjectOpt = None,
    api_version: ApiVersionOpt = None,
    deployment: DeploymentOpt = None,
    weight: Annotated[int, typer.Option(help="Share of traffic relative to other keys.")] = 1,
    rpm: RpmOpt = None,
    tpm: TpmOpt = None,
) -> None:
    """Add a pooled upstream key (read from stdin) for shared-credit orgs."""
    config = _upstream_config(provider, base_url, organization, project, api_version, deployment)
    key = read_secret()
    with admin_context() as ctx:
        stored = run_async(
            lambda: keys.add_pool_key(
                ctx,
                name,
                config,
                key,
                weight=weight,
                rpm_limit=rpm,
                tpm_limit=tpm,
                actor=Actor.cli(),
            )
        )
        emit(_pool_view(stored))


@pool_app.command("list")
def pool_list() -> None:
    """List pooled keys (fingerprints only)."""
    with admin_context() as ctx:
        emit([_pool_view(k) for k in ctx.pool.list()])


@pool_app.command("set")
def pool_set(
    key: Annotated[str, typer.Argument(help="The pooled key's name or id.")],
    weight: Annotated[
        int | None, typer.Option(help="Share of traffic (unchanged if left out).")
    ] = None,
    rpm: RpmOpt = None,
    tpm: TpmOpt = None,
    no_rpm: Annotated[bool, typer.Option("--no-rpm", help="Remove the requests budget.")] = False,
    no_tpm: Annotated[bool, typer.Option("--no-tpm", help="Remove the tokens budget.")] = False,
) -> None:
    """Change a pooled key's weight or its own per-minute budget (in force when this returns)."""
    if (rpm is not None and no_rpm) or (tpm is not None and no_tpm):
        fail("give --rpm or --no-rpm (and --tpm or --no-tpm), not both")
    with admin_context() as ctx:
        current = ctx.pool.get(key)
        updated = operator.set_pool_budget(
            ctx,
            Actor.cli(),
            current.id,
            weight=current.weight if weight is None else weight,
            rpm_limit=None if no_rpm else (current.rpm_limit if rpm is None else rpm),
            tpm_limit=None if no_tpm else (current.tpm_limit if tpm is None else tpm),
        )
        emit(_pool_view(updated))


def _pool_view(stored: StoredKey) -> dict[str, Any]:
    return {
        **stored.public(),
        "name": stored.name,
        "weight": stored.weight,
        "rpm_limit": stored.rpm_limit,
        "tpm_limit": stored.tpm_limit,
    }


@vault_app.command("seal-documents")
def vault_seal_documents() -> None:
    """Seal the files, chunks and images stored before documents were encrypted at rest (once,
    after upgrading; servers keep serving, a few hundred rows per transaction)."""
    with admin_context() as ctx:
        emit(keys.seal_plain_documents(ctx, Actor.cli()))


@vault_app.command("rotate-master")
def vault_rotate_master() -> None:
    """Create a new master key version and rewrap every stored key under it."""
    with admin_context() as ctx:
        result = keys.rotate_master(ctx, Actor.cli())
        emit(result)
