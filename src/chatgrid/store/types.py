"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, DateTime, Integer, String, cast, func, or_
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from chatgrid.governance.erasure import Erasure

# SQLite only auto-increments an INTEGER PRIMARY KEY.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend.

    SQLite stores no zone; without this a value read back would be naive and
    comparisons with ``datetime.now(UTC)`` would raise.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def mentioning(erasure: Erasure, *columns: Any) -> ColumnElement[bool]:
    """Rows whose text or JSON columns may mention an erased person (their email, member id
    or account id): a coarse filter in SQL (``_`` matches any character), which
    ``Erasure.mentions`` makes exact."""
    patterns = [
        f"%{ident.lower()}%" for ident in (erasure.email, erasure.member_id, erasure.user_id)
    ]
    return or_(
        *(
            func.lower(cast(column, String)).like(pattern)
            for column in columns
            for pattern in patterns
        )
    )
