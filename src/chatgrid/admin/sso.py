"""An org's single sign-on: set or replace its OIDC provider, test it, enforce it, remove it.

One function per action, each checking the rules and writing its own audit
entry (``sso.configured``, ``sso.enforced``, ``sso.removed``), called alike by
the command line and the console. A provider is checked before it is saved
(discovery and its keys, through the guarded upstream client), as a key is
validated before it is connected; the client secret is sealed by the vault,
bound to the org and the connection, and shown afterwards only by fingerprint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest
from chatgrid.identity.domains import email_domain
from chatgrid.identity.models import Role
from chatgrid.identity.oidc import DiscoveryProblem, ProviderMetadata, check_issuer
from chatgrid.identity.oidc_http import discover, fetch_keys
from chatgrid.identity.sso import (
    SsoConnection,
    SsoProtocol,
    SsoRequired,
    SsoSetupRefused,
    check_claim_name,
    secret_binding,
    shown_domain,
)
from chatgrid.identity.users import has_control_characters, normalize_email
from chatgrid.providers.network import (
    PrivateUpstreamRefused,
    create_upstream_session,
    refuse_private,
)
from chatgrid.store.sso import ConnectionDraft, SsoRepository
from chatgrid.vault import Vault

#: Where providers send the browser back; register ``PUBLIC_URL + CALLBACK_PATH`` there.
CALLBACK_PATH = "/sso/oidc/callback"
MAX_CLIENT_ID_LENGTH = 300
MAX_SECRET_LENGTH = 1000


def sso_repository(ctx: AppContext) -> SsoRepository:
    return SsoRepository(ctx.engine)


def registered_redirect_uri(ctx: AppContext) -> str | None:
    """The redirect URI under ``CHATGRID_PUBLIC_URL`` (None while it is unset)."""
    public = ctx.settings.public_url
    return public.rstrip("/") + CALLBACK_PATH if public else None


@dataclass(frozen=True)
class OidcSettings:
    """What an admin types to connect an OIDC provider (the secret comes separately)."""

    issuer: str
    client_id: str
    groups_claim: str | None = None
    role_map: Mapping[str, Role] | None = None
    default_role: Role = Role.MEMBER


def _checked(settings: OidcSettings, ctx: AppContext) -> ConnectionDraft:
    try:
        issuer = check_issuer(settings.issuer)
        refuse_private(issuer, ctx.settings)
    except (ValueError, PrivateUpstreamRefused) as exc:
        raise InvalidRequest(str(exc), param="issuer") from None
    client_id = settings.client_id.strip()
    if not 0 < len(client_id) <= MAX_CLIENT_ID_LENGTH or has_control_characters(client_id):
        raise InvalidRequest("the client ID is 1 to 300 characters", param="client_id")
    if settings.default_role is Role.OWNER:
        raise InvalidRequest(
            "the default role is member or admin; map a group to owner instead",
            param="default_role",
        )
    return ConnectionDraft(
        protocol=SsoProtocol.OIDC,
        issuer=issuer,
        client_id=client_id,
        groups_claim=check_claim_name(settings.groups_claim),
        role_map=dict(settings.role_map or {}),
        default_role=settings.default_role,
        settings={},
    )


def _checked_secret(secret: str) -> str:
    secret = secret.strip()
    if not secret or len(secret) > MAX_SECRET_LENGTH or not secret.isprintable():
        raise InvalidRequest("paste the whole client secret", param="client_secret")
    return secret


async def provider_check(ctx: AppContext, issuer: str) -> ProviderMetadata:
    """Discovery and the key set, fetched now; ``DiscoveryProblem`` in plain words."""
    async with create_upstream_session(ctx.settings) as session:
        metadata = await discover(session, issuer)
        await fetch_keys(session, metadata)
    return metadata


async def configure_oidc(
    ctx: AppContext,
    org_id: str,
    actor: Actor,
    settings: OidcSettings,
    client_secret: str | None,
) -> SsoConnection:
    """Connect (or replace) the org's OIDC provider once discovery and its keys work.

    ``client_secret`` None keeps the secret already saved (the console's
    form leaves it blank); a first connection needs one.
    """
    draft = _checked(settings, ctx)
    repository = sso_repository(ctx)
    current = repository.get(org_id)
    secret = None if client_secret is None or not client_secret.strip() else client_secret
    if secret is None and (current is None or current.sealed_secret is None):
        raise InvalidRequest("paste the client secret", param="client_secret")
    secret = _checked_secret(secret) if secret is not None else None
    try:
        await provider_check(ctx, draft.issuer)
    except DiscoveryProblem as problem:
        raise SsoSetupRefused(
            f"the provider could not be used: {problem}", param="issuer"
        ) from None
    connection_id = repository.new_connection_id(org_id)
    sealed = (
        ctx.vault.seal(secret, binding=secret_binding(org_id, connection_id))
        if secret is not None
        else None
    )
    saved = repository.save(org_id, connection_id, draft, sealed, actor.email)
    ctx.changes.bump()
    assert saved.sealed_secret is not None
    details: dict[str, object] = {
        "protocol": saved.protocol.value,
        "issuer": saved.issuer,
        "client_id": saved.client_id,
        "groups_claim": saved.groups_claim,
        "role_map": {group: role.value for group, role in saved.role_map.items()},
        "default_role": saved.default_role.value,
        "secret_fingerprint": saved.sealed_secret.fingerprint,
        "replaced": current is not None,
    }
    ctx.audit.record(org_id, actor, "sso.configured", saved.id, details)
    return saved


@dataclass(frozen=True)
class ConnectionTest:
    """What "Test connection" found, step by step, in plain words."""

    ok: bool
    steps: list[tuple[str, bool, str]]


async def check_connection(ctx: AppContext, org_id: str) -> ConnectionTest:
    """Run discovery and fetch the keys of the org's saved provider; say what is wrong."""
    connection = sso_repository(ctx).get(org_id)
    if connection is None:
        raise InvalidRequest("set up single sign-on first", code="sso_not_configured")
    if connection.protocol is SsoProtocol.SAML:
        # SAML has no discovery to run: the metadata was checked when it was saved, and
        # its entity ID is a name, not an address to fetch.
        certificates = connection.settings.get("certificates")
        count = len(certificates) if isinstance(certificates, list) else 0
        detail = f"{connection.issuer} signs in at {connection.settings.get('sso_url')}"
        return ConnectionTest(
            count > 0,
            [
                ("SAML metadata", True, detail),
                ("Signing keys", count > 0, f"{count} signing certificate(s)"),
            ],
        )
    steps: list[tuple[str, bool, str]] = []
    async with create_upstream_session(ctx.settings) as session:
        try:
            metadata = await discover(session, connection.issuer)
        except DiscoveryProblem as problem:
            steps.append(("Discovery", False, str(problem)))
            return ConnectionTest(False, steps)
        steps.append(("Discovery", True, f"{connection.issuer} describes itself correctly"))
        try:
            keys = await fetch_keys(session, metadata)
        except DiscoveryProblem as problem:
            steps.append(("Signing keys", False, str(problem)))
            return ConnectionTest(False, steps)
    steps.append(("Signing keys", True, f"{len(keys.keys)} key(s) at {metadata.jwks_uri}"))
    return ConnectionTest(True, steps)


