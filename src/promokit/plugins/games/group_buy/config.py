"""A group buy's config: :class:`Tier`, :class:`GroupBuyConfig` and the
tiers' parsing helper :meth:`GroupBuy.parse` uses."""

from __future__ import annotations

import attrs

from promokit.money import Currency
from promokit.params import Params


@attrs.frozen
class Tier:
    """The unit price of a group of at least ``size`` members."""

    size: int
    price: int


@attrs.frozen(kw_only=True)
class GroupBuyConfig:
    """A group buy's own keys, parsed. Without ``tiers`` in the file, ``tiers`` holds
    one tier: ``(size, price)``."""

    sku: str
    tiers: tuple[Tier, ...]
    currency: Currency
    """The campaign file's currency (prices are its minor units)."""
    tiered: bool = False
    window_hours: int = 24
    new_customers_only: bool = False
    max_groups_per_customer: int | None = None
    auto_complete: bool = False
    max_units: int = 1

    @property
    def size(self) -> int:
        """Members that fill a group (the largest tier's size)."""
        return self.tiers[-1].size

    @property
    def needed(self) -> int:
        """Members a group needs to succeed at its window's end (the smallest tier)."""
        return self.tiers[0].size

    @property
    def price(self) -> int:
        """The unit price paid up front (the first tier's)."""
        return self.tiers[0].price

    def price_at(self, members: int) -> int | None:
        """The unit price of a group of ``members``; ``None`` below the smallest tier."""
        prices = [tier.price for tier in self.tiers if tier.size <= members]
        return prices[-1] if prices else None


def read_tiers(tables: list[Params]) -> tuple[Tier, ...] | None:
    tiers: list[Tier] = []
    for table in tables:
        size = table.integer("size", minimum=2)
        price = table.money("price", positive=True)
        table.finish()
        if size is None or price is None:
            return None
        if tiers and size <= tiers[-1].size:
            table.problem(f"sizes must increase from tier to tier ({tiers[-1].size} before)",
                          "size")
            return None
        if tiers and price >= tiers[-1].price:
            table.problem("a larger group must have a lower price than "
                          f"{table.currency.format(tiers[-1].price)}", "price")
            return None
        tiers.append(Tier(size, price))
    return tuple(tiers)
