"""Reading the ledger back (writing is ``chatgrid.ledger.writer``'s job)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from chatgrid.store.tables import ledger_entries, members, users


class UsageRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def entries(
        self,
        org_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """An org's entries, oldest first, each with the member's email."""
        query = (
            select(ledger_entries, users.c.email.label("member_email"))
            .outerjoin(members, members.c.id == ledger_entries.c.member_id)
            .outerjoin(users, users.c.id == members.c.user_id)
            .where(ledger_entries.c.org_id == org_id)
            .order_by(ledger_entries.c.id)
        )
        if since is not None:
            query = query.where(ledger_entries.c.started_at >= since)
        if until is not None:
            query = query.where(ledger_entries.c.started_at < until)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]