def set_enforced(ctx: AppContext, org_id: str, actor: Actor, enforced: bool) -> SsoConnection:
    """Turn password sign-in off (or back on) for addresses on the org's verified domains."""
    saved = sso_repository(ctx).set_enforced(org_id, enforced)
    ctx.changes.bump()
    ctx.audit.record(org_id, actor, "sso.enforced", saved.id, {"enforced": enforced})
    return saved


def remove_sso(ctx: AppContext, org_id: str, actor: Actor) -> SsoConnection:
    """Disconnect the provider; people sign in with passwords again (accounts stay)."""
    removed = sso_repository(ctx).remove(org_id)
    ctx.changes.bump()
    ctx.audit.record(
        org_id,
        actor,
        "sso.removed",
        removed.id,
        {
            "protocol": removed.protocol.value,
            "issuer": removed.issuer,
            "enforced": removed.enforced,
        },
    )
    return removed


def connection_of(ctx: AppContext, org_id: str) -> SsoConnection | None:
    return sso_repository(ctx).get(org_id)


def rewrap_secrets(ctx: AppContext, vault: Vault) -> tuple[int, list[str]]:
    """Every client secret under the vault's current master (``vault rotate-master``): how
    many were rewrapped, and the connections whose secret would not open (left as they are)."""
    repository = sso_repository(ctx)
    stored = [(c.id, c.secret_binding, c.sealed_secret) for c in repository.sealed_secrets()]
    return vault.rewrap_each(stored, repository.store_rewrapped)


def master_versions(ctx: AppContext) -> set[int]:
    return sso_repository(ctx).master_versions()


# Who signs in through a provider, and what enforcement refuses


def sso_org_for(ctx: AppContext, email: str) -> str | None:
    """The org whose provider signs ``email`` in: its domain is a verified domain of an
    org with single sign-on set up. None: the address signs in with a password."""
    try:
        address = normalize_email(email)
    except InvalidRequest:
        return None
    domain = email_domain(address)
    owner = ctx.domains.verified_owner(domain) if domain is not None else None
    if owner is None or sso_repository(ctx).get(owner) is None:
        return None
    return owner


def enforcing_org(ctx: AppContext, email: str) -> SsoConnection | None:
    """The connection that enforces single sign-on for this address, if any."""
    org_id = sso_org_for(ctx, email)
    connection = sso_repository(ctx).get(org_id) if org_id is not None else None
    return connection if connection is not None and connection.enforced else None


def refuse_password(ctx: AppContext, email: str, actor: Actor) -> None:
    """``SsoRequired`` for an address whose org enforces single sign-on (audited as a
    failed sign-in in that org). It depends on the domain alone, never on the account."""
    connection = enforcing_org(ctx, email)
    if connection is None:
        return
    details: dict[str, object] = {"email": email[:320], "reason": "sso_required"}
    ctx.audit.record(connection.org_id, actor, "signin.failed", None, details)
    raise SsoRequired(
        f"{shown_domain(email)} signs in with single sign-on: enter only your email address "
        "on the sign-in page and you will be sent to your identity provider"
    )
