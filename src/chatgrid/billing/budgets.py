"""Budgets as counters: reserve the worst case, settle to the real cost, release.

A *scope* is one running total over one month (``org:ID:2026-11``,
``team:ID~DIGEST:2026-11``, ``member:ID:2026-11``; ``billing.budget_rules``
names them). Each holds ``spent`` (settled charges) and ``held``
(reservations outstanding). A reservation passes only if, for every capped
scope it touches, ``spent + held + amount <= cap`` — checked and applied
atomically, so no interleaving of concurrent calls can pass a cap. A scope
with no cap (soft budgets only) is counted but never refuses. Settling moves
the reservation out of ``held`` and the real charge into ``spent``, and
answers each scope's new ``spent`` (for the alerts); a failed or cancelled
call releases its hold with nothing spent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Cap:
    scope: str
    limit_micros: int | None  # None: counted, never refused (soft budgets)
    label: str = ""  # how a refusal names the cap


@dataclass(frozen=True)
class Shortfall:
    """Why a reservation was refused: which cap, and how much is left under it."""

    scope: str
    limit_micros: int
    remaining_micros: int
    label: str = ""


# Loads the settled spend of a scope from the ledger when a counter starts empty.
SpentLoader = Callable[[str], int]


class LocalBudgets:
    """In-process budgets for one node; exact because the event loop is single-threaded."""

    def __init__(self, load_spent: SpentLoader) -> None:
        self._load_spent = load_spent
        self._spent: dict[str, int] = {}
        self._held: dict[str, int] = {}
        self._reservations: dict[str, tuple[int, tuple[str, ...]]] = {}

    def _spent_of(self, scope: str) -> int:
        if scope not in self._spent:
            self._spent[scope] = self._load_spent(scope)
        return self._spent[scope]

    async def reserve(self, reservation_id: str, caps: list[Cap], amount: int) -> Shortfall | None:
        for cap in caps:
            used = self._spent_of(cap.scope) + self._held.get(cap.scope, 0)
            if cap.limit_micros is not None and used + amount > cap.limit_micros:
                left = max(0, cap.limit_micros - used)
                return Shortfall(cap.scope, cap.limit_micros, left, cap.label)
        for cap in caps:
            self._held[cap.scope] = self._held.get(cap.scope, 0) + amount
        self._reservations[reservation_id] = (amount, tuple(c.scope for c in caps))
        return None

    async def settle(self, reservation_id: str, charged: int) -> dict[str, int]:
        """Each scope's spend after this charge ({} if nothing was held under the id)."""
        held = self._reservations.pop(reservation_id, None)
        if held is None:
            return {}
        amount, scopes = held
        for scope in scopes:
            self._held[scope] = max(0, self._held.get(scope, 0) - amount)
            self._spent[scope] = self._spent_of(scope) + charged
        return {scope: self._spent[scope] for scope in scopes}

    async def release(self, reservation_id: str) -> None:
        await self.settle(reservation_id, 0)

    async def snapshot(self, scope: str) -> tuple[int, int]:
        """(spent, held) — for tests and the "what is left" display."""
        return self._spent_of(scope), self._held.get(scope, 0)
