"""Invitations to an org: only the SHA-256 of each link's token is stored."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from chatgrid.errors import Conflict, NotFound, PermissionDenied
from chatgrid.governance.erasure import Erasure
from chatgrid.identity.invitations import Invitation, InvitationUnusable
from chatgrid.identity.models import Member, Role
from chatgrid.store.accounts import insert_user, write_password
from chatgrid.store.ids import new_id
from chatgrid.store.seats import seat_member
from chatgrid.store.tables import invitations, members, users
from chatgrid.store.types import utcnow


def _invitation(row: Mapping[Any, Any]) -> Invitation:
    return Invitation(
        id=row["id"],
        org_id=row["org_id"],
        email=row["email"],
        role=Role(row["role"]),
        invited_by=row["invited_by"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        accepted_at=row["accepted_at"],
        revoked_at=row["revoked_at"],
    )


def _works_elsewhere(conn: Connection, user_id: str, org_id: str) -> bool:
    count = conn.execute(
        select(func.count())
        .select_from(members)
        .where(
            members.c.user_id == user_id,
            members.c.org_id != org_id,
            members.c.status == "active",
        )
    ).scalar_one()
    return int(count) > 0


_PENDING = (invitations.c.accepted_at.is_(None), invitations.c.revoked_at.is_(None))


class InvitationRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(
        self,
        org_id: str,
        email: str,
        role: Role,
        token_hash: str,
        *,
        invited_by: str | None,
        expires_at: datetime,
    ) -> Invitation:
        """A new invitation; older pending ones to the same address in this org are withdrawn."""
        now = utcnow()
        row = {
            "id": new_id("inv"),
            "org_id": org_id,
            "email": email,
            "role": role.value,
            "token_hash": token_hash,
            "invited_by": invited_by,
            "created_at": now,
            "expires_at": expires_at,
            "accepted_at": None,
            "revoked_at": None,
        }
        with self.engine.begin() as conn:
            conn.execute(
                update(invitations)
                .where(invitations.c.org_id == org_id, invitations.c.email == email, *_PENDING)
                .values(revoked_at=now)
            )
            conn.execute(invitations.insert().values(**row))
        return _invitation(row)

    def by_token_hash(self, token_hash: str) -> Invitation | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(invitations).where(invitations.c.token_hash == token_hash))
                .mappings()
                .first()
            )
        return None if row is None else _invitation(row)

    def get(self, org_id: str, invitation_id: str) -> Invitation:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(invitations).where(
                        invitations.c.org_id == org_id, invitations.c.id == invitation_id
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound("no such invitation", code="invitation_not_found")
        return _invitation(row)

    def pending(self, org_id: str, now: datetime) -> list[Invitation]:
        query = (
            select(invitations)
            .where(invitations.c.org_id == org_id, invitations.c.expires_at > now, *_PENDING)
            .order_by(invitations.c.created_at.desc())
        )
        with self.engine.connect() as conn:
            return [_invitation(row) for row in conn.execute(query).mappings()]

    def revoke(self, org_id: str, invitation_id: str) -> Invitation:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(invitations)
                .where(invitations.c.org_id == org_id, invitations.c.id == invitation_id, *_PENDING)
                .values(revoked_at=utcnow())
            )
        if result.rowcount == 0:
            self.get(org_id, invitation_id)  # NotFound for a stranger's id
            raise Conflict("this invitation was already used or withdrawn", code="not_pending")
        return self.get(org_id, invitation_id)

    def accept(self, invitation: Invitation, *, password_hash: str | None) -> Member:
        """Use the invitation once: the account (with its first password) and the membership.

        ``password_hash`` is set only on an account that has none and that
        works in no other org, checked again here with the account's row
        locked (on PostgreSQL): an operator adding the address to another org
        meanwhile (``AccountRepository.add_member_without_password`` takes the
        same lock) cannot end with a stranger's password on that member. An
        active membership keeps its role.
        """
        now = utcnow()
        with self.engine.begin() as conn:
            used = conn.execute(
                update(invitations)
                .where(invitations.c.id == invitation.id, *_PENDING, invitations.c.expires_at > now)
                .values(accepted_at=now)
            ).rowcount
            if used == 0:
                raise InvitationUnusable("this invitation can no longer be used")
            user = conn.execute(
                select(users.c.id, users.c.password_hash)
                .where(users.c.email == invitation.email)
                .with_for_update()
            ).first()
            if user is None:
                user_id = insert_user(conn, invitation.email, password_hash, now).id
            else:
                user_id = user.id
                if password_hash is not None and user.password_hash is not None:
                    # The account got a password since the invitee looked: they must sign in.
                    raise Conflict(
                        "this account has a password now; sign in to accept", code="sign_in"
                    )
                if password_hash is not None and _works_elsewhere(conn, user_id, invitation.org_id):
                    raise PermissionDenied(
                        "this address already belongs to another organization without a "
                        "console password; ask that organization's admin or your operator",
                        code="account_elsewhere",
                    )
                if password_hash is not None:
                    write_password(conn, user_id, password_hash, now)
            existing = conn.execute(
                select(members.c.id, members.c.status, members.c.role, members.c.created_at).where(
                    members.c.org_id == invitation.org_id, members.c.user_id == user_id
                )
            ).first()
            if existing is not None and existing.status == "active":
                member_id, role, created = existing.id, Role(existing.role), existing.created_at
            else:
                role, created = invitation.role, now if existing is None else existing.created_at
                member_id = seat_member(
                    conn, invitation.org_id, user_id, invitation.email, role, now
                )
        return Member(
            member_id, invitation.org_id, user_id, invitation.email, role, "active", created
        )


def erase_invitations(conn: Connection, erasure: Erasure) -> int:
    """Delete the org's invitations to an erased member's address; the ones they sent stay,
    from no one (caller's transaction)."""
    i = invitations.c
    gone = conn.execute(
        invitations.delete().where(i.org_id == erasure.org_id, i.email == erasure.email)
    )
    conn.execute(
        update(invitations)
        .where(i.org_id == erasure.org_id, i.invited_by == erasure.user_id)
        .values(invited_by=None)
    )
    return int(gone.rowcount)
