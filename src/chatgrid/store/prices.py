"""The stored price book."""

from __future__ import annotations

from sqlalchemy import Engine, select

from chatgrid.ledger.defaults import default_prices
from chatgrid.ledger.pricing import Price, PriceBook
from chatgrid.store.tables import prices


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

    def seed_defaults(self) -> None:
        for price in default_prices():
            self.add(price)
