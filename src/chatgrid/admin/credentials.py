"""The org's own upstream key from the console: connect, rotate, revoke, health.

``keys.set_credential`` validates the key upstream before saving; a refusal
comes back as a plain sentence for the admin and is audited by fingerprint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chatgrid.admin import keys
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest, UpstreamRefused
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


async def connect_credential(
    ctx: AppContext, org_id: str, actor: Actor, config: UpstreamConfig, key: str
) -> StoredKey:
    """Validate, then connect (or rotate to) the key; the old one stops for new calls at once."""
    key = key.strip()
    if not key or len(key) > 1000 or not key.isascii() or not key.isprintable():
        raise KeyNotAccepted("paste the whole API key", param="api_key", code="key_malformed")
    previous = ctx.credentials.current(org_id)
    try:
        stored = await keys.set_credential(ctx, org_id, config, key, actor=actor.email)
    except UpstreamRefused as refusal:
        ctx.audit.record(
            org_id,
            actor,
            "credential.rejected",
            None,
            {
                "provider": config.provider.value,
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
        "fingerprint": stored.sealed.fingerprint,
    }
    if previous is not None:
        details["previous_fingerprint"] = previous.sealed.fingerprint
    action = "credential.rotated" if previous is not None else "credential.connected"
    ctx.audit.record(org_id, actor, action, stored.id, details)
    return stored


def revoke_credential(ctx: AppContext, org_id: str, actor: Actor) -> StoredKey:
    revoked = keys.revoke_credential(ctx, org_id)
    ctx.audit.record(
        org_id,
        actor,
        "credential.revoked",
        revoked.id,
        {"provider": revoked.config.provider.value, "fingerprint": revoked.sealed.fingerprint},
    )
    return revoked


def credential_status(ctx: AppContext, org_id: str) -> CredentialStatus | None:
    """What an admin may see of the current key: never the key, only how to recognize it."""
    stored = ctx.credentials.current(org_id)
    if stored is None:
        return None
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
    )
