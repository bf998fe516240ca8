"""Stock and budget warnings: ``yellow`` below 50% left, ``red`` below 20% left,
once per crossing (``promokit_alert``)."""

from __future__ import annotations

from collections.abc import Mapping

from ..events import OUTBOX, Alert, alert_entry_body, event_id
from ..money import Currency
from ..order import Order
from ..stores import Expect, JournalEntry, counter_keys

__all__ = ["LEVELS", "alert_entries", "alerts", "crossing"]

#: Warning levels: (name, percent left below which it is crossed).
LEVELS = (("yellow", 50), ("red", 20))


def _watched(order: Order) -> dict[str, tuple[str, str]]:
    """The counters an order's warnings watch: counter → (subject, what)."""
    watched: dict[str, tuple[str, str]] = {}
    for use in order.uses:
        watched[counter_keys.stock(use.promotion)] = ("stock", use.promotion)
        watched[counter_keys.spent(use.promotion)] = ("budget", use.promotion)
        if use.campaign is not None:
            watched[counter_keys.campaign_spent(use.campaign)] = (
                "budget", f"campaign:{use.campaign}")
    return watched


def crossing(limit: int, amount: int, percent: int) -> tuple[int, int]:
    """The values ``after`` of a counter, moved up by ``amount`` under ``limit``, for
    which the move crossed ``percent``% left: ``(limit - before) * 100 >= percent *
    limit > (limit - after) * 100`` with ``before = after - amount``. Inclusive; an
    empty range has low above high."""
    low = (100 * limit - percent * limit) // 100 + 1
    high = limit + amount + (-(percent * limit)) // 100
    return low, high


def alert_entries(order: Order, revision: int, first: int, money: Currency
                  ) -> tuple[JournalEntry, ...]:
    """The outbox's conditional entries for the warning levels the order's reservation
    may cross: the store appends each only if its counter ends in the crossing range
    (``JournalEntry.when``), in the same atomic write. ``revision`` is the order's
    revision after the change and ``first`` the index of the first alert among the
    change's events (for their ids)."""
    watched = _watched(order)
    entries: list[JournalEntry] = []
    at = order.created_at.isoformat()
    for delta in order.holds:
        if delta.limit is None or delta.amount <= 0 or delta.key not in watched:
            continue
        subject, what = watched[delta.key]
        for level, percent in LEVELS:
            low, high = crossing(delta.limit, delta.amount, percent)
            if low > high:
                continue
            body = alert_entry_body(
                event_id(order.order_id, revision, first + len(entries)), at, order.order_id,
                subject=subject, what=what, key=delta.key, level=level,
                limit_units=delta.limit, scale=money.exponent if subject == "budget" else 0)
            entries.append(JournalEntry(OUTBOX, body, when=Expect(delta.key, low, high)))
    return tuple(entries)


def alerts(order: Order, values: Mapping[str, int], money: Currency) -> list[Alert]:
    """The warning levels the order's holds crossed, given the counters' values
    after its write (budgets in ``money``)."""
    found = []
    watched = _watched(order)  # counter → (subject, what)
    for delta in order.holds:
        if delta.limit is None or delta.amount <= 0 or delta.key not in values \
                or delta.key not in watched:
            continue
        subject, what = watched[delta.key]
        after = values[delta.key]
        before = after - delta.amount
        for level, percent in LEVELS:
            if (delta.limit - before) * 100 >= percent * delta.limit \
                    > (delta.limit - after) * 100:
                left, limit = delta.limit - after, delta.limit
                found.append(Alert(
                    subject=subject, what=what, key=delta.key, level=level,  # type: ignore[arg-type]
                    left=money.to_decimal(left) if subject == "budget" else left,
                    limit=money.to_decimal(limit) if subject == "budget" else limit,
                    order_id=order.order_id))
    return found
