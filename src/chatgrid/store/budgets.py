"""What the gateway needs to meter shared credits: plan terms, seats, caps, spend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from chatgrid.store.tables import ledger_entries, member_caps, orgs, plans


@dataclass(frozen=True)
class OrgTerms:
    """The org's plan and caps, as the gateway caches them."""

    plan_id: str | None
    overage: bool  # metered overage: no org-wide cap
    markup_bps: int | None
    trial_ends_at: datetime | None
    member_caps: dict[str, int]
    # Filled in by the gateway with billing's own rule (see Directory._load_route):
    allowance_micros: int | None = None  # None: no org-wide cap
    month: str = ""  # the month the allowance was computed for


def month_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def month_bounds(month: str) -> tuple[datetime, datetime]:
    year, number = (int(part) for part in month.split("-"))
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=UTC)
    return start, end


class BudgetRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def terms(self, org_id: str) -> OrgTerms:
        with self.engine.connect() as conn:
            org = conn.execute(
                select(orgs.c.plan_id, orgs.c.trial_ends_at).where(orgs.c.id == org_id)
            ).one()
            plan_query = select(plans).where(
                plans.c.id == org.plan_id if org.plan_id else plans.c.is_default.is_(True)
            )
            plan = conn.execute(plan_query).mappings().first()
            caps = {
                row.member_id: int(row.cap_micros)
                for row in conn.execute(
                    select(member_caps.c.member_id, member_caps.c.cap_micros).where(
                        member_caps.c.org_id == org_id
                    )
                )
            }
        return OrgTerms(
            plan_id=org.plan_id,
            overage=plan is None or bool(plan["overage"]),
            markup_bps=None if plan is None else int(plan["markup_bps"]),
            trial_ends_at=org.trial_ends_at,
            member_caps=caps,
        )

    def spent(self, scope: str) -> int:
        """Charged micro-dollars settled in a scope ``org:ID:YYYY-MM`` or ``member:ID:YYYY-MM``."""
        kind, owner, month = scope.split(":")
        start, end = month_bounds(month)
        column = ledger_entries.c.org_id if kind == "org" else ledger_entries.c.member_id
        query = select(func.coalesce(func.sum(ledger_entries.c.charged_micros), 0)).where(
            column == owner,
            ledger_entries.c.started_at >= start,
            ledger_entries.c.started_at < end,
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())
