"""Personal API tokens (only their hashes are stored)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, delete, select, update

from chatgrid.errors import NotFound
from chatgrid.governance.erasure import Erasure
from chatgrid.identity.models import ApiToken
from chatgrid.identity.tokens import display_prefix, generate_token, hash_token
from chatgrid.store.ids import new_id
from chatgrid.store.tables import api_tokens, members, orgs
from chatgrid.store.types import utcnow


@dataclass(frozen=True)
class TokenOwner:
    """What the gateway needs to know about the holder of a token."""

    token_id: str
    org_id: str
    member_id: str
    expires_at: datetime | None
    usable: bool


def _token(row: Mapping[Any, Any]) -> ApiToken:
    return ApiToken(
        id=row["id"],
        org_id=row["org_id"],
        member_id=row["member_id"],
        prefix=row["prefix"],
        name=row["name"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )


def _revoke(conn: Connection, org_id: str, which: ColumnElement[bool], at: datetime) -> int:
    revoked = conn.execute(
        update(api_tokens)
        .where(api_tokens.c.org_id == org_id, which, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return int(revoked.rowcount)


def revoke_member_tokens(conn: Connection, org_id: str, member_id: str, at: datetime) -> int:
    """Revoke a member's live tokens in one org, in the caller's transaction (removal)."""
    return _revoke(conn, org_id, api_tokens.c.member_id == member_id, at)


class TokenRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(
        self, org_id: str, member_id: str, *, name: str = "", expires_at: datetime | None = None
    ) -> tuple[ApiToken, str]:
        """Store a new token's hash; the plaintext is returned once and never kept."""
        plain = generate_token()
        row = {
            "id": new_id("tok"),
            "org_id": org_id,
            "member_id": member_id,
            "token_hash": hash_token(plain),
            "prefix": display_prefix(plain),
            "name": name,
            "created_at": utcnow(),
            "expires_at": expires_at,
            "revoked_at": None,
        }
        with self.engine.begin() as conn:
            conn.execute(api_tokens.insert().values(**row))
        return _token(row), plain

    def list(self, org_id: str, member_id: str | None = None) -> list[ApiToken]:
        query = select(api_tokens).where(api_tokens.c.org_id == org_id)
        if member_id is not None:
            query = query.where(api_tokens.c.member_id == member_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(api_tokens.c.created_at)).mappings().all()
        return [_token(row) for row in rows]

    def revoke(self, org_id: str, token_id: str) -> None:
        with self.engine.begin() as conn:
            revoked = _revoke(conn, org_id, api_tokens.c.id == token_id, utcnow())
        if revoked == 0:
            raise NotFound("no such active token", code="token_not_found")

    def owner_of(self, token_hash: str) -> TokenOwner | None:
        """Resolve a presented token (the gateway caches the answer)."""
        query = (
            select(
                api_tokens.c.id,
                api_tokens.c.org_id,
                api_tokens.c.member_id,
                api_tokens.c.expires_at,
                api_tokens.c.revoked_at,
                members.c.status.label("member_status"),
            )
            .join(members, members.c.id == api_tokens.c.member_id)
            .join(orgs, orgs.c.id == api_tokens.c.org_id)
            .where(api_tokens.c.token_hash == token_hash)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return TokenOwner(
            token_id=row.id,
            org_id=row.org_id,
            member_id=row.member_id,
            expires_at=row.expires_at,
            usable=row.revoked_at is None and row.member_status == "active",
        )


def erase_member_tokens(conn: Connection, erasure: Erasure) -> int:
    """Delete an erased member's tokens (revoked or not), in the caller's transaction."""
    gone = conn.execute(
        delete(api_tokens).where(
            api_tokens.c.org_id == erasure.org_id, api_tokens.c.member_id == erasure.member_id
        )
    )
    return int(gone.rowcount)
