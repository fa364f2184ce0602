"""Orgs (the one module that writes the ``orgs`` table) and reading memberships.

Every insert and update of an org row is here. Another repository that must
create an org inside its own transaction (sign-up: the account, its org and
its ownership together) calls ``insert_org`` with its connection. Changes
whose rule spans two columns of the row (shared credits allowed, and being on
them) are conditional updates: the row at the moment of the write decides,
so two concurrent changes cannot both pass a check the other undid.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError

from chatgrid.errors import Conflict, NotFound
from chatgrid.identity.models import BillingMode, Member, Org, OrgStatus, Role
from chatgrid.store.ids import new_id
from chatgrid.store.tables import members, org_second_factor_rules, orgs, users
from chatgrid.store.types import utcnow


def org_from_row(row: Mapping[Any, Any]) -> Org:
    return Org(
        id=row["id"],
        name=row["name"],
        billing_mode=BillingMode(row["billing_mode"]),
        status=OrgStatus(row["status"]),
        markup_bps=row["markup_bps"],
        created_at=row["created_at"],
        shared_allowed=bool(row["shared_allowed"]),
        trial_ends_at=row["trial_ends_at"],
        plan_id=row["plan_id"],
        suspended_reason=row["suspended_reason"],
        requires_two_step=bool(row.get("requires_two_step", False)),
    )


def insert_org(
    conn: Connection,
    name: str,
    mode: BillingMode,
    *,
    trial_ends_at: datetime | None,
    now: datetime | None = None,
) -> Org:
    """Insert a new org in the caller's transaction (a taken name raises ``IntegrityError``)."""
    row = {
        "id": new_id("org"),
        "name": name,
        "billing_mode": mode.value,
        "status": OrgStatus.ACTIVE.value,
        "markup_bps": None,
        "created_at": now or utcnow(),
        "shared_allowed": True,
        "trial_ends_at": trial_ends_at,
        "plan_id": None,
        "suspended_reason": None,
    }
    conn.execute(orgs.insert().values(**row))
    return org_from_row(row)


def _no_org() -> NotFound:
    return NotFound("no such organization", code="org_not_found")


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


#: An org's row with its two-step rule (a row of ``store.second_factor``'s table, or none).
_WHOLE_ORG = select(
    orgs, org_second_factor_rules.c.org_id.is_not(None).label("requires_two_step")
).outerjoin(org_second_factor_rules, org_second_factor_rules.c.org_id == orgs.c.id)


class OrgRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, name: str, mode: BillingMode) -> Org:
        """An org with no owner and no trial (the operator's command line makes these)."""
        try:
            with self.engine.begin() as conn:
                return insert_org(conn, name, mode, trial_ends_at=None)
        except IntegrityError:
            raise Conflict(f"an org named {name!r} already exists", code="org_exists") from None

    def get(self, id_or_name: str) -> Org:
        """Find an org by id or unique name (the CLI's ``ORG`` argument)."""
        found = self._find(or_(orgs.c.id == id_or_name, orgs.c.name == id_or_name))
        if found is None:
            raise NotFound(f"no org {id_or_name!r}", code="org_not_found")
        return found

    def by_id(self, org_id: str) -> Org:
        """The org with exactly this id (a name is not an id here)."""
        found = self._find(orgs.c.id == org_id)
        if found is None:
            raise _no_org()
        return found

    def trials_ending(self, start: datetime, end: datetime) -> list[Org]:
        """Orgs with no plan whose trial ends in ``[start, end)`` (for the trial alert)."""
        query = _WHOLE_ORG.where(
            orgs.c.plan_id.is_(None),
            orgs.c.trial_ends_at >= start,
            orgs.c.trial_ends_at < end,
        )
        with self.engine.connect() as conn:
            return [org_from_row(row) for row in conn.execute(query).mappings()]

    def list(self) -> list[Org]:
        with self.engine.connect() as conn:
            rows = conn.execute(_WHOLE_ORG.order_by(orgs.c.created_at)).mappings().all()
        return [org_from_row(row) for row in rows]

    def _find(self, where: ColumnElement[bool]) -> Org | None:
        with self.engine.connect() as conn:
            row = conn.execute(_WHOLE_ORG.where(where)).mappings().first()
        return None if row is None else org_from_row(row)

    def set_mode(self, org_id: str, mode: BillingMode) -> bool:
        """Switch the mode; False (nothing written) when shared credits are asked for and the
        org is not allowed them at the moment of the write."""
        allowed = orgs.c.shared_allowed.is_(True) if mode is BillingMode.SHARED else true()
        return self._update(org_id, allowed, billing_mode=mode.value)

    def set_shared_allowed(self, org_id: str, allowed: bool) -> bool:
        """Allow shared credits, or take them away; False (nothing written) when taking them
        from an org that is on them at the moment of the write."""
        off_the_pool = true() if allowed else orgs.c.billing_mode != BillingMode.SHARED.value
        return self._update(org_id, off_the_pool, shared_allowed=allowed)

    def set_status(self, org_id: str, status: OrgStatus, reason: str | None = None) -> None:
        """Suspend (with the operator's reason) or resume."""
        self._update(org_id, true(), status=status.value, suspended_reason=reason)

    def set_plan(self, org_id: str, plan_id: str, trial_ends_at: datetime | None) -> None:
        self._update(org_id, true(), plan_id=plan_id, trial_ends_at=trial_ends_at)

    def set_trial_end(self, org_id: str, trial_ends_at: datetime) -> bool:
        """Move a running or ended trial's end; False (nothing written) when the org is on a
        paid plan or has no trial at the moment of the write."""
        on_trial = orgs.c.plan_id.is_(None) & orgs.c.trial_ends_at.is_not(None)
        return self._update(org_id, on_trial, trial_ends_at=trial_ends_at)

    def _update(self, org_id: str, condition: ColumnElement[bool], **values: object) -> bool:
        """True when the row was written; False when it exists but ``condition`` is false."""
        with self.engine.begin() as conn:
            written = conn.execute(
                update(orgs).where(orgs.c.id == org_id, condition).values(**values)
            ).rowcount
            if written == 0 and conn.execute(select(orgs.c.id).where(orgs.c.id == org_id)).first():
                return False
        if written == 0:
            raise _no_org()
        return True


class MemberRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

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
