"""Stock and budget warnings: ``yellow`` below 50% left, ``red`` below 20% left,
once per crossing (``promokit_alert``)."""

from __future__ import annotations

from collections.abc import Mapping

from ..events import Alert
from ..money import Currency
from ..order import Order
from ..stores import counter_keys

__all__ = ["LEVELS", "alerts"]

#: Warning levels: (name, percent left below which it is crossed).
LEVELS = (("yellow", 50), ("red", 20))


def alerts(order: Order, values: Mapping[str, int], money: Currency) -> list[Alert]:
    """The warning levels the order's holds crossed, given the counters' values
    after its write (budgets in ``money``)."""
    found = []
    watched: dict[str, tuple[str, str]] = {}  # counter → (subject, what)
    for use in order.uses:
        watched[counter_keys.stock(use.promotion)] = ("stock", use.promotion)
        watched[counter_keys.spent(use.promotion)] = ("budget", use.promotion)
        if use.campaign is not None:
            watched[counter_keys.campaign_spent(use.campaign)] = (
                "budget", f"campaign:{use.campaign}")
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
