"""The org's own upstream keys from the console: connect, rotate, revoke, health.

An org holds one key per provider (several OpenAI-compatible servers, each
named), and each has the whole lifecycle on its own. ``keys.set_credential``
validates a key upstream before saving; a refusal comes back as a plain
sentence for the admin and is audited by fingerprint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chatgrid.admin import keys
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest, NotFound, UpstreamRefused
from chatgrid.identity.users import has_control_characters
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.store.credentials import StoredKey
from chatgrid.vault import fingerprint_of

_PARAM_OF_REFUSAL = {
    "key_rejected": "api_key",
    "key_malformed": "api_key",
    "deployment_missing": "deployments",
}


class KeyNotAccepted(InvalidRequest):
    """The upstream refused the key or could not be used; the message says why."""

    default_code = "key_not_accepted"


@dataclass(frozen=True)
class CredentialStatus:
    id: str
    provider: str
    base_url: str
    organization: str | None
    project: str | None
    api_version: str | None
    deployments: dict[str, str]
    models: list[str]
    fingerprint: str
    last4: str
    created_by: str | None
    created_at: datetime
    last_used_at: datetime | None
    status: str  # active | broken
    status_reason: str | None
    name: str = ""  # tells an org's OpenAI-compatible servers apart

    @property
    def healthy(self) -> bool:
        return self.status == "active"


def parse_deployments(text: str) -> dict[str, str]:
    """``MODEL=DEPLOYMENT`` pairs, one per line or separated by commas."""
    result: dict[str, str] = {}
    for raw in text.replace(",", "\n").splitlines():
        pair = raw.strip()
        if not pair:
            continue
        model, sep, deployment = pair.partition("=")
        if not sep or not model.strip() or not deployment.strip():
            raise InvalidRequest(
                f"write each deployment as MODEL=DEPLOYMENT, not {pair[:60]!r}",
                param="deployments",
            )
        result[model.strip()] = deployment.strip()
    return result


def upstream_config(
    provider: Provider,
    *,
    base_url: str | None = None,
    organization: str | None = None,
    project: str | None = None,
    api_version: str | None = None,
    deployments: dict[str, str] | None = None,
) -> UpstreamConfig:
    for name, value in (
        ("base_url", base_url),
        ("organization", organization),
        ("project", project),
        ("api_version", api_version),
    ):
        if value is not None and (len(value) > 500 or has_control_characters(value)):
            raise InvalidRequest(f"{name} is too long or has control characters", param=name)
    for model, deployment in (deployments or {}).items():
        if not 0 < len(model) <= 100 or not 0 < len(deployment) <= 100:
            raise InvalidRequest(
                "model and deployment names are 1 to 100 characters", param="deployments"
            )
        if has_control_characters(model + deployment):
            raise InvalidRequest("deployment names have no control characters", param="deployments")
    return UpstreamConfig.create(
        provider,
        base_url=(base_url or "").strip() or None,
        organization=(organization or "").strip() or None,
        project=(project or "").strip() or None,
        api_version=(api_version or "").strip() or None,
        deployments=deployments,
    )


def key_name(provider: Provider, name: str | None) -> str:
    """The name that tells an org's keys of one provider apart: only OpenAI-compatible
    servers have one ("" is the unnamed server); the other providers hold one key each."""
    name = (name or "").strip()
    if not name:
        return ""
    if provider is not Provider.OPENAI_COMPATIBLE:
        raise InvalidRequest(
            "only OpenAI-compatible servers are named; an org holds one key of each other provider",
            param="name",
        )
    if len(name) > 100 or has_control_characters(name):
        raise InvalidRequest("a key's name is 1 to 100 characters", param="name")
    return name


async def connect_credential(
    ctx: AppContext,
    org_id: str,
    actor: Actor,
    config: UpstreamConfig,
    key: str,
    name: str = "",
) -> StoredKey:
    """Validate, then connect (or rotate to) the key for its provider and name; the one it
    replaces stops for new calls at once, and the org's other keys are untouched."""
    name = key_name(config.provider, name)
    key = key.strip()
    if not key or len(key) > 1000 or not key.isascii() or not key.isprintable():
        raise KeyNotAccepted("paste the whole API key", param="api_key", code="key_malformed")
    previous = ctx.credentials.find(org_id, config.provider, name)
    try:
        stored = await keys.set_credential(ctx, org_id, config, key, actor=actor.email, name=name)
    except UpstreamRefused as refusal:
        ctx.audit.record(
            org_id,
            actor,
            "credential.rejected",
            None,
            {
                "provider": config.provider.value,
                "name": name,
                "fingerprint": fingerprint_of(key),
                "code": refusal.code,
                "reason": refusal.message,
            },
        )
        raise KeyNotAccepted(
            refusal.message, code=refusal.code, param=_PARAM_OF_REFUSAL.get(refusal.code or "")
        ) from None
    details: dict[str, object] = {
        "provider": stored.config.provider.value,
        "name": stored.name,
        "fingerprint": stored.sealed.fingerprint,
    }
    if previous is not None:
        details["previous_fingerprint"] = previous.sealed.fingerprint
    action = "credential.rotated" if previous is not None else "credential.connected"
    ctx.audit.record(org_id, actor, action, stored.id, details)
    return stored


