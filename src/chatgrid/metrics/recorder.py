"""The metrics ChatGrid records as it serves, and the one place they are defined.

Nothing here times anything on the ``/v1`` path: a call is recorded once,
after it is settled, from its ledger entry (which already carries its
timings, outcome, mode and provider) plus the two clock readings the gateway
takes anyway. Every label value comes from a small closed set (endpoints,
statuses, modes, providers, outcomes): no org, member, token, email or key
ever becomes a label, so the number of series stays small however many
tenants there are.

Children (one labelled series each) are cached in plain dicts, so recording a
call is a dict look-up and an increment, not prometheus-client's locked
``labels()`` look-up.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from chatgrid.ledger.entries import LedgerEntry
from chatgrid.providers.base import Provider

ADDED_BUCKETS: Final = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
"""ChatGrid's own time: well under a millisecond to a second."""
UPSTREAM_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
"""An upstream's time: tens of milliseconds to a long stream's minutes."""
COMMIT_BUCKETS: Final = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1.0)

ENDPOINTS: Final = {
    "/v1/chat/completions": "chat",
    "/v1/embeddings": "embeddings",
    "/v1/models": "models",
    "/v1/responses": "responses",
    "/v1/moderations": "moderations",
    "/v1/images/generations": "images",
    "/v1/audio/transcriptions": "transcriptions",
    "/v1/audio/speech": "speech",
}
#: A request answered without a call upstream (a refusal, a model listing): the mode is
#: not looked up for it, so refusals cost nothing extra.
UNKNOWN_MODE: Final = "unknown"
#: Outcomes of a call whose upstream did not answer as it should.
_UPSTREAM_FAILURES: Final = frozenset(
    {"upstream_unreachable", "upstream_timeout", "upstream_cut", "pool_key_failover"}
)


def endpoint_of(path: str) -> str:
    """The ``endpoint`` label of a ``/v1`` path (one label for every unknown URL)."""
    found = ENDPOINTS.get(path)
    if found is not None:
        return found
    return "models" if path.startswith("/v1/models/") else "other"


def is_upstream_error(entry: LedgerEntry) -> bool:
    """An upstream error: it answered other than 200, or never answered or ended properly."""
    return entry.status_code != 200 or entry.outcome in _UPSTREAM_FAILURES


