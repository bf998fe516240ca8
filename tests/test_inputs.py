"""Bounds on input (issue 13, faults 3, 11, 16 and 19): every document promokit
reads is held to its size, depth, numbers and text, and what breaks a bound is a
clear error naming it and where, never a traceback, a hang or a MemoryError."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from campaigns import HEADER

from promokit import Cart, CartError, ConfigError, Engine
from promokit.inputs import DEFAULT_LIMITS, MAX_INTEGER, InputLimits, check_document
from promokit.loading import load_campaigns
from promokit.registry import Registry
from promokit.testing import cart, engine_from_toml

LINE = {"id": "l1", "sku": "A", "quantity": 1, "unit_price": "10.00"}


def cart_json(**fields: object) -> dict[str, object]:
    return {"currency": "CNY", "lines": [LINE], **fields}


def paths(error: pytest.ExceptionInfo[CartError] | pytest.ExceptionInfo[ConfigError]
          ) -> dict[str, str]:
    return {problem.path: problem.message for problem in error.value.problems}


# -- carts ------------------------------------------------------------------------------


def test_a_cart_with_more_lines_than_the_limit_is_refused_before_its_lines_are_read() -> None:
    lines = [dict(LINE, id=f"l{n}") for n in range(DEFAULT_LIMITS.max_lines + 1)]
    with pytest.raises(CartError) as caught:
        Cart.from_json({"currency": "CNY", "lines": lines})
    assert paths(caught) == {"lines": "has 1,001 lines; a cart may have at most 1,000"}
    few = InputLimits(max_lines=2)
    with pytest.raises(CartError, match="at most 2"):
        Cart.from_json({"currency": "CNY", "lines": lines[:3]}, limits=few)


def test_a_quantity_past_the_limit_is_refused_naming_the_line() -> None:
    for quantity in (10**6 + 1, 10**30, 2**63):
        with pytest.raises(CartError) as caught:
            Cart.from_json(cart_json(lines=[dict(LINE, quantity=quantity)]))
        assert paths(caught) == {"lines[0].quantity":
                                 f"must be at most 1,000,000 units, got {quantity:,}"}


def test_a_cart_whose_total_is_past_the_largest_amount_is_refused() -> None:
    # 1,000,000 units at 10^10: 10^16, past the 10^15 any amount may be. Checkout used
    # to accept a cart of 10^18 and then fail to read it back (fault 1).
    line = dict(LINE, quantity=1_000_000, unit_price="10000000000.00")
    with pytest.raises(CartError) as caught:
        Cart.from_json(cart_json(lines=[line]))
    assert paths(caught) == {"lines": "its lines and shipping come to 10,000,000,000,000,000.00;"
                                      " at most 1,000,000,000,000,000 CNY"}


def test_a_cart_carries_a_bounded_number_of_codes() -> None:
    codes = [f"CODE{n}" for n in range(11)]
    with pytest.raises(CartError) as caught:
        Cart.from_json(cart_json(codes=codes))
    assert paths(caught) == {"codes": "carries 11 codes; a cart may carry at most 10"}


@pytest.mark.parametrize(("field", "value", "why"), [
    ("id", "l" * 201, "is 201 characters long; at most 200"),
    ("id", "l\x1b[31m1", "holds a control character"),
    ("sku", "A\x00", "holds a NUL character"),
    ("sku", "A\ud800", "holds a lone surrogate (not valid Unicode text)"),
    ("brand", "acme\x00", "holds a NUL character"),
    ("tags", ["ok", "x\ud800"], "holds a lone surrogate (not valid Unicode text)"),
])
def test_ids_and_text_that_cannot_be_stored_or_printed_are_refused(
        field: str, value: object, why: str) -> None:
    with pytest.raises(CartError) as caught:
        Cart.from_json(cart_json(lines=[dict(LINE, **{field: value})]))
    ((path, message),) = paths(caught).items()
    assert path.startswith(f"lines[0].{field}") and message == why


def test_a_customer_id_with_a_control_character_is_refused() -> None:
    with pytest.raises(CartError) as caught:
        Cart.from_json(cart_json(customer={"id": "c1\n"}))
    assert paths(caught) == {"customer.id": "holds a control character"}


def test_json_nested_too_deeply_is_refused_not_a_recursion_error() -> None:
    for deep in ("[" * 100_000 + "]" * 100_000, '{"a":' * 5_000 + "1" + "}" * 5_000):
        with pytest.raises(CartError, match="nested too deeply"):
            Cart.from_json(deep)


def test_an_integer_of_thousands_of_digits_is_refused_not_a_value_error() -> None:
    text = json.dumps(cart_json()).replace('"quantity": 1', '"quantity": ' + "9" * 5_000)
    with pytest.raises(CartError, match="not valid JSON"):
        Cart.from_json(text)


def test_a_document_larger_than_the_limit_is_refused_before_it_is_parsed() -> None:
    text = json.dumps(cart_json(channel="x" * (1 << 20)))
    with pytest.raises(CartError) as caught:
        Cart.from_json(text)
    assert paths(caught)[""].endswith(f"bytes; at most {1 << 20:,}")


def test_a_time_past_the_calendar_is_refused_not_an_overflow_error() -> None:
    with pytest.raises(CartError) as caught:
        Cart.from_json(cart_json(now="9999-12-31T23:59:59-23:59"))
    assert paths(caught) == {"now": "'9999-12-31T23:59:59-23:59' is out of the range of times "
                                    "(years 1 to 9999 in every timezone)"}


def test_an_engine_holds_carts_built_in_code_to_its_limits() -> None:
    engine = engine_from_toml('[[promotion]]\nid = "p"\nkind = "percent_off"\npercent = "10"\n',
                              input_limits=InputLimits(max_quantity=5))
    with pytest.raises(CartError, match=r"lines\[0\]\.quantity: must be from 1 to 5 units"):
        engine.evaluate(cart(("l1", "A", 6, "1.00")))
    with pytest.raises(CartError, match="at most 5 units"):
        engine.evaluate(cart(("l1", "A", 6, "1.00")).to_json())


# -- quantities priced by arithmetic (fault 16) -------------------------------------------


QUANTITY_DEALS = HEADER + '''
[[promotion]]
id = "second-half"
kind = "nth_item"
n = 2
percent = "50"
scope = { skus = ["A"] }

[[promotion]]
id = "three-for-two"
kind = "buy_x_get_y"
buy = 2
get = 1
scope = { skus = ["B"] }

[[promotion]]
id = "pair"
kind = "bundle_price"
price = "15.00"
components = [ { sku = "C", quantity = 1 }, { sku = "D", quantity = 1 } ]

[[promotion]]
id = "flash"
kind = "fixed_price"
price = "0.50"
scope = { skus = ["E"] }
limits = { stock = 1000000000001, per_order_units = 3 }
'''


def test_a_trillion_units_price_by_arithmetic_not_by_listing_them() -> None:
    # Before, each quantity deal and the stock cap built a list as long as the
    # quantity: 10^8 units took a minute and 5 GiB, 10^12 a MemoryError.
    huge = 10**12
    limits = InputLimits(max_quantity=huge)
    engine = engine_from_toml(QUANTITY_DEALS, input_limits=limits)
    lines = [{"id": sku.lower(), "sku": sku, "quantity": huge, "unit_price": price}
             for sku, price in (("A", "1.00"), ("B", "1.00"), ("C", "10.00"), ("D", "10.00"),
                                ("E", "1.00"))]
    result = engine.evaluate({"currency": "CNY", "lines": lines,
                              "now": "2026-11-11T10:00:00+08:00"})
    discounts = {line.id: line.discount for line in result.lines}
    # every second A at half price: 5 × 10^11 units × 0.50
    assert discounts["a"] == Decimal("250000000000.00")
    # B: a third of 10^12 units free (333,333,333,333 groups of three)
    assert discounts["b"] == Decimal("333333333333.00")
    # 10^12 bundles of C + D at 15.00 instead of 20.00: 5.00 each, by net 1:1
    assert discounts["c"] + discounts["d"] == Decimal("5000000000000.00")
    # the flash price on 3 units only (per_order_units), 0.50 off each
    assert discounts["e"] == Decimal("1.50")
    assert result.total == result.subtotal - result.discount_total


# -- campaign files --------------------------------------------------------------------


def registry() -> Registry:
    return Registry.default(load_entry_points=False)


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


def test_a_deeply_nested_json_campaign_file_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, "deep.json", '{"a":' * 5_000 + "1" + "}" * 5_000)
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_campaigns(path, registry())


def test_a_deeply_nested_toml_campaign_file_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, "deep.toml", "a = " + "[" * 5_000 + "]" * 5_000 + "\n")
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_campaigns(path, registry())


def test_a_lone_surrogate_in_a_json_campaign_file_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.json", '{"currency": "CNY", "promotion": [{"id": "p\\ud800", '
                                       '"kind": "percent_off", "percent": "5"}]}')
    with pytest.raises(ConfigError) as caught:
        load_campaigns(path, registry())
    assert paths(caught) == {"promotion[0].id": "holds a lone surrogate (not valid Unicode "
                                                "text)"}


def test_a_timezone_that_is_a_folder_is_an_unknown_timezone(tmp_path: Path) -> None:
    path = write(tmp_path, "tz.toml", 'currency = "CNY"\ntimezone = "Asia"\n')
    with pytest.raises(ConfigError) as caught:
        load_campaigns(path, registry())
    assert paths(caught) == {"timezone": "unknown timezone 'Asia'"}


def test_a_number_of_too_many_digits_is_refused_where_it_stands(tmp_path: Path) -> None:
    path = write(tmp_path, "dep.toml", HEADER + '[[promotion]]\nid = "dep"\n'
                 'kind = "deposit_multiplier"\nmultiplier = "123456789012345678901234567890"\n')
    with pytest.raises(ConfigError) as caught:
        load_campaigns(path, registry())
    assert paths(caught) == {"promotion[0].multiplier": "'123456789012345678901234567890' has "
                             "too many digits (at most 18, and at most 1,000,000,000,000,000)"}


def test_a_limit_past_the_largest_integer_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "big.toml", HEADER + '[[promotion]]\nid = "p"\nkind = "amount_off"\n'
                 'amount = "1"\nlimits = { stock = 10000000000000000000000 }\n')
    with pytest.raises(ConfigError) as caught:
        load_campaigns(path, registry())
    assert paths(caught) == {"promotion[0].limits.stock":
                             "10000000000000000000000 is too large (at most "
                             "1,000,000,000,000,000)"}


def test_a_lottery_prize_id_that_is_not_text_is_a_problem_not_a_type_error(
        tmp_path: Path) -> None:
    path = write(tmp_path, "lot.toml", HEADER + '[[game]]\nid = "koi"\nkind = "lottery"\n'
                 'organiser = "x"\nprizes = [ { id = ["a"], name = "x", kind = "goods", '
                 'value = "1.00", weight = 1, stock = 1 }, { id = "t", name = "t", '
                 'kind = "none", weight = 1, fallback = true } ]\n')
    with pytest.raises(ConfigError) as caught:
        load_campaigns(path, registry())
    assert paths(caught)["game[0].prizes[0].id"] == "must be a non-empty string"


def test_check_document_walks_without_recursion() -> None:
    deep: list[object] = []
    inner = deep
    for _ in range(10_000):
        inner.append([])
        inner = inner[0]  # type: ignore[assignment]
    assert [str(p) for p in check_document(deep)] == [
        "[0]" + "[0]" * 31 + ": nested more than 32 deep"]
    assert check_document({"n": MAX_INTEGER, "ok": "text", "f": 1.5}) == []


def test_limits_must_be_positive_whole_numbers() -> None:
    with pytest.raises(ValueError, match="max_lines must be a positive whole number"):
        InputLimits(max_lines=0)


def test_an_engine_built_without_limits_uses_the_defaults() -> None:
    engine = Engine.from_files(["examples/d11.toml"], load_entry_points=False)
    assert engine.pricer.setup.limits == DEFAULT_LIMITS
