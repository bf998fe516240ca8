"""Small helpers shared by the built-in kinds."""

from __future__ import annotations

from decimal import Decimal

from promokit.money import round_half_up

_HUNDRED = Decimal(100)


def percent_of(amount: int, percent: Decimal) -> int:
    """``amount × percent / 100``, rounded half-up to a minor unit."""
    return round_half_up(Decimal(amount) * percent / _HUNDRED)
