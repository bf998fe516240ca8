"""What observers hear about orders: :class:`OrderEvent` (``promokit_order_event``)
and :class:`Alert` (``promokit_alert``); and :class:`OutboxEvent`, every event as
the store's outbox keeps it for sinks (``promokit_register_sinks``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import attrs

__all__ = ["OUTBOX", "Alert", "OrderEvent", "OutboxEvent", "alert_entry_body", "event_id"]


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


#: The journal stream the outbox is kept in (:class:`OutboxEvent`, one entry each).
OUTBOX = "outbox"

_ALERT = "alert.crossed"


def event_id(row: str, revision: int, index: int) -> str:
    """A stable event id: the ``index``-th event of the change that moved store row
    ``row`` (an order, a game's row) to ``revision``. A row reaches a revision once,
    so the id names one event for ever, and a receiver may use it as its
    idempotency key."""
    digest = hashlib.sha256(f"{row}\0{revision}\0{index}".encode()).hexdigest()
    return f"evt_{digest[:32]}"


@attrs.frozen(kw_only=True)
class OutboxEvent:
    """One event as the store's outbox keeps it and sinks deliver it.

    Written by the store in the same atomic write as the change that caused it
    (a journal entry of stream :data:`OUTBOX`), so it exists exactly when that
    change does. ``id`` is stable (redeliveries repeat it: use it as an
    idempotency key); ``type`` is ``order.<kind>``, ``alert.crossed`` or
    ``game.<event>``; ``time`` is ISO 8601 with an offset; ``subject`` is the
    order id or ``game:<id>``, and events of one subject are delivered in the
    order they were written; ``data`` holds money as strings (DESIGN §5);
    ``sequence`` is the event's place in the outbox (0 until read back)."""

    id: str
    type: str
    time: str
    subject: str
    data: Mapping[str, Any] = attrs.field(factory=dict)
    sequence: int = 0

    def to_json(self) -> dict[str, Any]:
        """The event as delivered: ``id``, ``type``, ``time``, ``subject``, ``sequence``
        and ``data``."""
        return {"id": self.id, "type": self.type, "time": self.time,
                "subject": self.subject, "sequence": self.sequence, "data": dict(self.data)}

    def dumps(self) -> str:
        """Compact JSON text (the body a webhook signs and posts)."""
        return json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))

    def stored(self) -> str:
        """The text the outbox keeps (without ``sequence``, which the store assigns)."""
        data = {"id": self.id, "type": self.type, "time": self.time,
                "subject": self.subject, "data": dict(self.data)}
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str, sequence: int = 0) -> OutboxEvent:
        """Read an outbox entry (or a delivered body) back."""
        raw = json.loads(text)
        data = dict(raw.get("data") or {})
        if raw["type"] == _ALERT and "used" in data and "left" not in data:
            left = int(data["limit_units"]) - int(data["used"])
            scale = int(data.get("scale", 0))
            data["left"] = (str(Decimal(left).scaleb(-scale)) if data.get("subject") == "budget"
                            else left)
        return cls(id=raw["id"], type=raw["type"], time=raw["time"], subject=raw["subject"],
                   data=data, sequence=sequence or int(raw.get("sequence", 0)))


def alert_entry_body(alert_id: str, time: str, order_id: str, *, subject: str, what: str,
                     key: str, level: str, limit_units: int, scale: int) -> str:
    """The outbox text of an alert whose counter's value is filled in by the store
    (``{value}``, see :class:`~promokit.stores.JournalEntry`): ``used`` is the
    counter after the change, and ``left`` is worked out when the event is read."""
    limit = str(Decimal(limit_units).scaleb(-scale)) if subject == "budget" else limit_units
    event = OutboxEvent(id=alert_id, type=_ALERT, time=time, subject=order_id, data={
        "subject": subject, "what": what, "key": key, "level": level, "order_id": order_id,
        "limit": limit, "limit_units": limit_units, "scale": scale, "used": "\0value\0"})
    return event.stored().replace('"\\u0000value\\u0000"', "{value}")
