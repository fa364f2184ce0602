"""Single sign-on: each org's connection (its secret sealed), sign-ins in flight, and the
people a provider brought in (just-in-time), linked by the provider's subject.

Every query takes the org, except the two that find an org from something a
browser carries (a pending sign-in's ``state``), which is what they are for.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, update
from sqlalchemy.exc import IntegrityError

from chatgrid.errors import NotFound
from chatgrid.governance.erasure import Erasure
from chatgrid.identity.models import Member, Role
from chatgrid.identity.sso import Identity, SsoConnection, SsoProtocol, SsoSignInRefused
from chatgrid.identity.users import User
from chatgrid.store.accounts import AccountRepository, insert_user
from chatgrid.store.ids import new_id
from chatgrid.store.orgs import MEMBER_COLUMNS, member_from_row
from chatgrid.store.seats import seat_member
from chatgrid.store.tables import members, sso_connections, sso_identities, sso_logins, users
from chatgrid.store.types import utcnow
from chatgrid.vault import SealedSecret

_SECRET_COLUMNS = ("fingerprint", "last4", "wrapped_key", "master_key_version", "nonce")


def _sealed(row: Mapping[Any, Any]) -> SealedSecret | None:
    if row["ciphertext"] is None:
        return None
    return SealedSecret(
        fingerprint=row["fingerprint"],
        last4=row["last4"],
        wrapped_key=bytes(row["wrapped_key"]),
        master_key_version=row["master_key_version"],
        nonce=bytes(row["nonce"]),
        ciphertext=bytes(row["ciphertext"]),
    )


def _connection(row: Mapping[Any, Any]) -> SsoConnection:
    return SsoConnection(
        id=row["id"],
        org_id=row["org_id"],
        protocol=SsoProtocol(row["protocol"]),
        issuer=row["issuer"],
        client_id=row["client_id"],
        groups_claim=row["groups_claim"],
        role_map={group: Role(role) for group, role in dict(row["role_map"] or {}).items()},
        default_role=Role(row["default_role"]),
        enforced=bool(row["enforced"]),
        sealed_secret=_sealed(row),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
        settings=dict(row["settings"] or {}),
    )


def _no_connection() -> NotFound:
    return NotFound("this organization has no single sign-on set up", code="sso_not_configured")


@dataclass(frozen=True)
class ConnectionDraft:
    """A connection's settings as an admin gave them (the secret already sealed)."""

    protocol: SsoProtocol
    issuer: str
    client_id: str | None
    groups_claim: str | None
    role_map: Mapping[str, Role]
    default_role: Role
    settings: Mapping[str, object]


@dataclass(frozen=True)
class PendingLogin:
    state_hash: str
    browser_hash: str
    org_id: str
    connection_id: str
    nonce: str
    redirect_uri: str
    next_path: str | None
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Provisioned:
    """Who signed in, their membership, and what this sign-in created."""

    user: User
    member: Member
    new_user: bool
    new_member: bool


class SsoRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # Connections

    def get(self, org_id: str) -> SsoConnection | None:
        query = select(sso_connections).where(sso_connections.c.org_id == org_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _connection(row)

    def new_connection_id(self, org_id: str) -> str:
        """The id the org's connection has, or will have (the secret is bound to it)."""
        current = self.get(org_id)
        return current.id if current is not None else new_id("sso")

    def save(
        self,
        org_id: str,
        connection_id: str,
        draft: ConnectionDraft,
        sealed: SealedSecret | None,
        updated_by: str | None,
    ) -> SsoConnection:
        """Create the org's connection, or replace its settings.

        A None secret keeps the old one only while the protocol stays the
        same: a switch (OIDC to SAML, which has none) deletes it, so no sealed
        secret outlives the provider it was for.
        """
        now = utcnow()
        values: dict[str, object] = {
            "protocol": draft.protocol.value,
            "issuer": draft.issuer,
            "client_id": draft.client_id,
            "groups_claim": draft.groups_claim,
            "role_map": {group: role.value for group, role in draft.role_map.items()},
            "default_role": draft.default_role.value,
            "settings": dict(draft.settings),
            "updated_at": now,
            "updated_by": updated_by,
        }
        if sealed is not None:
            values.update({c: getattr(sealed, c) for c in _SECRET_COLUMNS})
            values["ciphertext"] = sealed.ciphertext
        this_row = (sso_connections.c.org_id == org_id, sso_connections.c.id == connection_id)
        with self.engine.begin() as conn:
            if sealed is None:
                conn.execute(
                    update(sso_connections)
                    .where(*this_row, sso_connections.c.protocol != draft.protocol.value)
                    .values(dict.fromkeys((*_SECRET_COLUMNS, "ciphertext")))
                )
            changed = conn.execute(
                update(sso_connections).where(*this_row).values(**values)
            ).rowcount
            if not changed:
                conn.execute(
                    sso_connections.insert().values(
                        id=connection_id, org_id=org_id, created_at=now, **values
                    )
                )
        saved = self.get(org_id)
        assert saved is not None
        return saved

    def set_enforced(self, org_id: str, enforced: bool) -> SsoConnection:
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(sso_connections)
                .where(sso_connections.c.org_id == org_id)
                .values(enforced=enforced, updated_at=utcnow())
            ).rowcount
        if not changed:
            raise _no_connection()
        saved = self.get(org_id)
        assert saved is not None
        return saved

    def remove(self, org_id: str) -> SsoConnection:
        """Delete the connection and its sign-ins in flight (accounts and members stay)."""
        current = self.get(org_id)
        if current is None:
            raise _no_connection()
        with self.engine.begin() as conn:
            conn.execute(delete(sso_logins).where(sso_logins.c.org_id == org_id))
            conn.execute(delete(sso_connections).where(sso_connections.c.org_id == org_id))
        return current

    # The master key's rotation (``vault rotate-master``)

    def sealed_secrets(self) -> list[SsoConnection]:
        """Every connection with a sealed client secret, across orgs."""
        query = select(sso_connections).where(sso_connections.c.ciphertext.is_not(None))
        with self.engine.connect() as conn:
            return [_connection(row) for row in conn.execute(query).mappings()]

    def store_rewrapped(self, connection_id: str, sealed: SealedSecret) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(sso_connections)
                .where(sso_connections.c.id == connection_id)
                .values(
                    wrapped_key=sealed.wrapped_key, master_key_version=sealed.master_key_version
                )
            )

    def master_versions(self) -> set[int]:
        query = select(sso_connections.c.master_key_version).distinct()
        with self.engine.connect() as conn:
            return {int(v) for v in conn.execute(query).scalars() if v is not None}

    # Sign-ins in flight

    def start_login(self, login: PendingLogin) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(sso_logins).where(sso_logins.c.expires_at <= login.created_at))
            conn.execute(sso_logins.insert().values(**asdict(login)))

    def take_login(self, state_hash: str, browser_hash: str) -> PendingLogin | None:
        """The sign-in this ``state`` started in this browser, removed so it is used once.

        Another browser presenting the ``state`` (a link sent to a victim, a
        replay) gets nothing and uses nothing up.
        """
        with self.engine.begin() as conn:
            row = (
                conn.execute(select(sso_logins).where(sso_logins.c.state_hash == state_hash))
                .mappings()
                .first()
            )
            if row is None or not hmac.compare_digest(row["browser_hash"], browser_hash):
                return None
            taken = conn.execute(
                delete(sso_logins).where(sso_logins.c.state_hash == state_hash)
            ).rowcount
        return PendingLogin(**dict(row)) if taken else None

    # People

    def provision(self, org_id: str, identity: Identity, role: Role, now: datetime) -> Provisioned:
        """The account and membership for a person the provider vouched for, made if new.

        Found by the provider's subject first, then by address. An address
        whose account is linked to another subject of the same provider is
        refused: the provider gave the address to someone new.
        """
        try:
            with self.engine.begin() as conn:
                user_id, member, new_user, new_member = self._provision(
                    conn, org_id, identity, role, now
                )
        except IntegrityError:
            raise SsoSignInRefused(
                "this sign-in raced another for the same person; sign in again",
                code="sso_retry",
            ) from None
        user = AccountRepository(self.engine).get_user(user_id)
        assert user is not None
        return Provisioned(user, member, new_user, new_member)

    def _provision(
        self, conn: Connection, org_id: str, identity: Identity, role: Role, now: datetime
    ) -> tuple[str, Member, bool, bool]:
        link = conn.execute(
            select(sso_identities.c.id, sso_identities.c.user_id).where(
                sso_identities.c.org_id == org_id,
                sso_identities.c.issuer == identity.issuer,
                sso_identities.c.subject == identity.subject,
            )
        ).first()
        new_user = False
        if link is not None:
            user_id = str(link.user_id)
            conn.execute(
                update(sso_identities)
                .where(sso_identities.c.id == link.id)
                .values(last_signin_at=now)
            )
        else:
            found = conn.execute(
                select(users.c.id).where(users.c.email == identity.email).with_for_update()
            ).scalar()
            if found is None:
                user_id, new_user = insert_user(conn, identity.email, None, now).id, True
            else:
                user_id = str(found)
                self._refuse_other_subject(conn, org_id, identity, user_id)
            conn.execute(
                sso_identities.insert().values(
                    id=new_id("sid"),
                    org_id=org_id,
                    issuer=identity.issuer,
                    subject=identity.subject,
                    user_id=user_id,
                    created_at=now,
                    last_signin_at=now,
                )
            )
        member, new_member = self._membership(conn, org_id, user_id, identity.email, role, now)
        return user_id, member, new_user, new_member

    @staticmethod
    def _refuse_other_subject(
        conn: Connection, org_id: str, identity: Identity, user_id: str
    ) -> None:
        other = conn.execute(
            select(sso_identities.c.subject).where(
                sso_identities.c.org_id == org_id,
                sso_identities.c.issuer == identity.issuer,
                sso_identities.c.user_id == user_id,
            )
        ).scalar()
        if other is not None:
            raise SsoSignInRefused(
                f"{identity.email} was linked to another person at your identity provider. "
                "An admin of the organization can sort this out.",
                code="sso_subject_changed",
            )

    @staticmethod
    def _membership(
        conn: Connection, org_id: str, user_id: str, email: str, role: Role, now: datetime
    ) -> tuple[Member, bool]:
        status = conn.execute(
            select(members.c.status).where(members.c.org_id == org_id, members.c.user_id == user_id)
        ).scalar()
        if status == "removed":
            raise SsoSignInRefused(
                f"{email} was removed from this organization by an admin; "
                "ask an admin to add you back",
                code="sso_member_removed",
            )
        created = status is None
        if created:
            seat_member(conn, org_id, user_id, email, role, now)
        row = (
            conn.execute(
                select(*MEMBER_COLUMNS)
                .join(users, users.c.id == members.c.user_id)
                .where(members.c.org_id == org_id, members.c.user_id == user_id)
            )
            .mappings()
            .one()
        )
        return member_from_row(row), created


def erase_sso_identities(conn: Connection, erasure: Erasure) -> int:
    """Forget the identity provider's subject for an erased member (all of them with their
    account), and their email as the setter of the org's connection (caller's transaction)."""
    i = sso_identities.c
    theirs = [i.user_id == erasure.user_id]
    if not erasure.whole_account:
        theirs.append(i.org_id == erasure.org_id)
    gone = conn.execute(delete(sso_identities).where(*theirs))
    conn.execute(
        update(sso_connections)
        .where(
            sso_connections.c.org_id == erasure.org_id,
            sso_connections.c.updated_by == erasure.email,
        )
        .values(updated_by=erasure.alias_email)
    )
    return int(gone.rowcount)
