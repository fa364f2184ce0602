"""SCIM provisioning state: the org's bearer tokens (SHA-256 hashes) and provisioned members.

Seats open and close only through ``store.seats`` (a provisioned member is
seated like any other), and deactivation goes through
``AccountRepository.remove``, the one path that ends a membership, so the
billing periods and the revocations are those of a removal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, func, select, update
from sqlalchemy.exc import IntegrityError

from chatgrid.errors import Conflict, NotFound
from chatgrid.governance.erasure import Erasure
from chatgrid.identity.models import Role
from chatgrid.store.accounts import insert_user
from chatgrid.store.ids import new_id
from chatgrid.store.seats import seat_member
from chatgrid.store.tables import members, scim_tokens, scim_users, users
from chatgrid.store.types import utcnow


@dataclass(frozen=True)
class ScimToken:
    id: str
    org_id: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class ScimUser:
    member_id: str
    user_id: str
    email: str
    active: bool
    external_id: str | None


def _token(row: Mapping[Any, Any]) -> ScimToken:
    return ScimToken(row["id"], row["org_id"], row["prefix"], row["created_at"], row["revoked_at"])


def _user(row: Mapping[Any, Any]) -> ScimUser:
    return ScimUser(
        row["id"], row["user_id"], row["email"], row["status"] == "active", row["external_id"]
    )


def _users_query(org_id: str) -> Select[Any]:
    return (
        select(
            members.c.id,
            members.c.user_id,
            users.c.email,
            members.c.status,
            scim_users.c.external_id,
        )
        .join(users, users.c.id == members.c.user_id)
        .outerjoin(scim_users, scim_users.c.member_id == members.c.id)
        .where(members.c.org_id == org_id)
    )


class ScimRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # Tokens

    def create_token(self, org_id: str, prefix: str, token_hash: str) -> ScimToken:
        row = {
            "id": new_id("sct"),
            "org_id": org_id,
            "prefix": prefix,
            "token_hash": token_hash,
            "created_at": utcnow(),
            "revoked_at": None,
        }
        with self.engine.begin() as conn:
            conn.execute(scim_tokens.insert().values(**row))
        return _token(row)

    def tokens(self, org_id: str) -> list[ScimToken]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(scim_tokens)
                .where(scim_tokens.c.org_id == org_id)
                .order_by(scim_tokens.c.created_at, scim_tokens.c.id)
            ).mappings()
            return [_token(row) for row in rows]

    def revoke_token(self, org_id: str, token_id: str) -> ScimToken:
        with self.engine.begin() as conn:
            conn.execute(
                update(scim_tokens)
                .where(
                    scim_tokens.c.org_id == org_id,
                    scim_tokens.c.id == token_id,
                    scim_tokens.c.revoked_at.is_(None),
                )
                .values(revoked_at=utcnow())
            )
            row = (
                conn.execute(
                    select(scim_tokens).where(
                        scim_tokens.c.org_id == org_id, scim_tokens.c.id == token_id
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound("no such SCIM token", code="scim_token_not_found")
        return _token(row)

    def live_token(self, token_hash: str) -> ScimToken | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(scim_tokens).where(
                        scim_tokens.c.token_hash == token_hash,
                        scim_tokens.c.revoked_at.is_(None),
                    )
                )
                .mappings()
                .first()
            )
        return _token(row) if row else None

    # Users

    def users(
        self, org_id: str, *, email: str | None, external_id: str | None, offset: int, limit: int
    ) -> tuple[list[ScimUser], int]:
        query = _users_query(org_id)
        if email is not None:
            query = query.where(users.c.email == email.strip().lower())
        if external_id is not None:
            query = query.where(scim_users.c.external_id == external_id)
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            rows = conn.execute(
                query.order_by(members.c.created_at, members.c.id).offset(offset).limit(limit)
            ).mappings()
            return [_user(row) for row in rows], int(total)

    def user(self, org_id: str, member_id: str) -> ScimUser:
        with self.engine.connect() as conn:
            row = conn.execute(_users_query(org_id).where(members.c.id == member_id)).mappings()
            found = row.first()
        if found is None:
            raise NotFound("no such User", code="scim_user_not_found")
        return _user(found)

    def provision(self, org_id: str, email: str, external_id: str | None, role: Role) -> str:
        """Seat ``email`` (an account made if new); a current member is a uniqueness clash."""
        now = utcnow()
        try:
            with self.engine.begin() as conn:
                user_id = conn.execute(
                    select(users.c.id).where(users.c.email == email).with_for_update()
                ).scalar()
                if user_id is None:
                    user_id = insert_user(conn, email, None, now).id
                status = conn.execute(
                    select(members.c.status).where(
                        members.c.org_id == org_id, members.c.user_id == user_id
                    )
                ).scalar()
                if status == "active":
                    raise Conflict(f"{email} is already a member", code="uniqueness")
                member_id = seat_member(conn, org_id, str(user_id), email, role, now)
                conn.execute(scim_users.delete().where(scim_users.c.member_id == member_id))
                conn.execute(
                    scim_users.insert().values(
                        member_id=member_id, org_id=org_id, external_id=external_id
                    )
                )
        except IntegrityError:
            raise Conflict(
                f"{email} or its externalId is already provisioned", code="uniqueness"
            ) from None
        return member_id

    def reactivate(self, org_id: str, member_id: str, role: Role) -> None:
        """Seat a removed member again: a new seat period from now."""
        found = self.user(org_id, member_id)
        with self.engine.begin() as conn:
            seat_member(conn, org_id, found.user_id, found.email, role, utcnow())

    def set_external_id(self, org_id: str, member_id: str, external_id: str) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(scim_users.delete().where(scim_users.c.member_id == member_id))
                conn.execute(
                    scim_users.insert().values(
                        member_id=member_id, org_id=org_id, external_id=external_id
                    )
                )
        except IntegrityError:
            raise Conflict("that externalId is already provisioned", code="uniqueness") from None


def erase_scim_user(conn: Connection, erasure: Erasure) -> int:
    """Forget the identity provider's id for an erased member (caller's transaction)."""
    gone = conn.execute(scim_users.delete().where(scim_users.c.member_id == erasure.member_id))
    return int(gone.rowcount)
