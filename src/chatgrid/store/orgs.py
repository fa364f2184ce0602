"""Orgs, users and memberships."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from chatgrid.errors import Conflict, NotFound
from chatgrid.identity.models import BillingMode, Member, Org, OrgStatus, Role
from chatgrid.store.ids import new_id
from chatgrid.store.seats import seat_member
from chatgrid.store.tables import members, orgs, users
from chatgrid.store.types import utcnow


def org_from_row(row: Mapping[Any, Any]) -> Org:
    return Org(
        id=row["id"],
        name=row["name"],
        billing_mode=BillingMode(row["billing_mode"]),
        status=OrgStatus(row["status"]),
        markup_bps=row["markup_bps"],
        created_at=row["created_at"],
    )


def member_from_row(row: Mapping[Any, Any]) -> Member:
    return Member(
        id=row["id"],
        org_id=row["org_id"],
        user_id=row["user_id"],
        email=row["email"],
        role=Role(row["role"]),
        status=row["status"],
        created_at=row["created_at"],
    )


MEMBER_COLUMNS = (
    members.c.id,
    members.c.org_id,
    members.c.user_id,
    users.c.email,
    members.c.role,
    members.c.status,
    members.c.created_at,
)


class OrgRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, name: str, mode: BillingMode) -> Org:
        row = {
            "id": new_id("org"),
            "name": name,
            "billing_mode": mode.value,
            "status": OrgStatus.ACTIVE.value,
            "markup_bps": None,
            "created_at": utcnow(),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(orgs.insert().values(**row))
        except IntegrityError:
            raise Conflict(f"an org named {name!r} already exists", code="org_exists") from None
        return org_from_row(row)

    def get(self, id_or_name: str) -> Org:
        """Find an org by id or unique name (the CLI's ``ORG`` argument)."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(orgs).where(or_(orgs.c.id == id_or_name, orgs.c.name == id_or_name))
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"no org {id_or_name!r}", code="org_not_found")
        return org_from_row(row)

    def list(self) -> list[Org]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(orgs).order_by(orgs.c.created_at)).mappings().all()
        return [org_from_row(row) for row in rows]

    def shared_allowed(self, org_id: str) -> bool:
        with self.engine.connect() as conn:
            allowed = conn.execute(
                select(orgs.c.shared_allowed).where(orgs.c.id == org_id)
            ).scalar()
        if allowed is None:
            raise NotFound(f"no org {org_id!r}", code="org_not_found")
        return bool(allowed)

    def set_shared_allowed(self, org_id: str, allowed: bool) -> None:
        self._update(org_id, shared_allowed=allowed)

    def set_mode(self, org_id: str, mode: BillingMode) -> None:
        self._update(org_id, billing_mode=mode.value)

    def set_status(self, org_id: str, status: OrgStatus) -> None:
        self._update(org_id, status=status.value)

    def _update(self, org_id: str, **values: object) -> None:
        with self.engine.begin() as conn:
            result = conn.execute(update(orgs).where(orgs.c.id == org_id).values(**values))
        if result.rowcount == 0:
            raise NotFound(f"no org {org_id!r}", code="org_not_found")


class MemberRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, org_id: str, email: str, role: Role) -> Member:
        email = email.strip().lower()
        now = utcnow()
        with self.engine.begin() as conn:
            user_id = conn.execute(select(users.c.id).where(users.c.email == email)).scalar()
            if user_id is None:
                user_id = new_id("usr")
                conn.execute(users.insert().values(id=user_id, email=email, created_at=now))
            member_id = seat_member(conn, org_id, user_id, email, role, now)
        return self.get(org_id, member_id)

    def get(self, org_id: str, member_id: str) -> Member:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(*MEMBER_COLUMNS)
                    .join(users, users.c.id == members.c.user_id)
                    .where(members.c.org_id == org_id, members.c.id == member_id)
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound("no such member", code="member_not_found")
        return member_from_row(row)

    def find_by_email(self, org_id: str, email: str) -> Member:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(*MEMBER_COLUMNS)
                    .join(users, users.c.id == members.c.user_id)
                    .where(members.c.org_id == org_id, users.c.email == email.strip().lower())
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"{email} is not a member of this org", code="member_not_found")
        return member_from_row(row)

    def list(self, org_id: str) -> list[Member]:
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    select(*MEMBER_COLUMNS)
                    .join(users, users.c.id == members.c.user_id)
                    .where(members.c.org_id == org_id)
                    .order_by(members.c.created_at)
                )
                .mappings()
                .all()
            )
        return [member_from_row(row) for row in rows]

    def emails(self, org_id: str) -> dict[str, str]:
        """member id → email, for exports."""
        return {m.id: m.email for m in self.list(org_id)}

    def count_active(self, org_id: str) -> int:
        with self.engine.connect() as conn:
            count = conn.execute(
                select(func.count())
                .select_from(members)
                .where(members.c.org_id == org_id, members.c.status == "active")
            ).scalar_one()
        return int(count)
