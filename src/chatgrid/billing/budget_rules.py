"""Which budgets a call is under, the counters that hold them, and when they alert.

An org sets monthly dollar budgets on itself, on its teams and on its members;
each is *hard* (a call that could pass it is refused) or *soft* (it only
alerts). A call counts against every budget its member is under: the org's,
each of the member's teams', the member's own, and on shared credits the
plan's allowance. It is admitted only if its worst case fits all the hard
ones (``billing.budgets`` holds and settles the amounts).

What a budget counts is what the org pays for its calls: on shared credits the
charge (with the markup), on its own key (BYOK) the list price of the call,
which OpenAI bills. The two are kept in separate counters (``byok_`` ones),
so an org that changes mode mid-month never counts one against the other.

A team's counter is its *current* members' spend this month: the counter's
name carries a digest of who is in the team, so a change of members starts a
counter that the ledger fills again, and every replica agrees.

Pure rules: no I/O, no clock (the month is given).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chatgrid.errors import InvalidRequest

DEFAULT_THRESHOLDS = (50, 80, 100)
MAX_THRESHOLDS = 10


class BudgetScope(StrEnum):
    ORG = "org"
    TEAM = "team"
    MEMBER = "member"


@dataclass(frozen=True)
class Budget:
    id: str
    org_id: str
    scope: BudgetScope
    subject_id: str  # the org's, the team's or the member's id
    limit_micros: int
    hard: bool
    thresholds: tuple[int, ...]
    updated_at: datetime
    updated_by: str | None

    @property
    def enforcement(self) -> str:
        return "hard" if self.hard else "soft"


@dataclass(frozen=True)
class TeamRef:
    """A team a member is in, as the counters need it: its id, name and members' digest."""

    id: str
    name: str
    members_digest: str


@dataclass(frozen=True)
class Watched:
    """A budget (or the allowance) on one counter: what it allows and when it alerts."""

    key: str  # the budget's id, or ``allowance:ORG_ID``
    label: str  # as a refusal names it to the member ("the monthly budget of your team …")
    admin_label: str  # as an alert names it to the admins
    limit_micros: int
    hard: bool
    thresholds: tuple[int, ...]


@dataclass(frozen=True)
class Counter:
    """One running total a call counts in, with every budget that reads it."""

    scope: str  # ``kind:owner:YYYY-MM`` (the name ``billing.budgets`` keys it by)
    watched: tuple[Watched, ...]

    @property
    def limit_micros(self) -> int | None:
        """The tightest hard limit on the counter (None: soft budgets only)."""
        limits = [w.limit_micros for w in self.watched if w.hard]
        return min(limits) if limits else None

    @property
    def binding(self) -> Watched | None:
        """The hard budget a refusal names: the one with the tightest limit."""
        hard = [w for w in self.watched if w.hard]
        return min(hard, key=lambda w: w.limit_micros) if hard else None


def parse_thresholds(text: str | Iterable[int] | None) -> tuple[int, ...]:
    """Percentages that alert ("50,80,100"; "none": never): 1 to 1000, at most 10, sorted."""
    if text is None:
        return DEFAULT_THRESHOLDS
    if isinstance(text, str) and text.strip().lower() in ("", "none"):
        return ()  # a budget that never alerts
    parts: Iterable[object] = text.split(",") if isinstance(text, str) else text
    values: set[int] = set()
    for part in parts:
        raw = str(part).strip().rstrip("%")
        if not raw.isdigit() or not 1 <= int(raw) <= 1000:
            raise InvalidRequest(
                "thresholds are whole percentages from 1 to 1000, such as 50,80,100",
                code="invalid_thresholds",
                param="thresholds",
            )
        values.add(int(raw))
    if len(values) > MAX_THRESHOLDS:
        raise InvalidRequest(
            f"at most {MAX_THRESHOLDS} thresholds", code="invalid_thresholds", param="thresholds"
        )
    return tuple(sorted(values))


