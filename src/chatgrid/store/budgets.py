"""Budgets as stored, and what the gateway needs to meter them: terms, teams, spend."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    RowMapping,
    and_,
    case,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from chatgrid.billing.budget_rules import (
    Budget,
    BudgetScope,
    TeamRef,
    format_thresholds,
    members_digest,
    parse_counter_scope,
)
from chatgrid.billing.payment_standing import PaymentFailure
from chatgrid.errors import NotFound
from chatgrid.governance.erasure import Erasure
from chatgrid.store.ids import new_id
from chatgrid.store.tables import (
    budgets,
    ledger_entries,
    members,
    orgs,
    payment_failures,
    plans,
    team_members,
    teams,
    users,
)
from chatgrid.store.types import utcnow


@dataclass(frozen=True)
class OrgTerms:
    """The org's plan and caps, as the gateway caches them."""

    plan_id: str | None
    overage: bool  # metered overage: no org-wide cap
    markup_bps: int | None
    trial_ends_at: datetime | None
    budgets: tuple[Budget, ...] = ()
    #: member id → the teams with a budget that the member is in
    teams_of: dict[str, tuple[TeamRef, ...]] = field(default_factory=dict)
    #: a budgeted team's name, or a budgeted member's email, by id (for messages)
    names: dict[str, str] = field(default_factory=dict)
    #: an unpaid invoice whose card payment failed: read-only once its grace is over
    payment_failure: PaymentFailure | None = None
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
            org_budgets = _budgets(conn, org_id)
            teams_of = _budgeted_teams(conn, org_id, org_budgets)
            names = _subject_names(conn, org_id, org_budgets)
            failed = (
                conn.execute(select(payment_failures).where(payment_failures.c.org_id == org_id))
                .mappings()
                .first()
            )
        return OrgTerms(
            plan_id=org.plan_id,
            overage=plan is None or bool(plan["overage"]),
            markup_bps=None if plan is None else int(plan["markup_bps"]),
            trial_ends_at=org.trial_ends_at,
            budgets=tuple(org_budgets),
            teams_of=teams_of,
            names=names,
            payment_failure=None
            if failed is None
            else PaymentFailure(
                failed["invoice_ref"], failed["failed_at"], failed["grace_ends_at"]
            ),
        )

    def spent(self, scope: str) -> int:
        """What a counter (``billing.budget_rules``) holds per the ledger: a month's spend.

        Shared-credit counters sum the charges; ``byok_`` counters the list
        price of the calls made on the org's own key. A team's counter sums
        its current members' calls.
        """
        kind, owner, month, byok = parse_counter_scope(scope)
        start, end = month_bounds(month)
        if byok:
            measure = func.sum(
                case((ledger_entries.c.mode == "byok", ledger_entries.c.list_cost_micros), else_=0)
            )
        else:
            measure = func.sum(ledger_entries.c.charged_micros)
        query = select(func.coalesce(measure, 0)).where(
            ledger_entries.c.started_at >= start, ledger_entries.c.started_at < end
        )
        if kind == "org":
            query = query.where(ledger_entries.c.org_id == owner)
        elif kind == "member":
            query = query.where(ledger_entries.c.member_id == owner)
        else:
            in_team = select(team_members.c.member_id).where(team_members.c.team_id == owner)
            query = query.where(ledger_entries.c.member_id.in_(in_team))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def team_digest(self, team_id: str) -> str:
        """The digest of who is in a team, as a team's counter is named by it."""
        query = select(team_members.c.member_id).where(team_members.c.team_id == team_id)
        with self.engine.connect() as conn:
            return members_digest(conn.execute(query).scalars())

    # -- the budgets an org sets ------------------------------------------------

    def list(self, org_id: str) -> list[Budget]:
        with self.engine.connect() as conn:
            return _budgets(conn, org_id)

    def get(self, org_id: str, budget_id: str) -> Budget:
        query = select(budgets).where(budgets.c.org_id == org_id, budgets.c.id == budget_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            raise budget_not_found()
        return _budget(row)

    def find(self, org_id: str, scope: BudgetScope, subject_id: str) -> Budget | None:
        query = select(budgets).where(_where(org_id, scope, subject_id))
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _budget(row)

    def put(
        self,
        org_id: str,
        scope: BudgetScope,
        subject_id: str,
        *,
        limit_micros: int,
        hard: bool,
        thresholds: tuple[int, ...],
        updated_by: str | None,
    ) -> Budget:
        """Set the one budget of a scope and subject (a new one, or replacing the old)."""
        values = {
            "limit_micros": limit_micros,
            "hard": hard,
            "thresholds": format_thresholds(thresholds),
            "updated_at": utcnow(),
            "updated_by": updated_by,
        }
        where = _where(org_id, scope, subject_id)
        with self.engine.begin() as conn:
            changed = conn.execute(update(budgets).where(where).values(**values)).rowcount
        if not changed:
            row = {"id": new_id("budget"), "org_id": org_id, "scope": scope.value}
            try:
                with self.engine.begin() as conn:
                    conn.execute(budgets.insert().values(subject_id=subject_id, **row, **values))
            except IntegrityError:  # a concurrent first put won the insert: replace it
                with self.engine.begin() as conn:
                    conn.execute(update(budgets).where(where).values(**values))
        found = self.find(org_id, scope, subject_id)
        assert found is not None
        return found

    def remove(self, org_id: str, scope: BudgetScope, subject_id: str) -> Budget | None:
        """Delete a scope's budget; the one removed (None: there was none)."""
        found = self.find(org_id, scope, subject_id)
        if found is not None:
            with self.engine.begin() as conn:
                conn.execute(delete(budgets).where(budgets.c.id == found.id))
        return found


def budget_not_found() -> NotFound:
    return NotFound("no such budget", code="budget_not_found", param="budget")


def _where(org_id: str, scope: BudgetScope, subject_id: str) -> ColumnElement[bool]:
    return and_(
        budgets.c.org_id == org_id,
        budgets.c.scope == scope.value,
        budgets.c.subject_id == subject_id,
    )


def _budget(row: RowMapping) -> Budget:
    return Budget(
        id=row["id"],
        org_id=row["org_id"],
        scope=BudgetScope(row["scope"]),
        subject_id=row["subject_id"],
        limit_micros=int(row["limit_micros"]),
        hard=bool(row["hard"]),
        thresholds=tuple(int(t) for t in row["thresholds"].split(",") if t),
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
    )


def _budgets(conn: Connection, org_id: str) -> list[Budget]:
    query = (
        select(budgets).where(budgets.c.org_id == org_id).order_by(budgets.c.scope, budgets.c.id)
    )
    return [_budget(row) for row in conn.execute(query).mappings()]


def _budgeted_teams(
    conn: Connection, org_id: str, org_budgets: list[Budget]
) -> dict[str, tuple[TeamRef, ...]]:
    """Member id → the teams with a budget they are in, each with its members' digest."""
    team_ids = [b.subject_id for b in org_budgets if b.scope is BudgetScope.TEAM]
    if not team_ids:
        return {}
    rows = conn.execute(
        select(team_members.c.team_id, team_members.c.member_id, teams.c.name)
        .join(teams, teams.c.id == team_members.c.team_id)
        .where(team_members.c.org_id == org_id, team_members.c.team_id.in_(team_ids))
    ).all()
    members: dict[str, list[str]] = defaultdict(list)
    names: dict[str, str] = {}
    for row in rows:
        members[row.team_id].append(row.member_id)
        names[row.team_id] = row.name
    refs = {tid: TeamRef(tid, names[tid], members_digest(ids)) for tid, ids in members.items()}
    teams_of: dict[str, list[TeamRef]] = defaultdict(list)
    for tid, ids in members.items():
        for member_id in ids:
            teams_of[member_id].append(refs[tid])
    return {member_id: tuple(found) for member_id, found in teams_of.items()}


def _subject_names(conn: Connection, org_id: str, org_budgets: list[Budget]) -> dict[str, str]:
    """A budgeted team's name and a budgeted member's email, by id."""
    names: dict[str, str] = {}
    if any(b.scope is BudgetScope.TEAM for b in org_budgets):
        query = select(teams.c.id, teams.c.name).where(teams.c.org_id == org_id)
        names.update({row.id: row.name for row in conn.execute(query)})
    member_ids = [b.subject_id for b in org_budgets if b.scope is BudgetScope.MEMBER]
    if member_ids:
        query = (
            select(members.c.id, users.c.email)
            .join(users, users.c.id == members.c.user_id)
            .where(members.c.org_id == org_id, members.c.id.in_(member_ids))
        )
        names.update({row.id: row.email for row in conn.execute(query)})
    return names


def erase_member_budgets(conn: Connection, erasure: Erasure) -> int:
    """Delete an erased member's own budgets; the budgets they set keep their numbers with
    the alias as setter (caller's transaction)."""
    b = budgets.c
    gone = conn.execute(
        delete(budgets).where(_where(erasure.org_id, BudgetScope.MEMBER, erasure.member_id))
    )
    conn.execute(
        update(budgets)
        .where(b.org_id == erasure.org_id, b.updated_by == erasure.email)
        .values(updated_by=erasure.alias_email)
    )
    return int(gone.rowcount)
