"""Console accounts: users with passwords (the one module that writes ``users``), their
memberships, and membership changes.

Changes to a membership that must hold together (counting owners, then
changing a role; removing a member, revoking their tokens and ending their
sessions) happen in one transaction, with the org's row locked on
PostgreSQL so two admins cannot remove the last two owners at once. Each
table keeps one owner: this transaction writes members through
``store.seats``, tokens through ``store.tokens``, sessions through
``store.sessions`` and a new org through ``store.orgs``, each with its
connection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.exc import IntegrityError

from chatgrid.errors import Conflict, NotFound
from chatgrid.governance.erasure import Erasure
from chatgrid.identity.models import BillingMode, Member, Org, Role
from chatgrid.identity.users import Membership, User
from chatgrid.store.ids import new_id
from chatgrid.store.orgs import MEMBER_COLUMNS, insert_org, member_from_row
from chatgrid.store.seats import end_membership, seat_member, set_role
from chatgrid.store.sessions import end_sessions_in_org
from chatgrid.store.tables import members, orgs, users
from chatgrid.store.teams import leave_teams
from chatgrid.store.tokens import revoke_member_tokens
from chatgrid.store.types import utcnow

RoleGuard = Callable[[Member, int], None]
#: More of a new account, written in sign-up's transaction by that table's owner
#: (``store.account_links.unverified_mark``): all of it commits, or none.
NewAccountStep = Callable[[Connection, User], None]


@dataclass(frozen=True)
class Removal:
    member: Member
    tokens_revoked: int
    sessions_ended: int


class PasswordAccount(Conflict):
    """The address has a console password: it joins an org only by accepting an invitation."""

    default_code = "invitation_required"


def _account_exists(email: str) -> Conflict:
    return Conflict(
        f"an account for {email} already exists; sign in instead",
        code="account_exists",
        param="email",
    )


def _org_exists(name: str) -> Conflict:
    return Conflict(
        f"an organization named {name!r} already exists; choose another name",
        code="org_exists",
        param="org_name",
    )


def _user(row: Mapping[Any, Any]) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        is_operator=bool(row["is_operator"]),
        has_password=row["password_hash"] is not None,
        created_at=row["created_at"],
        password_changed_at=row["password_changed_at"],
    )


def insert_user(
    conn: Connection,
    email: str,
    password_hash: str | None,
    now: datetime,
    *,
    is_operator: bool = False,
) -> User:
    """A new account in the caller's transaction (a taken address raises ``IntegrityError``)."""
    row = {
        "id": new_id("usr"),
        "email": email,
        "password_hash": password_hash,
        "created_at": now,
        "is_operator": is_operator,
        "password_changed_at": now if password_hash else None,
    }
    conn.execute(users.insert().values(**row))
    return _user(row)


def write_password(conn: Connection, user_id: str, password_hash: str, now: datetime) -> None:
    """Set an account's password in the caller's transaction."""
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(password_hash=password_hash, password_changed_at=now)
    )


class AccountRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # Users

    def get_user(self, user_id: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
        return None if row is None else _user(row)

    def find_user(self, email: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.email == email)).mappings().first()
        return None if row is None else _user(row)

    def password_hash(self, user_id: str) -> str | None:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(users.c.password_hash).where(users.c.id == user_id)
            ).scalar()
        return None if value is None else str(value)

    def create_user(self, email: str, password_hash: str | None, *, is_operator: bool) -> User:
        try:
            with self.engine.begin() as conn:
                return insert_user(conn, email, password_hash, utcnow(), is_operator=is_operator)
        except IntegrityError:
            raise Conflict(
                f"an account for {email} already exists", code="account_exists"
            ) from None

    def set_password(self, user_id: str, password_hash: str) -> None:
        with self.engine.begin() as conn:
            write_password(conn, user_id, password_hash, utcnow())

    def set_operator(self, user_id: str, is_operator: bool) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == user_id).values(is_operator=is_operator))

    # Orgs as one user sees them

    def memberships(self, user_id: str) -> list[Membership]:
        query = (
            select(members.c.id, members.c.org_id, orgs.c.name, members.c.role, orgs.c.billing_mode)
            .join(orgs, orgs.c.id == members.c.org_id)
            .where(members.c.user_id == user_id, members.c.status == "active")
            .order_by(orgs.c.name)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            Membership(
                member_id=row.id,
                org_id=row.org_id,
                org_name=row.name,
                role=Role(row.role),
                billing_mode=BillingMode(row.billing_mode),
            )
            for row in rows
        ]

    def membership(self, user_id: str, org_id: str) -> Member | None:
        """The user's active membership of exactly this org id (never matched by name)."""
        query = (
            select(*MEMBER_COLUMNS)
            .join(users, users.c.id == members.c.user_id)
            .where(
                members.c.user_id == user_id,
                members.c.org_id == org_id,
                members.c.status == "active",
            )
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else member_from_row(row)

    def other_active_orgs(self, user_id: str, org_id: str) -> int:
        with self.engine.connect() as conn:
            count = conn.execute(
                select(func.count())
                .select_from(members)
                .where(
                    members.c.user_id == user_id,
                    members.c.org_id != org_id,
                    members.c.status == "active",
                )
            ).scalar_one()
        return int(count)

    def check_org_name_free(self, name: str) -> None:
        """The same ``org_exists`` conflict creating an org by that name would raise."""
        with self.engine.connect() as conn:
            if conn.execute(select(orgs.c.id).where(orgs.c.name == name)).first():
                raise _org_exists(name)

    def create_org(
        self, name: str, mode: BillingMode, *, owner_id: str, trial_ends_at: datetime
    ) -> tuple[Org, Member]:
        """An org and its first owner, together."""
        try:
            with self.engine.begin() as conn:
                return self._found_org(conn, name, mode, owner_id, trial_ends_at)
        except IntegrityError:
            raise _org_exists(name) from None

    def sign_up(
        self,
        email: str,
        password_hash: str,
        org_name: str,
        *,
        trial_ends_at: datetime,
        also: NewAccountStep | None = None,
    ) -> tuple[User, Org, Member]:
        """A new account, its org and its ownership, and ``also``, all or nothing.

        ``also`` is email verification's mark: written apart, a crash between
        the two would leave an account verified by omission.
        """
        try:
            with self.engine.begin() as conn:
                if conn.execute(select(users.c.id).where(users.c.email == email)).first():
                    raise _account_exists(email)
                user = insert_user(conn, email, password_hash, utcnow())
                org, owner = self._found_org(
                    conn, org_name, BillingMode.BYOK, user.id, trial_ends_at
                )
                if also is not None:
                    also(conn, user)
        except IntegrityError:
            # A race with another sign-up: tell which name is taken now.
            if self.find_user(email) is not None:
                raise _account_exists(email) from None
            raise _org_exists(org_name) from None
        return user, org, replace(owner, email=email)

    @staticmethod
    def _found_org(
        conn: Connection, name: str, mode: BillingMode, owner_id: str, trial_ends_at: datetime
    ) -> tuple[Org, Member]:
        """A new org and its owner's seat, in the caller's transaction."""
        if conn.execute(select(orgs.c.id).where(orgs.c.name == name)).first():
            raise _org_exists(name)
        now = utcnow()
        org = insert_org(conn, name, mode, trial_ends_at=trial_ends_at, now=now)
        member_id = seat_member(conn, org.id, owner_id, "the owner", Role.OWNER, now)
        return org, Member(member_id, org.id, owner_id, "", Role.OWNER, "active", now)

    # Membership changes

    def add_member_without_password(self, org_id: str, email: str, role: Role) -> Member:
        """Seat an address directly, only while nobody can sign in as it.

        A new address gets a password-less account; an existing account
        without a password is (re-)seated. An account with a password raises
        ``PasswordAccount``: whoever set that password has proved nothing
        about the address, so only an invitation its holder accepts while
        signed in may seat it. The account's row is locked (on PostgreSQL)
        so a first password set through another org's link at the same
        moment waits for this and then sees the new seat.
        """
        now = utcnow()
        try:
            with self.engine.begin() as conn:
                user = conn.execute(
                    select(users.c.id, users.c.password_hash)
                    .where(users.c.email == email)
                    .with_for_update()
                ).first()
                if user is None:
                    user_id = insert_user(conn, email, None, now).id
                elif user.password_hash is not None:
                    raise PasswordAccount(
                        f"{email} already has a console account; invite it instead",
                        param="email",
                    )
                else:
                    user_id = user.id
                member_id = seat_member(conn, org_id, user_id, email, role, now)
                row = (
                    conn.execute(
                        select(*MEMBER_COLUMNS)
                        .join(users, users.c.id == members.c.user_id)
                        .where(members.c.id == member_id)
                    )
                    .mappings()
                    .one()
                )
        except IntegrityError:
            # The address signed up at this very moment: it has a password now.
            raise PasswordAccount(
                f"{email} already has a console account; invite it instead", param="email"
            ) from None
        return member_from_row(row)

    def count_owners(self, org_id: str) -> int:
        with self.engine.connect() as conn:
            return self._owners(conn, org_id)

    def change_role(self, org_id: str, member_id: str, role: Role, guard: RoleGuard) -> Member:
        """Check ``guard(target, owner_count)`` and change the role, in one transaction."""
        with self.engine.begin() as conn:
            target = self._locked_target(conn, org_id, member_id)
            guard(target, self._owners(conn, org_id))
            set_role(conn, member_id, role)
        return Member(
            target.id,
            target.org_id,
            target.user_id,
            target.email,
            role,
            target.status,
            target.created_at,
        )

    def remove(self, org_id: str, member_id: str, guard: RoleGuard) -> Removal:
        """Remove a member, revoke their tokens here, end their sessions in this org, and
        take them out of its teams."""
        now = utcnow()
        with self.engine.begin() as conn:
            target = self._locked_target(conn, org_id, member_id)
            guard(target, self._owners(conn, org_id))
            end_membership(conn, org_id, member_id, now)
            tokens = revoke_member_tokens(conn, org_id, member_id, now)
            ended = end_sessions_in_org(conn, target.user_id, org_id)
            leave_teams(conn, org_id, member_id)
        return Removal(target, tokens, ended)

    def _locked_target(self, conn: Connection, org_id: str, member_id: str) -> Member:
        # Serializes membership changes per org (a no-op on SQLite, whose writers queue anyway).
        conn.execute(select(orgs.c.id).where(orgs.c.id == org_id).with_for_update())
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

    @staticmethod
    def _owners(conn: Connection, org_id: str) -> int:
        return int(
            conn.execute(
                select(func.count())
                .select_from(members)
                .where(
                    members.c.org_id == org_id,
                    members.c.role == Role.OWNER.value,
                    members.c.status == "active",
                )
            ).scalar_one()
        )


def erase_account(conn: Connection, erasure: Erasure) -> None:
    """Delete an erased member's account when no other org holds it; the caller has removed
    everything that pointed at it."""
    if erasure.whole_account:
        conn.execute(users.delete().where(users.c.id == erasure.user_id))
