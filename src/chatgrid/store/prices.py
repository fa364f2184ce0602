"""The stored price book: dated token prices (``prices``) and unit prices (``unit_prices``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from chatgrid.ledger.defaults import default_prices
from chatgrid.ledger.pricing import Price, PriceBook
from chatgrid.ledger.units import DEFAULT_UNIT_PRICES, DatedUnitPrices, UnitPrice
from chatgrid.store.tables import prices, unit_prices


class PriceRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def book(self) -> PriceBook:
        with self.engine.connect() as conn:
            rows = conn.execute(select(prices)).mappings().all()
        return PriceBook(
            Price(
                model=row["model"],
                effective_from=row["effective_from"],
                input_per_mtok=row["input_per_mtok"],
                cached_input_per_mtok=row["cached_input_per_mtok"],
                output_per_mtok=row["output_per_mtok"],
                cache_write_per_mtok=row["cache_write_per_mtok"],
                cache_write_1h_per_mtok=row["cache_write_1h_per_mtok"],
            )
            for row in rows
        )

    def add(self, price: Price) -> None:
        """Add a dated price; an existing (model, date) is left as it is."""
        with self.engine.begin() as conn:
            exists = conn.execute(
                select(prices.c.id).where(
                    prices.c.model == price.model, prices.c.effective_from == price.effective_from
                )
            ).first()
            if exists is None:
                conn.execute(
                    prices.insert().values(
                        model=price.model,
                        effective_from=price.effective_from,
                        input_per_mtok=price.input_per_mtok,
                        cached_input_per_mtok=price.cached_input_per_mtok,
                        output_per_mtok=price.output_per_mtok,
                        cache_write_per_mtok=price.cache_write_per_mtok,
                        cache_write_1h_per_mtok=price.cache_write_1h_per_mtok,
                    )
                )

    def unit_prices(self) -> DatedUnitPrices:
        with self.engine.connect() as conn:
            rows = conn.execute(select(unit_prices)).mappings().all()
        return DatedUnitPrices(
            UnitPrice(
                model=row["model"],
                kind=row["kind"],
                micros=row["micros"],
                variant=row["variant"],
                effective_from=row["effective_from"],
            )
            for row in rows
        )

    def add_units(self, added: Iterable[UnitPrice]) -> list[UnitPrice]:
        """Add dated unit prices; an existing (model, variant, date) is left as it is.

        Returns the prices added.
        """
        u = unit_prices.c
        new: list[UnitPrice] = []
        with self.engine.begin() as conn:
            rows = conn.execute(select(u.model, u.variant, u.effective_from))
            stored = {(row.model, row.variant, row.effective_from) for row in rows}
            for price in added:
                key = (price.model, price.variant, price.effective_from)
                if key in stored:
                    continue
                stored.add(key)
                conn.execute(
                    unit_prices.insert().values(
                        model=price.model,
                        kind=price.kind,
                        variant=price.variant,
                        effective_from=price.effective_from,
                        micros=price.micros,
                        created_at=datetime.now(UTC),
                    )
                )
                new.append(price)
        return new

    def seed_defaults(self) -> None:
        for price in default_prices():
            self.add(price)
        self.add_units(DEFAULT_UNIT_PRICES)
