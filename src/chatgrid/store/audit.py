"""The audit log table: insert and filtered reads, always scoped to an org (or instance)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, delete, or_, select, update

from chatgrid import request_ids
from chatgrid.audit.trail import Actor, AuditEntry, AuditFilter
from chatgrid.governance.erasure import Erasure
from chatgrid.store.tables import audit_log
from chatgrid.store.types import mentioning, utcnow


def delete_entries(connection: Connection, ids: Sequence[int]) -> None:
    """Entries past their retention period (``store.retention``), in the caller's
    transaction: the audit log's only deletion."""
    connection.execute(delete(audit_log).where(audit_log.c.id.in_(ids)))


def write_receipt(
    connection: Connection,
    entry_id: int | None,
    org_id: str | None,
    actor: Actor,
    action: str,
    target: str,
    details: dict[str, Any],
) -> int:
    """A new entry (``entry_id`` None) or one written earlier by the same job brought up to
    date, in the caller's transaction: a receipt written with each batch it covers commits
    with that batch, or not at all. Returns the entry's id."""
    if entry_id is None:
        values = _entry(org_id, actor, action, target, details)
        inserted = connection.execute(audit_log.insert().values(values).returning(audit_log.c.id))
        return int(inserted.scalar_one())
    connection.execute(update(audit_log).where(audit_log.c.id == entry_id).values(details=details))
    return entry_id


def _entry(
    org_id: str | None,
    actor: Actor,
    action: str,
    target: str | None,
    details: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "org_id": org_id,
        "actor_user_id": actor.user_id,
        "actor_email": actor.email,
        "action": action,
        "target": target,
        "details": details or {},
        "client_addr": actor.client_addr,
        "user_agent": (actor.user_agent or "")[:300] or None,
        "created_at": utcnow(),
        "request_id": request_ids.current(),
    }


class AuditRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(
        self,
        org_id: str | None,
        actor: Actor,
        action: str,
        target: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(audit_log.insert().values(_entry(org_id, actor, action, target, details)))

    def entries(self, org_id: str | None, filters: AuditFilter | None = None) -> list[AuditEntry]:
        """Newest first. ``org_id=None`` reads the instance-wide (operator) entries."""
        filters = filters or AuditFilter()
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(filters.limit)
        query = query.where(
            audit_log.c.org_id == org_id if org_id is not None else audit_log.c.org_id.is_(None)
        )
        if filters.actor:
            query = query.where(audit_log.c.actor_email == filters.actor)
        if filters.action:
            if filters.action.endswith("."):
                query = query.where(audit_log.c.action.startswith(filters.action, autoescape=True))
            else:
                query = query.where(audit_log.c.action == filters.action)
        if filters.since is not None:
            query = query.where(audit_log.c.created_at >= filters.since)
        if filters.until is not None:
            query = query.where(audit_log.c.created_at < filters.until)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            AuditEntry(
                id=row["id"],
                org_id=row["org_id"],
                actor_user_id=row["actor_user_id"],
                actor_email=row["actor_email"],
                action=row["action"],
                target=row["target"],
                details=dict(row["details"] or {}),
                client_addr=row["client_addr"],
                user_agent=row["user_agent"],
                created_at=row["created_at"],
                request_id=row["request_id"],
            )
            for row in rows
        ]


def erase_person(conn: Connection, erasure: Erasure) -> int:
    """Entries an erased member made or that name them keep what happened, with the alias
    for the person and no address or browser (caller's transaction). Instance entries go
    the same way when the account itself is erased."""
    a = audit_log.c
    scope = a.org_id == erasure.org_id
    if erasure.whole_account:
        scope = or_(scope, a.org_id.is_(None))
    named = select(a.id, a.actor_user_id, a.actor_email, a.target, a.details).where(
        scope,
        or_(
            a.actor_user_id == erasure.user_id,
            mentioning(erasure, a.actor_email, a.target, a.details),
        ),
    )
    rows = conn.execute(named).mappings().all()
    for row in rows:
        acted = row["actor_user_id"] == erasure.user_id
        conn.execute(
            update(audit_log)
            .where(a.id == row["id"])
            .values(
                actor_user_id=erasure.alias if acted else row["actor_user_id"],
                actor_email=erasure.scrub(row["actor_email"]),
                target=erasure.scrub(row["target"]),
                details=erasure.scrub(row["details"]),
                **({"client_addr": None, "user_agent": None} if acted else {}),
            )
        )
    return len(rows)
