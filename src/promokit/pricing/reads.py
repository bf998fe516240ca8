"""What one evaluation takes from the store, and what checkout remembers of it.

:class:`StoreReads` is filled in by one evaluation: the counters and coupon
codes it read (or was given), the codes it rejected and which promotion each
good code unlocks, and, for checkout, the range of each counter within which
the price holds (what the store checks atomically when the order is written).
:class:`Known` is checkout's memory of counter values and code rows, so the
next order is priced without reading the store first.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping

import attrs
from cachetools import LRUCache

from ..order import Recorded

__all__ = ["Known", "StoreReads"]


@attrs.define(kw_only=True, eq=False)
class StoreReads:
    """What one evaluation read from the store, and what it made of the cart's codes.

    Checkout records the counters and codes so ``replay`` can price the order
    again exactly as it was priced."""

    counters: dict[str, int] = attrs.field(factory=dict)
    codes: dict[str, tuple[str, int]] = attrs.field(factory=dict)
    """Canonical code → ``(batch id, uses per code)`` for the codes found."""
    throttle_key: str | None = None
    """This customer's code throttle, if the cart had codes that need the store; its
    count (distinct wrong codes, after this evaluation's own were counted) is among
    ``counters``, so a replay refuses the same codes as ``code_throttled``."""
    unavailable: bool = False
    """The store could not be read (``on_store_error="skip"``)."""
    rejected: dict[str, str] = attrs.field(factory=dict)
    """Code as entered → reason, for codes no promotion accepts."""
    chosen: dict[str, str] = attrs.field(factory=dict)
    """Promotion id → the canonical coupon code that unlocks it."""
    guessed: frozenset[str] = frozenset()
    """At checkout, the counters taken from :class:`Known` that it had never seen,
    taken as 0."""
    expect: dict[str, tuple[int, int | None]] = attrs.field(factory=dict)
    """Counter → the values (low, high or ``None``: no bound) for which this cart
    prices exactly as it did: what checkout asks the store to check when it applies."""
    exact_keys: set[str] = attrs.field(factory=set)
    """The counters whose every value prices differently (gift stock, a game's state,
    a budget that may run out): their expectation is the one value."""
    replay: bool = False
    """Counters and codes are the recorded ones (a stored order priced again), not
    read from the store."""

    def narrow(self, key: str, low: int, high: int | None) -> None:
        """Record that the pricing holds only while ``key`` is within ``low``…``high``."""
        old_low, old_high = self.expect.get(key, (0, None))
        if old_high is not None:
            high = old_high if high is None else min(high, old_high)
        self.expect[key] = (max(low, old_low), high)

    def exact(self, key: str) -> int:
        """The counter's value, on which the pricing depends exactly."""
        value = self.counters.get(key, 0)
        self.narrow(key, value, value)
        self.exact_keys.add(key)
        return value

    def below(self, key: str, limit: int) -> bool:
        """Whether the counter is below ``limit``, all the pricing asks of it."""
        value = self.counters.get(key, 0)
        if value < limit:
            self.narrow(key, 0, limit - 1)
            return True
        self.narrow(key, limit, None)
        return False

    def record(self) -> Recorded:
        """What a checkout record keeps (the rest is derived again on replay)."""
        return Recorded(counters=dict(self.counters), codes=dict(self.codes),
                        throttle_key=self.throttle_key)

    @classmethod
    def replaying(cls, recorded: Recorded) -> StoreReads:
        """Reads that give back what ``recorded`` holds instead of reading the store."""
        return cls(counters=dict(recorded.counters), codes=dict(recorded.codes),
                   throttle_key=recorded.throttle_key, replay=True)


class Known:
    """Counter values and coupon-code rows a checkout has seen (from the store's
    answers to its writes), to price the next cart with instead of reading the
    store first. Every value used is checked by the store when the order is
    applied (:class:`~promokit.stores.Expect`), so a stale one costs a retry,
    never a wrong price. A counter never seen is taken as 0. Thread-safe."""

    def __init__(self, size: int = 100_000) -> None:
        self._counters: LRUCache[str, int] = LRUCache(maxsize=size)
        self._codes: LRUCache[str, tuple[str, int]] = LRUCache(maxsize=size)
        self._lock = threading.Lock()

    def counters(self, keys: Iterable[str]) -> tuple[dict[str, int], frozenset[str]]:
        """The values remembered for ``keys`` (0 if none), and the keys not remembered."""
        with self._lock:
            values = {key: self._counters.get(key) for key in keys}
        return ({key: value or 0 for key, value in values.items()},
                frozenset(key for key, value in values.items() if value is None))

    def codes(self, codes: Iterable[str]) -> dict[str, tuple[str, int]]:
        """``(batch, uses)`` of each of ``codes`` looked up before; the rest are left out."""
        with self._lock:
            return {code: row for code in codes if (row := self._codes.get(code)) is not None}

    def learn(self, counters: Mapping[str, int] | None = None,
              codes: Mapping[str, tuple[str, int]] | None = None) -> None:
        """Remember counter values and code rows (a code's row never changes)."""
        with self._lock:
            self._counters.update(counters or {})
            self._codes.update(codes or {})
