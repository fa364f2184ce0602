"""Two-step sign-in as stored: sealed seeds, hashed recovery codes, pending second steps
and the org rule. The only module that writes these four tables.

Every rule that must hold across replicas is one conditional statement whose
row count decides: a time step is accepted only if it is later than the last
one (``accept_step``), a recovery code is spent only if unspent
(``spend_recovery_code``), a pending second step is exchanged for a session
only once (``finish_challenge``). Two replicas racing on the same code get
one yes and one no.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from chatgrid.errors import Conflict
from chatgrid.governance.erasure import Erasure
from chatgrid.identity.second_step import Challenge
from chatgrid.store.tables import (
    org_second_factor_rules,
    recovery_codes,
    second_factors,
    signin_challenges,
    users,
)
from chatgrid.vault import SealedSecret


def seed_binding(user_id: str) -> str:
    """What a seed's ciphertext is bound to: moved to another account's row, it does not open."""
    return f"second_factor:{user_id}"


@dataclass(frozen=True)
class StoredSeed:
    user_id: str
    sealed: SealedSecret
    created_at: datetime
    confirmed_at: datetime | None
    last_step: int | None


def _sealed(row: Mapping[Any, Any]) -> SealedSecret:
    # Seeds keep no fingerprint or last four: nothing of them is ever shown again.
    return SealedSecret(
        fingerprint="",
        last4="",
        wrapped_key=bytes(row["wrapped_key"]),
        master_key_version=row["master_key_version"],
        nonce=bytes(row["nonce"]),
        ciphertext=bytes(row["ciphertext"]),
    )


def _challenge(row: Mapping[Any, Any]) -> Challenge:
    return Challenge(
        id_hash=row["id_hash"],
        user_id=row["user_id"],
        org_id=row["org_id"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        failures=row["failures"],
    )


def _replace_codes(conn: Connection, user_id: str, hashes: list[str], now: datetime) -> None:
    conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
    if hashes:
        conn.execute(
            insert(recovery_codes),
            [{"user_id": user_id, "code_hash": h, "created_at": now} for h in hashes],
        )


class SecondFactorRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # The seed

    def begin(self, user_id: str, sealed: SealedSecret, now: datetime) -> bool:
        """Keep a new, unconfirmed seed; False if the account already has one that is on."""
        try:
            return self._begin(user_id, sealed, now)
        except IntegrityError:  # the same account started twice at once
            raise Conflict("two-step sign-in is being set up twice at once; try again") from None

    def _begin(self, user_id: str, sealed: SealedSecret, now: datetime) -> bool:
        with self.engine.begin() as conn:
            existing = conn.execute(
                select(second_factors.c.confirmed_at).where(second_factors.c.user_id == user_id)
            ).first()
            if existing is not None and existing.confirmed_at is not None:
                return False
            conn.execute(delete(second_factors).where(second_factors.c.user_id == user_id))
            conn.execute(
                insert(second_factors).values(
                    user_id=user_id,
                    wrapped_key=sealed.wrapped_key,
                    master_key_version=sealed.master_key_version,
                    nonce=sealed.nonce,
                    ciphertext=sealed.ciphertext,
                    created_at=now,
                )
            )
        return True

    def seed(self, user_id: str) -> StoredSeed | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(second_factors).where(second_factors.c.user_id == user_id))
                .mappings()
                .first()
            )
        if row is None:
            return None
        return StoredSeed(
            user_id=row["user_id"],
            sealed=_sealed(row),
            created_at=row["created_at"],
            confirmed_at=row["confirmed_at"],
            last_step=row["last_step"],
        )

    def enabled(self, user_id: str) -> bool:
        """Whether the account has a confirmed second factor (the sign-in asks for a code)."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(second_factors.c.user_id).where(
                    second_factors.c.user_id == user_id, second_factors.c.confirmed_at.is_not(None)
                )
            ).first()
        return found is not None

    def confirm(self, user_id: str, step: int, code_hashes: list[str], now: datetime) -> bool:
        """Turn the pending seed on with its first code's step, and its recovery codes."""
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(second_factors)
                .where(second_factors.c.user_id == user_id, second_factors.c.confirmed_at.is_(None))
                .values(confirmed_at=now, last_step=step)
            ).rowcount
            if changed != 1:
                return False
            _replace_codes(conn, user_id, code_hashes, now)
        return True

    def accept_step(self, user_id: str, step: int) -> bool:
        """Record ``step`` as used; False if it (or a later one) was used before: a replay."""
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(second_factors)
                .where(
                    second_factors.c.user_id == user_id,
                    second_factors.c.confirmed_at.is_not(None),
                    or_(second_factors.c.last_step.is_(None), second_factors.c.last_step < step),
                )
                .values(last_step=step)
            ).rowcount
        return changed == 1

    def remove(self, user_id: str) -> bool:
        """Turn two-step sign-in off: the seed and every recovery code go."""
        with self.engine.begin() as conn:
            removed = conn.execute(
                delete(second_factors).where(second_factors.c.user_id == user_id)
            ).rowcount
            conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
            conn.execute(delete(signin_challenges).where(signin_challenges.c.user_id == user_id))
        return removed > 0

    # Recovery codes

    def replace_recovery_codes(self, user_id: str, code_hashes: list[str], now: datetime) -> None:
        with self.engine.begin() as conn:
            _replace_codes(conn, user_id, code_hashes, now)

    def spend_recovery_code(self, user_id: str, code_hash: str, now: datetime) -> bool:
        """Mark the code used; False if it is not this account's or was used already."""
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(recovery_codes)
                .where(
                    recovery_codes.c.user_id == user_id,
                    recovery_codes.c.code_hash == code_hash,
                    recovery_codes.c.used_at.is_(None),
                )
                .values(used_at=now)
            ).rowcount
        return changed == 1

    def recovery_codes_left(self, user_id: str) -> int:
        with self.engine.connect() as conn:
            count = conn.execute(
                select(func.count())
                .select_from(recovery_codes)
                .where(recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None))
            ).scalar_one()
        return int(count)

    # Pending second steps

    def create_challenge(self, challenge: Challenge) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                delete(signin_challenges).where(
                    signin_challenges.c.expires_at <= challenge.created_at
                )
            )
            conn.execute(
                insert(signin_challenges).values(
                    id_hash=challenge.id_hash,
                    user_id=challenge.user_id,
                    org_id=challenge.org_id,
                    created_at=challenge.created_at,
                    expires_at=challenge.expires_at,
                    failures=challenge.failures,
                )
            )

    def challenge(self, id_hash: str) -> Challenge | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(signin_challenges).where(signin_challenges.c.id_hash == id_hash)
                )
                .mappings()
                .first()
            )
        return _challenge(row) if row is not None else None

    def count_failure(self, id_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(signin_challenges)
                .where(signin_challenges.c.id_hash == id_hash)
                .values(failures=signin_challenges.c.failures + 1)
            )

    def finish_challenge(self, id_hash: str) -> bool:
        """Use the pending step up; True for exactly one caller."""
        with self.engine.begin() as conn:
            removed = conn.execute(
                delete(signin_challenges).where(signin_challenges.c.id_hash == id_hash)
            ).rowcount
        return removed == 1

    # The org rule

    def set_required(self, org_id: str, required: bool, by: str, now: datetime) -> bool:
        """Require (or stop requiring) a second factor in the org; True if that changed."""
        try:
            return self._set_required(org_id, required, by, now)
        except IntegrityError:  # another admin turned it on at the same moment
            return False

    def _set_required(self, org_id: str, required: bool, by: str, now: datetime) -> bool:
        with self.engine.begin() as conn:
            if not required:
                return (
                    conn.execute(
                        delete(org_second_factor_rules).where(
                            org_second_factor_rules.c.org_id == org_id
                        )
                    ).rowcount
                    > 0
                )
            if self._required(conn, org_id):
                return False
            conn.execute(
                insert(org_second_factor_rules).values(
                    org_id=org_id, required_since=now, required_by=by
                )
            )
        return True

    def required(self, org_id: str) -> bool:
        with self.engine.connect() as conn:
            return self._required(conn, org_id)

    @staticmethod
    def _required(conn: Connection, org_id: str) -> bool:
        found = conn.execute(
            select(org_second_factor_rules.c.org_id).where(
                org_second_factor_rules.c.org_id == org_id
            )
        ).first()
        return found is not None

    def enabled_among(self, user_ids: list[str]) -> set[str]:
        """Which of these accounts have a second factor on (for an org's member list)."""
        if not user_ids:
            return set()
        with self.engine.connect() as conn:
            found = conn.execute(
                select(second_factors.c.user_id).where(
                    and_(
                        second_factors.c.user_id.in_(user_ids),
                        second_factors.c.confirmed_at.is_not(None),
                    )
                )
            ).scalars()
            return set(found)

    def password_users_among(self, user_ids: list[str]) -> set[str]:
        """Which of these accounts sign in with a password (the rule applies to them)."""
        if not user_ids:
            return set()
        with self.engine.connect() as conn:
            found = conn.execute(
                select(users.c.id).where(
                    users.c.id.in_(user_ids), users.c.password_hash.is_not(None)
                )
            ).scalars()
            return set(found)

    # Master key rotation

    def all_sealed(self) -> list[tuple[str, SealedSecret]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(second_factors)).mappings().all()
        return [(row["user_id"], _sealed(row)) for row in rows]

    def store_rewrapped(self, user_id: str, sealed: SealedSecret) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(second_factors)
                .where(second_factors.c.user_id == user_id)
                .values(
                    wrapped_key=sealed.wrapped_key, master_key_version=sealed.master_key_version
                )
            )

    def master_versions(self) -> set[int]:
        with self.engine.connect() as conn:
            return set(
                conn.execute(select(second_factors.c.master_key_version).distinct()).scalars()
            )


def erase_second_factor(conn: Connection, erasure: Erasure) -> None:
    """An erased member's sign-in challenges in the org end; with their account, their
    second factor and recovery codes go (caller's transaction)."""
    c = signin_challenges.c
    theirs = [c.user_id == erasure.user_id]
    if not erasure.whole_account:
        theirs.append(c.org_id == erasure.org_id)
    conn.execute(delete(signin_challenges).where(*theirs))
    if erasure.whole_account:
        conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == erasure.user_id))
        conn.execute(delete(second_factors).where(second_factors.c.user_id == erasure.user_id))
