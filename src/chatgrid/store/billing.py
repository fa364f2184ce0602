"""Billing storage: plans, seats, caps, usage sums, invoices.

Every org-data query takes the org id. Sums over the ledger are done by SQL
on integers, so they equal the ledger exactly. An org's plan and trial are
columns of its row, which ``store.orgs`` alone writes; ``account`` reads
them for billing's rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from chatgrid.billing.budget_rules import DEFAULT_THRESHOLDS, BudgetScope
from chatgrid.billing.invoices import Invoice, InvoiceDraft, ModelUsage
from chatgrid.billing.plans import DEFAULT_PLAN_ID, Plan
from chatgrid.billing.seats import SeatPeriod
from chatgrid.billing.standing import BillingAccount
from chatgrid.errors import Conflict, NotFound
from chatgrid.store.budgets import BudgetRepository
from chatgrid.store.ids import new_id
from chatgrid.store.orgs import OrgRepository
from chatgrid.store.tables import (
    invoices,
    ledger_entries,
    members,
    plans,
    seat_periods,
    users,
)
from chatgrid.store.types import utcnow


def _plan(row: Mapping[Any, Any]) -> Plan:
    return Plan(
        id=row["id"],
        name=row["name"],
        seat_price_micros=row["seat_price_micros"],
        markup_bps=row["markup_bps"],
        allowance_micros_per_seat=row["allowance_micros_per_seat"],
        overage=bool(row["overage"]),
        is_default=bool(row["is_default"]),
    )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _invoice(row: Mapping[Any, Any]) -> Invoice:
    return Invoice(
        id=row["id"],
        org_id=row["org_id"],
        period=row["period"],
        currency=row["currency"],
        lines=list(row["lines"]),
        total_micros=row["total_micros"],
        status=row["status"],
        issued_at=row["issued_at"].isoformat(),
        paid_at=_iso(row["paid_at"]),
        payment_provider=row["payment_provider"],
        payment_reference=row["payment_reference"],
    )


class PlanRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def list(self) -> list[Plan]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(plans).order_by(plans.c.created_at, plans.c.name))
            return [_plan(row) for row in rows.mappings()]

    def get(self, id_or_name: str) -> Plan:
        query = select(plans).where(or_(plans.c.id == id_or_name, plans.c.name == id_or_name))
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            raise NotFound(f"no plan {id_or_name!r}", code="plan_not_found")
        return _plan(row)

    def default(self) -> Plan:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(plans).where(plans.c.is_default.is_(True)).limit(1))
                .mappings()
                .first()
            )
        return _plan(row) if row is not None else self.get(DEFAULT_PLAN_ID)

    def create(self, plan: Plan) -> Plan:
        values = {**asdict(plan), "created_at": utcnow()}
        try:
            with self.engine.begin() as conn:
                conn.execute(plans.insert().values(**values))
        except IntegrityError:
            raise Conflict(f"a plan named {plan.name!r} exists", code="plan_exists") from None
        return plan

    def update(self, plan: Plan) -> Plan:
        """Replace a plan's terms (its name too); the default flag stays as it is."""
        values = {k: v for k, v in asdict(plan).items() if k not in ("id", "is_default")}
        try:
            with self.engine.begin() as conn:
                result = conn.execute(update(plans).where(plans.c.id == plan.id).values(**values))
        except IntegrityError:
            raise Conflict(f"a plan named {plan.name!r} exists", code="plan_exists") from None
        if result.rowcount == 0:
            raise NotFound(f"no plan {plan.id!r}", code="plan_not_found")
        return self.get(plan.id)

    @staticmethod
    def new_id() -> str:
        return new_id("plan")


