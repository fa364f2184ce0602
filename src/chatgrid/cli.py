"""The ``chatgrid`` command: serve, the simulator, and every admin action.

Admin commands print JSON on success and exit 0; a refused action prints a
plain message on stderr and exits 1. Keys are read from standard input so
they never appear in a shell history or a process list.
"""

from __future__ import annotations

import asyncio
import csv
import getpass
import io
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError

from chatgrid.admin import keys, people
from chatgrid.context import AppContext
from chatgrid.errors import ChatGridError, InvalidRequest
from chatgrid.identity.models import BillingMode, Role
from chatgrid.ledger.entries import EXPORT_FIELDS
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.settings import Settings
from chatgrid.store.migrate import upgrade_to_head
from chatgrid.vault.keyring import KeyringError

app = typer.Typer(
    help="ChatGrid: an AI workspace and OpenAI-compatible gateway.", no_args_is_help=True
)
org_app = typer.Typer(help="Organizations.", no_args_is_help=True)
member_app = typer.Typer(help="Members of an org.", no_args_is_help=True)
token_app = typer.Typer(help="Personal API tokens.", no_args_is_help=True)
credential_app = typer.Typer(help="An org's own upstream key (BYOK).", no_args_is_help=True)
pool_app = typer.Typer(help="Pooled upstream keys for shared-credit orgs.", no_args_is_help=True)
vault_app = typer.Typer(help="The master key.", no_args_is_help=True)
for sub, name in [
    (org_app, "org"),
    (member_app, "member"),
    (token_app, "token"),
    (credential_app, "credential"),
    (pool_app, "pool"),
    (vault_app, "vault"),
]:
    app.add_typer(sub, name=name)

T = TypeVar("T")
OrgArg = Annotated[str, typer.Argument(help="The org's id or unique name.")]


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        _fail(f"invalid settings: {exc}")


@contextmanager
def _context() -> Iterator[AppContext]:
    """An app context on a migrated database; domain errors become clean exits."""
    try:
        ctx = AppContext.open(_settings())
    except KeyringError as exc:
        _fail(str(exc))
    try:
        upgrade_to_head(ctx.engine)
        ctx.prices.seed_defaults()
        yield ctx
    except ChatGridError as exc:
        _fail(exc.message)
    except KeyringError as exc:
        _fail(str(exc))
    finally:
        ctx.close()


