"""The outbox entries of an order's changes: one event per applied change, written
by the store in the same :meth:`~promokit.stores.Store.apply` as the change
(``order.reserved``, ``order.committed`` with its redemptions, ``order.released``,
``order.expired``, ``order.refunded`` with its reversals, ``order.quarantined``),
plus the conditional ``alert.crossed`` entries of a reservation
(:func:`promokit.orders.alerts.alert_entries`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..events import OUTBOX, OutboxEvent, event_id
from ..order import Order, Refund
from ..stores import JournalEntry, LedgerEntry

__all__ = ["order_entry", "quarantined_entry"]


def order_entry(kind: str, order: Order, at: datetime, *, refund: Refund | None = None,
                ledger: Sequence[LedgerEntry] = ()) -> JournalEntry:
    """The outbox entry of ``order``'s change to ``kind``; ``order`` is the order as
    the change writes it (its revision the one it moves to)."""
    result = order.result
    data: dict[str, Any] = {
        "order_id": order.order_id, "customer": order.cart.customer.id,
        "status": order.status, "currency": result.currency,
        "promotions": [use.promotion for use in order.uses]}
    if kind == "reserved":
        data["total"] = str(result.total)
        data["discount_total"] = str(result.discount_total)
        data["expires_at"] = order.expires_at.isoformat() if order.expires_at else None
    if kind == "committed":
        data["total"] = str(result.total)
        data["redemptions"] = [entry.to_json() for entry in ledger]
    if refund is not None:
        data["refund"] = refund.to_json()
        data["reversals"] = [entry.to_json() for entry in ledger]
    event = OutboxEvent(id=event_id(order.order_id, order.revision, 0), type=f"order.{kind}",
                        time=at.isoformat(), subject=order.order_id, data=data)
    return JournalEntry(OUTBOX, event.stored())


def quarantined_entry(order_id: str, revision: int, at: datetime, detail: str
                      ) -> JournalEntry:
    """The outbox entry of an unreadable record set aside."""
    event = OutboxEvent(id=event_id(order_id, revision, 0), type="order.quarantined",
                        time=at.isoformat(), subject=order_id,
                        data={"order_id": order_id, "detail": detail})
    return JournalEntry(OUTBOX, event.stored())
