"""SCIM groups and their members (the org's members, by id): the one writer of
``scim_groups`` and ``scim_group_members``. What a group means (a role) is
``admin.scim_groups``'s business."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from chatgrid.errors import Conflict, InvalidRequest, NotFound
from chatgrid.governance.erasure import Erasure
from chatgrid.store.ids import new_id
from chatgrid.store.tables import members, scim_group_members, scim_groups
from chatgrid.store.types import utcnow


@dataclass(frozen=True)
class ScimGroup:
    id: str
    display_name: str
    external_id: str | None
    created_at: datetime
    member_ids: tuple[str, ...]


def _clash() -> Conflict:
    return Conflict("a group with that displayName exists", code="uniqueness")


class ScimGroupRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, org_id: str, name: str, external_id: str | None, member_ids: list[str]) -> str:
        group_id = new_id("grp")
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    scim_groups.insert().values(
                        id=group_id,
                        org_id=org_id,
                        display_name=name,
                        external_id=external_id,
                        created_at=utcnow(),
                    )
                )
                self._add(conn, org_id, group_id, member_ids)
        except IntegrityError:
            raise _clash() from None
        return group_id

    def find(
        self, org_id: str, *, name: str | None, offset: int, limit: int
    ) -> tuple[list[ScimGroup], int]:
        query = select(scim_groups).where(scim_groups.c.org_id == org_id)
        if name is not None:
            query = query.where(scim_groups.c.display_name == name)
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            rows = conn.execute(
                query.order_by(scim_groups.c.created_at, scim_groups.c.id)
                .offset(offset)
                .limit(limit)
            ).mappings()
            found = [
                ScimGroup(
                    r["id"],
                    r["display_name"],
                    r["external_id"],
                    r["created_at"],
                    self._members(conn, r["id"]),
                )
                for r in rows
            ]
        return found, int(total)

    def get(self, org_id: str, group_id: str) -> ScimGroup:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(scim_groups).where(
                        scim_groups.c.org_id == org_id, scim_groups.c.id == group_id
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                raise NotFound("no such Group", code="scim_group_not_found")
            return ScimGroup(
                row["id"],
                row["display_name"],
                row["external_id"],
                row["created_at"],
                self._members(conn, group_id),
            )

    def change(
        self,
        org_id: str,
        group_id: str,
        *,
        name: str | None,
        external_id: str | None,
        add: list[str],
        remove: list[str],
        replace: list[str] | None,
    ) -> None:
        self.get(org_id, group_id)
        try:
            with self.engine.begin() as conn:
                values = {
                    k: v
                    for k, v in (("display_name", name), ("external_id", external_id))
                    if v is not None
                }
                if values:
                    conn.execute(
                        update(scim_groups).where(scim_groups.c.id == group_id).values(**values)
                    )
                if replace is not None:
                    conn.execute(
                        delete(scim_group_members).where(scim_group_members.c.group_id == group_id)
                    )
                    add = replace
                if remove:
                    conn.execute(
                        delete(scim_group_members).where(
                            scim_group_members.c.group_id == group_id,
                            scim_group_members.c.member_id.in_(remove),
                        )
                    )
                present = set(self._members(conn, group_id))
                self._add(conn, org_id, group_id, [m for m in add if m not in present])
        except IntegrityError:
            raise _clash() from None

    def delete(self, org_id: str, group_id: str) -> ScimGroup:
        group = self.get(org_id, group_id)
        with self.engine.begin() as conn:
            conn.execute(
                delete(scim_group_members).where(scim_group_members.c.group_id == group_id)
            )
            conn.execute(delete(scim_groups).where(scim_groups.c.id == group_id))
        return group

    def members_named(self, org_id: str, name: str) -> set[str]:
        """The members of the org's group with this displayName (none if there is no such group)."""
        query = (
            select(scim_group_members.c.member_id)
            .join(scim_groups, scim_groups.c.id == scim_group_members.c.group_id)
            .where(scim_groups.c.org_id == org_id, scim_groups.c.display_name == name)
        )
        with self.engine.connect() as conn:
            return {str(m) for m in conn.execute(query).scalars()}

    def names_of(self, member_id: str) -> list[str]:
        query = (
            select(scim_groups.c.display_name)
            .join(scim_group_members, scim_group_members.c.group_id == scim_groups.c.id)
            .where(scim_group_members.c.member_id == member_id)
        )
        with self.engine.connect() as conn:
            return [str(name) for name in conn.execute(query).scalars()]

    @staticmethod
    def _members(conn: Connection, group_id: str) -> tuple[str, ...]:
        rows = conn.execute(
            select(scim_group_members.c.member_id)
            .where(scim_group_members.c.group_id == group_id)
            .order_by(scim_group_members.c.member_id)
        ).scalars()
        return tuple(str(m) for m in rows)

    @staticmethod
    def _add(conn: Connection, org_id: str, group_id: str, member_ids: list[str]) -> None:
        wanted = sorted(set(member_ids))
        if not wanted:
            return
        known = set(
            conn.execute(
                select(members.c.id).where(members.c.org_id == org_id, members.c.id.in_(wanted))
            ).scalars()
        )
        if known != set(wanted):
            raise InvalidRequest("a member value is not a User of this org", code="invalidValue")
        conn.execute(
            scim_group_members.insert(), [{"group_id": group_id, "member_id": m} for m in wanted]
        )


def erase_group_places(conn: Connection, erasure: Erasure) -> int:
    """Take an erased member out of the identity provider's groups (caller's transaction)."""
    gone = conn.execute(
        delete(scim_group_members).where(scim_group_members.c.member_id == erasure.member_id)
    )
    return int(gone.rowcount)
