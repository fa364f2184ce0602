"""Claims on email domains, and the one lookup sign-in will trust: who holds a domain verified."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from chatgrid.errors import Conflict, NotFound
from chatgrid.governance.erasure import Erasure
from chatgrid.identity.domains import EmailDomain
from chatgrid.store.ids import new_id
from chatgrid.store.tables import email_domains, orgs
from chatgrid.store.types import utcnow

_TAKEN = (
    "{domain} is already verified by another organization: a domain belongs to one "
    "organization at a time. If it is yours, that organization (or the operator) must "
    "remove it first"
)


def _domain(row: Mapping[Any, Any]) -> EmailDomain:
    return EmailDomain(
        id=row["id"],
        org_id=row["org_id"],
        domain=row["domain"],
        token=row["token"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        verified_at=row["verified_at"],
    )


def domain_taken(domain: str) -> Conflict:
    return Conflict(_TAKEN.format(domain=domain), code="domain_taken", param="domain")


class DomainRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim(
        self, org_id: str, domain: str, token: str, *, created_by: str | None, limit: int
    ) -> EmailDomain:
        """A new pending claim, refused past ``limit`` claims for the org or when already made.

        The org's row is locked first (PostgreSQL), and the count is read after
        the insert (SQLite holds its write lock by then), so two claims racing
        for the last place cannot both get it.
        """
        row = {
            "id": new_id("dom"),
            "org_id": org_id,
            "domain": domain,
            "token": token,
            "created_at": utcnow(),
            "created_by": created_by,
            "verified_at": None,
            "verified_domain": None,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(select(orgs.c.id).where(orgs.c.id == org_id).with_for_update())
                conn.execute(email_domains.insert().values(**row))
                count = conn.execute(
                    select(func.count())
                    .select_from(email_domains)
                    .where(email_domains.c.org_id == org_id)
                ).scalar_one()
                if int(count) > limit:
                    raise Conflict(
                        f"an organization can claim at most {limit} domains; "
                        "remove one it no longer needs first",
                        code="domain_limit",
                    )
        except IntegrityError:
            raise Conflict(
                f"{domain} is already claimed by this organization", code="domain_claimed"
            ) from None
        return _domain(row)

    def list(self, org_id: str) -> list[EmailDomain]:
        query = (
            select(email_domains)
            .where(email_domains.c.org_id == org_id)
            .order_by(email_domains.c.domain)
        )
        with self.engine.connect() as conn:
            return [_domain(r) for r in conn.execute(query).mappings()]

    def get(self, org_id: str, domain_id: str) -> EmailDomain:
        """This org's claim with this id (another org's is the same 404 as none)."""
        return self._one(org_id, email_domains.c.id == domain_id)

    def find(self, org_id: str, domain: str) -> EmailDomain:
        """This org's claim on a normalized domain name (the CLI names domains, not ids)."""
        return self._one(org_id, email_domains.c.domain == domain)

    def _one(self, org_id: str, where: Any) -> EmailDomain:
        query = select(email_domains).where(email_domains.c.org_id == org_id, where)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            raise NotFound("no such domain in this organization", code="domain_not_found")
        return _domain(row)

    def mark_verified(self, org_id: str, domain_id: str) -> EmailDomain:
        """Hold the claim's domain verified; ``Conflict`` when another org holds it already.

        The unique ``verified_domain`` column decides, so of two orgs verifying
        the same domain at the same moment exactly one succeeds.
        """
        claim = self.get(org_id, domain_id)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    update(email_domains)
                    .where(email_domains.c.org_id == org_id, email_domains.c.id == domain_id)
                    .values(verified_at=utcnow(), verified_domain=email_domains.c.domain)
                )
        except IntegrityError:
            raise domain_taken(claim.domain) from None
        return self.get(org_id, domain_id)

    def remove(self, org_id: str, domain_id: str) -> None:
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(email_domains).where(
                    email_domains.c.org_id == org_id, email_domains.c.id == domain_id
                )
            )
        if result.rowcount == 0:
            raise NotFound("no such domain in this organization", code="domain_not_found")

    def verified_owner(self, domain: str) -> str | None:
        """The id of the org holding ``domain`` (normalized, as ``normalize_domain`` spells it)
        verified, or None. Across orgs on purpose: it answers "whose is this address?".

        Exact names only: verifying ``example.com`` says nothing about ``mail.example.com``.
        """
        query = select(email_domains.c.org_id).where(email_domains.c.verified_domain == domain)
        with self.engine.connect() as conn:
            org_id = conn.execute(query).scalar_one_or_none()
        return None if org_id is None else str(org_id)


def erase_domain_author(conn: Connection, erasure: Erasure) -> None:
    """The domains an erased member verified name the alias as their author."""
    d = email_domains.c
    conn.execute(
        update(email_domains)
        .where(d.org_id == erasure.org_id, d.created_by == erasure.email)
        .values(created_by=erasure.alias_email)
    )
