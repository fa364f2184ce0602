"""The model list stored with a key, kept up to date with its provider.

Reads only: the ``models`` column is written by
:mod:`chatgrid.store.credentials`, the tables' one owner. Each write names the key it
read (and, for an org's key, the org), so a list fetched for a key that
was rotated meanwhile never lands on its successor. Callers bump the
change marker after a write that changed something, so every replica
reloads.
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from chatgrid.store.credentials import (
    StoredKey,
    _stored,
    set_credential_models,
)
from chatgrid.store.pool_keys import set_pool_key_models
from chatgrid.store.tables import credentials, pool_keys


class CredentialModels:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def active_credentials(self) -> list[StoredKey]:
        """Every org's key that is serving now (a broken one waits for its admin)."""
        query = select(credentials).where(credentials.c.status == "active")
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(credentials.c.created_at)).mappings().all()
        return [_stored(row, row["org_id"]) for row in rows]

    def org_credentials(self, org_id: str) -> list[StoredKey]:
        """The org's keys that are serving now."""
        query = select(credentials).where(
            credentials.c.org_id == org_id, credentials.c.status == "active"
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(credentials.c.created_at)).mappings().all()
        return [_stored(row, org_id) for row in rows]

    def active_credential(self, org_id: str, credential_id: str) -> StoredKey | None:
        """The org's key by id, if it is still active (else None)."""
        query = select(credentials).where(
            credentials.c.org_id == org_id,
            credentials.c.id == credential_id,
            credentials.c.status == "active",
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _stored(row, org_id)

    def active_pool_keys(self) -> list[StoredKey]:
        query = select(pool_keys).where(pool_keys.c.status == "active")
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(pool_keys.c.created_at)).mappings().all()
        return [_stored(row, "pool") for row in rows]

    def set_credential_models(self, org_id: str, credential_id: str, models: list[str]) -> bool:
        """Store the org's key's list; False if that key is no longer the org's active one."""
        return set_credential_models(self.engine, org_id, credential_id, models)

    def set_pool_key_models(self, pool_key_id: str, models: list[str]) -> bool:
        """Store a pooled key's list; False if the key is gone or no longer active."""
        return set_pool_key_models(self.engine, pool_key_id, models)
