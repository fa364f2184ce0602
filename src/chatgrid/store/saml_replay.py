"""SAML's replay store: each assertion id is accepted once, by whichever replica is first.

One conditional insert decides (the hashed id is the primary key): two
replicas handed the same captured assertion get one yes and one no. Rows
whose assertion has expired are swept on the way, since an expired assertion
is refused by its own ``NotOnOrAfter`` before it gets here.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Engine, delete, insert
from sqlalchemy.exc import IntegrityError

from chatgrid.store.tables import saml_assertions_seen


def assertion_hash(issuer: str, assertion_id: str) -> str:
    """What is kept for an assertion: ids are unique per issuer, and never stored as sent."""
    return hashlib.sha256(f"{issuer}\n{assertion_id}".encode()).hexdigest()


class SamlReplayStore:
    """The only writer of ``saml_assertions_seen``."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def accept_once(
        self, org_id: str, issuer: str, assertion_id: str, expires_at: datetime, now: datetime
    ) -> bool:
        """True the first time this issuer's assertion id is seen, False ever after."""
        row = {
            "assertion_hash": assertion_hash(issuer, assertion_id),
            "org_id": org_id,
            "seen_at": now,
            "expires_at": expires_at,
        }
        with self._engine.begin() as conn:
            conn.execute(
                delete(saml_assertions_seen).where(saml_assertions_seen.c.expires_at < now)
            )
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(saml_assertions_seen).values(**row))
        except IntegrityError:
            return False
        return True
