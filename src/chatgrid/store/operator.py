"""What the operator reads across tenants: orgs with their plan, seats and month's usage,
operator addresses, the price book. Instance-wide by design; only the operator's doors use it.

Reads only: an org's row is written by ``store.orgs`` alone. Each tenant row
comes from one query (the org, its plan's name, its active seats and its
ledger since a moment), for every tenant or for one, so showing one tenant
never sums the others' usage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, case, func, select, true

from chatgrid.identity.models import BillingMode, OrgStatus
from chatgrid.ledger.pricing import Price
from chatgrid.ledger.units import AUDIO_MS, CHARACTERS, IMAGES, INPUTS
from chatgrid.store.tables import ledger_entries, members, orgs, plans, prices, users


@dataclass(frozen=True)
class TenantRow:
    """One org as the operator lists it, with its usage since the moment asked for."""

    id: str
    name: str
    billing_mode: BillingMode
    status: OrgStatus
    suspended_reason: str | None
    shared_allowed: bool
    plan_name: str | None  # None: on its trial, or the default plan
    trial_ends_at: datetime | None
    seats: int
    requests: int
    tokens: int
    # Shared-credit calls only: BYOK calls are billed by the org's own upstream.
    charged_micros: int
    list_cost_micros: int
    #: Non-token units (``ledger.units``) as (kind, total), only kinds it used, in kind order.
    units: tuple[tuple[str, int], ...]


_UNIT_KINDS = (IMAGES, AUDIO_MS, CHARACTERS, INPUTS)


def _only(column: ColumnElement[Any], org_id: str | None) -> ColumnElement[bool]:
    return true() if org_id is None else column == org_id


def _zero_if_none(column: ColumnElement[Any], name: str) -> ColumnElement[Any]:
    return func.coalesce(column, 0).label(name)


class OperatorRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def tenants(self, *, since: datetime, org_id: str | None = None) -> list[TenantRow]:
        """Every org (or only ``org_id``) by name, with its usage of the ledger since ``since``."""
        e = ledger_entries.c
        shared = e.mode == "shared"
        seats = (
            select(members.c.org_id, func.count().label("seats"))
            .where(members.c.status == "active", _only(members.c.org_id, org_id))
            .group_by(members.c.org_id)
            .subquery()
        )
        usage = (
            select(
                e.org_id,
                func.count().label("requests"),
                func.sum(e.prompt_tokens + e.completion_tokens).label("tokens"),
                func.sum(case((shared, e.charged_micros), else_=0)).label("charged"),
                func.sum(case((shared, e.list_cost_micros), else_=0)).label("list_cost"),
                *(
                    func.sum(case((e.units_kind == kind, e.units), else_=0)).label(kind)
                    for kind in _UNIT_KINDS
                ),
            )
            .where(e.started_at >= since, _only(e.org_id, org_id))
            .group_by(e.org_id)
            .subquery()
        )

        query = (
            select(
                orgs,
                plans.c.name.label("plan_name"),
                _zero_if_none(seats.c.seats, "seats"),
                _zero_if_none(usage.c.requests, "requests"),
                _zero_if_none(usage.c.tokens, "tokens"),
                _zero_if_none(usage.c.charged, "charged"),
                _zero_if_none(usage.c.list_cost, "list_cost"),
                *(_zero_if_none(usage.c[kind], kind) for kind in _UNIT_KINDS),
            )
            .outerjoin(plans, plans.c.id == orgs.c.plan_id)
            .outerjoin(seats, seats.c.org_id == orgs.c.id)
            .outerjoin(usage, usage.c.org_id == orgs.c.id)
            .where(_only(orgs.c.id, org_id))
            .order_by(orgs.c.name)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            TenantRow(
                id=row["id"],
                name=row["name"],
                billing_mode=BillingMode(row["billing_mode"]),
                status=OrgStatus(row["status"]),
                suspended_reason=row["suspended_reason"],
                shared_allowed=bool(row["shared_allowed"]),
                plan_name=row["plan_name"],
                trial_ends_at=row["trial_ends_at"],
                seats=int(row["seats"]),
                requests=int(row["requests"]),
                tokens=int(row["tokens"]),
                charged_micros=int(row["charged"]),
                list_cost_micros=int(row["list_cost"]),
                units=tuple((k, int(row[k])) for k in _UNIT_KINDS if int(row[k])),
            )
            for row in rows
        ]

    def operator_emails(self) -> list[str]:
        """Where operator alerts go: every user with the operator flag."""
        query = select(users.c.email).where(users.c.is_operator.is_(True)).order_by(users.c.email)
        with self.engine.connect() as conn:
            return [str(e) for e in conn.execute(query).scalars()]

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
