"""A deposit: :class:`Deposit` as reported, and the move of its row being
put together inside one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from promokit.stores import Delta


@attrs.frozen(kw_only=True)
class Deposit:
    """One customer's presale deposit as it stands."""

    game: str
    order_id: str
    customer: str
    quantity: int
    status: str
    """``unpaid``, ``paid``, ``balance_due``, ``completed``, ``cancelled`` or ``forfeited``."""
    unit_deposit: Decimal
    deposit: Decimal
    """The whole deposit: ``unit_deposit × quantity``."""
    reserved_at: datetime
    pay_by: datetime
    """The last moment the deposit can be paid (inclusive)."""
    balance_start: datetime
    balance_end: datetime
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancelled_why: str | None = None
    """``timeout`` or ``customer``."""
    balance_due_at: datetime | None = None
    balance_order_id: str | None = None
    completed_at: datetime | None = None
    forfeited_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: money as strings, times ISO 8601."""
        out: dict[str, Any] = {}
        for field in attrs.fields(Deposit):
            value = getattr(self, field.name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = str(value)
            out[field.name] = value
        return out


@attrs.define
class Move:
    """Changes to a deposit row being put together inside one transaction."""

    body: dict[str, Any]
    deltas: list[Delta] = attrs.field(factory=list)
    events: list[tuple[str, str | None, Mapping[str, Any]]] = attrs.field(factory=list)
    journal: list[dict[str, Any]] = attrs.field(factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.journal)

    def to(self, status: str, now: datetime, event: str, *, stamp: str | None = None,
           **data: Any) -> None:
        """Move to ``status``: stamp it (``<status>_at`` unless ``stamp`` names the
        key), journal it, and tell the customer."""
        at = now.isoformat()
        self.body = {**self.body, "status": status, stamp or f"{status}_at": at}
        facts = {"order_id": self.body["order_id"], "quantity": self.body["quantity"], **data}
        self.journal.append({"event": event, "at": at, "customer": self.body["customer"],
                             **facts})
        self.events.append((event, self.body["customer"], facts))


class Unchanged(Exception):
    """Raised inside a transaction step that has nothing to write."""

    def __init__(self, body: dict[str, Any] | None) -> None:
        super().__init__("unchanged")
        self.body = body
