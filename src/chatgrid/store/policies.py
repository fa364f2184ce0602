"""Stored org policies (limits and allowed models)."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, delete, select, update

from chatgrid.governance.erasure import Erasure
from chatgrid.limits.policy import NO_LIMITS, OrgPolicy
from chatgrid.store.tables import operator_policies, org_policies
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

    def operator(self, org_id: str) -> OrgPolicy:
        """The operator's limits on a shared-credit org (requests and tokens only)."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(operator_policies).where(operator_policies.c.org_id == org_id))
                .mappings()
                .first()
            )
        if row is None:
            return NO_LIMITS
        return OrgPolicy(
            org_rpm=row["org_rpm"],
            org_tpm=row["org_tpm"],
            member_rpm=row["member_rpm"],
            member_tpm=row["member_tpm"],
        )

    def set_operator(self, org_id: str, policy: OrgPolicy) -> None:
        values = {
            "org_rpm": policy.org_rpm,
            "org_tpm": policy.org_tpm,
            "member_rpm": policy.member_rpm,
            "member_tpm": policy.member_tpm,
            "updated_at": utcnow(),
        }
        with self.engine.begin() as conn:
            conn.execute(delete(operator_policies).where(operator_policies.c.org_id == org_id))
            conn.execute(operator_policies.insert().values(org_id=org_id, **values))


def erase_policy_author(conn: Connection, erasure: Erasure) -> None:
    """The org's limits an erased member set name the alias as their setter."""
    p = org_policies.c
    conn.execute(
        update(org_policies)
        .where(p.org_id == erasure.org_id, p.updated_by == erasure.email)
        .values(updated_by=erasure.alias_email)
    )
