"""What observers hear about orders: :class:`OrderEvent` (``promokit_order_event``)
and :class:`Alert` (``promokit_alert``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import attrs

__all__ = ["Alert", "OrderEvent"]


@attrs.frozen(kw_only=True)
class OrderEvent:
    """An order changed state (``promokit_order_event``)."""

    kind: Literal["reserved", "committed", "released", "expired", "refunded", "quarantined"]
    """``quarantined``: the stored record could not be read; what it held was given back
    where it could be told (``detail`` says what was wrong and what was done)."""
    order_id: str
    customer: str | None
    at: datetime
    promotions: tuple[str, ...]
    """The promotions the order holds."""
    refund_id: str | None = None
    amount: Decimal | None = None
    """For ``refunded``: the money paid back."""
    detail: str | None = None
    """For ``quarantined``: why the record could not be read, and what was given back."""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "order_id": self.order_id, "customer": self.customer,
                "at": self.at.isoformat(), "promotions": list(self.promotions),
                "refund_id": self.refund_id,
                "amount": str(self.amount) if self.amount is not None else None,
                "detail": self.detail}


@attrs.frozen(kw_only=True)
class Alert:
    """A stock or budget crossed a warning level (``promokit_alert``): ``yellow`` below
    50% left, ``red`` below 20% left. ``left`` and ``limit`` are units for stock
    and money (Decimal) for budgets."""

    subject: Literal["stock", "budget"]
    what: str
    """The promotion id, or ``campaign:<id>`` for a campaign budget."""
    key: str
    level: Literal["yellow", "red"]
    left: int | Decimal
    limit: int | Decimal
    order_id: str
