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

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import attrs

from .errors import CartError, InputError, Problem
from .inputs import (
    DEFAULT_LIMITS,
    RECORD_LIMITS,
    InputLimits,
    bad_identifier,
    bad_time,
    decode_json,
)
from .money import MAX_AMOUNT, Currency, currency
from .params import Params

__all__ = ["Cart", "Customer", "Line"]


def _tags(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


def _lines(values: Iterable[Line]) -> tuple[Line, ...]:
    return tuple(values)


def _codes(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _storable_id(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A customer id ends up in store keys and rows: refuse one no store can keep apart
    (control characters, NUL, lone surrogates) however the customer was made."""
    if value is None:
        return
    problem = ("must be a string" if not isinstance(value, str)
               else bad_identifier(value, RECORD_LIMITS))
    if problem is not None:
        raise InputError([Problem(path=f"customer.{attribute.name}", message=problem)],
                         what="customer")


@attrs.frozen(kw_only=True)
class Customer:
    """Who is buying. Every field is optional: an anonymous cart has none."""

    id: str | None = attrs.field(default=None, validator=_storable_id)
    tier: str | None = None
    tags: frozenset[str] = attrs.field(default=frozenset(), converter=_tags)
    orders_count: int | None = None
    last_order_at: datetime | None = None
    region: str | None = None
    birthday: date | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, path: str = "customer") -> Customer:
        """A customer from its JSON form (the cart's ``customer`` object).

        Raises :class:`~promokit.errors.InputError` (``what``: ``customer``) listing
        every problem, each path under ``path``."""
        if not isinstance(data, Mapping):
            raise InputError([Problem(path=path, message="must be a JSON object")],
                             what="customer")
        problems: list[Problem] = []
        customer = _parse_customer(Params(data, path, problems))
        if problems:
            raise InputError(problems, what="customer")
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
    def from_json(cls, data: Mapping[str, Any] | str | bytes, *,
                  limits: InputLimits = DEFAULT_LIMITS) -> Cart:
        """Build a cart from its JSON form (a mapping or JSON text), within ``limits``
        (lines, units per line, codes, id length, document size and depth).

        Raises :class:`~promokit.errors.CartError` listing every problem.
        """
        if isinstance(data, (str, bytes)):
            data = decode_json(data, error=CartError, limits=limits)
        if not isinstance(data, Mapping):
            raise CartError([Problem(path="", message="a cart must be a JSON object")])
        problems: list[Problem] = []
        cart = _parse_cart(Params(data, "", problems, limits=limits))
        if problems or cart is None:
            raise CartError(problems)
        return cart

    def bound_problems(self, limits: InputLimits = DEFAULT_LIMITS) -> list[Problem]:
        """What in this cart breaks ``limits`` (lines, units per line, codes, the
        total): for carts built in code rather than read with :meth:`from_json`."""
        problems = []
        if len(self.lines) > limits.max_lines:
            problems.append(Problem(path="lines", message=f"has {len(self.lines):,} lines; a "
                                    f"cart may have at most {limits.max_lines:,}"))
        for index, line in enumerate(self.lines):
            if not 1 <= line.quantity <= limits.max_quantity:
                problems.append(Problem(path=f"lines[{index}].quantity",
                                        message=f"must be from 1 to {limits.max_quantity:,} "
                                                f"units, got {line.quantity:,}"))
        total = sum((line.unit_price * line.quantity for line in self.lines), self.shipping)
        if total > MAX_AMOUNT:
            problems.append(Problem(path="lines", message=f"its lines and shipping come to "
                                    f"{total:,}; at most {MAX_AMOUNT:,} {self.currency}"))
        if len(self.codes) > limits.max_codes:
            problems.append(Problem(path="codes", message=f"carries {len(self.codes)} codes; a "
                                    f"cart may carry at most {limits.max_codes}"))
        for index, entered in enumerate(self.codes):
            why = bad_identifier(entered, limits) if isinstance(entered, str) \
                else "must be a string"
            if why is not None:
                problems.append(Problem(path=f"codes[{index}]", message=why))
        return problems

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
    limits = p.limits
    tables = p.tables("lines", required=True) or []
    if len(tables) > limits.max_lines:
        p.problem(f"has {len(tables):,} lines; a cart may have at most {limits.max_lines:,}",
                  "lines")
        tables = []
    lines = [_parse_line(lp, money) for lp in tables]
    seen: dict[str, int] = {}
    for index, line in enumerate(lines):
        if line is None:
            continue
        if line.id in seen:
            p.problem(f"id {line.id!r} is used twice (also lines[{seen[line.id]}])",
                      f"lines[{index}].id")
        seen.setdefault(line.id, index)
    shipping = p.money("shipping", required=False)
    total = sum(line.unit_price * line.quantity for line in lines if line is not None) \
        + money.to_decimal(shipping or 0)
    if total > MAX_AMOUNT:
        p.problem(f"its lines and shipping come to {total:,}; at most {MAX_AMOUNT:,} "
                  f"{money.code}", "lines")
    customer_params = p.table("customer")
    customer = _parse_customer(customer_params) if customer_params else Customer()
    channel = p.string("channel", required=False)
    now = _parse_now(p)
    codes = p.strings("codes") or ()
    if len(codes) > limits.max_codes:
        p.problem(f"carries {len(codes)} codes; a cart may carry at most {limits.max_codes}",
                  "codes")
    for index, entered in enumerate(codes):
        why = bad_identifier(entered, limits)
        if why is not None:
            p.problem(why, f"codes[{index}]")
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
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            why = bad_time(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
            if why is None:
                return moment
            p.problem(f"{value!r} {why}", "now")
            return None
    p.problem(f"{value!r} is not an ISO 8601 time", "now")
    return None


_DIGITS = re.compile("^[0-9]+$")
#: Control characters, and halves of surrogate pairs (text that cannot be stored).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

_LINE_KEYS = frozenset({"id", "sku", "quantity", "unit_price", "category", "brand", "shop",
                        "tags", "group_id", "bargain_id"})
_OPTIONAL_TEXT = ("category", "brand", "shop", "group_id", "bargain_id")


def _plain_line(data: Mapping[str, Any], money: Currency,
                limits: InputLimits = DEFAULT_LIMITS) -> Line | None:
    """The line a well-formed, deposit-free line table gives, checked quickly; ``None``
    for anything else (an unknown key, a wrong type, a bad amount, repeated tags, a
    deposit), which :func:`_read_line` then reads and reports in full. Whatever this
    returns, :func:`_read_line` returns too."""
    if not _LINE_KEYS.issuperset(data):
        return None
    line_id, sku, quantity = data.get("id"), data.get("sku"), data.get("quantity")
    if type(quantity) is str and _DIGITS.match(quantity.strip()) \
            and len(quantity.strip()) <= len(str(limits.max_quantity)):
        quantity = int(quantity)  # a whole number may be written as text, as Params reads it
    if not (type(line_id) is str and line_id.strip() and type(sku) is str and sku.strip()
            and type(quantity) is int and 1 <= quantity <= limits.max_quantity
            and len(line_id) <= limits.max_id_length and len(sku) <= limits.max_id_length):
        return None
    if any(key in data and not (type(data[key]) is str and data[key].strip())
           for key in _OPTIONAL_TEXT):
        return None
    tags = data.get("tags", [])
    if not (type(tags) is list and all(type(t) is str and t for t in tags)
            and len(set(tags)) == len(tags)):
        return None
    if _UNSAFE.search("".join([line_id, sku, *(data.get(key, "") for key in _OPTIONAL_TEXT),
                               *tags])):
        return None  # a control character or broken text: read it in full, with its path
    try:
        unit_price = money.parse(data.get("unit_price"))
    except (TypeError, ValueError):
        return None
    return Line(id=line_id, sku=sku, quantity=quantity, unit_price=money.to_decimal(unit_price),
                category=data.get("category", ""), brand=data.get("brand"),
                shop=data.get("shop"), tags=tags, group_id=data.get("group_id"),
                bargain_id=data.get("bargain_id"))


def _parse_line(p: Params, money: Currency) -> Line | None:
    quick = _plain_line(p.data, money, p.limits)
    return quick if quick is not None else _read_line(p, money)


def _read_line(p: Params, money: Currency) -> Line | None:
    """A line table read key by key, every problem reported with its path."""
    before = len(p.problems)
    line_id = p.identifier("id")
    sku = p.identifier("sku")
    quantity = p.integer("quantity", minimum=1, maximum=p.limits.max_quantity)
    if quantity is None and "quantity" in p.data and p.problems[-1].path == p.path_of("quantity"):
        got = p.raw("quantity")
        p.problems[-1] = Problem(
            path=p.path_of("quantity"),
            message=(f"must be at most {p.limits.max_quantity:,} units, got {got:,}"
                     if type(got) is int and got > p.limits.max_quantity
                     else f"must be a positive whole number, got {got!r}"))
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
    customer_id = p.identifier("id", required=False)
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
        if last_order_at is not None and bad_time(
                last_order_at if last_order_at.tzinfo else last_order_at.replace(tzinfo=UTC)):
            last_order_at = None
        if last_order_at is None:
            p.problem(f"{last!r} is not an ISO 8601 time", "last_order_at")
    region = p.string("region", required=False)
    birthday = p.date("birthday")
    p.finish()
    return Customer(id=customer_id, tier=tier, tags=tags, orders_count=orders,
                    last_order_at=last_order_at, region=region, birthday=birthday)
