"""Saved prompts: each member's own shelf and the org's shared one.

Every method takes the org id and filters by it, so a prompt id taken from
another org finds nothing. A name is unique on its shelf by a constraint,
so two tabs saving the same name cannot both win. The shelf's size is
counted after the insert, in its transaction, with the org's row locked
(PostgreSQL) or SQLite's write lock held, so two saves racing for the last
place cannot both get it (as ``store/domains.py`` counts claims).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from chatgrid.chat.prompt_library import SavedPrompt
from chatgrid.errors import Conflict
from chatgrid.governance.erasure import Erasure
from chatgrid.store.ids import new_id
from chatgrid.store.tables import orgs, prompts
from chatgrid.store.types import utcnow

#: The shelf of the org's shared prompts (a member's shelf is their member id).
SHARED_SHELF = "org"


def _prompt(row: Mapping[Any, Any]) -> SavedPrompt:
    return SavedPrompt(
        id=row["id"],
        org_id=row["org_id"],
        owner_member_id=row["owner_member_id"],
        name=row["name"],
        body=row["body"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _name_taken(name: str) -> Conflict:
    return Conflict(
        f"There is already a prompt named /{name} here; pick another name.",
        param="name",
        code="prompt_name_taken",
    )


def _shelf_size(conn: Connection, org_id: str, shelf: str) -> int:
    query = select(func.count()).where(prompts.c.org_id == org_id, prompts.c.shelf == shelf)
    return int(conn.execute(query).scalar_one())


class _ShelfFull(Exception):
    """Rolls the insert back: the shelf was full."""


class PromptRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def prompts_visible(self, org_id: str, member_id: str) -> list[SavedPrompt]:
        """The org's shared prompts and this member's own, by name (shared first on a tie)."""
        query = (
            select(prompts)
            .where(prompts.c.org_id == org_id, prompts.c.shelf.in_([SHARED_SHELF, member_id]))
            .order_by(prompts.c.name, prompts.c.owner_member_id.is_not(None), prompts.c.id)
        )
        with self.engine.connect() as conn:
            return [_prompt(r) for r in conn.execute(query).mappings()]

    def prompt(self, org_id: str, prompt_id: str) -> SavedPrompt | None:
        query = select(prompts).where(prompts.c.org_id == org_id, prompts.c.id == prompt_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _prompt(row)

    def add_prompt(
        self, org_id: str, owner_member_id: str | None, name: str, body: str, limit: int
    ) -> SavedPrompt | None:
        """The new prompt, or None when its shelf already holds ``limit`` prompts."""
        now = utcnow()
        shelf = owner_member_id or SHARED_SHELF
        row = {
            "id": new_id("prm"),
            "org_id": org_id,
            "owner_member_id": owner_member_id,
            "shelf": shelf,
            "name": name,
            "body": body,
            "created_at": now,
            "updated_at": now,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(select(orgs.c.id).where(orgs.c.id == org_id).with_for_update())
                conn.execute(prompts.insert().values(**row))
                if _shelf_size(conn, org_id, shelf) > limit:
                    raise _ShelfFull
        except _ShelfFull:
            return None
        except IntegrityError as clash:
            raise _name_taken(name) from clash
        return _prompt(row)

    def update_prompt(
        self, org_id: str, prompt_id: str, name: str, body: str
    ) -> SavedPrompt | None:
        statement = (
            update(prompts)
            .where(prompts.c.org_id == org_id, prompts.c.id == prompt_id)
            .values(name=name, body=body, updated_at=utcnow())
        )
        try:
            with self.engine.begin() as conn:
                if conn.execute(statement).rowcount == 0:
                    return None
        except IntegrityError as clash:
            raise _name_taken(name) from clash
        return self.prompt(org_id, prompt_id)

    def delete_prompt(self, org_id: str, prompt_id: str) -> bool:
        statement = delete(prompts).where(prompts.c.org_id == org_id, prompts.c.id == prompt_id)
        with self.engine.begin() as conn:
            return bool(conn.execute(statement).rowcount)


def erase_prompt_owner(conn: Connection, erasure: Erasure) -> int:
    """Delete an erased member's private prompts; the org's shared ones they wrote stay,
    with no owner (caller's transaction)."""
    p = prompts.c
    gone = conn.execute(
        delete(prompts).where(p.org_id == erasure.org_id, p.shelf == erasure.member_id)
    )
    conn.execute(
        update(prompts)
        .where(p.org_id == erasure.org_id, p.owner_member_id == erasure.member_id)
        .values(owner_member_id=None)
    )
    return int(gone.rowcount)