def format_thresholds(thresholds: Sequence[int]) -> str:
    return ",".join(str(t) for t in thresholds)


def members_digest(member_ids: Iterable[str]) -> str:
    """A short name for who is in a team: changes whenever a member joins or leaves."""
    joined = "\n".join(sorted(member_ids)).encode()
    return hashlib.sha256(joined).hexdigest()[:12]


def counter_scope(kind: str, owner: str, month: str, *, byok: bool) -> str:
    return f"{'byok_' if byok else ''}{kind}:{owner}:{month}"


def parse_counter_scope(scope: str) -> tuple[str, str, str, bool]:
    """(kind, owner id, month, byok) of a counter's name; a team's digest is dropped."""
    kind, owner, month = scope.split(":")
    byok = kind.startswith("byok_")
    return kind.removeprefix("byok_"), owner.split("~", 1)[0], month, byok


def budget_label(budget: Budget, names: Mapping[str, str]) -> str:
    """The budget as a member reads it in a refusal."""
    if budget.scope is BudgetScope.ORG:
        return "your organization's monthly budget"
    if budget.scope is BudgetScope.TEAM:
        return f"the monthly budget of your team '{names.get(budget.subject_id, '?')}'"
    return "your own monthly spending cap, set by an admin,"


def admin_label(budget: Budget, names: Mapping[str, str]) -> str:
    """The budget as an admin reads it in an alert."""
    if budget.scope is BudgetScope.ORG:
        return "the organization's monthly budget"
    name = names.get(budget.subject_id, budget.subject_id)
    if budget.scope is BudgetScope.TEAM:
        return f"the monthly budget of team '{name}'"
    return f"the monthly budget of {name}"


def counters_for_call(
    *,
    org_id: str,
    member_id: str,
    month: str,
    byok: bool,
    budgets: Sequence[Budget],
    teams: Sequence[TeamRef],
    names: Mapping[str, str],
    allowance_micros: int | None,
) -> list[Counter]:
    """Every counter a member's call counts in (empty: nothing to count or hold).

    ``teams``: the teams the member is in. ``names``: a team's name or a
    member's email by id. ``allowance_micros``: the shared-credit allowance
    this month (None: none, or a BYOK call).
    """
    watching: dict[str, list[Watched]] = {}
    if allowance_micros is not None and not byok:
        allowance = Watched(
            key=f"allowance:{org_id}",
            label="your organization's shared-credit allowance for this month",
            admin_label="the organization's shared-credit allowance",
            limit_micros=allowance_micros,
            hard=True,
            thresholds=DEFAULT_THRESHOLDS,
        )
        watching.setdefault(counter_scope("org", org_id, month, byok=False), []).append(allowance)
    digests = {t.id: t.members_digest for t in teams}
    for budget in budgets:
        if budget.scope is BudgetScope.ORG:
            scope = counter_scope("org", org_id, month, byok=byok)
        elif budget.scope is BudgetScope.TEAM and budget.subject_id in digests:
            owner = f"{budget.subject_id}~{digests[budget.subject_id]}"
            scope = counter_scope("team", owner, month, byok=byok)
        elif budget.scope is BudgetScope.MEMBER and budget.subject_id == member_id:
            scope = counter_scope("member", member_id, month, byok=byok)
        else:
            continue
        watched = Watched(
            budget.id,
            budget_label(budget, names),
            admin_label(budget, names),
            budget.limit_micros,
            budget.hard,
            budget.thresholds,
        )
        watching.setdefault(scope, []).append(watched)
    return [Counter(scope, tuple(watched)) for scope, watched in watching.items()]


def thresholds_reached(watched: Watched, spent_micros: int) -> list[int]:
    """The thresholds ``spent_micros`` has reached (100 %: the whole limit spent)."""
    if watched.limit_micros <= 0:
        return list(watched.thresholds) if spent_micros > 0 else []
    return [t for t in watched.thresholds if spent_micros * 100 >= t * watched.limit_micros]
