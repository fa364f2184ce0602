"""The operator's pooled upstream keys for shared-credit orgs: the ``pool_keys`` table's one writer.

A pooled key is stored like an org's key (:mod:`chatgrid.store.credentials`
holds the shared row shape, ``StoredKey``); what differs is its lifecycle:
a name instead of an org, a weight and a per-minute budget, and a status the
gateway moves when the upstream refuses it.
"""

from __future__ import annotations

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from chatgrid.errors import Conflict, NotFound
from chatgrid.providers.base import UpstreamConfig
from chatgrid.store.credentials import StoredKey, _config_values, _sealed_values, _stored
from chatgrid.store.tables import pool_keys
from chatgrid.store.types import utcnow
from chatgrid.vault import SealedSecret


class PoolKeyRepository:
    """The operator's pooled upstream keys for shared-credit orgs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self,
        pool_key_id: str,
        name: str,
        config: UpstreamConfig,
        sealed: SealedSecret,
        models: list[str],
        weight: int,
        *,
        rpm_limit: int | None = None,
        tpm_limit: int | None = None,
    ) -> StoredKey:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    pool_keys.insert().values(
                        id=pool_key_id,
                        name=name,
                        **_config_values(config),
                        **_sealed_values(sealed),
                        models=models,
                        weight=weight,
                        rpm_limit=rpm_limit,
                        tpm_limit=tpm_limit,
                        status="active",
                        created_at=utcnow(),
                    )
                )
        except IntegrityError:
            raise Conflict(f"a pooled key named {name!r} exists", code="pool_key_exists") from None
        return next(k for k in self.list() if k.id == pool_key_id)

    def list(self, *, usable_only: bool = False) -> list[StoredKey]:
        query = select(pool_keys).order_by(pool_keys.c.created_at)
        if usable_only:
            query = query.where(pool_keys.c.status == "active")
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [_stored(row, "pool") for row in rows]

    def ended_ids(self, pool_key_ids: set[str]) -> set[str]:
        if not pool_key_ids:
            return set()
        query = select(pool_keys.c.id).where(
            pool_keys.c.id.in_(pool_key_ids), pool_keys.c.status != "active"
        )
        with self.engine.connect() as conn:
            return set(conn.execute(query).scalars())

    def get(self, id_or_name: str) -> StoredKey:
        query = select(pool_keys).where(
            (pool_keys.c.id == id_or_name) | (pool_keys.c.name == id_or_name)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            raise NotFound("no such pooled key", code="pool_key_not_found")
        return _stored(row, "pool")

    def set_status(self, pool_key_id: str, status: str, reason: str | None) -> bool:
        """Change the key's status; True when it changed (a second 401 changes nothing)."""
        with self.engine.begin() as conn:
            known = conn.execute(
                select(pool_keys.c.status).where(pool_keys.c.id == pool_key_id)
            ).first()
            if known is None:
                raise NotFound("no such pooled key", code="pool_key_not_found")
            result = conn.execute(
                update(pool_keys)
                .where(pool_keys.c.id == pool_key_id, pool_keys.c.status != status)
                .values(status=status, status_reason=reason)
            )
        return bool(result.rowcount)

    def set_budget(
        self,
        pool_key_id: str,
        *,
        weight: int,
        rpm_limit: int | None,
        tpm_limit: int | None,
    ) -> StoredKey:
        """Replace the key's weight and its per-minute budget (None: no limit)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(pool_keys)
                .where(pool_keys.c.id == pool_key_id)
                .values(weight=weight, rpm_limit=rpm_limit, tpm_limit=tpm_limit)
            )
        if result.rowcount == 0:
            raise NotFound("no such pooled key", code="pool_key_not_found")
        return self.get(pool_key_id)


def set_pool_key_models(engine: Engine, pool_key_id: str, models: list[str]) -> bool:
    """Store a pooled key's model list; False if the key is gone or no longer active."""
    with engine.begin() as conn:
        result = conn.execute(
            update(pool_keys)
            .where(pool_keys.c.id == pool_key_id, pool_keys.c.status == "active")
            .values(models=sorted(set(models)))
        )
    return result.rowcount > 0
