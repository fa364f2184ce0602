"""Set or replace an org's SAML 2.0 identity provider from its metadata (XML or a URL).

Beside ``admin.sso`` (OIDC, enforcement, removal), which it shares the
connection, the rules and the audit action with: one ``sso_connections`` row
per org whatever the protocol, and ``sso.configured`` with ``protocol: saml``
in its details. A metadata URL is typed by an org admin, so it is fetched
through the guarded upstream client (private addresses refused, no redirect,
bounded in time and size) as OIDC discovery is; the XML is parsed with no DTD,
entities or network (``identity.saml``). Nothing is saved unless it parses.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from chatgrid.admin.sso import sso_repository
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest
from chatgrid.identity.models import Role
from chatgrid.identity.oidc import DiscoveryProblem
from chatgrid.identity.oidc_http import fetch_body
from chatgrid.identity.saml import MAX_METADATA_BYTES, parse_idp_metadata, service_provider
from chatgrid.identity.sso import SsoConnection, SsoProtocol, SsoSetupRefused, check_claim_name
from chatgrid.providers.network import (
    PrivateUpstreamRefused,
    create_upstream_session,
    refuse_private,
)
from chatgrid.store.sso import ConnectionDraft


@dataclass(frozen=True)
class SamlSettings:
    """What an admin gives to connect a SAML IdP: its metadata, pasted or by URL."""

    metadata_xml: str | None = None
    metadata_url: str | None = None
    groups_attribute: str | None = None
    role_map: Mapping[str, Role] | None = None
    default_role: Role = Role.MEMBER


async def _fetched(ctx: AppContext, url: str) -> bytes:
    url = url.strip()
    if not url.startswith("https://") and not ctx.settings.allow_private_upstreams:
        raise InvalidRequest("the metadata URL must use https", param="metadata_url")
    try:
        refuse_private(url, ctx.settings)
        async with create_upstream_session(ctx.settings) as session:
            status, body = await fetch_body(session, url, "SAML metadata")
    except PrivateUpstreamRefused as exc:
        raise InvalidRequest(str(exc), param="metadata_url") from None
    except DiscoveryProblem as problem:
        raise SsoSetupRefused(
            f"the metadata could not be fetched: {problem}", param="metadata_url"
        ) from None
    if status != 200:
        raise SsoSetupRefused(f"the metadata URL answered HTTP {status}", param="metadata_url")
    return body


def certificate_fingerprint(certificate_b64: str) -> str:
    """SHA-256 of the DER certificate, as IdP consoles show it (for the audit entry)."""
    return hashlib.sha256(base64.b64decode(certificate_b64)).hexdigest()


async def configure_saml(
    ctx: AppContext, org_id: str, actor: Actor, settings: SamlSettings
) -> SsoConnection:
    """Connect (or replace) the org's SAML IdP once its metadata parses; audited."""
    if (settings.metadata_xml is None) == (settings.metadata_url is None):
        raise InvalidRequest("give the IdP's metadata either as XML or as a URL", param="metadata")
    if settings.default_role is Role.OWNER:
        raise InvalidRequest(
            "the default role is member or admin; map a group to owner instead",
            param="default_role",
        )
    if settings.metadata_url is not None:
        raw = await _fetched(ctx, settings.metadata_url)
    else:
        raw = (settings.metadata_xml or "").encode()
        if len(raw) > MAX_METADATA_BYTES:
            raise InvalidRequest("the metadata is larger than 512 KiB", param="metadata")
    idp = parse_idp_metadata(raw)
    draft = ConnectionDraft(
        protocol=SsoProtocol.SAML,
        issuer=idp.entity_id,
        client_id=None,
        groups_claim=check_claim_name(settings.groups_attribute),
        role_map=dict(settings.role_map or {}),
        default_role=settings.default_role,
        settings={**idp.as_settings(), "metadata_url": settings.metadata_url},
    )
    repository = sso_repository(ctx)
    current = repository.get(org_id)
    saved = repository.save(org_id, repository.new_connection_id(org_id), draft, None, actor.email)
    ctx.changes.bump()
    details: dict[str, object] = {
        "protocol": saved.protocol.value,
        "issuer": saved.issuer,
        "sso_url": idp.sso_url,
        "metadata_url": settings.metadata_url,
        "certificates": [certificate_fingerprint(c) for c in idp.certificates],
        "groups_claim": saved.groups_claim,
        "role_map": {group: role.value for group, role in saved.role_map.items()},
        "default_role": saved.default_role.value,
        "replaced": current is not None,
    }
    ctx.audit.record(org_id, actor, "sso.configured", saved.id, details)
    return saved


def sp_endpoints(ctx: AppContext, org_id: str) -> dict[str, str] | None:
    """What to give the IdP's admin (None while ``CHATGRID_PUBLIC_URL`` is unset). The
    entity ID is also the URL that serves our SP metadata (``web.pages.saml``)."""
    public = ctx.settings.public_url
    if not public:
        return None
    sp = service_provider(public, org_id)
    return {"entity_id": sp.entity_id, "acs_url": sp.acs_url, "metadata_url": sp.entity_id}
