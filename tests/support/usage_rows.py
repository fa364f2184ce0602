"""Ledger entries written straight to the database, for the usage and operator pages."""

from __future__ import annotations

import secrets
from datetime import datetime

from chatgrid.context import AppContext
from chatgrid.ledger.entries import LedgerEntry
from chatgrid.store.ledger_writer import write_entries


def entry(
    org_id: str,
    member_id: str,
    started_at: datetime,
    *,
    model: str = "gpt-4o-mini",
    mode: str = "byok",
    tokens: tuple[int, int] = (100, 50),
    list_cost: int | None = 1_000,
    charged: int = 0,
    fingerprint: str = "fp_test",
) -> LedgerEntry:
    prompt, completion = tokens
    return LedgerEntry(
        call_id=f"call_{secrets.token_hex(10)}",
        org_id=org_id,
        member_id=member_id,
        token_id="tok_test",
        mode=mode,
        provider="openai",
        credential_fingerprint=fingerprint,
        endpoint="chat.completions",
        model=model,
        stream=False,
        prompt_tokens=prompt,
        cached_tokens=0,
        completion_tokens=completion,
        usage_estimated=False,
        list_cost_micros=list_cost,
        charged_micros=charged,
        markup_bps=2000 if mode == "shared" else 0,
        upstream_request_id=f"req_{secrets.token_hex(8)}",
        client_addr="198.51.100.4",
        status_code=200,
        outcome="ok",
        started_at=started_at,
        first_byte_ms=1,
        duration_ms=2,
    )


def write(context: AppContext, entries: list[LedgerEntry]) -> None:
    with context.engine.connect() as conn:
        write_entries(conn, entries)
