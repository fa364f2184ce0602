"""Org credentials and pooled keys: config, sealed secret and status.

Plaintext keys never pass through here; the vault seals them first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, select, update

from chatgrid.errors import Conflict, NotFound
from chatgrid.governance.erasure import Erasure
from chatgrid.providers.base import PROVIDER_ORDER, Provider, UpstreamConfig
from chatgrid.store.tables import credential_model_choices, credentials, pool_keys
from chatgrid.store.types import utcnow
from chatgrid.vault import SealedSecret

CURRENT_STATUSES = ("active", "broken")


@dataclass(frozen=True)
class StoredKey:
    """A credential or pooled key as stored: everything but the plaintext."""

    id: str
    owner: str  # org id, or "pool"
    name: str
    config: UpstreamConfig
    sealed: SealedSecret
    models: list[str]
    status: str
    status_reason: str | None
    weight: int
    created_at: datetime
    created_by: str | None
    # A pooled key's own budget at the upstream per minute (None: no limit known).
    rpm_limit: int | None = None
    tpm_limit: int | None = None

    @property
    def binding(self) -> str:
        """What the ciphertext is bound to; moving it elsewhere makes it unreadable."""
        if self.owner == "pool":
            return f"pool:{self.id}"
        return f"credential:{self.owner}:{self.id}"

    def public(self) -> dict[str, object]:
        """What may be shown: never the key, only its fingerprint and last four."""
        return {
            "id": self.id,
            "provider": self.config.provider.value,
            "name": self.name,
            "base_url": self.config.base_url,
            "organization": self.config.organization,
            "project": self.config.project,
            "api_version": self.config.api_version,
            "deployments": self.config.deployments,
            "fingerprint": self.sealed.fingerprint,
            "last4": self.sealed.last4,
            "models": self.models,
            "status": self.status,
            "status_reason": self.status_reason,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
        }


def credential_binding(org_id: str, credential_id: str) -> str:
    return f"credential:{org_id}:{credential_id}"


def pool_binding(pool_key_id: str) -> str:
    return f"pool:{pool_key_id}"


def _sealed_values(sealed: SealedSecret) -> dict[str, object]:
    return {
        "fingerprint": sealed.fingerprint,
        "last4": sealed.last4,
        "wrapped_key": sealed.wrapped_key,
        "master_key_version": sealed.master_key_version,
        "nonce": sealed.nonce,
        "ciphertext": sealed.ciphertext,
    }


def _config_values(config: UpstreamConfig) -> dict[str, object]:
    return {
        "provider": config.provider.value,
        "base_url": config.base_url,
        "organization": config.organization,
        "project": config.project,
        "api_version": config.api_version,
        "deployments": config.deployments,
    }


def _stored(row: Mapping[Any, Any], owner: str) -> StoredKey:
    return StoredKey(
        id=row["id"],
        owner=owner,
        name=row["id"] if row.get("name") is None else row["name"],
        config=UpstreamConfig(
            provider=Provider(row["provider"]),
            base_url=row["base_url"],
            organization=row["organization"],
            project=row["project"],
            api_version=row["api_version"],
            deployments=dict(row["deployments"] or {}),
        ),
        sealed=SealedSecret(
            fingerprint=row["fingerprint"],
            last4=row["last4"],
            wrapped_key=bytes(row["wrapped_key"]),
            master_key_version=row["master_key_version"],
            nonce=bytes(row["nonce"]),
            ciphertext=bytes(row["ciphertext"]),
        ),
        models=list(row["models"] or []),
        status=row["status"],
        status_reason=row["status_reason"],
        weight=row.get("weight") or 1,
        created_at=row["created_at"],
        created_by=row.get("created_by"),
        rpm_limit=row.get("rpm_limit"),
        tpm_limit=row.get("tpm_limit"),
    )


def _rank(stored: StoredKey) -> tuple[int, str, datetime]:
    """The order an org's keys are listed and tried in: OpenAI and Azure first."""
    return (PROVIDER_ORDER.index(stored.config.provider), stored.name, stored.created_at)


