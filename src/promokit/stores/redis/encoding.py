"""How :class:`~promokit.stores.redis.RedisStore` encodes what it sends the Lua
scripts and decodes what they and Redis return: numbers kept within the range where
the apply script's arithmetic is exact, its replies as outcomes, and stored values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..base import Delta, Expect, Outcome

__all__ = ["BOUND", "batch_of", "bounded", "expected_outcome", "expected_range", "expiry"]

BOUND = 2**64  # amounts and limits the script takes, see bounded()


def bounded(amount: int, limit: int | None) -> tuple[str, str]:
    """An amount and limit (as text) that the apply script decides as it would
    ``amount`` and ``limit``, within the range where its arithmetic is exact.

    A counter holds -2**63 <= v < 2**63, so: an amount below -2**64 takes any
    counter below zero, as -2**64 does; an amount above 2**64 passes 2**63 - 1 (an
    error unless the limit refuses it), as 2**64 does, and the limit moves down by
    the same difference so that ``v + amount > limit`` keeps its answer; a negative
    limit refuses any increase, as -1 does; and a limit above 2**65 refuses no
    amount the script is given, as no limit does.
    """
    if amount > BOUND:
        if limit is not None:
            limit -= amount - BOUND
        amount = BOUND
    amount = max(amount, -BOUND)
    if limit is None or limit > 2 * BOUND:
        return str(amount), ""
    return str(amount), str(max(limit, -1))


def expected_range(low: int, high: int | None) -> tuple[str, str]:
    """An expectation's bounds (as text) that the apply script decides as it would
    ``low`` and ``high``, within the range where its arithmetic is exact: a counter
    holds -2**63 <= v < 2**63, so a bound past either end acts as the end does."""
    low = min(max(low, -(2**63)), 2**63)
    if high is None or high >= 2**63 - 1:
        return str(low), ""
    return str(low), str(max(high, -(2**63) - 1))


def expected_outcome(state: int, revision: int, deltas: Sequence[Delta],
                     expect: Sequence[Expect], reply: list[Any]) -> Outcome:
    """The outcome of an applied (1), refused (2) or stale (3) change that expected
    counters: ``reply`` is {state, revision, the deltas' counters before, the
    expected counters, indices of the refused deltas or the stale expectations}."""
    end = 2 + len(deltas)
    values = {e.key: int(value)
              for e, value in zip(expect, reply[end:end + len(expect)], strict=True)}
    for delta, value in zip(deltas, reply[2:end], strict=True):
        values[delta.key] = int(value) + delta.amount if state == 1 else int(value)
    indices = reply[end + len(expect):]
    if state == 1:
        return Outcome(applied=True, revision=revision, values=values)
    if state == 2:
        return Outcome(applied=False, revision=revision, values=values,
                       refused=tuple(deltas[i - 1].key for i in indices))
    return Outcome(applied=False, revision=revision, values=values,
                   stale=tuple(sorted(expect[j - 1].key for j in indices)))


def expiry(text: str | None) -> float | None:
    """An order's ``expires_at`` as stored in its hash ('' or absent: none)."""
    return float(text) if text else None


def batch_of(value: str) -> str:
    """The batch of a code's stored value, ``"<uses>:<batch>"``."""
    return value.partition(":")[2]
