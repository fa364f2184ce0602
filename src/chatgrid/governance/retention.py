"""Retention periods: what an org keeps, how long, and the instance's ceiling on it.

An org's admin sets periods for its conversations, its uploaded documents
(with everything derived from them: chunks, vectors, keyword rows) and its
audit log; the operator sets the same for the instance, as a ceiling: an
org keeps its data for the shorter of the two. "Forever" (``None``) is
allowed on both. The ledger is the operator's alone (``ledger_days``, the
legal period for money records): it never holds a prompt, only what a call
cost, and is deleted only past that period.

A deletion receipt says what went (kind, rows, the oldest and newest
moment deleted, and a SHA-256 digest of the deleted ids in order), never
what it held.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from chatgrid.errors import InvalidRequest

#: The longest period that is not "forever": 100 years.
MAX_DAYS = 36_500
#: The ledger outlives the month it bills and the year's invoices, whatever is set.
MIN_LEDGER_DAYS = 366
FOREVER = "forever"


class DataKind(StrEnum):
    CONVERSATIONS = "conversations"
    DOCUMENTS = "documents"
    AUDIT = "audit"
    LEDGER = "ledger"


#: What an org may set; the ledger is the instance's only.
ORG_KINDS = (DataKind.CONVERSATIONS, DataKind.DOCUMENTS, DataKind.AUDIT)


@dataclass(frozen=True)
class RetentionPolicy:
    """Days each kind is kept (None: forever)."""

    conversations_days: int | None = None
    documents_days: int | None = None
    audit_days: int | None = None
    ledger_days: int | None = None

    def days(self, kind: DataKind) -> int | None:
        value: int | None = getattr(self, f"{kind.value}_days")
        return value

    def with_days(self, kind: DataKind, days: int | None) -> RetentionPolicy:
        return replace(self, **{f"{kind.value}_days": days})

    def public(self) -> dict[str, int | str]:
        return {kind.value: _shown(self.days(kind)) for kind in DataKind}


FOREVER_POLICY = RetentionPolicy()


def _shown(days: int | None) -> int | str:
    return FOREVER if days is None else days


def shorter(a: int | None, b: int | None) -> int | None:
    """The shorter of two periods, ``None`` being forever."""
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def effective(org: RetentionPolicy, instance: RetentionPolicy) -> RetentionPolicy:
    """What an org keeps: its own periods under the instance's ceiling; the instance's ledger."""
    return RetentionPolicy(
        conversations_days=shorter(org.conversations_days, instance.conversations_days),
        documents_days=shorter(org.documents_days, instance.documents_days),
        audit_days=shorter(org.audit_days, instance.audit_days),
        ledger_days=instance.ledger_days,
    )


def parse_days(value: str | int | None, kind: DataKind) -> int | None:
    """``"forever"`` (or None) → None; a whole number of days, 1 to 36,500, otherwise."""
    if value is None or (isinstance(value, str) and value.strip().lower() == FOREVER):
        return None
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        raise InvalidRequest(
            f"keep {kind.value} for a whole number of days, or forever", param=kind.value
        )
    days = int(text)
    floor = MIN_LEDGER_DAYS if kind is DataKind.LEDGER else 1
    if not floor <= days <= MAX_DAYS:
        raise InvalidRequest(
            f"keep {kind.value} for {floor} to {MAX_DAYS} days, or forever", param=kind.value
        )
    return days


def cutoff(now: datetime, days: int | None) -> datetime | None:
    """Data older than this goes (None: nothing does)."""
    return None if days is None else now - timedelta(days=days)


@dataclass(frozen=True)
class Receipt:
    """What one sweep deleted of one kind in one org (or the instance's ledger)."""

    org_id: str | None
    kind: DataKind
    rows: int
    oldest: datetime
    newest: datetime
    digest: str

    def details(self) -> dict[str, int | str]:
        return {
            "kind": self.kind.value,
            "rows": self.rows,
            "oldest": self.oldest.isoformat(),
            "newest": self.newest.isoformat(),
            "digest": self.digest,
        }


class Tally:
    """A receipt being written while its rows go, a batch at a time, oldest first.

    The digest is SHA-256 over the deleted ids, one per line, in the order
    they were deleted: whoever kept a copy of the ids can check it, and it
    holds nothing else.
    """

    def __init__(self, org_id: str | None, kind: DataKind) -> None:
        self.org_id = org_id
        self.kind = kind
        self.rows = 0
        self._digest = hashlib.sha256()
        self._oldest: datetime | None = None
        self._newest: datetime | None = None

    def add(self, ident: str, moment: datetime) -> None:
        if self.rows:
            self._digest.update(b"\n")
        self._digest.update(ident.encode())
        self.rows += 1
        self._oldest = moment if self._oldest is None else min(self._oldest, moment)
        self._newest = moment if self._newest is None else max(self._newest, moment)

    def plus(self, found: Sequence[tuple[str, datetime]]) -> Tally:
        """This tally with ``found`` added, this one unchanged: the receipt as it will read
        once they are deleted (kept only if the deletion commits)."""
        after = Tally(self.org_id, self.kind)
        after.rows, after._digest = self.rows, self._digest.copy()
        after._oldest, after._newest = self._oldest, self._newest
        for ident, moment in found:
            after.add(ident, moment)
        return after

    def receipt(self) -> Receipt | None:
        """None when nothing was deleted."""
        if self._oldest is None or self._newest is None:
            return None
        return Receipt(
            self.org_id, self.kind, self.rows, self._oldest, self._newest, self._digest.hexdigest()
        )
