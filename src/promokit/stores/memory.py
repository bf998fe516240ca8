"""``memory://``: every store structure in this process's memory.

Thread-safe (one lock), gone when the process ends; for tests, demos and a
single process that does not need its counters to survive a restart. A code
throttle is a hit counter (the count) with a set of codes beside it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import datetime
from itertools import islice

from ..errors import StoreURLError
from .base import (
    AddedCodes,
    Change,
    CheckedCodes,
    CodeRow,
    LedgerEntry,
    OrderRow,
    Outcome,
    check_page,
    check_through,
)
from .throttle import check_in_order
from .url import parse_store_url

__all__ = ["MemoryStore"]

_SWEEP_EVERY = 60.0  # seconds between deletions of lapsed throttles


class MemoryStore:
    """A store in memory. ``MemoryStore()`` is empty; :meth:`set` seeds counters."""

    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        # Reentrant: check_codes looks codes up through find_codes under the lock (so
        # a subclass that watches find_codes sees every look-up).
        self._lock = threading.RLock()
        self._counts: dict[str, int] = {}
        self._orders: dict[str, OrderRow] = {}
        self._ledger: list[LedgerEntry] = []
        self._journals: dict[str, list[str]] = {}
        self._trimmed: dict[str, int] = {}  # per stream, how many entries were trimmed
        self._campaigns: dict[str, str] = {}
        self._codes: dict[str, CodeRow] = {}
        self._hits: dict[str, tuple[int, float]] = {}
        self._wrong: dict[str, set[str]] = {}  # a throttle's codes, beside its hit count
        self._sweep_at = 0.0

    @classmethod
    def from_url(cls, url: str) -> MemoryStore:
        """``memory://`` (no host, no options): a new, empty store."""
        parsed = parse_store_url(url)
        parsed.only()
        if parsed.host or parsed.path not in ("", "/"):
            raise StoreURLError(f"{parsed.masked}: a memory store takes no host or path; "
                                "use memory://")
        return cls(url)

    def read(self, keys: Sequence[str]) -> dict[str, int]:
        now = time.time()
        with self._lock:
            return {key: self._hit_count(key, now) if key in self._hits
                    else self._counts.get(key, 0) for key in keys}

    def _hit_count(self, key: str, now: float) -> int:
        count, expires = self._hits[key]
        return count if expires > now else 0

    def apply(self, change: Change) -> Outcome:
        with self._lock:
            row = self._orders.get(change.order_id)
            revision = row.revision if row is not None else 0
            if revision != change.revision:
                return Outcome(applied=False, revision=revision, current=row)
            values = {d.key: self._counts.get(d.key, 0) for d in change.deltas}
            if change.expect:
                now = time.time()
                for e in change.expect:  # as read() sees it; a delta's, before the change
                    if e.key not in values:
                        values[e.key] = (self._hit_count(e.key, now) if e.key in self._hits
                                         else self._counts.get(e.key, 0))
                stale = tuple(sorted(e.key for e in change.expect
                                     if not e.holds(values[e.key])))
                if stale:
                    return Outcome(applied=False, revision=revision, stale=stale,
                                   values=values)
            refused = tuple(d.key for d in change.deltas if d.refuses(values[d.key]))
            if refused:
                return Outcome(applied=False, revision=revision, refused=refused,
                               values=values)
            for delta in change.deltas:
                self._counts[delta.key] = values[delta.key] = values[delta.key] + delta.amount
            self._orders[change.order_id] = OrderRow(
                order_id=change.order_id, revision=revision + 1, status=change.status,
                expires_at=change.expires_at, body=change.body)
            self._ledger.extend(change.ledger)
            for record in change.journal:
                body = record.written(values)
                if body is not None:
                    self._journals.setdefault(record.stream, []).append(body)
            return Outcome(applied=True, revision=revision + 1, values=values)

    def order(self, order_id: str) -> OrderRow | None:
        with self._lock:
            return self._orders.get(order_id)

    def expired(self, now: float, limit: int = 100) -> list[str]:
        with self._lock:
            due = sorted((row.expires_at, row.order_id) for row in self._orders.values()
                         if row.expires_at is not None and row.expires_at <= now)
        return [order_id for _, order_id in due[:limit]]

    def ledger(self, *, order_id: str | None = None, promotion: str | None = None,
               since: datetime | None = None, until: datetime | None = None,
               offset: int = 0, limit: int | None = None) -> list[LedgerEntry]:
        check_page(offset, limit)
        stop = None if limit is None else offset + limit
        with self._lock:  # the scan stops at the page's last entry
            if order_id is None and promotion is None and since is None and until is None:
                return self._ledger[offset:stop]
            matching = (e for e in self._ledger
                        if (order_id is None or e.order_id == order_id)
                        and (promotion is None or e.promotion == promotion)
                        and (since is None or e.at >= since)
                        and (until is None or e.at < until))
            return list(islice(matching, offset, stop))

    def journal(self, stream: str, *, after: int = 0, limit: int | None = None
                ) -> list[tuple[int, str]]:
        with self._lock:
            # The list holds the entries after the first ``base`` (trimmed) ones.
            base = self._trimmed.get(stream, 0)
            start = max(after, base)
            end = None if limit is None else start + max(limit, 0)
            bodies = self._journals.get(stream, [])[start - base:
                                                     None if end is None else end - base]
        return list(enumerate(bodies, start + 1))

    def trim_journal(self, stream: str, *, through: int) -> int:
        check_through(through)
        with self._lock:
            base = self._trimmed.get(stream, 0)
            bodies = self._journals.get(stream, [])
            count = min(max(through - base, 0), len(bodies))
            if count:
                del bodies[:count]
                self._trimmed[stream] = base + count
            return count

    def save_campaigns(self, version: str, body: str) -> None:
        with self._lock:
            self._campaigns.setdefault(version, body)

    def load_campaigns(self, version: str) -> str | None:
        with self._lock:
            return self._campaigns.get(version)

    def add_codes(self, batch: str, codes: Sequence[str], uses: int) -> AddedCodes:
        with self._lock:
            conflicts = tuple(sorted({c for c in codes if c in self._codes
                                      and self._codes[c].batch != batch}))
            if conflicts:
                return AddedCodes(added=0, existing=0, conflicts=conflicts)
            new = [c for c in dict.fromkeys(codes) if c not in self._codes]
            for code in new:
                self._codes[code] = CodeRow(batch, uses)
            return AddedCodes(added=len(new), existing=len(set(codes)) - len(new))

    def find_codes(self, codes: Sequence[str]) -> dict[str, CodeRow]:
        with self._lock:
            return {code: self._codes[code] for code in codes if code in self._codes}

    def check_codes(self, codes: Sequence[str], *, throttle: str, limit: int,
                    ttl: float) -> CheckedCodes:
        now = time.time()
        with self._lock:
            if throttle in self._hits and self._hits[throttle][1] > now:
                failures, expires = self._hits[throttle]
                wrong = self._wrong.get(throttle, set())
            else:  # none yet, or lapsed: the set goes with its count
                failures, expires, wrong = 0, now + ttl, set()
            if not codes:
                return CheckedCodes(failures=failures)
            checked = check_in_order(codes, wrong=wrong, failures=failures, limit=limit,
                                     find=self.find_codes)
            if checked.counted:
                if now >= self._sweep_at:  # forget lapsed hit counters and throttles
                    self._sweep_at = now + _SWEEP_EVERY
                    for key in [k for k, (_, at) in self._hits.items() if at <= now]:
                        del self._hits[key]
                        self._wrong.pop(key, None)
                self._hits[throttle] = (checked.failures, expires)
                self._wrong[throttle] = wrong | set(checked.counted)
            return checked

    def hit(self, key: str, ttl: float) -> int:
        now = time.time()
        with self._lock:
            count, expires = self._hits.get(key, (0, now + ttl))
            if expires <= now:
                count, expires = 0, now + ttl
            self._hits[key] = (count + 1, expires)
            return count + 1

    def close(self) -> None:
        pass

    # -- for tests and imports ---------------------------------------------------

    def set(self, key: str, value: int) -> None:
        """Set a counter directly (tests, migrations); bypasses limits."""
        with self._lock:
            self._counts[key] = value

    def add(self, key: str, amount: int = 1) -> int:
        """Add to a counter directly and return its new value; bypasses limits."""
        with self._lock:
            self._counts[key] = value = self._counts.get(key, 0) + amount
            return value