class Metrics:
    """One process's metrics. With ``multiprocess`` they live in prometheus-client's
    per-process files (``metrics/processes.py``) and ``registry`` stays empty;
    otherwise they are registered on ``registry``, which ``/metrics`` renders."""

    def __init__(self, *, multiprocess: bool = False) -> None:
        self.multiprocess = multiprocess
        self.registry = CollectorRegistry(auto_describe=True)
        r = None if multiprocess else self.registry
        self.requests = Counter(
            "chatgrid_requests",
            "/v1 requests answered, by endpoint, HTTP status and the org's billing mode.",
            ["endpoint", "status", "mode"],
            registry=r,
        )
        self.added = Histogram(
            "chatgrid_added_seconds",
            "ChatGrid's own time on a relayed /v1 call: the whole request less the upstream's.",
            ["endpoint"],
            buckets=ADDED_BUCKETS,
            registry=r,
        )
        self.upstream = Histogram(
            "chatgrid_upstream_seconds",
            "The upstream's time per call (/v1 and the workspace), from sending to its last byte.",
            ["endpoint", "provider"],
            buckets=UPSTREAM_BUCKETS,
            registry=r,
        )
        self.first_byte = Histogram(
            "chatgrid_upstream_first_byte_seconds",
            "The upstream's time to its answer's headers (a stream's first byte).",
            ["endpoint", "provider"],
            buckets=UPSTREAM_BUCKETS,
            registry=r,
        )
        self.upstream_errors = Counter(
            "chatgrid_upstream_errors",
            "Upstream calls that failed, by provider, the upstream's status and the outcome.",
            ["provider", "status", "outcome"],
            registry=r,
        )
        self.ledger_depth = Gauge(
            "chatgrid_ledger_queue_depth",
            "Ledger entries handed in and not yet committed, when a batch starts and ends.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.ledger_commit = Histogram(
            "chatgrid_ledger_commit_seconds",
            "Time to commit one batch of ledger entries.",
            buckets=COMMIT_BUCKETS,
            registry=r,
        )
        self.ledger_entries = Counter(
            "chatgrid_ledger_entries",
            "Ledger entries written (result=committed) or lost to a failed commit (failed).",
            ["result"],
            registry=r,
        )
        self.limit_decisions = Counter(
            "chatgrid_limit_decisions",
            "Rate-limit checks: admitted, refused (429) or unavailable (Redis down, 503).",
            ["decision"],
            registry=r,
        )
        self.reservation_decisions = Counter(
            "chatgrid_reservation_decisions",
            "Shared-credit reservations: reserved, refused (cap reached) or unavailable.",
            ["decision"],
            registry=r,
        )
        self.pool_failovers = Counter(
            "chatgrid_pool_key_failovers",
            "A pooled key failed before the first byte and the call moved to another key.",
            ["provider"],
            registry=r,
        )
        # Known label values start at 0, so a rate is defined before the first event.
        for result in ("committed", "failed"):
            self.ledger_entries.labels(result)
        for decision in ("admitted", "refused", "unavailable"):
            self.limit_decisions.labels(decision)
        for decision in ("reserved", "refused", "unavailable"):
            self.reservation_decisions.labels(decision)
        for provider in Provider:
            self.pool_failovers.labels(provider.value)
        self._requests: dict[tuple[str, int, str], Counter] = {}
        self._added: dict[str, Histogram] = {}
        self._upstream: dict[tuple[str, str], tuple[Histogram, Histogram]] = {}

    def request(self, endpoint: str, status: int, mode: str) -> None:
        """A ``/v1`` request answered with ``status``."""
        key = (endpoint, status, mode)
        child = self._requests.get(key)
        if child is None:
            child = self._requests[key] = self.requests.labels(endpoint, str(status), mode)
        child.inc()

    def relayed(self, endpoint: str, status: int, entry: LedgerEntry, added: float) -> None:
        """A ``/v1`` request that went upstream: counted, and ChatGrid's own time observed."""
        self.request(endpoint, status, entry.mode)
        child = self._added.get(endpoint)
        if child is None:
            child = self._added[endpoint] = self.added.labels(endpoint)
        child.observe(added if added > 0 else 0.0)

    def upstream_call(self, entry: LedgerEntry, seconds: float, first_byte: float | None) -> None:
        """One settled upstream call (``/v1`` or the workspace), from its entry."""
        key = (entry.endpoint, entry.provider)
        children = self._upstream.get(key)
        if children is None:
            children = self._upstream[key] = (
                self.upstream.labels(*key),
                self.first_byte.labels(*key),
            )
        children[0].observe(seconds if seconds > 0 else 0.0)
        if first_byte is not None:
            children[1].observe(first_byte if first_byte > 0 else 0.0)
        if entry.status_code != 200 or entry.outcome in _UPSTREAM_FAILURES:
            self.upstream_error(entry.provider, entry.status_code, entry.outcome)

    def upstream_error(self, provider: str, status: int | None, outcome: str) -> None:
        """Rare: looked up each time."""
        label = "none" if status is None else str(status)
        self.upstream_errors.labels(provider, label, outcome).inc()

    def pool_failover(self, provider: str, status: int | None) -> None:
        """A pooled key's failed attempt that another key took over (its own error too)."""
        self.pool_failovers.labels(provider).inc()
        self.upstream_error(provider, status, "pool_key_failover")

    def ledger_batch(self, entries: int, seconds: float, committed: bool, waiting: int) -> None:
        """One ledger batch written (or not), and how many entries wait after it."""
        self.ledger_commit.observe(seconds)
        self.ledger_entries.labels("committed" if committed else "failed").inc(entries)
        self.ledger_depth.set(waiting)

    def ledger_waiting(self, waiting: int) -> None:
        self.ledger_depth.set(waiting)

    def limit_decision(self, decision: str) -> None:
        self.limit_decisions.labels(decision).inc()

    def reservation_decision(self, decision: str) -> None:
        self.reservation_decisions.labels(decision).inc()
