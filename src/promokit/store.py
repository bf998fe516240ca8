"""Counters the engine reads while pricing: uses, stock and budget consumed.

``evaluate`` reads every counter it needs in one :meth:`CounterStore.read`
call and never writes. :class:`MemoryStore` is the default; durable and
shared stores implement the same protocol.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Protocol

__all__ = ["CounterStore", "MemoryStore", "counter_keys"]


class CounterStore(Protocol):
    """Read access to consumption counters."""

    def read(self, keys: Sequence[str]) -> Mapping[str, int]:
        """The current value of each key; keys never written count 0."""
        ...


class MemoryStore:
    """Counters in this process's memory; thread-safe, gone when the process ends."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def read(self, keys: Sequence[str]) -> dict[str, int]:
        with self._lock:
            return {key: self._counts.get(key, 0) for key in keys}

    def add(self, key: str, amount: int = 1) -> int:
        """Add to a counter and return its new value."""
        with self._lock:
            self._counts[key] = value = self._counts.get(key, 0) + amount
            return value

    def set(self, key: str, value: int) -> None:
        """Set a counter (tests, imports)."""
        with self._lock:
            self._counts[key] = value


class counter_keys:  # a namespace of key builders, read as counter_keys.stock(…)
    """The names of the counters, in one place."""

    @staticmethod
    def uses(promotion: str) -> str:
        """Committed uses of a promotion, all customers."""
        return f"uses:{promotion}"

    @staticmethod
    def customer_uses(promotion: str, customer: str) -> str:
        """Committed uses of a promotion by one customer."""
        return f"uses:{promotion}:c:{customer}"

    @staticmethod
    def customer_daily_uses(promotion: str, customer: str, day: date) -> str:
        """Uses by one customer on one local day."""
        return f"uses:{promotion}:c:{customer}:d:{day.isoformat()}"

    @staticmethod
    def stock(promotion: str) -> str:
        """Units of a promotion's stock consumed."""
        return f"stock:{promotion}"

    @staticmethod
    def spent(promotion: str) -> str:
        """Money (minor units) of a promotion's budget consumed."""
        return f"spent:{promotion}"

    @staticmethod
    def campaign_spent(campaign: str) -> str:
        """Money (minor units) of a campaign's budget consumed."""
        return f"spent:campaign:{campaign}"
