"""An order as checkout keeps it in the store, and what it records.

:class:`Order` is the stored record of one checkout: the cart as priced, the
result, what each applied promotion consumed (:class:`Use`), the counters it
holds, the store reads its price was based on (:class:`Recorded`) and its
refunds (:class:`Refund`). Values only: :mod:`promokit.orders` changes them in
the store.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import attrs

from .cart import Cart
from .inputs import RECORD_LIMITS
from .money import currency
from .result import Gift, NotApplied, PriceResult
from .stores.base import Delta
from .times import aware, iso

__all__ = ["POLICIES", "Order", "Policy", "Recorded", "Refund", "Replay", "Status", "Use"]

Status = Literal["reserved", "committed", "released", "expired", "refunded"]
"""The life of an order: ``reserved`` → ``committed`` (→ ``refunded``), or
``released`` / ``expired`` before payment. A stored record that cannot be read is
set aside as ``quarantined`` (see :meth:`promokit.orders.Checkout.sweep`)."""
Policy = Literal["proportional", "reevaluate"]
"""How a partial refund is worked out (see :meth:`promokit.Engine.refund`)."""
POLICIES: tuple[Policy, ...] = ("proportional", "reevaluate")


@attrs.frozen(kw_only=True)
class Recorded:
    """What one pricing read from the store: the counters, the coupon code rows
    found (canonical code → ``(batch id, uses per code)``) and the counter of the
    customer's failed code attempts. Checkout keeps it with the order so that
    ``replay`` and re-evaluated refunds price exactly as checkout did."""

    counters: Mapping[str, int] = attrs.field(factory=dict)
    codes: Mapping[str, tuple[str, int]] = attrs.field(factory=dict)
    throttle_key: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"counters": dict(sorted(self.counters.items())),
                "codes": {code: list(row) for code, row in sorted(self.codes.items())},
                "throttle_key": self.throttle_key}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Recorded:
        return cls(counters=dict(data["counters"]),
                   codes={code: (row[0], row[1]) for code, row in data["codes"].items()},
                   throttle_key=data.get("throttle_key"))


@attrs.frozen(kw_only=True)
class Use:
    """One applied promotion in one order: its discount, the units it took (its
    stock: discounted units, or gifts for kinds with their own stock) and the
    counters it holds."""

    promotion: str
    campaign: str | None
    amount: int
    """The discount, shipping included, in minor units."""
    units: int
    line_units: tuple[tuple[str, int], ...] = ()
    """``(line id, units)`` the stock counts, per cart line (empty for gifts)."""
    code: str | None = None
    """The coupon code (canonical) it redeems."""
    holds: tuple[Delta, ...] = ()
    """Its own counters: uses, per-customer and daily uses, stock, promotion budget
    and coupon code; the campaign budget is summed over the order in
    :func:`order_deltas`."""


@attrs.frozen(kw_only=True)
class Refund:
    """One refund of an order: what it paid back and what it gave back to the store.

    ``amount`` is paid back to the customer. Under ``reevaluate``,
    ``clawback`` is what the proportional refund would have paid on top (a
    threshold the kept items no longer meet) and ``gifts_owed`` the gifts the
    kept items no longer earn."""

    refund_id: str
    units: tuple[tuple[str, int], ...]
    """``(line id, units)`` refunded."""
    policy: Policy
    amount: Decimal
    clawback: Decimal
    gifts_owed: tuple[Gift, ...]
    given_back: tuple[tuple[str, int], ...]
    """``(counter, amount)`` returned to the store."""
    reversals: tuple[tuple[str, Decimal], ...]
    """``(promotion, discount given back)``: the ledger's reversals."""
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "refund_id": self.refund_id, "units": dict(self.units), "policy": self.policy,
            "amount": str(self.amount), "clawback": str(self.clawback),
            "gifts_owed": [{"promotion": g.promotion, "sku": g.sku, "name": g.name,
                            "quantity": g.quantity, "value": str(g.value)}
                           for g in self.gifts_owed],
            "given_back": dict(self.given_back),
            "reversals": {pid: str(amount) for pid, amount in self.reversals},
            "at": iso(self.at),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Refund:
        return cls(
            refund_id=data["refund_id"], units=tuple(data["units"].items()),
            policy=data["policy"], amount=Decimal(data["amount"]),
            clawback=Decimal(data["clawback"]),
            gifts_owed=tuple(Gift(promotion=g["promotion"], sku=g["sku"], name=g["name"],
                                  quantity=g["quantity"], value=Decimal(g["value"]))
                             for g in data["gifts_owed"]),
            given_back=tuple(data["given_back"].items()),
            reversals=tuple((pid, Decimal(a)) for pid, a in data["reversals"].items()),
            at=aware(datetime.fromisoformat(data["at"])))


