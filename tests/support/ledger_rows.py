"""Ledger rows and seat periods written straight to the database for billing tests."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import update

from chatgrid.context import AppContext
from chatgrid.ledger.entries import LedgerEntry
from chatgrid.store.ledger_writer import write_entries
from chatgrid.store.tables import seat_periods


def entry(
    org_id: str,
    member_id: str,
    started_at: datetime,
    *,
    charged: int,
    list_cost: int | None = None,
    model: str = "gpt-4o-mini",
    mode: str = "shared",
    markup_bps: int = 2000,
    tokens: tuple[int, int, int] = (10, 0, 5),
) -> LedgerEntry:
    prompt, cached, completion = tokens
    return LedgerEntry(
        call_id=f"call_{secrets.token_hex(10)}",
        org_id=org_id,
        member_id=member_id,
        token_id="tok_test",
        mode=mode,
        provider="openai",
        credential_fingerprint="fp_test",
        endpoint="chat.completions",
        model=model,
        stream=False,
        prompt_tokens=prompt,
        cached_tokens=cached,
        completion_tokens=completion,
        usage_estimated=False,
        list_cost_micros=charged if list_cost is None else list_cost,
        charged_micros=charged,
        markup_bps=markup_bps,
        upstream_request_id=None,
        client_addr=None,
        status_code=200,
        outcome="ok",
        started_at=started_at,
        first_byte_ms=1,
        duration_ms=2,
    )


def write(context: AppContext, entries: list[LedgerEntry]) -> None:
    with context.engine.connect() as conn:
        write_entries(conn, entries)


def move_seat(
    context: AppContext, member_id: str, started_at: datetime, ended_at: datetime | None = None
) -> None:
    """Pretend the member's seat was held from ``started_at`` (to ``ended_at``)."""
    with context.engine.begin() as conn:
        conn.execute(
            update(seat_periods)
            .where(seat_periods.c.member_id == member_id)
            .values(started_at=started_at, ended_at=ended_at)
        )