class CredentialRepository:
    """An org's own keys: at most one current (active or broken) per provider and name.

    The name is "" for the providers an org holds one key of, and tells an
    org's OpenAI-compatible servers apart.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def active(self, org_id: str) -> list[StoredKey]:
        """Every current key of the org (active or broken), OpenAI and Azure first."""
        query = select(credentials).where(
            credentials.c.org_id == org_id, credentials.c.status.in_(CURRENT_STATUSES)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return sorted((_stored(row, org_id) for row in rows), key=_rank)

    def current(self, org_id: str) -> StoredKey | None:
        """The org's first current key (its only one, for most orgs)."""
        keys = self.active(org_id)
        return keys[0] if keys else None

    def find(self, org_id: str, provider: Provider, name: str = "") -> StoredKey | None:
        """The org's current key for this provider and name, if it has one."""
        return next(
            (k for k in self.active(org_id) if k.config.provider is provider and k.name == name),
            None,
        )

    def replace(
        self,
        org_id: str,
        credential_id: str,
        config: UpstreamConfig,
        sealed: SealedSecret,
        models: list[str],
        created_by: str | None,
        *,
        name: str = "",
    ) -> StoredKey:
        """Make a new key current for its provider and name, retiring the one it replaces
        in the same transaction (the org's other keys are untouched)."""
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                update(credentials)
                .where(
                    credentials.c.org_id == org_id,
                    credentials.c.provider == config.provider.value,
                    credentials.c.name == name,
                    credentials.c.status.in_(CURRENT_STATUSES),
                )
                .values(status="replaced", ended_at=now)
            )
            conn.execute(
                credentials.insert().values(
                    id=credential_id,
                    org_id=org_id,
                    name=name,
                    **_config_values(config),
                    **_sealed_values(sealed),
                    models=models,
                    status="active",
                    created_at=now,
                    created_by=created_by,
                )
            )
        stored = self.find(org_id, config.provider, name)
        assert stored is not None
        return stored

    def revoke(
        self, org_id: str, provider: Provider | None = None, name: str | None = None
    ) -> StoredKey:
        """Revoke one key: the one named, or the org's only key when none is named."""
        keys = self.active(org_id)
        if provider is not None:
            keys = [k for k in keys if k.config.provider is provider]
            if name is not None:
                keys = [k for k in keys if k.name == name]
        elif name is not None:
            keys = [k for k in keys if k.name == name]
        if not keys:
            raise NotFound("this org has no such credential to revoke", code="no_credential")
        if len(keys) > 1:
            raise Conflict(
                "this org has several keys; say which one to revoke (its provider, and its "
                "name for an OpenAI-compatible server)",
                code="credential_ambiguous",
            )
        self._set_status(keys[0].id, "revoked", "revoked by an admin", ended=True)
        return keys[0]

    def mark_broken(self, org_id: str, credential_id: str, reason: str) -> bool:
        """Flag the credential the upstream rejected (only if it is still active)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(credentials)
                .where(
                    credentials.c.org_id == org_id,
                    credentials.c.id == credential_id,
                    credentials.c.status == "active",
                )
                .values(status="broken", status_reason=reason)
            )
        return result.rowcount > 0

    def ended_ids(self, credential_ids: set[str]) -> set[str]:
        """Of these credentials, the ones that must no longer serve (revoked or rejected)."""
        if not credential_ids:
            return set()
        query = select(credentials.c.id).where(
            credentials.c.id.in_(credential_ids), credentials.c.status.in_(("revoked", "broken"))
        )
        with self.engine.connect() as conn:
            return set(conn.execute(query).scalars())

    def choices(self, org_id: str) -> dict[str, tuple[Provider, str]]:
        """model → (provider, name) of the key the admin chose for it."""
        query = select(credential_model_choices).where(credential_model_choices.c.org_id == org_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return {r["model"]: (Provider(r["provider"]), r["name"]) for r in rows}

    def prefer(
        self, org_id: str, model: str, provider: Provider, name: str, created_by: str | None
    ) -> None:
        """Send ``model`` to this key whenever several of the org's keys serve it."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(credential_model_choices).where(
                    credential_model_choices.c.org_id == org_id,
                    credential_model_choices.c.model == model,
                )
            )
            conn.execute(
                credential_model_choices.insert().values(
                    org_id=org_id,
                    model=model,
                    provider=provider.value,
                    name=name,
                    created_at=utcnow(),
                    created_by=created_by,
                )
            )

    def forget_choice(self, org_id: str, model: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(credential_model_choices).where(
                    credential_model_choices.c.org_id == org_id,
                    credential_model_choices.c.model == model,
                )
            )
        return result.rowcount > 0

    def _set_status(self, credential_id: str, status: str, reason: str, *, ended: bool) -> None:
        values: dict[str, object] = {"status": status, "status_reason": reason}
        if ended:
            values["ended_at"] = utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                update(credentials).where(credentials.c.id == credential_id).values(**values)
            )


def all_sealed(engine: Engine) -> list[tuple[Table, StoredKey]]:
    """Every stored key of every kind, for rewrapping under a new master key."""
    with engine.connect() as conn:
        creds = conn.execute(select(credentials)).mappings().all()
        pool = conn.execute(select(pool_keys)).mappings().all()
    return [(credentials, _stored(r, r["org_id"])) for r in creds] + [
        (pool_keys, _stored(r, "pool")) for r in pool
    ]


def store_rewrapped(engine: Engine, table: Table, key_id: str, sealed: SealedSecret) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(table)
            .where(table.c.id == key_id)
            .values(wrapped_key=sealed.wrapped_key, master_key_version=sealed.master_key_version)
        )


def master_versions_in_use(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        versions = set(conn.execute(select(credentials.c.master_key_version).distinct()).scalars())
        versions |= set(conn.execute(select(pool_keys.c.master_key_version).distinct()).scalars())
    return versions


def set_credential_models(
    engine: Engine, org_id: str, credential_id: str, models: list[str]
) -> bool:
    """Store an org's key's model list; False if that key is no longer the org's active one."""
    with engine.begin() as conn:
        result = conn.execute(
            update(credentials)
            .where(
                credentials.c.org_id == org_id,
                credentials.c.id == credential_id,
                credentials.c.status == "active",
            )
            .values(models=sorted(set(models)))
        )
    return result.rowcount > 0


def erase_credential_author(conn: Connection, erasure: Erasure) -> None:
    """The keys and model choices an erased member added name the alias as their author."""
    for table in (credentials, credential_model_choices):
        conn.execute(
            update(table)
            .where(table.c.org_id == erasure.org_id, table.c.created_by == erasure.email)
            .values(created_by=erasure.alias_email)
        )