class BillingRepository:
    """Per-org billing state; each method needs the org."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._orgs = OrgRepository(engine)

    def account(self, org_id: str) -> BillingAccount:
        """The org's billing columns, read from its one complete row."""
        org = self._orgs.by_id(org_id)
        return BillingAccount(
            org.id, org.name, org.billing_mode.value, org.plan_id, org.trial_ends_at
        )

    def seat_periods(self, org_id: str, start: datetime, end: datetime) -> list[SeatPeriod]:
        """Periods overlapping ``[start, end)``."""
        query = select(seat_periods).where(
            seat_periods.c.org_id == org_id,
            seat_periods.c.started_at < end,
            or_(seat_periods.c.ended_at.is_(None), seat_periods.c.ended_at > start),
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(seat_periods.c.id)).mappings().all()
        return [SeatPeriod(r["member_id"], r["started_at"], r["ended_at"]) for r in rows]

    def member_emails(self, org_id: str) -> dict[str, str]:
        query = (
            select(members.c.id, users.c.email)
            .join(users, users.c.id == members.c.user_id)
            .where(members.c.org_id == org_id)
        )
        with self.engine.connect() as conn:
            return {row.id: row.email for row in conn.execute(query)}

    def cap(self, org_id: str, member_id: str) -> int | None:
        """The member's own monthly budget (hard or soft), None: none set."""
        found = BudgetRepository(self.engine).find(org_id, BudgetScope.MEMBER, member_id)
        return None if found is None else found.limit_micros

    def caps(self, org_id: str) -> dict[str, int]:
        """Every member with a budget of their own, and its monthly limit."""
        return {
            b.subject_id: b.limit_micros
            for b in BudgetRepository(self.engine).list(org_id)
            if b.scope is BudgetScope.MEMBER
        }

    def set_cap(self, org_id: str, member_id: str, cap_micros: int | None) -> None:
        """Replace the member's budget by a hard cap (default thresholds); None removes it."""
        repo = BudgetRepository(self.engine)
        if cap_micros is None:
            repo.remove(org_id, BudgetScope.MEMBER, member_id)
        else:
            repo.put(
                org_id,
                BudgetScope.MEMBER,
                member_id,
                limit_micros=cap_micros,
                hard=True,
                thresholds=DEFAULT_THRESHOLDS,
                updated_by=None,
            )

    def charged(
        self, org_id: str, start: datetime, end: datetime, member_id: str | None = None
    ) -> int:
        """Σ charged_micros of the org's entries started in ``[start, end)``."""
        query = select(func.coalesce(func.sum(ledger_entries.c.charged_micros), 0)).where(
            ledger_entries.c.org_id == org_id,
            ledger_entries.c.started_at >= start,
            ledger_entries.c.started_at < end,
        )
        if member_id is not None:
            query = query.where(ledger_entries.c.member_id == member_id)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def usage_by_model(self, org_id: str, start: datetime, end: datetime) -> list[ModelUsage]:
        """Shared-credit entries started in ``[start, end)``, summed per model."""
        e = ledger_entries.c
        query = (
            select(
                e.model,
                func.count(),
                func.sum(e.prompt_tokens),
                func.sum(e.cached_tokens),
                func.sum(e.completion_tokens),
                func.coalesce(func.sum(e.list_cost_micros), 0),
                func.sum(e.charged_micros),
            )
            .where(
                e.org_id == org_id, e.mode == "shared", e.started_at >= start, e.started_at < end
            )
            .group_by(e.model)
            .order_by(e.model)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [ModelUsage(r[0], *(int(v) for v in r[1:])) for r in rows]

    def invoice(self, org_id: str, period: str) -> Invoice | None:
        query = select(invoices).where(invoices.c.org_id == org_id, invoices.c.period == period)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _invoice(row)

    def invoices(self, org_id: str) -> list[Invoice]:
        query = select(invoices).where(invoices.c.org_id == org_id).order_by(invoices.c.period)
        with self.engine.connect() as conn:
            return [_invoice(row) for row in conn.execute(query).mappings()]

    def insert_invoice(self, org_id: str, period: str, draft: InvoiceDraft) -> Invoice:
        """Insert once; if the period is already issued (even concurrently), return that one."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    invoices.insert().values(
                        id=new_id("inv"),
                        org_id=org_id,
                        period=period,
                        currency="USD",
                        lines=draft.lines,
                        total_micros=draft.total_micros,
                        status="issued",
                        issued_at=utcnow(),
                    )
                )
        except IntegrityError:
            pass  # issued meanwhile: the unique (org, period) keeps the first snapshot
        existing = self.invoice(org_id, period)
        assert existing is not None
        return existing

    def mark_paid(self, org_id: str, period: str, provider: str, reference: str) -> bool:
        """issued → paid; False when there is no issued invoice to mark."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(invoices)
                .where(
                    invoices.c.org_id == org_id,
                    invoices.c.period == period,
                    invoices.c.status == "issued",
                )
                .values(
                    status="paid",
                    paid_at=utcnow(),
                    payment_provider=provider,
                    payment_reference=reference,
                )
            )
        return result.rowcount == 1
