"""What ``Engine.evaluate`` returns: a priced cart with its explanations.

Every amount is a ``Decimal`` in the cart's currency, already rounded to the
minor unit; :meth:`PriceResult.to_json` writes the JSON of DESIGN §5, with
money as strings, the same bytes for the same inputs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from .allocation import unit_share_sum
from .errors import CartError, Problem, RefundError
from .money import currency

__all__ = [
    "Applied",
    "Gift",
    "Hint",
    "LineDiscount",
    "LineResult",
    "NotApplied",
    "PriceResult",
    "RejectedCode",
    "Reward",
]


@attrs.frozen(kw_only=True)
class LineDiscount:
    """The part of one promotion's discount allocated to a line."""

    promotion: str
    amount: Decimal


@attrs.frozen(kw_only=True)
class LineResult:
    """A priced cart line."""

    id: str
    sku: str
    quantity: int
    unit_price: Decimal
    subtotal: Decimal
    discounts: tuple[LineDiscount, ...]
    total: Decimal
    deposit_paid: Decimal | None = None

    @property
    def discount(self) -> Decimal:
        """Σ of the line's discounts."""
        return sum((d.amount for d in self.discounts), Decimal(0))


@attrs.frozen(kw_only=True)
class Applied:
    """A promotion that applied, its whole discount and who funds it."""

    promotion: str
    stage: str
    amount: Decimal
    funding: tuple[tuple[str, Decimal], ...]


@attrs.frozen(kw_only=True)
class NotApplied:
    """A promotion that was considered and did not apply, and why (DESIGN §7)."""

    promotion: str
    reason: str
    message: str


@attrs.frozen(kw_only=True)
class Hint:
    """湊單提示: spend ``missing`` more in scope to save ``saving`` more."""

    promotion: str
    missing: Decimal
    saving: Decimal
    shop: str | None = None
    message: str = ""
    """In the evaluation's language: 再買¥31.80可減¥50.00 / Add ¥31.80 more to save ¥50.00."""


@attrs.frozen(kw_only=True)
class Reward:
    """Something earned that is not a price change (points, a coupon to issue)."""

    promotion: str
    kind: str
    amount: str


@attrs.frozen(kw_only=True)
class Gift:
    """A gift line added to the order."""

    promotion: str
    sku: str
    name: str
    quantity: int
    value: Decimal


@attrs.frozen(kw_only=True)
class RejectedCode:
    """A code the customer entered that no promotion accepted."""

    code: str
    reason: str
    message: str