@attrs.frozen(kw_only=True)
class Order:
    """An order as checkout keeps it in the store."""

    order_id: str
    status: Status
    revision: int
    cart: Cart
    """The cart as priced (with ``now`` filled in when the caller left it out)."""
    result: PriceResult
    campaign_version: str
    lang: str
    created_at: datetime
    expires_at: datetime | None
    """When an uncommitted reservation lapses; ``None`` once settled."""
    committed_at: datetime | None = None
    closed_at: datetime | None = None
    """When it was released or expired."""
    holds: tuple[Delta, ...] = ()
    """The counters the order holds now (refunds give parts back)."""
    uses: tuple[Use, ...] = ()
    reads: Recorded = attrs.field(factory=lambda: Recorded())
    """What pricing read from the store, to price the order again exactly (replay)."""
    dropped: tuple[NotApplied, ...] = ()
    """Promotions the first pricing gave that ran out before they could be reserved."""
    refunds: tuple[Refund, ...] = ()
    cart_hash: str = ""
    repeated: bool = attrs.field(default=False, eq=False)
    """This call returned an order an earlier call created (idempotent repeat)."""

    @property
    def refunded_units(self) -> dict[str, int]:
        """Units refunded so far, per line id."""
        done: dict[str, int] = {}
        for refund in self.refunds:
            for line_id, count in refund.units:
                done[line_id] = done.get(line_id, 0) + count
        return done

    @property
    def refunded(self) -> Decimal:
        """Money refunded so far."""
        return sum((r.amount for r in self.refunds), Decimal(0))

    def refund(self, refund_id: str) -> Refund | None:
        """The refund with that id, if any."""
        return next((r for r in self.refunds if r.refund_id == refund_id), None)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data: money as strings in the currency's minor unit (DESIGN §5),
        times ISO 8601 with their offset (:mod:`promokit.times`). Counter amounts
        (``holds``) are the store's integers."""
        money = currency(self.result.currency)

        def when(value: datetime | None) -> str | None:
            return iso(value) if value is not None else None

        return {
            "order_id": self.order_id, "status": self.status,
            "campaign_version": self.campaign_version, "lang": self.lang,
            "cart": self.cart.to_json(), "cart_hash": self.cart_hash,
            "result": self.result.to_json(),
            "created_at": when(self.created_at), "expires_at": when(self.expires_at),
            "committed_at": when(self.committed_at), "closed_at": when(self.closed_at),
            "holds": [[d.key, d.amount, d.limit] for d in self.holds],
            "uses": [{"promotion": u.promotion, "campaign": u.campaign,
                      "amount": money.format(u.amount),
                      "units": u.units, "line_units": dict(u.line_units), "code": u.code,
                      "holds": [[d.key, d.amount, d.limit] for d in u.holds]}
                     for u in self.uses],
            "reads": self.reads.to_json(),
            "dropped": [{"promotion": n.promotion, "reason": n.reason, "message": n.message}
                        for n in self.dropped],
            "refunds": [r.to_json() for r in self.refunds],
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str, revision: int) -> Order:
        data = json.loads(text)

        def when(value: str | None) -> datetime | None:
            return aware(datetime.fromisoformat(value)) if value is not None else None

        def deltas(rows: Sequence[Sequence[Any]]) -> tuple[Delta, ...]:
            return tuple(Delta(key, amount, limit) for key, amount, limit in rows)

        created = when(data["created_at"])
        assert created is not None
        result = PriceResult.from_json(data["result"])
        money = currency(result.currency)

        def minor(amount: int | str) -> int:
            # a string since money in JSON is one (DESIGN §5); whole minor units before
            return amount if isinstance(amount, int) else money.parse(amount)

        cart = Cart.from_json(data["cart"], limits=RECORD_LIMITS)
        if cart.now is not None and cart.now.tzinfo is None:
            cart = attrs.evolve(cart, now=aware(cart.now))
        return cls(
            order_id=data["order_id"], status=data["status"], revision=revision,
            cart=cart, result=result,
            campaign_version=data["campaign_version"], lang=data["lang"],
            created_at=created, expires_at=when(data["expires_at"]),
            committed_at=when(data["committed_at"]), closed_at=when(data["closed_at"]),
            holds=deltas(data["holds"]),
            uses=tuple(Use(promotion=u["promotion"], campaign=u["campaign"],
                           amount=minor(u["amount"]), units=u["units"],
                           line_units=tuple(u["line_units"].items()), code=u["code"],
                           holds=deltas(u["holds"])) for u in data["uses"]),
            reads=Recorded.from_json(data["reads"]),
            dropped=tuple(NotApplied(**n) for n in data["dropped"]),
            refunds=tuple(Refund.from_json(r) for r in data["refunds"]),
            cart_hash=data["cart_hash"])


@attrs.frozen(kw_only=True)
class Replay:
    """An order priced again from its recorded cart, campaign version and counters."""

    order: Order
    result: PriceResult
    differences: tuple[str, ...]
    """``path: recorded → replayed`` for every value that differs."""

    @property
    def matches(self) -> bool:
        return not self.differences
