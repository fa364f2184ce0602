"""One usage entry per upstream call, as the gateway hands it to the ledger."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class LedgerEntry:
    call_id: str
    org_id: str
    member_id: str
    token_id: str
    mode: str
    provider: str
    credential_fingerprint: str
    endpoint: str
    model: str
    stream: bool
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    usage_estimated: bool
    list_cost_micros: int | None
    charged_micros: int
    markup_bps: int
    upstream_request_id: str | None
    client_addr: str | None
    status_code: int
    outcome: str
    started_at: datetime
    first_byte_ms: int | None
    duration_ms: int
    #: The request that made the call (its ``X-Request-Id``); None for background work.
    request_id: str | None = None
    #: A call priced by other units than tokens (``ledger.units``); None for token calls.
    units_kind: str | None = None
    units: int | None = None
    units_variant: str | None = None
    #: Of ``prompt_tokens``, those written to the prompt cache, and of those, kept an hour.
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    #: ``time.perf_counter()`` when the upstream's part of the call ended, in the process
    #: that made it (for ``/metrics``: the upstream's time apart from ChatGrid's). Not stored.
    finished: float = field(default=0.0, compare=False, repr=False)

    def as_row(self) -> dict[str, Any]:
        # Flat fields: getattr is several times cheaper than dataclasses.asdict.
        return {name: getattr(self, name) for name in _FIELD_NAMES}


_FIELD_NAMES = tuple(f.name for f in fields(LedgerEntry) if f.name != "finished")

EXPORT_FIELDS: tuple[str, ...] = (
    "call_id",
    "started_at",
    "org_id",
    "member_id",
    "member_email",
    "token_id",
    "mode",
    "provider",
    "credential_fingerprint",
    "endpoint",
    "model",
    "stream",
    "prompt_tokens",
    "cached_tokens",
    "completion_tokens",
    "usage_estimated",
    "list_cost_micros",
    "charged_micros",
    "markup_bps",
    "upstream_request_id",
    "client_addr",
    "status_code",
    "outcome",
    "first_byte_ms",
    "duration_ms",
    "request_id",
    "units_kind",
    "units",
    "units_variant",
    "cache_write_tokens",
    "cache_write_1h_tokens",
)
