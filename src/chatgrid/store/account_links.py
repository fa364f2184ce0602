"""Mailed links (confirm an address, reset a password) and accounts not verified yet.

Using a link is one transaction: the link is spent only if it is still
unused and unexpired at that moment (two tabs racing get one success), and
what it does — the address confirmed, or the new password set with every
session ended — commits with it or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, update

from chatgrid.governance.erasure import Erasure
from chatgrid.identity.links import AccountLink, LinkPurpose
from chatgrid.identity.users import User
from chatgrid.store.accounts import NewAccountStep, write_password
from chatgrid.store.ids import new_id
from chatgrid.store.sessions import end_all_sessions
from chatgrid.store.tables import account_links, unverified_accounts


def _link(row: Mapping[Any, Any]) -> AccountLink:
    return AccountLink(
        id=row["id"],
        user_id=row["user_id"],
        purpose=LinkPurpose(row["purpose"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        used_at=row["used_at"],
    )


@dataclass(frozen=True)
class LinkUsed:
    """What spending a link did."""

    #: The account was unverified until now (a reset link proves the address too).
    verified_now: bool
    sessions_ended: int = 0


class AccountLinkRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def issue(
        self,
        user_id: str,
        purpose: LinkPurpose,
        token_hash: str,
        *,
        now: datetime,
        expires_at: datetime,
    ) -> AccountLink:
        """A new link; the account's unused links of the same purpose stop working."""
        row = {
            "id": new_id("lnk"),
            "user_id": user_id,
            "purpose": purpose.value,
            "token_hash": token_hash,
            "created_at": now,
            "expires_at": expires_at,
            "used_at": None,
        }
        with self.engine.begin() as conn:
            self._drop_unused(conn, user_id, purpose)
            conn.execute(account_links.insert().values(**row))
        return _link(row)

    def find(self, token_hash: str) -> AccountLink | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(account_links).where(account_links.c.token_hash == token_hash))
                .mappings()
                .first()
            )
        return None if row is None else _link(row)

    # Verification

    def mark_unverified(self, user_id: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            _mark_unverified(conn, user_id, now)

    def is_unverified(self, user_id: str) -> bool:
        with self.engine.connect() as conn:
            return self._unverified(conn, user_id)

    def mark_verified(self, user_id: str) -> bool:
        """Whether the account was unverified until now; its confirmation links stop working."""
        with self.engine.begin() as conn:
            return self._verify(conn, user_id)

    # Using a link

    def verify_email(self, link: AccountLink, now: datetime) -> LinkUsed | None:
        """Spend a confirmation link; None if it was spent or expired meanwhile."""
        with self.engine.begin() as conn:
            if not self._spend(conn, link, now):
                return None
            return LinkUsed(verified_now=self._verify(conn, link.user_id))

    def reset_password(
        self, link: AccountLink, password_hash: str, now: datetime
    ) -> LinkUsed | None:
        """Spend a reset link: the new password, every session ended, the address verified."""
        with self.engine.begin() as conn:
            if not self._spend(conn, link, now):
                return None
            write_password(conn, link.user_id, password_hash, now)
            ended = end_all_sessions(conn, link.user_id)
            self._drop_unused(conn, link.user_id, LinkPurpose.RESET_PASSWORD)
            verified_now = self._verify(conn, link.user_id)
        return LinkUsed(verified_now=verified_now, sessions_ended=ended)

    # Within a transaction

    @staticmethod
    def _spend(conn: Connection, link: AccountLink, now: datetime) -> bool:
        spent = conn.execute(
            update(account_links)
            .where(
                account_links.c.id == link.id,
                account_links.c.used_at.is_(None),
                account_links.c.expires_at > now,
            )
            .values(used_at=now)
        )
        return spent.rowcount == 1

    @staticmethod
    def _drop_unused(conn: Connection, user_id: str, purpose: LinkPurpose) -> None:
        conn.execute(
            delete(account_links).where(
                account_links.c.user_id == user_id,
                account_links.c.purpose == purpose.value,
                account_links.c.used_at.is_(None),
            )
        )

    @staticmethod
    def _unverified(conn: Connection, user_id: str) -> bool:
        found = conn.execute(
            select(unverified_accounts.c.user_id).where(unverified_accounts.c.user_id == user_id)
        ).first()
        return found is not None

    @classmethod
    def _verify(cls, conn: Connection, user_id: str) -> bool:
        removed = conn.execute(
            delete(unverified_accounts).where(unverified_accounts.c.user_id == user_id)
        )
        cls._drop_unused(conn, user_id, LinkPurpose.VERIFY_EMAIL)
        return removed.rowcount == 1


def unverified_mark(now: datetime) -> NewAccountStep:
    """Sign-up's step that leaves the new account waiting for its address to be confirmed
    (``AccountRepository.sign_up(also=...)``: in the account's own transaction)."""

    def mark(conn: Connection, user: User) -> None:
        _mark_unverified(conn, user.id, now)

    return mark


def _mark_unverified(conn: Connection, user_id: str, now: datetime) -> None:
    if not AccountLinkRepository._unverified(conn, user_id):
        conn.execute(unverified_accounts.insert().values(user_id=user_id, since=now))


def erase_account_links(conn: Connection, erasure: Erasure) -> None:
    """With an erased member's account, its emailed links and unverified mark go."""
    if erasure.whole_account:
        conn.execute(delete(account_links).where(account_links.c.user_id == erasure.user_id))
        conn.execute(
            delete(unverified_accounts).where(unverified_accounts.c.user_id == erasure.user_id)
        )
