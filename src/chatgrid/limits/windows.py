"""What one request asks of the counters (pure values)."""

from __future__ import annotations

from dataclasses import dataclass

WINDOW_MS = 60_000
TOKEN_BUCKET_MS = 10_000  # tokens/minute is summed over six 10-second buckets


@dataclass(frozen=True)
class Admission:
    """The counters one call must pass, named by their keys' scopes.

    ``rates``: (scope, limit) — at most ``limit`` calls in any 60 s window.
    ``token_rates``: (scope, limit) — the tokens recorded in the last minute must be under it.
    ``concurrency``: (scope, limit) — at most ``limit`` calls in flight.
    """

    rates: tuple[tuple[str, int], ...] = ()
    token_rates: tuple[tuple[str, int], ...] = ()
    concurrency: tuple[tuple[str, int], ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.rates or self.token_rates or self.concurrency)


@dataclass(frozen=True)
class Refusal:
    scope: str
    kind: str  # "requests" | "tokens" | "concurrency"
    limit: int
    retry_after_seconds: int