@attrs.frozen(kw_only=True)
class PriceResult:
    """A priced cart: lines, adjustments, funding, explanations, hints and rewards."""

    currency: str
    subtotal: Decimal
    discount_total: Decimal
    shipping_discount: Decimal
    shipping: Decimal
    total: Decimal
    balance_due: Decimal
    lines: tuple[LineResult, ...]
    applied: tuple[Applied, ...] = ()
    not_applied: tuple[NotApplied, ...] = ()
    hints: tuple[Hint, ...] = ()
    rewards: tuple[Reward, ...] = ()
    gifts: tuple[Gift, ...] = ()
    rejected_codes: tuple[RejectedCode, ...] = ()
    optimal: bool = True
    store_unavailable: bool = False
    """The store could not be read, and promotions that need it were left out."""

    def line(self, line_id: str) -> LineResult:
        """The priced line with that id."""
        for line in self.lines:
            if line.id == line_id:
                return line
        raise KeyError(line_id)

    def reason(self, promotion_id: str) -> str | None:
        """The reason code a promotion did not apply, or ``None`` if it applied
        or was not considered."""
        for item in self.not_applied:
            if item.promotion == promotion_id:
                return item.reason
        return None

    def refund(self, units: Mapping[str, int],
               already_refunded: Mapping[str, int] | None = None) -> Decimal:
        """What refunding ``units`` (line id → number of units) pays back.

        Each line's total is spread over its units by largest remainder (the
        earlier units take the odd cents); refunding units pays back their
        share, taking units in order after those ``already_refunded``. When
        the refund returns the last units of the order, the shipping charged
        is paid back too, so refunding everything, at once or bit by bit,
        pays back exactly ``total``.
        """
        money = currency(self.currency)
        done = dict(already_refunded or {})
        problems: list[Problem] = []
        known = {line.id: line for line in self.lines}
        for line_id, count in units.items():
            if line_id not in known:
                problems.append(Problem(path=f"units.{line_id}", message="no such line"))
            elif isinstance(count, bool) or not isinstance(count, int) or count < 0:
                problems.append(Problem(path=f"units.{line_id}",
                                        message="must be a whole number of units >= 0"))
            elif done.get(line_id, 0) + count > known[line_id].quantity:
                problems.append(Problem(
                    path=f"units.{line_id}",
                    message=f"{count} unit(s) after {done.get(line_id, 0)} refunded exceeds "
                            f"the line's {known[line_id].quantity}"))
        if problems:
            raise RefundError(problems)
        refund = 0
        for line_id, count in units.items():
            line = known[line_id]
            start = done.get(line_id, 0)
            refund += unit_share_sum(money.to_minor(line.total), line.quantity, start,
                                     start + count)
            done[line_id] = start + count
        if all(done.get(line.id, 0) == line.quantity for line in self.lines):
            refund += money.to_minor(self.shipping)
        return money.to_decimal(refund)

    def to_json(self) -> dict[str, Any]:
        """The JSON form of DESIGN §5 (money as strings)."""
        money = currency(self.currency)

        fmt = money.text

        lines = []
        for line in self.lines:
            item: dict[str, Any] = {
                "id": line.id, "sku": line.sku, "quantity": line.quantity,
                "unit_price": fmt(line.unit_price), "subtotal": fmt(line.subtotal),
                "discounts": [{"promotion": d.promotion, "amount": fmt(d.amount)}
                              for d in line.discounts],
                "total": fmt(line.total),
            }
            if line.deposit_paid is not None:
                item["deposit_paid"] = fmt(line.deposit_paid)
            lines.append(item)
        out: dict[str, Any] = {
            "currency": self.currency,
            "subtotal": fmt(self.subtotal),
            "discount_total": fmt(self.discount_total),
            "shipping_discount": fmt(self.shipping_discount),
            "shipping": fmt(self.shipping),
            "total": fmt(self.total),
            "balance_due": fmt(self.balance_due),
            "lines": lines,
            "applied": [{"promotion": a.promotion, "stage": a.stage, "amount": fmt(a.amount),
                         "funding": {party: fmt(share) for party, share in a.funding}}
                        for a in self.applied],
            "not_applied": [{"promotion": n.promotion, "reason": n.reason, "message": n.message}
                            for n in self.not_applied],
            "hints": [{"promotion": h.promotion, "missing": fmt(h.missing),
                       "saving": fmt(h.saving), **({"shop": h.shop} if h.shop else {}),
                       "message": h.message}
                      for h in self.hints],
            "rewards": [{"promotion": r.promotion, "kind": r.kind, "amount": r.amount}
                        for r in self.rewards],
            "gifts": [{"promotion": g.promotion, "sku": g.sku, "name": g.name,
                       "quantity": g.quantity, "value": fmt(g.value)} for g in self.gifts],
            "optimal": self.optimal,
        }
        if self.rejected_codes:
            out["rejected_codes"] = [{"code": c.code, "reason": c.reason, "message": c.message}
                                     for c in self.rejected_codes]
        if self.store_unavailable:
            out["store_unavailable"] = True
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str) -> PriceResult:
        """Read a result back from :meth:`to_json`'s form (a stored result, a ledger
        entry); ``PriceResult.from_json(r.to_json()) == r``.

        Raises :class:`~promokit.errors.CartError` if ``data`` is not such a form.
        """
        try:
            if isinstance(data, str):
                data = json.loads(data)
            if not isinstance(data, Mapping):
                raise TypeError("a priced result is a JSON object")
            money = currency(data["currency"])

            def amount(text: str) -> Decimal:
                return money.to_decimal(money.parse(text, allow_negative=True))

            return cls(
                currency=data["currency"],
                **{key: amount(data[key]) for key in (
                    "subtotal", "discount_total", "shipping_discount", "shipping", "total",
                    "balance_due")},
                lines=tuple(LineResult(
                    id=line["id"], sku=line["sku"], quantity=line["quantity"],
                    unit_price=amount(line["unit_price"]), subtotal=amount(line["subtotal"]),
                    discounts=tuple(LineDiscount(promotion=d["promotion"],
                                                 amount=amount(d["amount"]))
                                    for d in line["discounts"]),
                    total=amount(line["total"]),
                    deposit_paid=(amount(line["deposit_paid"]) if "deposit_paid" in line
                                  else None))
                    for line in data["lines"]),
                applied=tuple(Applied(promotion=a["promotion"], stage=a["stage"],
                                      amount=amount(a["amount"]),
                                      funding=tuple((party, amount(share))
                                                    for party, share in a["funding"].items()))
                              for a in data["applied"]),
                not_applied=tuple(NotApplied(**n) for n in data["not_applied"]),
                hints=tuple(Hint(promotion=h["promotion"], missing=amount(h["missing"]),
                                 saving=amount(h["saving"]), shop=h.get("shop"),
                                 message=h.get("message", ""))
                            for h in data["hints"]),
                rewards=tuple(Reward(**r) for r in data["rewards"]),
                gifts=tuple(Gift(promotion=g["promotion"], sku=g["sku"], name=g["name"],
                                 quantity=g["quantity"], value=amount(g["value"]))
                            for g in data["gifts"]),
                rejected_codes=tuple(RejectedCode(**c) for c in data.get("rejected_codes", ())),
                optimal=data["optimal"],
                store_unavailable=data.get("store_unavailable", False),
            )
        except (KeyError, TypeError, ValueError) as error:  # JSONDecodeError is a ValueError
            raise CartError([Problem(path="", message=f"not a priced result: {error!r}")]) \
                from error

    def to_json_text(self, *, indent: int | None = 2) -> str:
        """:meth:`to_json` as text, keys in contract order, non-ASCII kept."""
        return json.dumps(self.to_json(), ensure_ascii=False, indent=indent)
