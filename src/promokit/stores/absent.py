"""The store of an engine given none: nothing to read, nowhere to write.

``Engine(campaigns)`` without ``store=`` prices with every counter at 0 and no
coupon code known, which is what ``evaluate`` needs for a preview (a code that
needs the store is ``code_invalid``: with no code registered, a guess can find
nothing, so nothing is counted); whatever would
write (checkout, commit, refunds, games, registering codes) raises a
:class:`~promokit.errors.StoreError` saying that the engine has no store, rather
than quietly keeping its counters in one process's memory where no limit holds
across app servers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NoReturn

from ..errors import StoreError
from .base import (
    AddedCodes,
    Change,
    CheckedCodes,
    CodeRow,
    LedgerEntry,
    OrderRow,
    Outcome,
    check_page,
)

__all__ = ["NoStore"]

_WHY = ("this engine has no store: give it one every app server shares, "
        "Engine(..., store=open_store(\"sqlite:///promokit.db\")) or a redis:// or "
        "postgresql:// URL (memory:// for one process, tests and demos)")


class NoStore:
    """Reads nothing (every counter 0, no order, no code) and refuses every write.
    Coupon codes are checked against nothing: none is found and none is counted, as
    no guess can find a code where none is registered."""

    url = "none (no store given)"

    def read(self, keys: Sequence[str]) -> dict[str, int]:
        return dict.fromkeys(keys, 0)

    def apply(self, change: Change) -> Outcome:
        self._refuse()

    def order(self, order_id: str) -> OrderRow | None:
        return None

    def expired(self, now: float, limit: int = 100) -> list[str]:
        return []

    def ledger(self, *, order_id: str | None = None, promotion: str | None = None,
               since: datetime | None = None, until: datetime | None = None,
               offset: int = 0, limit: int | None = None) -> list[LedgerEntry]:
        check_page(offset, limit)
        return []

    def journal(self, stream: str, *, after: int = 0, limit: int | None = None
                ) -> list[tuple[int, str]]:
        return []

    def trim_journal(self, stream: str, *, through: int) -> int:
        self._refuse()

    def save_campaigns(self, version: str, body: str) -> None:
        self._refuse()

    def load_campaigns(self, version: str) -> str | None:
        return None

    def add_codes(self, batch: str, codes: Sequence[str], uses: int) -> AddedCodes:
        self._refuse()

    def find_codes(self, codes: Sequence[str]) -> dict[str, CodeRow]:
        return {}

    def check_codes(self, codes: Sequence[str], *, throttle: str, limit: int,
                    ttl: float) -> CheckedCodes:
        # No code is registered here, so no guess can find one: there is nothing to
        # throttle, and nothing is written (a preview's codes are all code_invalid).
        return CheckedCodes(failures=0)

    def hit(self, key: str, ttl: float) -> int:
        self._refuse()

    def close(self) -> None:
        return None

    @staticmethod
    def _refuse() -> NoReturn:
        raise StoreError(_WHY)
