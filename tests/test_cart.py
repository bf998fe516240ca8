"""Cart: the JSON contract of DESIGN §5, round-trips, and every bad cart by path."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promokit.cart import Cart, Customer, Line, _plain_line, _read_line
from promokit.errors import CartError, Problem
from promokit.money import currency
from promokit.params import Params

SHANGHAI_OFFSET = timezone(timedelta(hours=8))

FULL_CART: dict[str, Any] = {
    "currency": "CNY",
    "lines": [
        {"id": "l1", "sku": "SHOE-1", "quantity": 2, "unit_price": "399.00",
         "category": "apparel/shoes", "brand": "acme", "shop": "s1",
         "tags": ["new", "sale"]},
        {"id": "l2", "sku": "PHONE-1", "quantity": 1, "unit_price": "5999.00",
         "category": "digital/phones", "brand": "fruit", "shop": "s2",
         "tags": ["presale"], "deposit_paid": "100.00"},
        {"id": "l3", "sku": "BLENDER-1", "quantity": 1, "unit_price": "99.00",
         "group_id": "g-42"},
        {"id": "l4", "sku": "KETTLE-1", "quantity": 1, "unit_price": "59.90",
         "bargain_id": "b-7"},
    ],
    "shipping": "12.00",
    "customer": {"id": "c1", "tier": "gold", "tags": ["student"], "orders_count": 3,
                 "last_order_at": "2026-09-01T10:00:00+08:00", "region": "CN-31",
                 "birthday": "1995-11-11"},
    "channel": "app",
    "now": "2026-11-11T00:30:00+08:00",
    "codes": ["D11-7KQ2-XM9P"],
}


def minimal_cart() -> dict[str, Any]:
    return {"currency": "CNY",
            "lines": [{"id": "l1", "sku": "SHOE-1", "quantity": 2, "unit_price": "10.00"}]}


def problems_of(data: Any) -> list[tuple[str, str]]:
    with pytest.raises(CartError) as caught:
        Cart.from_json(data)
    return [(problem.path, problem.message) for problem in caught.value.problems]


# -- reading a good cart --------------------------------------------------------


def test_full_cart_reads_every_field() -> None:
    cart = Cart.from_json(FULL_CART)
    assert cart.currency == "CNY"
    assert cart.shipping == Decimal("12.00")
    assert cart.channel == "app"
    assert cart.now == datetime(2026, 11, 11, 0, 30, tzinfo=SHANGHAI_OFFSET)
    assert cart.codes == ("D11-7KQ2-XM9P",)
    assert cart.lines[0] == Line(id="l1", sku="SHOE-1", quantity=2,
                                 unit_price=Decimal("399.00"), category="apparel/shoes",
                                 brand="acme", shop="s1", tags=frozenset({"new", "sale"}))
    assert cart.lines[1].deposit_paid == Decimal("100.00")
    assert cart.lines[2].group_id == "g-42"
    assert cart.lines[3].bargain_id == "b-7"
    assert cart.customer == Customer(
        id="c1", tier="gold", tags=frozenset({"student"}), orders_count=3,
        last_order_at=datetime(2026, 9, 1, 10, tzinfo=SHANGHAI_OFFSET), region="CN-31",
        birthday=date(1995, 11, 11))


def test_line_subtotal() -> None:
    assert Cart.from_json(FULL_CART).lines[0].subtotal == Decimal("798.00")


def test_minimal_cart_has_defaults() -> None:
    cart = Cart.from_json(minimal_cart())
    assert cart.shipping == Decimal(0)
    assert cart.customer == Customer()
    assert cart.channel is None
    assert cart.now is None
    assert cart.codes == ()


def test_cart_from_json_text_and_bytes() -> None:
    text = json.dumps(FULL_CART)
    assert Cart.from_json(text) == Cart.from_json(FULL_CART)
    assert Cart.from_json(text.encode("utf-8")) == Cart.from_json(FULL_CART)


def test_yen_cart_has_no_decimals() -> None:
    cart = Cart.from_json({"currency": "JPY", "lines": [
        {"id": "l1", "sku": "A", "quantity": 1, "unit_price": "1990"}]})
    assert cart.to_json()["lines"][0]["unit_price"] == "1990"
    assert cart.to_json()["shipping"] == "0"


def test_deposit_equal_to_the_line_is_allowed() -> None:
    data = minimal_cart()
    data["lines"][0]["deposit_paid"] = "20.00"
    assert Cart.from_json(data).lines[0].deposit_paid == Decimal("20.00")


# -- round trip -----------------------------------------------------------------


def test_full_cart_round_trips() -> None:
    cart = Cart.from_json(FULL_CART)
    assert Cart.from_json(cart.to_json()) == cart


def test_to_json_writes_the_contract_form() -> None:
    assert Cart.from_json(FULL_CART).to_json() == FULL_CART


def test_to_json_is_json_serialisable() -> None:
    cart = Cart.from_json(FULL_CART)
    assert Cart.from_json(json.dumps(cart.to_json())) == cart


ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=8)
tag_lists = st.lists(ids, unique=True, max_size=3)
offsets = st.sampled_from([UTC, SHANGHAI_OFFSET, timezone(timedelta(hours=-5))])
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                       timezones=st.one_of(st.none(), offsets))


@st.composite
def valid_carts(draw: st.DrawFn) -> dict[str, Any]:
    code, scale = draw(st.sampled_from([("CNY", 2), ("JPY", 0), ("KWD", 3)]))

    def money(minor: int) -> str:
        return str(Decimal(minor).scaleb(-scale))

    lines = []
    for index in range(draw(st.integers(min_value=0, max_value=4))):
        quantity = draw(st.integers(min_value=1, max_value=50))
        unit = draw(st.integers(min_value=0, max_value=10**8))
        line: dict[str, Any] = {"id": f"l{index}", "sku": draw(ids), "quantity": quantity,
                                "unit_price": money(unit)}
        optional = {
            "category": st.just("apparel/shoes"),
            "brand": ids,
            "shop": ids,
            "tags": tag_lists.filter(bool),
            "deposit_paid": st.integers(min_value=0, max_value=unit * quantity).map(money),
            "group_id": ids,
            "bargain_id": ids,
        }
        for key, strategy in optional.items():
            if draw(st.booleans()):
                line[key] = draw(strategy)
        lines.append(line)
    cart: dict[str, Any] = {"currency": code, "lines": lines}
    if draw(st.booleans()):
        cart["shipping"] = money(draw(st.integers(min_value=0, max_value=10**6)))
    customer_fields = {
        "id": ids,
        "tier": st.sampled_from(["silver", "gold", "platinum"]),
        "tags": tag_lists,
        "orders_count": st.integers(min_value=0, max_value=1000),
        "last_order_at": moments.map(datetime.isoformat),
        "region": st.sampled_from(["CN", "CN-31", "CN-11-01"]),
        "birthday": st.dates(min_value=date(1900, 1, 1)).map(date.isoformat),
    }
    customer = {key: draw(s) for key, s in customer_fields.items() if draw(st.booleans())}
    if customer:
        cart["customer"] = customer
    if draw(st.booleans()):
        cart["channel"] = draw(st.sampled_from(["app", "web", "miniprogram"]))
    if draw(st.booleans()):
        cart["now"] = draw(moments).isoformat()
    if draw(st.booleans()):
        cart["codes"] = draw(tag_lists)
    return cart


@given(data=valid_carts())
def test_any_valid_cart_round_trips(data: dict[str, Any]) -> None:
    cart = Cart.from_json(data)
    assert Cart.from_json(cart.to_json()) == cart


# -- bad carts: one problem each, by path ------------------------------------------


def without(*path: str | int) -> Callable[[dict[str, Any]], None]:
    def mutate(cart: dict[str, Any]) -> None:
        target: Any = cart
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return mutate


def setting(value: Any, *path: str | int) -> Callable[[dict[str, Any]], None]:
    def mutate(cart: dict[str, Any]) -> None:
        target: Any = cart
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


def second_line_with_id(line_id: str) -> Callable[[dict[str, Any]], None]:
    def mutate(cart: dict[str, Any]) -> None:
        cart["lines"].append({"id": line_id, "sku": "B", "quantity": 1, "unit_price": "1.00"})
    return mutate


BAD_CARTS = [
    ("missing currency", without("currency"), "currency", "is required"),
    ("unknown currency", setting("XXX", "currency"), "currency", "unknown currency 'XXX'"),
    ("lowercase currency", setting("cny", "currency"), "currency", "unknown currency 'cny'"),
    ("currency not a string", setting(156, "currency"), "currency",
     "must be a non-empty string"),
    ("missing lines", without("lines"), "lines", "is required"),
    ("lines not a list", setting({"id": "l1"}, "lines"), "lines", "must be a list of tables"),
    ("line not a table", setting(["l1"], "lines"), "lines", "must be a list of tables"),
    ("missing id", without("lines", 0, "id"), "lines[0].id", "is required"),
    ("missing sku", without("lines", 0, "sku"), "lines[0].sku", "is required"),
    ("missing quantity", without("lines", 0, "quantity"), "lines[0].quantity", ""),
    ("missing unit_price", without("lines", 0, "unit_price"), "lines[0].unit_price",
     "is required"),
    ("empty id", setting("", "lines", 0, "id"), "lines[0].id", "must be a non-empty string"),
    ("quantity 0", setting(0, "lines", 0, "quantity"), "lines[0].quantity",
     "must be a positive whole number, got 0"),
    ("quantity -1", setting(-1, "lines", 0, "quantity"), "lines[0].quantity",
     "must be a positive whole number, got -1"),
    ("quantity 1.5", setting(1.5, "lines", 0, "quantity"), "lines[0].quantity",
     "must be a positive whole number, got 1.5"),
    ("quantity 'x'", setting("x", "lines", 0, "quantity"), "lines[0].quantity",
     "must be a positive whole number, got 'x'"),
    ("quantity true", setting(True, "lines", 0, "quantity"), "lines[0].quantity",
     "must be a positive whole number, got True"),
    ("quantity null", setting(None, "lines", 0, "quantity"), "lines[0].quantity",
     "must be a positive whole number, got None"),
    ("negative price", setting("-1.00", "lines", 0, "unit_price"), "lines[0].unit_price",
     "'-1.00' is negative"),
    ("float price", setting(10.5, "lines", 0, "unit_price"), "lines[0].unit_price",
     'must be a string such as "199.00", not float'),
    ("too many decimals", setting("10.001", "lines", 0, "unit_price"), "lines[0].unit_price",
     "'10.001' has more decimals than CNY allows (2)"),
    ("malformed price", setting("10,00", "lines", 0, "unit_price"), "lines[0].unit_price",
     "'10,00' is not an amount of money"),
    ("duplicate line ids", second_line_with_id("l1"), "lines[1].id",
     "id 'l1' is used twice (also lines[0])"),
    ("unknown top-level key", setting("red", "colour"), "colour", "unknown key"),
    ("top-level typo", setting("app", "chanel"), "chanel",
     "unknown key (did you mean 'channel'?)"),
    ("unknown line key", setting(1, "lines", 0, "quantty"), "lines[0].quantty",
     "unknown key (did you mean 'quantity'?)"),
    ("unknown customer key", setting({"teir": "gold"}, "customer"), "customer.teir",
     "unknown key (did you mean 'tier'?)"),
    ("customer not a table", setting("c1", "customer"), "customer", "must be a table"),
    ("negative orders_count", setting({"orders_count": -1}, "customer"),
     "customer.orders_count", "must be at least 0, got -1"),
    ("bad last_order_at", setting({"last_order_at": "last week"}, "customer"),
     "customer.last_order_at", "'last week' is not an ISO 8601 time"),
    ("bad birthday", setting({"birthday": "1995-13-01"}, "customer"), "customer.birthday",
     "'1995-13-01' is not a date (YYYY-MM-DD)"),
    ("birthday not a string", setting({"birthday": 19951111}, "customer"), "customer.birthday",
     "19951111 is not a date (YYYY-MM-DD)"),
    ("bad now", setting("yesterday", "now"), "now", "'yesterday' is not an ISO 8601 time"),
    ("now not a string", setting(1762792200, "now"), "now",
     "1762792200 is not an ISO 8601 time"),
    ("deposit larger than the line", setting("20.01", "lines", 0, "deposit_paid"),
     "lines[0].deposit_paid", "deposit 20.01 is larger than the line's subtotal 20.00"),
    ("negative deposit", setting("-1.00", "lines", 0, "deposit_paid"),
     "lines[0].deposit_paid", "'-1.00' is negative"),
    ("negative shipping", setting("-12.00", "shipping"), "shipping", "'-12.00' is negative"),
    ("float shipping", setting(12.0, "shipping"), "shipping", "not float"),
    ("empty channel", setting("", "channel"), "channel", "must be a non-empty string"),
    ("codes not a list", setting("D11", "codes"), "codes",
     "must be a list of non-empty strings"),
    ("repeated code", setting(["A", "A"], "codes"), "codes[1]", "'A' is listed twice"),
    ("line tags not a list", setting("sale", "lines", 0, "tags"), "lines[0].tags",
     "must be a list of non-empty strings"),
]


@pytest.mark.parametrize(("mutate", "path", "message"),
                         [case[1:] for case in BAD_CARTS], ids=[case[0] for case in BAD_CARTS])
def test_bad_cart_is_reported_by_path(mutate: Callable[[dict[str, Any]], None], path: str,
                                      message: str) -> None:
    data = minimal_cart()
    mutate(data)
    problems = problems_of(data)
    assert [p for p, _ in problems] == [path]
    assert message in problems[0][1]


def test_too_many_decimals_for_yen() -> None:
    data = minimal_cart()
    data["currency"] = "JPY"
    data["lines"][0]["unit_price"] = "1.5"
    assert problems_of(data) == [
        ("lines[0].unit_price", "'1.5' has more decimals than JPY allows (0)")]


def test_missing_quantity_says_it_is_required() -> None:
    data = minimal_cart()
    del data["lines"][0]["quantity"]
    assert problems_of(data) == [("lines[0].quantity", "is required")]


@pytest.mark.parametrize("quantity", ["--1", "²"])
def test_digit_like_quantity_text_is_a_cart_error(quantity: str) -> None:
    data = minimal_cart()
    data["lines"][0]["quantity"] = quantity
    assert [path for path, _ in problems_of(data)] == ["lines[0].quantity"]


@pytest.mark.parametrize("text", ["{", "", "not json", '{"currency": "CNY",}'])
def test_not_json_text(text: str) -> None:
    problems = problems_of(text)
    assert len(problems) == 1
    assert problems[0][0] == ""
    assert problems[0][1].startswith("not valid JSON")


def test_bytes_that_are_not_utf8_are_a_cart_error() -> None:
    problems = problems_of(b"\xff")
    assert [path for path, _ in problems] == [""]


@pytest.mark.parametrize("data", ["[1]", "null", '"cart"', "42", [], ["currency"]])
def test_top_level_not_an_object(data: Any) -> None:
    assert problems_of(data) == [("", "a cart must be a JSON object")]


def test_several_problems_are_reported_together() -> None:
    data = copy.deepcopy(FULL_CART)
    del data["currency"]
    data["lines"][0]["quantity"] = 0
    data["lines"][1]["unit_price"] = 5999.0
    data["lines"][2]["id"] = "l1"
    data["lines"][3]["colour"] = "red"
    data["customer"]["birthday"] = "11/11"
    data["now"] = "soon"
    data["extra"] = True
    with pytest.raises(CartError) as caught:
        Cart.from_json(data)
    assert [problem.path for problem in caught.value.problems] == [
        "currency",
        "lines[0].quantity",
        "lines[1].unit_price",
        "lines[3].colour",
        "customer.birthday",
        "now",
        "extra",
    ]


def test_duplicate_id_is_reported_beside_other_line_problems() -> None:
    data = minimal_cart()
    data["lines"] += [{"id": "l2", "sku": "B", "quantity": 1, "unit_price": "1.00"},
                      {"id": "l2", "sku": "C", "quantity": 1, "unit_price": "2.00"},
                      {"id": "l3", "sku": "D", "quantity": -1, "unit_price": "3.00"}]
    assert [path for path, _ in problems_of(data)] == ["lines[3].quantity", "lines[2].id"]


def test_cart_error_lists_every_problem_in_its_message() -> None:
    data = minimal_cart()
    data["currency"] = "XXX"
    data["lines"][0]["quantity"] = 0
    with pytest.raises(CartError) as caught:
        Cart.from_json(data)
    text = str(caught.value)
    assert "invalid cart (2 problem(s))" in text
    assert "currency: unknown currency 'XXX'" in text
    assert "lines[0].quantity: must be a positive whole number, got 0" in text


# -- the quick path for well-formed lines gives what the full reading gives ----------------

_line_values = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 5), st.floats(allow_nan=False, width=16),
    st.sampled_from(["", " ", "A", "SKU-1", "59.90", "0.00", "1.005", "-1", "1e3", "199"]),
    st.lists(st.sampled_from(["", "a", "b"]), max_size=3), st.just({"x": 1}))


_KEYS = ["id", "sku", "quantity", "unit_price", "category", "brand", "shop", "tags",
         "group_id", "bargain_id", "deposit_paid", "colour"]
_GOOD: dict[str, object] = {"id": "l1", "sku": "SKU-1", "quantity": 2, "unit_price": "59.90",
                            "category": "a/b", "brand": "acme", "shop": "s1",
                            "tags": ["a", "b"], "group_id": "g1", "bargain_id": "b1"}


@settings(max_examples=600, deadline=None)
@given(keep=st.sets(st.sampled_from(sorted(_GOOD))),
       changed=st.dictionaries(st.sampled_from(_KEYS), _line_values, max_size=2))
def test_the_quick_line_path_reads_as_the_full_one(keep: set[str],
                                                   changed: dict[str, object]) -> None:
    """A well-formed line (some keys left out), with up to two keys set to anything:
    where the quick path gives a line, the full reading gives the same and no problem;
    where it declines, the full reading (which always read lines) decides."""
    line = {key: _GOOD[key] for key in keep} | changed
    money = currency("CNY")
    quick = _plain_line(line, money)
    problems: list[Problem] = []
    full = _read_line(Params(line, "lines[0]", problems, money), money)
    if quick is not None:
        assert problems == [] and full == quick
    elif not problems:
        assert "deposit_paid" in line  # the one well-formed line it leaves to the full path
