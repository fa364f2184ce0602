"""Monthly budgets on an org, its teams and its members: set, list, remove; audited.

A budget counts what the org pays for its calls (the charge on shared
credits, the list price on its own key) and is *hard* (refuses a call that
could pass it) or *soft* (only alerts). Setting one takes effect on every
replica before this returns (the change marker, and Redis where replicas
share it); ``billing.budget_rules`` has the rules, ``docs/billing.md`` the
story.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chatgrid.admin.teams import active_member, find_team, member_by_email
from chatgrid.audit import Actor
from chatgrid.billing.budget_rules import (
    Budget,
    BudgetScope,
    counter_scope,
    format_thresholds,
    parse_thresholds,
)
from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest, NotFound
from chatgrid.identity.models import BillingMode
from chatgrid.identity.users import has_control_characters
from chatgrid.ledger.money import format_dollars
from chatgrid.store.budgets import budget_not_found, month_of

#: A budget above this is a typo (and beyond what a counter keeps exact).
MAX_BUDGET_MICROS = 1_000_000_000 * 1_000_000


@dataclass(frozen=True)
class BudgetView:
    """A budget with who it covers and what has been spent under it this month."""

    budget: Budget
    subject: str  # the org's name, the team's name or the member's email
    month: str
    spent_micros: int

    @property
    def percent(self) -> int:
        limit = self.budget.limit_micros
        return 100 if limit == 0 else self.spent_micros * 100 // limit

    def public(self) -> dict[str, Any]:
        b = self.budget
        return {
            "id": b.id,
            "scope": b.scope.value,
            "subject_id": b.subject_id,
            "subject": self.subject,
            "limit_usd": format_dollars(b.limit_micros),
            "limit_micros": b.limit_micros,
            "enforcement": b.enforcement,
            "thresholds": list(b.thresholds),
            "month": self.month,
            "spent_usd": format_dollars(self.spent_micros),
            "spent_micros": self.spent_micros,
            "remaining_usd": format_dollars(max(0, b.limit_micros - self.spent_micros)),
            "percent": self.percent,
            "updated_at": b.updated_at.isoformat(),
            "updated_by": b.updated_by,
        }


def parse_scope(raw: str) -> BudgetScope:
    try:
        return BudgetScope(raw.strip().lower())
    except ValueError:
        raise InvalidRequest(
            "a budget's scope is org, team or member", code="invalid_scope", param="scope"
        ) from None


def parse_enforcement(raw: str) -> bool:
    """ "hard" → True, "soft" → False."""
    value = raw.strip().lower()
    if value not in ("hard", "soft"):
        raise InvalidRequest(
            "enforcement is hard (refuse calls past it) or soft (alert only)",
            code="invalid_enforcement",
            param="enforcement",
        )
    return value == "hard"


def subject_of(ctx: AppContext, org_id: str, scope: BudgetScope, ref: str | None) -> str:
    """The id a budget hangs on: the org's, a team's (by id or name), a member's (by email)."""
    if scope is BudgetScope.ORG:
        return org_id
    if not ref or not ref.strip():
        raise InvalidRequest(f"name the {scope.value} the budget is for", param="subject")
    if has_control_characters(ref):  # names nobody (and PostgreSQL refuses a NUL in a query)
        raise NotFound(f"no such {scope.value} in this org", param="subject")
    if scope is BudgetScope.TEAM:
        return find_team(ctx, org_id, ref).id
    ref = ref.strip()
    if "@" in ref:
        return member_by_email(ctx, org_id, ref).id
    return active_member(ctx, org_id, ref).id


def set_budget(
    ctx: AppContext,
    org_id: str,
    actor: Actor,
    scope: BudgetScope,
    subject_ref: str | None,
    *,
    limit_micros: int,
    hard: bool = True,
    thresholds: str | list[int] | None = None,
) -> BudgetView:
    """Set (or replace) the budget of the org, a team or a member."""
    if not 0 <= limit_micros <= MAX_BUDGET_MICROS:
        raise InvalidRequest(
            "a budget is from $0 to $1,000,000,000 a month", code="invalid_limit", param="usd"
        )
    levels = parse_thresholds(thresholds)
    subject_id = subject_of(ctx, org_id, scope, subject_ref)
    budget = ctx.budgets.put(
        org_id,
        scope,
        subject_id,
        limit_micros=limit_micros,
        hard=hard,
        thresholds=levels,
        updated_by=actor.email,
    )
    ctx.changes.bump()
    view = _view(ctx, org_id, budget, datetime.now(UTC))
    ctx.audit.record(
        org_id,
        actor,
        "budget.set",
        budget.id,
        {
            "scope": scope.value,
            "subject": view.subject,
            "limit_usd": format_dollars(limit_micros),
            "enforcement": budget.enforcement,
            "thresholds": format_thresholds(levels),
        },
    )
    return view


def remove_budget(ctx: AppContext, org_id: str, actor: Actor, budget_id: str) -> Budget:
    """Remove a budget by id: calls stop counting against it at once."""
    budget = ctx.budgets.get(org_id, budget_id)
    subject = _subject_name(ctx, org_id, budget)
    if ctx.budgets.remove(org_id, budget.scope, budget.subject_id) is None:
        raise budget_not_found()
    ctx.changes.bump()
    ctx.audit.record(
        org_id,
        actor,
        "budget.removed",
        budget.id,
        {"scope": budget.scope.value, "subject": subject},
    )
    return budget


def find_budget(
    ctx: AppContext, org_id: str, scope: BudgetScope, subject_ref: str | None
) -> Budget:
    found = ctx.budgets.find(org_id, scope, subject_of(ctx, org_id, scope, subject_ref))
    if found is None:
        raise budget_not_found()
    return found


def list_budgets(ctx: AppContext, org_id: str, now: datetime | None = None) -> list[BudgetView]:
    """The org's budgets with this month's spend under each, org first, then teams, members."""
    moment = now or datetime.now(UTC)
    order = {BudgetScope.ORG: 0, BudgetScope.TEAM: 1, BudgetScope.MEMBER: 2}
    views = [_view(ctx, org_id, b, moment) for b in ctx.budgets.list(org_id)]
    return sorted(views, key=lambda v: (order[v.budget.scope], v.subject.lower()))


def _view(ctx: AppContext, org_id: str, budget: Budget, now: datetime) -> BudgetView:
    """The budget with the spend its counter holds per the ledger (the org's mode today)."""
    month = month_of(now)
    byok = ctx.orgs.by_id(org_id).billing_mode is BillingMode.BYOK
    owner = budget.subject_id
    if budget.scope is BudgetScope.TEAM:
        owner = f"{owner}~{ctx.budgets.team_digest(budget.subject_id)}"
    scope = counter_scope(budget.scope.value, owner, month, byok=byok)
    spent = ctx.budgets.spent(scope)
    return BudgetView(budget, _subject_name(ctx, org_id, budget), month, spent)


def _subject_name(ctx: AppContext, org_id: str, budget: Budget) -> str:
    if budget.scope is BudgetScope.ORG:
        return ctx.orgs.by_id(org_id).name
    if budget.scope is BudgetScope.TEAM:
        try:
            return find_team(ctx, org_id, budget.subject_id).name
        except NotFound:
            return budget.subject_id
    try:
        return ctx.members.get(org_id, budget.subject_id).email
    except NotFound:
        return budget.subject_id
