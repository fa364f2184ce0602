"""The ``reconciliation_keys`` table's one writer: each org's sealed OpenAI admin key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, update

from chatgrid.governance.erasure import Erasure
from chatgrid.store.tables import reconciliation_keys
from chatgrid.store.types import utcnow
from chatgrid.vault import SealedSecret


@dataclass(frozen=True)
class StoredAdminKey:
    org_id: str
    sealed: SealedSecret
    api_key_id: str | None
    updated_at: datetime
    updated_by: str | None


class ReconciliationKeyRepository:
    """Every query names the org: one org never reads another's admin key."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, org_id: str) -> StoredAdminKey | None:
        query = select(reconciliation_keys).where(reconciliation_keys.c.org_id == org_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _stored(row)

    def put(
        self, org_id: str, sealed: SealedSecret, *, api_key_id: str | None, updated_by: str | None
    ) -> None:
        """Replace the org's admin key (one per org)."""
        with self.engine.begin() as conn:
            conn.execute(delete(reconciliation_keys).where(reconciliation_keys.c.org_id == org_id))
            conn.execute(
                reconciliation_keys.insert().values(
                    org_id=org_id,
                    wrapped_key=sealed.wrapped_key,
                    master_key_version=sealed.master_key_version,
                    nonce=sealed.nonce,
                    ciphertext=sealed.ciphertext,
                    fingerprint=sealed.fingerprint,
                    last4=sealed.last4,
                    api_key_id=api_key_id,
                    updated_at=utcnow(),
                    updated_by=updated_by,
                )
            )

    def remove(self, org_id: str) -> bool:
        with self.engine.begin() as conn:
            gone = conn.execute(
                delete(reconciliation_keys).where(reconciliation_keys.c.org_id == org_id)
            ).rowcount
        return bool(gone)

    def all_sealed(self) -> list[StoredAdminKey]:
        """Every org's key, for rewrapping under a new master (``vault rotate-master``)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(reconciliation_keys)).mappings().all()
        return [_stored(row) for row in rows]

    def store_rewrapped(self, org_id: str, sealed: SealedSecret) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(reconciliation_keys)
                .where(reconciliation_keys.c.org_id == org_id)
                .values(
                    wrapped_key=sealed.wrapped_key, master_key_version=sealed.master_key_version
                )
            )

    def master_versions(self) -> set[int]:
        query = select(reconciliation_keys.c.master_key_version).distinct()
        with self.engine.connect() as conn:
            return {int(version) for version in conn.execute(query).scalars()}


def _stored(row: Mapping[Any, Any]) -> StoredAdminKey:
    sealed = SealedSecret(
        fingerprint=row["fingerprint"],
        last4=row["last4"],
        wrapped_key=bytes(row["wrapped_key"]),
        master_key_version=row["master_key_version"],
        nonce=bytes(row["nonce"]),
        ciphertext=bytes(row["ciphertext"]),
    )
    return StoredAdminKey(
        row["org_id"], sealed, row["api_key_id"], row["updated_at"], row["updated_by"]
    )


def erase_admin_key_author(conn: Connection, erasure: Erasure) -> None:
    """The admin key an erased member saved names the alias as its setter."""
    k = reconciliation_keys.c
    conn.execute(
        update(reconciliation_keys)
        .where(k.org_id == erasure.org_id, k.updated_by == erasure.email)
        .values(updated_by=erasure.alias_email)
    )
