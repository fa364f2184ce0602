"""Reading the ledger back (writing is ``chatgrid.store.ledger_writer``'s job)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, func, literal, select

from chatgrid.store.tables import (
    api_tokens,
    ledger_entries,
    members,
    service_account_tokens,
    service_accounts,
    users,
)

#: A service account's calls carry its id as ``member_id``; views name it by this label.
SERVICE_ACCOUNT_LABEL = "service-account:"


def _caller_label() -> ColumnElement[Any]:
    """The member's email, or ``service-account:NAME`` for a service account's calls."""
    account = literal(SERVICE_ACCOUNT_LABEL) + service_accounts.c.name
    return func.coalesce(users.c.email, account).label("member_email")


def _with_caller(query: Select[Any]) -> Select[Any]:
    e = ledger_entries.c
    return (
        query.outerjoin(members, members.c.id == e.member_id)
        .outerjoin(users, users.c.id == members.c.user_id)
        .outerjoin(
            service_accounts,
            (service_accounts.c.id == e.member_id) & (service_accounts.c.org_id == e.org_id),
        )
    )


class UsageRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def entries(
        self,
        org_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """An org's entries, oldest first, each with the member's email."""
        query = (
            _with_caller(select(ledger_entries, _caller_label()))
            .where(ledger_entries.c.org_id == org_id)
            .order_by(ledger_entries.c.id)
        )
        if since is not None:
            query = query.where(ledger_entries.c.started_at >= since)
        if until is not None:
            query = query.where(ledger_entries.c.started_at < until)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def last_used(self, org_id: str, fingerprint: str) -> datetime | None:
        """When a credential last carried a call (newest first on the org's time index)."""
        query = (
            select(ledger_entries.c.started_at)
            .where(
                ledger_entries.c.org_id == org_id,
                ledger_entries.c.credential_fingerprint == fingerprint,
            )
            .order_by(ledger_entries.c.started_at.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            value: datetime | None = conn.execute(query).scalar()
        return value

    def totals(self, org_id: str, *, since: datetime) -> dict[str, int]:
        """Calls, tokens and money of an org since a moment (the month's usage)."""
        e = ledger_entries.c
        query = select(
            func.count(),
            func.coalesce(func.sum(e.prompt_tokens), 0),
            func.coalesce(func.sum(e.completion_tokens), 0),
            func.coalesce(func.sum(e.list_cost_micros), 0),
            func.coalesce(func.sum(e.charged_micros), 0),
        ).where(e.org_id == org_id, e.started_at >= since)
        with self.engine.connect() as conn:
            row = conn.execute(query).one()
        return {
            "requests": int(row[0]),
            "prompt_tokens": int(row[1]),
            "completion_tokens": int(row[2]),
            "list_cost_micros": int(row[3]),
            "charged_micros": int(row[4]),
        }

    def calls(
        self,
        org_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """Where an org's upstream calls came from, newest first: who, which token, from where."""
        e = ledger_entries.c
        columns = select(
            e.id,
            e.started_at,
            e.model,
            e.endpoint,
            e.client_addr,
            e.upstream_request_id,
            e.request_id,
            e.status_code,
            e.outcome,
            e.prompt_tokens,
            e.completion_tokens,
            e.list_cost_micros,
            e.units_kind,
            e.units,
            e.units_variant,
            e.credential_fingerprint,
            _caller_label(),
            func.coalesce(api_tokens.c.prefix, service_account_tokens.c.prefix).label(
                "token_prefix"
            ),
        )
        query = (
            _with_caller(columns)
            .outerjoin(
                api_tokens, (api_tokens.c.id == e.token_id) & (api_tokens.c.org_id == e.org_id)
            )
            .outerjoin(
                service_account_tokens,
                (service_account_tokens.c.id == e.token_id)
                & (service_account_tokens.c.org_id == e.org_id),
            )
            .where(e.org_id == org_id)
            .order_by(e.started_at.desc(), e.id.desc())
            .limit(limit)
        )
        if since is not None:
            query = query.where(e.started_at >= since)
        if until is not None:
            query = query.where(e.started_at < until)
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def analytics_rows(
        self,
        org_id: str,
        *,
        since: datetime,
        until: datetime,
        member_id: str | None = None,
        model: str | None = None,
    ) -> list[dict[str, Any]]:
        """The columns analytics needs, for a range; bucketing by day is done in Python
        so it is the same on SQLite and PostgreSQL."""
        e = ledger_entries.c
        columns = select(
            e.started_at,
            e.member_id,
            _caller_label(),
            e.model,
            e.mode,
            e.prompt_tokens,
            e.completion_tokens,
            e.list_cost_micros,
            e.charged_micros,
            e.units_kind,
            e.units,
            e.units_variant,
        )
        query = (
            _with_caller(columns)
            .where(e.org_id == org_id, e.started_at >= since, e.started_at < until)
            .order_by(e.started_at, e.id)
        )
        if member_id is not None:
            query = query.where(e.member_id == member_id)
        if model is not None:
            query = query.where(e.model == model)
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def byok_openai_calls(
        self, org_id: str, *, since: datetime, until: datetime
    ) -> list[tuple[datetime, str, int, int]]:
        """(start, model, input tokens, output tokens) of the org's answered chat and responses
        calls on its own OpenAI key: what OpenAI's Usage API counts as completions."""
        e = ledger_entries.c
        query = (
            select(e.started_at, e.model, e.prompt_tokens, e.completion_tokens)
            .where(*_byok_openai_calls(org_id, since, until))
            .order_by(e.started_at, e.id)
        )
        with self.engine.connect() as conn:
            return [(row[0], str(row[1]), int(row[2]), int(row[3])) for row in conn.execute(query)]

    def byok_openai_list_cost(
        self, org_id: str, *, since: datetime, until: datetime
    ) -> list[tuple[datetime, int]]:
        """(start, list cost in micro-dollars) of the same calls as ``byok_openai_calls``:
        what OpenAI's Costs API charges the org for them."""
        e = ledger_entries.c
        query = (
            select(e.started_at, e.list_cost_micros)
            .where(*_byok_openai_calls(org_id, since, until))
            .order_by(e.started_at, e.id)
        )
        with self.engine.connect() as conn:
            return [(row[0], int(row[1] or 0)) for row in conn.execute(query)]

    def models_used(self, org_id: str) -> list[str]:
        """Every model an org's ledger names (the usage page's model filter)."""
        e = ledger_entries.c
        query = select(e.model).where(e.org_id == org_id).group_by(e.model).order_by(e.model)
        with self.engine.connect() as conn:
            return [str(m) for m in conn.execute(query).scalars()]

    def per_fingerprint(self, *, since: datetime) -> dict[str, dict[str, int]]:
        """Requests and list cost per upstream key (by fingerprint) since a moment."""
        e = ledger_entries.c
        query = (
            select(
                e.credential_fingerprint,
                func.count(),
                func.coalesce(func.sum(e.list_cost_micros), 0),
            )
            .where(e.started_at >= since, e.mode == "shared")
            .group_by(e.credential_fingerprint)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return {
            str(row[0]): {"requests": int(row[1]), "list_cost_micros": int(row[2])} for row in rows
        }


def _byok_openai_calls(org_id: str, since: datetime, until: datetime) -> list[Any]:
    """The org's answered chat and responses calls on its own OpenAI key in [since, until):
    what OpenAI's Usage and Costs APIs count."""
    e = ledger_entries.c
    return [
        e.org_id == org_id,
        e.started_at >= since,
        e.started_at < until,
        e.mode == "byok",
        e.provider == "openai",
        e.endpoint.in_(("chat", "responses")),
        e.status_code == 200,
    ]