def _print(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def _read_key() -> str:
    hidden_prompt = sys.stdin.isatty()
    key = getpass.getpass("API key (input hidden): ") if hidden_prompt else sys.stdin.read()
    key = key.strip()
    if not key:
        _fail("no key on standard input (pipe it in: `chatgrid credential set ORG < keyfile`)")
    return key


def _run(coroutine_factory: Callable[[], Any]) -> Any:
    return asyncio.run(coroutine_factory())


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Migrate the database, then serve ChatGrid (``GET /healthz`` is 200 once ready)."""
    from chatgrid.server import run_server

    settings = _settings()
    with _context():
        pass
    run_server(settings, host=host, port=port)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (``serve`` does this too)."""
    with _context() as ctx:
        _print({"database": ctx.engine.url.render_as_string(hide_password=True), "migrated": True})


@app.command()
def simulator(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 9100,
) -> None:
    """Run the local OpenAI simulator (for tests, benchmarks and demos)."""
    from chatgrid.simulator import run_simulator

    run_simulator(host=host, port=port)


@org_app.command("create")
def org_create(
    name: str,
    mode: Annotated[BillingMode, typer.Option(help="byok or shared credits.")] = BillingMode.BYOK,
) -> None:
    """Create an org."""
    with _context() as ctx:
        org = people.create_org(ctx, name, mode)
        _print({"id": org.id, "name": org.name, "mode": org.billing_mode.value})


@org_app.command("list")
def org_list() -> None:
    """List every org."""
    with _context() as ctx:
        _print(
            [
                {"id": o.id, "name": o.name, "mode": o.billing_mode.value, "status": o.status.value}
                for o in ctx.orgs.list()
            ]
        )


@member_app.command("add")
def member_add(
    org: OrgArg,
    email: str,
    role: Annotated[Role, typer.Option(help="owner, admin or member.")] = Role.MEMBER,
) -> None:
    """Add a member (a seat) to an org."""
    with _context() as ctx:
        member = people.add_member(ctx, org, email, role)
        _print({"id": member.id, "email": member.email, "role": member.role.value})


@member_app.command("list")
def member_list(org: OrgArg) -> None:
    """List an org's members."""
    with _context() as ctx:
        members = ctx.members.list(ctx.orgs.get(org).id)
        _print(
            [
                {"id": m.id, "email": m.email, "role": m.role.value, "status": m.status}
                for m in members
            ]
        )


@token_app.command("create")
def token_create(
    org: OrgArg,
    email: str,
    name: Annotated[str, typer.Option(help="A label for the token.")] = "",
    expires_in_days: Annotated[
        int | None, typer.Option(help="Expire after this many days.")
    ] = None,
) -> None:
    """Create a personal API token for a member; it is shown once."""
    expires = None
    if expires_in_days is not None:
        if expires_in_days < 1:
            _fail("--expires-in-days must be at least 1")
        expires = datetime.now(UTC) + timedelta(days=expires_in_days)
    with _context() as ctx:
        token, plain = people.create_token(ctx, org, email, name=name, expires_at=expires)
        _print(
            {"id": token.id, "token": plain, "prefix": token.prefix, "expires_at": token.expires_at}
        )


@token_app.command("list")
def token_list(org: OrgArg) -> None:
    """List an org's tokens (prefix only)."""
    with _context() as ctx:
        tokens = ctx.tokens.list(ctx.orgs.get(org).id)
        _print(
            [
                {
                    "id": t.id,
                    "member_id": t.member_id,
                    "prefix": t.prefix,
                    "name": t.name,
                    "created_at": t.created_at,
                    "expires_at": t.expires_at,
                    "revoked_at": t.revoked_at,
                }
                for t in tokens
            ]
        )


@token_app.command("revoke")
def token_revoke(org: OrgArg, token_id: str) -> None:
    """Revoke a token; refused by every server from the moment this returns."""
    with _context() as ctx:
        people.revoke_token(ctx, org, token_id)
        _print({"id": token_id, "revoked": True})


def _deployments(pairs: list[str] | None) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in pairs or []:
        model, sep, deployment = pair.partition("=")
        if not sep or not model or not deployment:
            _fail(f"--deployment takes MODEL=DEPLOYMENT, not {pair!r}")
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
        _fail(exc.message)


ProviderOpt = Annotated[Provider, typer.Option(help="openai, azure or openai-compatible.")]
BaseUrlOpt = Annotated[str | None, typer.Option(help="Base URL (Azure: the resource endpoint).")]
OrganizationOpt = Annotated[str | None, typer.Option(help="OpenAI organization header.")]
ProjectOpt = Annotated[str | None, typer.Option(help="OpenAI project header.")]
ApiVersionOpt = Annotated[str | None, typer.Option(help="Azure api-version.")]
DeploymentOpt = Annotated[
    list[str] | None, typer.Option(help="Azure MODEL=DEPLOYMENT (repeat per model).")
]


@credential_app.command("set")
def credential_set(
    org: OrgArg,
    provider: ProviderOpt = Provider.OPENAI,
    base_url: BaseUrlOpt = None,
    organization: OrganizationOpt = None,
    project: ProjectOpt = None,
    api_version: ApiVersionOpt = None,
    deployment: DeploymentOpt = None,
) -> None:
    """Connect (or rotate) an org's key, read from stdin and validated upstream first."""
    config = _upstream_config(provider, base_url, organization, project, api_version, deployment)
    key = _read_key()
    with _context() as ctx:
        stored = _run(lambda: keys.set_credential(ctx, org, config, key, actor="cli"))
        _print(stored.public())


@credential_app.command("show")
def credential_show(org: OrgArg) -> None:
    """Show the org's current key: fingerprint and last four only."""
    with _context() as ctx:
        stored = ctx.credentials.current(ctx.orgs.get(org).id)
        _print(None if stored is None else stored.public())


@credential_app.command("revoke")
def credential_revoke(org: OrgArg) -> None:
    """Revoke the org's key; no server uses it once this returns."""
    with _context() as ctx:
        revoked = keys.revoke_credential(ctx, org)
        _print({"id": revoked.id, "fingerprint": revoked.sealed.fingerprint, "revoked": True})


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
) -> None:
    """Add a pooled upstream key (read from stdin) for shared-credit orgs."""
    config = _upstream_config(provider, base_url, organization, project, api_version, deployment)
    key = _read_key()
    with _context() as ctx:
        stored = _run(lambda: keys.add_pool_key(ctx, name, config, key, weight=weight))
        _print({**stored.public(), "name": stored.name, "weight": stored.weight})


@pool_app.command("list")
def pool_list() -> None:
    """List pooled keys (fingerprints only)."""
    with _context() as ctx:
        _print([{**k.public(), "name": k.name, "weight": k.weight} for k in ctx.pool.list()])


@app.command()
def usage(
    org: OrgArg,
    format: Annotated[str, typer.Option("--format", help="json or csv.")] = "json",
    since: Annotated[
        datetime | None, typer.Option(help="Only entries from this time (UTC).")
    ] = None,
) -> None:
    """Export an org's ledger entries (money in integer micro-dollars)."""
    if format not in {"json", "csv"}:
        _fail("--format is json or csv")
    with _context() as ctx:
        start = since.replace(tzinfo=UTC) if since and since.tzinfo is None else since
        rows = ctx.usage.entries(ctx.orgs.get(org).id, since=start)
    records = [{field: row.get(field) for field in EXPORT_FIELDS} for row in rows]
    if format == "json":
        _print(records)
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(EXPORT_FIELDS), lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: ("" if v is None else v) for k, v in record.items()})
    typer.echo(buffer.getvalue(), nl=False)


@vault_app.command("rotate-master")
def vault_rotate_master() -> None:
    """Create a new master key version and rewrap every stored key under it."""
    with _context() as ctx:
        _print(keys.rotate_master(ctx))


def main() -> None:
    app()
