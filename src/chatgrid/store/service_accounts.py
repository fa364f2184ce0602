"""Service accounts and their tokens: one org's non-member callers, tokens as SHA-256 hashes.

An account has at most one live token: rotating revokes the old one and
stores the new one in the same transaction, and revoking the account
revokes its token with it. The gateway and the admin API resolve a
presented token through ``holder_of``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from chatgrid.errors import NotFound
from chatgrid.store.ids import new_id
from chatgrid.store.tables import orgs, service_account_tokens, service_accounts
from chatgrid.store.types import utcnow


@dataclass(frozen=True)
class ServiceAccount:
    id: str
    org_id: str
    name: str
    scope: str  # "v1" or "admin"
    created_at: datetime
    revoked_at: datetime | None
    token_id: str | None  # the live token, if any
    token_prefix: str | None


@dataclass(frozen=True)
class TokenHolder:
    """What a presented service token resolves to."""

    account: ServiceAccount
    token_id: str
    usable: bool  # the token and the account live, the org not deleted


def _account(row: Mapping[Any, Any]) -> ServiceAccount:
    return ServiceAccount(
        id=row["id"],
        org_id=row["org_id"],
        name=row["name"],
        scope=row["scope"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        token_id=row.get("token_id"),
        token_prefix=row.get("token_prefix"),
    )


_live_token = service_account_tokens.alias("live_token")


def _accounts_query() -> Any:
    return select(
        service_accounts,
        _live_token.c.id.label("token_id"),
        _live_token.c.prefix.label("token_prefix"),
    ).outerjoin(
        _live_token,
        (_live_token.c.service_account_id == service_accounts.c.id)
        & _live_token.c.revoked_at.is_(None),
    )


def _insert_token(conn: Connection, account_id: str, org_id: str, prefix: str, hashed: str) -> str:
    token_id = new_id("sat")
    conn.execute(
        service_account_tokens.insert().values(
            id=token_id,
            service_account_id=account_id,
            org_id=org_id,
            prefix=prefix,
            token_hash=hashed,
            created_at=utcnow(),
            revoked_at=None,
        )
    )
    return token_id


def _revoke_tokens(conn: Connection, account_id: str, at: datetime) -> None:
    conn.execute(
        update(service_account_tokens)
        .where(
            service_account_tokens.c.service_account_id == account_id,
            service_account_tokens.c.revoked_at.is_(None),
        )
        .values(revoked_at=at)
    )


class ServiceAccountRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(
        self, org_id: str, name: str, scope: str, prefix: str, token_hash: str
    ) -> ServiceAccount:
        account_id = new_id("sa")
        with self.engine.begin() as conn:
            conn.execute(
                service_accounts.insert().values(
                    id=account_id,
                    org_id=org_id,
                    name=name,
                    scope=scope,
                    created_at=utcnow(),
                    revoked_at=None,
                )
            )
            _insert_token(conn, account_id, org_id, prefix, token_hash)
        return self.get(org_id, account_id)

    def list(self, org_id: str) -> list[ServiceAccount]:
        query = (
            _accounts_query()
            .where(service_accounts.c.org_id == org_id)
            .order_by(service_accounts.c.created_at, service_accounts.c.id)
        )
        with self.engine.connect() as conn:
            return [_account(row) for row in conn.execute(query).mappings()]

    def get(self, org_id: str, account_id: str) -> ServiceAccount:
        """An account of this org (revoked ones included), or ``NotFound``."""
        query = _accounts_query().where(
            service_accounts.c.org_id == org_id, service_accounts.c.id == account_id
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            raise NotFound("no such service account", code="service_account_not_found")
        return _account(row)

    def rotate(self, org_id: str, account_id: str, prefix: str, token_hash: str) -> ServiceAccount:
        """The live token replaced by a new one in one transaction (the old one dies with it)."""
        with self.engine.begin() as conn:
            live = conn.execute(
                select(service_accounts.c.id).where(
                    service_accounts.c.org_id == org_id,
                    service_accounts.c.id == account_id,
                    service_accounts.c.revoked_at.is_(None),
                )
            ).first()
            if live is None:
                raise NotFound("no such active service account", code="service_account_not_found")
            _revoke_tokens(conn, account_id, utcnow())
            _insert_token(conn, account_id, org_id, prefix, token_hash)
        return self.get(org_id, account_id)

    def revoke(self, org_id: str, account_id: str) -> ServiceAccount:
        """The account and its token, revoked together; an account revoked before is a 404."""
        found = self.get(org_id, account_id)
        now = utcnow()
        with self.engine.begin() as conn:
            revoked = conn.execute(
                update(service_accounts)
                .where(
                    service_accounts.c.org_id == org_id,
                    service_accounts.c.id == account_id,
                    service_accounts.c.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            )
            if revoked.rowcount == 0:
                raise NotFound("no such active service account", code="service_account_not_found")
            _revoke_tokens(conn, account_id, now)
        return replace(found, revoked_at=now)

    def holder_of(self, token_hash: str) -> TokenHolder | None:
        """Resolve a presented token (the gateway caches the answer until the next change)."""
        t = service_account_tokens.c
        query = (
            select(
                service_accounts,
                t.id.label("token_id"),
                t.prefix.label("token_prefix"),
                t.revoked_at.label("token_revoked_at"),
            )
            .select_from(service_account_tokens)
            .join(service_accounts, service_accounts.c.id == t.service_account_id)
            .join(orgs, orgs.c.id == t.org_id)
            .where(t.token_hash == token_hash)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        usable = row["token_revoked_at"] is None and row["revoked_at"] is None
        return TokenHolder(_account(row), row["token_id"], usable)
