"""Exact splitting of an amount of minor units: largest-remainder allocation.

Pure functions over ints, so a discount spread over lines, or funding shares
of an adjustment, always add up to the amount exactly.

>>> allocate(1000, [1000, 1000, 1000])
[334, 333, 333]
>>> split_funding(8990, [("platform", Decimal("0.7")), ("merchant", Decimal("0.3"))])
{'platform': 6293, 'merchant': 2697}
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from math import gcd as _gcd

__all__ = ["allocate", "split_funding", "unit_runs", "unit_share_sum"]


def allocate(amount: int, weights: Sequence[int | Fraction | Decimal]) -> list[int]:
    """Split ``amount`` in proportion to ``weights`` by the largest-remainder method.

    Each share gets the floor of its exact share; the units left go one each
    to the largest remainders, equal remainders to the earlier position. The
    shares add up to ``amount``. Weights must be non-negative; if they are all
    zero, the split is equal.
    """
    if amount < 0:
        return [-share for share in allocate(-amount, weights)]
    count = len(weights)
    if count == 0:
        if amount:
            raise ValueError("cannot allocate a non-zero amount over no weights")
        return []
    ints: list[int]
    if all(type(w) is int for w in weights):
        ints = [int(w) for w in weights]  # the hot path: net amounts in minor units
    else:
        fractions = [Fraction(w) for w in weights]
        denominator = 1
        for f in fractions:
            denominator = denominator * f.denominator // _gcd(denominator, f.denominator)
        ints = [int(f * denominator) for f in fractions]
    if any(w < 0 for w in ints):
        raise ValueError("weights must not be negative")
    total = sum(ints)
    if total == 0:
        ints = [1] * count
        total = count
    shares = [amount * w // total for w in ints]
    left = amount - sum(shares)
    if left:
        # Largest remainder first; equal remainders: earlier position first.
        order = sorted(range(count), key=lambda i: (-(amount * ints[i] % total), i))
        for position in order[:left]:
            shares[position] += 1
    return shares


def split_funding(amount: int, shares: Sequence[tuple[str, Decimal]]) -> dict[str, int]:
    """Split ``amount`` between funding parties in the order they are listed.

    ``shares`` are ``(party, share)`` pairs whose shares add up to 1.
    """
    if len(shares) == 1:  # one party pays it all (the usual case)
        return {shares[0][0]: amount}
    parts = allocate(amount, [share for _, share in shares])
    return {party: part for (party, _), part in zip(shares, parts, strict=True)}


def unit_share_sum(amount: int, quantity: int, start: int = 0, stop: int | None = None) -> int:
    """The shares of units ``start`` … ``stop - 1`` when ``amount`` is spread equally
    over ``quantity`` units by largest remainder (the earlier units take the odd
    cents), added up: arithmetic on the quantity, never a list as long as it.

    >>> unit_share_sum(1000, 3), unit_share_sum(1000, 3, 0, 1), unit_share_sum(1000, 3, 1)
    (1000, 334, 666)
    """
    if amount < 0:
        raise ValueError(f"cannot spread a negative amount ({amount})")
    if quantity <= 0:
        return 0
    stop = quantity if stop is None else min(stop, quantity)
    start = max(start, 0)
    if stop <= start:
        return 0
    base, extra = divmod(amount, quantity)
    return (stop - start) * base + max(0, min(stop, extra) - start)


def unit_runs(amount: int, quantity: int) -> tuple[tuple[int, int, int], ...]:
    """The units of :func:`unit_share_sum` as runs ``(share, first unit, units)``, in
    unit order: the units that take an odd cent, then the others (empty runs left out).

    >>> unit_runs(1000, 3)
    ((334, 0, 1), (333, 1, 2))
    """
    if amount < 0:
        raise ValueError(f"cannot spread a negative amount ({amount})")
    if quantity <= 0:
        return ()
    base, extra = divmod(amount, quantity)
    return tuple(run for run in ((base + 1, 0, extra), (base, extra, quantity - extra))
                 if run[2])