def revoke_credential(
    ctx: AppContext,
    org_id: str,
    actor: Actor,
    provider: Provider | None = None,
    name: str | None = None,
) -> StoredKey:
    """Revoke one key (the org's only one when none is named); in force when this returns."""
    revoked = keys.revoke_credential(ctx, org_id, provider, name)
    ctx.audit.record(
        org_id,
        actor,
        "credential.revoked",
        revoked.id,
        {
            "provider": revoked.config.provider.value,
            "name": revoked.name,
            "fingerprint": revoked.sealed.fingerprint,
        },
    )
    return revoked


def prefer_key(
    ctx: AppContext, org_id: str, actor: Actor, model: str, provider: Provider, name: str = ""
) -> StoredKey:
    """Send ``model`` to this key whenever several of the org's keys serve it."""
    model = model.strip()
    if not 0 < len(model) <= 200 or has_control_characters(model):
        raise InvalidRequest("a model name is 1 to 200 characters", param="model")
    stored = ctx.credentials.find(org_id, provider, name)
    if stored is None:
        raise NotFound("this org has no such key to prefer", code="no_credential")
    ctx.credentials.prefer(org_id, model, provider, name, actor.email)
    ctx.changes.bump()
    ctx.audit.record(
        org_id,
        actor,
        "credential.preferred",
        stored.id,
        {"model": model, "provider": provider.value, "name": name},
    )
    return stored


def credential_status(ctx: AppContext, org_id: str) -> CredentialStatus | None:
    """The org's first key (its only one, for most orgs): see ``credential_statuses``."""
    statuses = credential_statuses(ctx, org_id)
    return statuses[0] if statuses else None


def credential_statuses(ctx: AppContext, org_id: str) -> list[CredentialStatus]:
    """What an admin may see of each current key: never the key, only how to recognize it."""
    return [_status(ctx, org_id, stored) for stored in ctx.credentials.active(org_id)]


def _status(ctx: AppContext, org_id: str, stored: StoredKey) -> CredentialStatus:
    return CredentialStatus(
        id=stored.id,
        provider=stored.config.provider.value,
        base_url=stored.config.base_url,
        organization=stored.config.organization,
        project=stored.config.project,
        api_version=stored.config.api_version,
        deployments=dict(stored.config.deployments),
        models=list(stored.models),
        fingerprint=stored.sealed.fingerprint,
        last4=stored.sealed.last4,
        created_by=stored.created_by,
        created_at=stored.created_at,
        last_used_at=ctx.usage.last_used(org_id, stored.sealed.fingerprint),
        status=stored.status,
        status_reason=stored.status_reason,
        name=stored.name,
    )
