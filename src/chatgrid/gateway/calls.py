"""One upstream call as admission planned it, and the ledger entry it ends in.

A plan is what admission decided (caller, route, target, URL, price); the
relay reads it and returns the entry it wrote. Nothing travels back on the
plan: what a call used and cost is in its entry, and settling limits,
reservations and a pooled key's budget reads it from there.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime

from chatgrid.gateway.bodies import PreparedCall
from chatgrid.gateway.directory import Caller, OrgRoute
from chatgrid.identity.models import BillingMode
from chatgrid.ledger.entries import LedgerEntry
from chatgrid.ledger.pricing import Price, Usage, cost_of
from chatgrid.ledger.units import UnitPriceBook, Units, units_cost
from chatgrid.providers import UpstreamTarget

NO_USAGE = Usage(prompt_tokens=0, cached_tokens=0, completion_tokens=0)


def new_call_id() -> str:
    return "call_" + secrets.token_hex(12)


@dataclass(slots=True)
class CallPlan:
    call_id: str
    caller: Caller
    route: OrgRoute
    target: UpstreamTarget
    url: str
    prepared: PreparedCall
    price: Price | None
    #: The unit prices in force when the call started (images, audio, speech).
    unit_prices: UnitPriceBook
    client_addr: str | None
    started_at: datetime
    pool_key_id: str | None = None
    #: The request that made the call (``request_ids``; None: background work).
    request_id: str | None = None
    started: float = field(default_factory=time.perf_counter)

    def elapsed_ms(self) -> int:
        return int((time.perf_counter() - self.started) * 1000)

    def entry(
        self,
        *,
        usage: Usage | None,
        estimated: bool,
        status_code: int,
        outcome: str,
        upstream_request_id: str | None,
        first_byte_ms: int | None,
        units: Units | None = None,
    ) -> LedgerEntry:
        """The call's ledger entry: its usage priced by the plan's price and markup.

        A call priced by units is priced by ``units`` (else the prepared call's bound).
        """
        finished = time.perf_counter()
        used = usage or NO_USAGE
        shared = self.route.mode is BillingMode.SHARED
        list_cost: int | None = None
        charged = 0
        if units is None:
            units = self.prepared.units
        if status_code != 200:
            units = None
        unit_price = None
        if units is not None:
            model = self.prepared.model
            book = self.unit_prices
            unit_price = book.price_for(model, units.variant) or book.dearest(model)
        if unit_price is not None and units is not None:
            # Priced by its units alone (tokens an image model reports are recorded, not charged).
            cost = units_cost(units, unit_price, markup_bps=self.route.markup_bps, charge=shared)
            list_cost, charged = cost.list_micros, cost.charged_micros
        elif self.price is not None:
            cost = cost_of(used, self.price, markup_bps=self.route.markup_bps, charge_tokens=shared)
            list_cost, charged = cost.list_micros, cost.charged_micros
        return LedgerEntry(
            call_id=self.call_id,
            org_id=self.caller.org_id,
            member_id=self.caller.member_id,
            token_id=self.caller.token_id,
            mode=self.route.mode.value,
            provider=self.target.provider.value,
            credential_fingerprint=self.target.fingerprint,
            endpoint=self.prepared.endpoint,
            model=self.prepared.model,
            stream=self.prepared.stream,
            prompt_tokens=used.prompt_tokens,
            cached_tokens=used.cached_tokens,
            completion_tokens=used.completion_tokens,
            usage_estimated=estimated,
            list_cost_micros=list_cost,
            charged_micros=charged,
            markup_bps=self.route.markup_bps if shared else 0,
            upstream_request_id=upstream_request_id,
            client_addr=self.client_addr,
            status_code=status_code,
            outcome=outcome,
            started_at=self.started_at,
            first_byte_ms=first_byte_ms,
            duration_ms=int((finished - self.started) * 1000),
            request_id=self.request_id,
            units_kind=units.kind if units is not None else None,
            units=units.count if units is not None else None,
            units_variant=(units.variant or None) if units is not None else None,
            cache_write_tokens=used.cache_write_tokens,
            cache_write_1h_tokens=used.cache_write_1h_tokens,
            finished=finished,
        )


def tokens_of(entry: LedgerEntry | None) -> int:
    """The tokens a finished call counts against tokens-per-minute limits (none if it failed)."""
    return 0 if entry is None else entry.prompt_tokens + entry.completion_tokens
