"""What the operator reads and changes across tenants: orgs with their plan and seats,
suspension and trials. Instance-wide by design; only the operator console uses it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select, update

from chatgrid.errors import NotFound
from chatgrid.ledger.pricing import Price
from chatgrid.store.tables import members, orgs, plans, pool_keys, prices, users


class OperatorRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def tenants(self) -> list[dict[str, Any]]:
        """Every org with its plan's name (None: trial / default) and active seats."""
        seats = (
            select(members.c.org_id, func.count().label("seats"))
            .where(members.c.status == "active")
            .group_by(members.c.org_id)
            .subquery()
        )
        query = (
            select(
                orgs.c.id,
                orgs.c.name,
                orgs.c.billing_mode,
                orgs.c.status,
                orgs.c.suspended_reason,
                orgs.c.trial_ends_at,
                orgs.c.created_at,
                plans.c.name.label("plan_name"),
                func.coalesce(seats.c.seats, 0).label("seats"),
            )
            .outerjoin(plans, plans.c.id == orgs.c.plan_id)
            .outerjoin(seats, seats.c.org_id == orgs.c.id)
            .order_by(orgs.c.name)
        )
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def plans(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(plans).order_by(plans.c.name)).mappings()]

    def operator_emails(self) -> list[str]:
        """Where operator alerts go: every user with the operator flag."""
        query = select(users.c.email).where(users.c.is_operator.is_(True)).order_by(users.c.email)
        with self.engine.connect() as conn:
            return [str(e) for e in conn.execute(query).scalars()]

    def pool_limits(self) -> dict[str, tuple[int | None, int | None]]:
        """Each pooled key's own rpm / tpm limits (None: none set)."""
        query = select(pool_keys.c.id, pool_keys.c.rpm_limit, pool_keys.c.tpm_limit)
        with self.engine.connect() as conn:
            return {str(r[0]): (r[1], r[2]) for r in conn.execute(query)}

    def prices(self) -> list[Price]:
        query = select(prices).order_by(prices.c.model, prices.c.effective_from)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            Price(
                model=r["model"],
                effective_from=r["effective_from"],
                input_per_mtok=r["input_per_mtok"],
                cached_input_per_mtok=r["cached_input_per_mtok"],
                output_per_mtok=r["output_per_mtok"],
            )
            for r in rows
        ]

    def set_status(self, org_id: str, status: str, reason: str | None) -> None:
        self._update(org_id, status=status, suspended_reason=reason)

    def _update(self, org_id: str, **values: object) -> None:
        with self.engine.begin() as conn:
            result = conn.execute(update(orgs).where(orgs.c.id == org_id).values(**values))
        if result.rowcount == 0:
            raise NotFound("no such organization", code="org_not_found")
