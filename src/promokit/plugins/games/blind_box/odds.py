"""The disclosed odds of the next draw: :func:`odds_of` and its
:class:`Odds` of every item (:class:`ItemOdds`) and tier."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import attrs

from promokit.money import Currency

from .config import BlindBoxConfig, Tier


@attrs.frozen(kw_only=True)
class ItemOdds:
    """One item's chance in the next draw (pity aside)."""

    id: str
    name: str | None
    """``None`` for a hidden item: customers learn it when they draw it."""
    tier: str
    hidden: bool
    value: int
    probability: Fraction
    quantity: int | None = None
    """The released quantity (finite pool)."""
    remaining: int | None = None


@attrs.frozen(kw_only=True)
class Odds:
    """The disclosed odds of the next draw: every item's and tier's probability,
    released quantities, what is left, and the range of declared values."""

    pool: str
    items: tuple[ItemOdds, ...]
    tiers: tuple[tuple[Tier, Fraction], ...]
    min_value: int
    max_value: int
    released: int | None
    remaining: int | None
    currency: Currency = attrs.field(eq=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data: probabilities as exact fractions and as percentages."""
        money = self.currency.to_decimal
        return {
            "pool": self.pool, "released": self.released, "remaining": self.remaining,
            "value_range": {"min": str(money(self.min_value)), "max": str(money(self.max_value))},
            "items": [{"id": o.id, "name": o.name, "tier": o.tier, "hidden": o.hidden,
                       "value": str(money(o.value)), "probability": str(o.probability),
                       "percent": percent_text(o.probability), "quantity": o.quantity,
                       "remaining": o.remaining} for o in self.items],
            "tiers": [{"id": t.id, "name": t.name, "probability": str(p),
                       "percent": percent_text(p)} for t, p in self.tiers]}


def percent_text(probability: Fraction) -> str:
    """``12.50`` for 1/8; rounded half up to two places."""
    hundredths = probability * 10_000
    whole = int(hundredths + Fraction(1, 2))
    return f"{whole // 100}.{whole % 100:02d}"


def odds_of(config: BlindBoxConfig, drawn: Mapping[str, int] | None = None) -> Odds:
    """The odds of the next draw, from the weights or from what is left of a
    finite pool after ``drawn``."""
    counts = config.counts(drawn)
    total = sum(counts.values())

    def chance(count: int) -> Fraction:
        return Fraction(count, total) if total else Fraction(0)

    items = tuple(ItemOdds(id=item.id, name=None if item.hidden else item.name,
                           tier=item.tier, hidden=item.hidden, value=item.value,
                           probability=chance(counts[item.id]), quantity=item.quantity,
                           remaining=counts[item.id] if config.finite else None)
                  for item in config.items)
    tiers = tuple((tier, chance(sum(counts[i.id] for i in config.items if i.tier == tier.id)))
                  for tier in config.tiers)
    values = [item.value for item in config.items]
    return Odds(pool=config.pool, items=items, tiers=tiers, min_value=min(values),
                max_value=max(values), released=config.released() if config.finite else None,
                remaining=total if config.finite else None, currency=config.currency)
