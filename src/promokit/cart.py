"""The cart a shop asks promokit to price: lines, customer and context.

Carts arrive as JSON (DESIGN §5) and are checked whole at the boundary:
:meth:`Cart.from_json` lists every problem with its path in a
:class:`~promokit.errors.CartError` before any object is built.

>>> cart = Cart.from_json({"currency": "CNY", "lines": [
...     {"id": "l1", "sku": "SHOE-1", "quantity": 2, "unit_price": "399.00"}]})
>>> cart.lines[0].subtotal
Decimal('798.00')
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from .errors import CartError, Problem
from .money import Currency, currency
from .params import Params

__all__ = ["Cart", "Customer", "Line"]


def _tags(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


def _lines(values: Iterable[Line]) -> tuple[Line, ...]:
    return tuple(values)


def _codes(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class Customer:
    """Who is buying. Every field is optional: an anonymous cart has none."""

    id: str | None = None
    tier: str | None = None
    tags: frozenset[str] = attrs.field(default=frozenset(), converter=_tags)
    orders_count: int | None = None
    last_order_at: datetime | None = None
    region: str | None = None
    birthday: date | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, path: str = "customer") -> Customer:
        """A customer from its JSON form (the cart's ``customer`` object).

        Raises :class:`~promokit.errors.CartError` listing every problem, each
        path under ``path``."""
        if not isinstance(data, Mapping):
            raise CartError([Problem(path=path, message="must be a JSON object")])
        problems: list[Problem] = []
        customer = _parse_customer(Params(data, path, problems))
        if problems:
            raise CartError(problems)
        return customer

    def to_json(self) -> dict[str, Any]:
        """The JSON form, omitting unknown fields."""
        out: dict[str, Any] = {}
        if self.id is not None:
            out["id"] = self.id
        if self.tier is not None:
            out["tier"] = self.tier
        if self.tags:
            out["tags"] = sorted(self.tags)
        if self.orders_count is not None:
            out["orders_count"] = self.orders_count
        if self.last_order_at is not None:
            out["last_order_at"] = self.last_order_at.isoformat()
        if self.region is not None:
            out["region"] = self.region
        if self.birthday is not None:
            out["birthday"] = self.birthday.isoformat()
        return out


def category_prefixes(category: str) -> tuple[str, ...]:
    """``"a/b/c"`` → ``("a", "a/b", "a/b/c")``."""
    parts = [part for part in category.split("/") if part]
    return tuple("/".join(parts[: i + 1]) for i in range(len(parts)))


@attrs.frozen(kw_only=True)
class Line:
    """One cart line: ``quantity`` units of ``sku`` at ``unit_price`` each."""

    id: str
    sku: str
    quantity: int
    unit_price: Decimal
    category: str = ""
    brand: str | None = None
    shop: str | None = None
    tags: frozenset[str] = attrs.field(default=frozenset(), converter=_tags)
    deposit_paid: Decimal | None = None
    group_id: str | None = None
    bargain_id: str | None = None
    categories: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)
    """The category and the categories above it: ``"a/b"`` → ``("a", "a/b")``."""

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "categories", category_prefixes(self.category))

    @property
    def subtotal(self) -> Decimal:
        """``unit_price × quantity``."""
        return self.unit_price * self.quantity

    def to_json(self, money: Currency) -> dict[str, Any]:
        """The JSON form, money as strings in ``money``'s minor unit."""
        out: dict[str, Any] = {
            "id": self.id, "sku": self.sku, "quantity": self.quantity,
            "unit_price": money.text(self.unit_price),
        }
        if self.category:
            out["category"] = self.category
        for key in ("brand", "shop", "group_id", "bargain_id"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.tags:
            out["tags"] = sorted(self.tags)
        if self.deposit_paid is not None:
            out["deposit_paid"] = money.text(self.deposit_paid)
        return out


@attrs.frozen(kw_only=True)
class Cart:
    """A cart with its customer and context (channel, time, entered codes)."""

    currency: str
    lines: tuple[Line, ...] = attrs.field(converter=_lines)
    shipping: Decimal = Decimal(0)
    customer: Customer = Customer()
    channel: str | None = None
    now: datetime | None = None
    codes: tuple[str, ...] = attrs.field(default=(), converter=_codes)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str | bytes) -> Cart:
        """Build a cart from its JSON form (a mapping or JSON text).

        Raises :class:`~promokit.errors.CartError` listing every problem.
        """
        if isinstance(data, (str, bytes)):
            try:
                data = json.loads(data)
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                raise CartError([Problem(path="", message=f"not valid JSON: {error}")]) from None
        if not isinstance(data, Mapping):
            raise CartError([Problem(path="", message="a cart must be a JSON object")])
        problems: list[Problem] = []
        cart = _parse_cart(Params(data, "", problems))
        if problems or cart is None:
            raise CartError(problems)
        return cart

    def to_json(self) -> dict[str, Any]:
        """The JSON form of DESIGN §5; ``Cart.from_json(c.to_json()) == c``."""
        money = currency(self.currency)
        out: dict[str, Any] = {
            "currency": self.currency,
            "lines": [line.to_json(money) for line in self.lines],
            "shipping": money.text(self.shipping),
        }
        customer = self.customer.to_json()
        if customer:
            out["customer"] = customer
        if self.channel is not None:
            out["channel"] = self.channel
        if self.now is not None:
            out["now"] = self.now.isoformat()
        if self.codes:
            out["codes"] = list(self.codes)
        return out


def _parse_cart(p: Params) -> Cart | None:
    code = p.string("currency")
    if code is not None:
        try:
            p.currency = currency(code)
        except ValueError as error:
            p.problem(str(error), "currency")
            code = None
    money = p.currency
    lines = [_parse_line(lp, money) for lp in p.tables("lines", required=True) or []]
    seen: dict[str, int] = {}
    for index, line in enumerate(lines):
        if line is None:
            continue
        if line.id in seen:
            p.problem(f"id {line.id!r} is used twice (also lines[{seen[line.id]}])",
                      f"lines[{index}].id")
        seen.setdefault(line.id, index)
    shipping = p.money("shipping", required=False)
    customer_params = p.table("customer")
    customer = _parse_customer(customer_params) if customer_params else Customer()
    channel = p.string("channel", required=False)
    now = _parse_now(p)
    codes = p.strings("codes") or ()
    p.finish()
    if p.problems or code is None:
        return None
    return Cart(
        currency=code,
        lines=[line for line in lines if line is not None],
        shipping=money.to_decimal(shipping or 0),
        customer=customer,
        channel=channel,
        now=now,
        codes=codes,
    )


def _parse_now(p: Params) -> datetime | None:
    value = p.raw("now")
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    p.problem(f"{value!r} is not an ISO 8601 time", "now")
    return None


_LINE_KEYS = frozenset({"id", "sku", "quantity", "unit_price", "category", "brand", "shop",
                        "tags", "group_id", "bargain_id"})
_OPTIONAL_TEXT = ("category", "brand", "shop", "group_id", "bargain_id")


def _plain_line(data: Mapping[str, Any], money: Currency) -> Line | None:
    """The line a well-formed, deposit-free line table gives, checked quickly; ``None``
    for anything else (an unknown key, a wrong type, a bad amount, repeated tags, a
    deposit), which :func:`_read_line` then reads and reports in full. Whatever this
    returns, :func:`_read_line` returns too."""
    if not _LINE_KEYS.issuperset(data):
        return None
    line_id, sku, quantity = data.get("id"), data.get("sku"), data.get("quantity")
    if not (type(line_id) is str and line_id.strip() and type(sku) is str and sku.strip()
            and type(quantity) is int and quantity >= 1):
        return None
    if any(key in data and not (type(data[key]) is str and data[key].strip())
           for key in _OPTIONAL_TEXT):
        return None
    tags = data.get("tags", [])
    if not (type(tags) is list and all(type(t) is str and t for t in tags)
            and len(set(tags)) == len(tags)):
        return None
    try:
        unit_price = money.parse(data.get("unit_price"))
    except (TypeError, ValueError):
        return None
    return Line(id=line_id, sku=sku, quantity=quantity, unit_price=money.to_decimal(unit_price),
                category=data.get("category", ""), brand=data.get("brand"),
                shop=data.get("shop"), tags=tags, group_id=data.get("group_id"),
                bargain_id=data.get("bargain_id"))


def _parse_line(p: Params, money: Currency) -> Line | None:
    quick = _plain_line(p.data, money)
    return quick if quick is not None else _read_line(p, money)


def _read_line(p: Params, money: Currency) -> Line | None:
    """A line table read key by key, every problem reported with its path."""
    before = len(p.problems)
    line_id = p.string("id")
    sku = p.string("sku")
    quantity = p.integer("quantity", minimum=1)
    if quantity is None and "quantity" in p.data and p.problems[-1].path == p.path_of("quantity"):
        got = p.raw("quantity")
        p.problems[-1] = Problem(path=p.path_of("quantity"),
                                 message=f"must be a positive whole number, got {got!r}")
    unit_price = p.money("unit_price")
    category = p.string("category", required=False, default="")
    brand = p.string("brand", required=False)
    shop = p.string("shop", required=False)
    tags = p.strings("tags") or ()
    deposit = p.money("deposit_paid", required=False)
    if deposit is not None and unit_price is not None and quantity is not None \
            and deposit > unit_price * quantity:
        p.problem(f"deposit {money.format(deposit)} is larger than the line's subtotal "
                  f"{money.format(unit_price * quantity)}", "deposit_paid")
    group_id = p.string("group_id", required=False)
    bargain_id = p.string("bargain_id", required=False)
    p.finish()
    if len(p.problems) > before:
        return None
    assert line_id is not None and sku is not None and quantity is not None
    assert unit_price is not None
    return Line(
        id=line_id, sku=sku, quantity=quantity, unit_price=money.to_decimal(unit_price),
        category=category or "", brand=brand, shop=shop, tags=tags,
        deposit_paid=None if deposit is None else money.to_decimal(deposit),
        group_id=group_id, bargain_id=bargain_id,
    )


def _parse_customer(p: Params) -> Customer:
    customer_id = p.string("id", required=False)
    tier = p.string("tier", required=False)
    tags = p.strings("tags") or ()
    orders = p.integer("orders_count", required=False, minimum=0)
    last = p.raw("last_order_at")
    last_order_at = None
    if last is not None:
        try:
            last_order_at = datetime.fromisoformat(last) if isinstance(last, str) else None
        except ValueError:
            last_order_at = None
        if last_order_at is None:
            p.problem(f"{last!r} is not an ISO 8601 time", "last_order_at")
    region = p.string("region", required=False)
    birthday = p.date("birthday")
    p.finish()
    return Customer(id=customer_id, tier=tier, tags=tags, orders_count=orders,
                    last_order_at=last_order_at, region=region, birthday=birthday)
