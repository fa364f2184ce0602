"""Stored org policies (limits and allowed models)."""

from __future__ import annotations

from sqlalchemy import Engine, delete, select

from chatgrid.limits.policy import NO_LIMITS, OrgPolicy
from chatgrid.store.tables import org_policies
from chatgrid.store.types import utcnow


class PolicyRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, org_id: str) -> OrgPolicy:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(org_policies).where(org_policies.c.org_id == org_id))
                .mappings()
                .first()
            )
        if row is None:
            return NO_LIMITS
        models = row["allowed_models"]
        return OrgPolicy(
            org_rpm=row["org_rpm"],
            org_tpm=row["org_tpm"],
            member_rpm=row["member_rpm"],
            member_tpm=row["member_tpm"],
            member_concurrency=row["member_concurrency"],
            allowed_models=None if models is None else frozenset(models),
        )

    def set(self, org_id: str, policy: OrgPolicy, actor: str | None) -> None:
        values = {**policy.public(), "updated_at": utcnow(), "updated_by": actor}
        with self.engine.begin() as conn:
            conn.execute(delete(org_policies).where(org_policies.c.org_id == org_id))
            conn.execute(org_policies.insert().values(org_id=org_id, **values))
