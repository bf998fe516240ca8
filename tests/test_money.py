"""Money: currencies and their minor units, half-up rounding, strict parsing, Money."""

from __future__ import annotations

import decimal
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from promokit.money import Currency, Money, currency, known_currencies, round_half_up

CNY = currency("CNY")
JPY = currency("JPY")
KWD = currency("KWD")


# -- currencies ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "exponent", "scale"),
    [
        ("CNY", 2, 100),
        ("USD", 2, 100),
        ("EUR", 2, 100),
        ("JPY", 0, 1),
        ("KRW", 0, 1),
        ("KWD", 3, 1000),
    ],
)
def test_minor_units_per_currency(code: str, exponent: int, scale: int) -> None:
    money = currency(code)
    assert money == Currency(code, exponent)
    assert money.exponent == exponent
    assert money.scale == scale


@pytest.mark.parametrize("code", ["XXX", "cny", "", "CNY ", "RMB"])
def test_unknown_currency_is_a_value_error(code: str) -> None:
    with pytest.raises(ValueError, match="unknown currency"):
        currency(code)


def test_known_currencies_are_sorted_and_include_the_common_ones() -> None:
    codes = known_currencies()
    assert list(codes) == sorted(codes)
    assert {"CNY", "USD", "EUR", "JPY", "KRW", "KWD"} <= set(codes)


# -- rounding -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2.5", 3),
        ("0.5", 1),
        ("2.4999", 2),
        ("2.6", 3),
        ("-0.5", -1),
        ("-2.5", -3),
        ("-2.4999", -2),
        ("7", 7),
    ],
)
def test_round_half_up_rounds_halves_away_from_zero(value: str, expected: int) -> None:
    assert round_half_up(Decimal(value)) == expected


@pytest.mark.parametrize(
    ("code", "amount", "minor"),
    [
        ("CNY", "2.995", 300),
        ("CNY", "0.005", 1),
        ("CNY", "0.004", 0),
        ("CNY", "-0.005", -1),
        ("CNY", "-2.995", -300),
        ("JPY", "1990.5", 1991),
        ("JPY", "1990.49", 1990),
        ("KWD", "1.2345", 1235),
    ],
)
def test_to_minor_rounds_half_up_to_the_minor_unit(code: str, amount: str, minor: int) -> None:
    assert currency(code).to_minor(Decimal(amount)) == minor


def test_item_discount_is_rounded_once_on_the_whole_line() -> None:
    # DESIGN §4.4: 59.90 × 5% = 2.995 → 3.00
    assert CNY.to_minor(Decimal("59.90") * Decimal("0.05")) == 300


# -- parsing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "value", "minor"),
    [
        ("CNY", "199.00", 19900),
        ("CNY", "199", 19900),
        ("CNY", "0.5", 50),
        ("CNY", "0.01", 1),
        ("CNY", "0", 0),
        ("CNY", 199, 19900),
        ("CNY", 0, 0),
        ("CNY", Decimal("1.10"), 110),
        ("CNY", Decimal("3"), 300),
        ("USD", "12.34", 1234),
        ("JPY", "1990", 1990),
        ("JPY", 1990, 1990),
        ("KRW", "15000", 15000),
        ("KWD", "1.234", 1234),
    ],
)
def test_parse_reads_strings_ints_and_decimals(code: str, value: object, minor: int) -> None:
    assert currency(code).parse(value) == minor


@pytest.mark.parametrize("value", [1.5, 0.1, 199.0, True, False, None, [1], {"amount": "1"}])
def test_parse_refuses_floats_bools_and_other_types(value: object) -> None:
    with pytest.raises(TypeError, match="must be a string"):
        CNY.parse(value)


@pytest.mark.parametrize(
    ("code", "value"),
    [
        ("CNY", "1.001"),
        ("CNY", "0.005"),
        ("CNY", Decimal("0.001")),
        ("USD", "9.999"),
        ("JPY", "1.5"),
        ("JPY", Decimal("0.1")),
        ("KWD", "1.2345"),
    ],
)
def test_parse_refuses_more_decimals_than_the_currency_has(code: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"more decimals than {code} allows"):
        currency(code).parse(value)


@pytest.mark.parametrize("value", ["-1.00", "-0.01", -1, Decimal("-5")])
def test_parse_refuses_negative_amounts(value: object) -> None:
    with pytest.raises(ValueError, match="negative"):
        CNY.parse(value)


def test_parse_allows_negative_amounts_on_request() -> None:
    assert CNY.parse("-1.50", allow_negative=True) == -150


@pytest.mark.parametrize(
    "value",
    [
        "1,000",
        "",
        " ",
        "1e3",
        "NaN",
        "Infinity",
        "-Infinity",
        "abc",
        "1.2.3",
        "+1",
        ".5",
        "1.",
        "¥1",
        "1 000",
        "0x10",
        "-",
        Decimal("NaN"),
        Decimal("Infinity"),
    ],
)
def test_parse_refuses_malformed_amounts(value: object) -> None:
    with pytest.raises(ValueError, match="is not an amount of money"):
        CNY.parse(value)


def test_parse_ignores_the_ambient_decimal_context() -> None:
    with decimal.localcontext() as ctx:
        ctx.prec = 6
        assert CNY.parse("1234567.89") == 123456789


def test_parse_never_silently_rounds_a_long_amount() -> None:
    value = "12345678901234567890123456789.01"
    try:
        minor = CNY.parse(value)
    except ValueError:
        return  # refusing it is fine too
    assert minor == 1234567890123456789012345678901


# -- formatting ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "minor", "text"),
    [
        ("CNY", 19900, "199.00"),
        ("CNY", 0, "0.00"),
        ("CNY", 5, "0.05"),
        ("CNY", 123456789, "1234567.89"),
        ("CNY", -5, "-0.05"),
        ("USD", 1234, "12.34"),
        ("JPY", 1990, "1990"),
        ("JPY", 0, "0"),
        ("KRW", 15000, "15000"),
        ("KWD", 1234, "1.234"),
    ],
)
def test_format_writes_the_contract_string(code: str, minor: int, text: str) -> None:
    assert currency(code).format(minor) == text


def test_to_decimal_has_the_currencys_decimals() -> None:
    assert str(CNY.to_decimal(19900)) == "199.00"
    assert str(JPY.to_decimal(1990)) == "1990"
    assert str(KWD.to_decimal(5)) == "0.005"


@given(minor=st.integers(min_value=0, max_value=10**15),
       code=st.sampled_from(["CNY", "JPY", "KWD"]))
def test_parse_reads_back_what_format_writes(minor: int, code: str) -> None:
    money = currency(code)
    assert money.parse(money.format(minor)) == minor


def test_format_ignores_the_ambient_decimal_context() -> None:
    with decimal.localcontext() as ctx:
        ctx.prec = 6
        assert CNY.format(123456789) == "1234567.89"


def test_to_minor_ignores_the_ambient_decimal_context() -> None:
    with decimal.localcontext() as ctx:
        ctx.prec = 6
        assert CNY.to_minor(Decimal("1234567.89")) == 123456789


# -- Money --------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["59.90", 59, Decimal("59.90")])
def test_money_takes_strings_ints_and_decimals(amount: object) -> None:
    assert Money(amount, "CNY").amount == Decimal(str(amount))


@pytest.mark.parametrize("amount", [59.9, 0.0, True])
def test_money_refuses_floats_and_bools(amount: object) -> None:
    with pytest.raises(TypeError, match="never a float"):
        Money(amount, "CNY")


@pytest.mark.parametrize("amount", ["abc", "", "1,000", None])
def test_money_refuses_malformed_amounts(amount: object) -> None:
    with pytest.raises(ValueError, match="is not an amount of money"):
        Money(amount, "CNY")


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity", "sNaN", Decimal("NaN")],
                         ids=["NaN", "Infinity", "-Infinity", "sNaN", "Decimal-NaN"])
def test_money_refuses_non_finite_amounts(amount: object) -> None:
    with pytest.raises(ValueError, match="is not an amount of money"):
        Money(amount, "CNY")


def test_money_refuses_an_unknown_currency() -> None:
    with pytest.raises(ValueError, match="unknown currency 'XXX'"):
        Money("1.00", "XXX")


def test_money_adds_and_subtracts_in_one_currency() -> None:
    assert Money("59.90", "CNY") + Money("0.10", "CNY") == Money("60.00", "CNY")
    assert Money("59.90", "CNY") - Money("0.90", "CNY") == Money("59.00", "CNY")


def test_money_compares_in_one_currency() -> None:
    small, big = Money("0.50", "CNY"), Money("1.00", "CNY")
    assert small < big
    assert small <= big
    assert big <= Money("1", "CNY")
    assert big > small
    assert not big < small


def test_money_is_equal_regardless_of_trailing_zeros() -> None:
    assert Money("1", "CNY") == Money("1.00", "CNY")


def test_money_in_different_currencies_is_not_equal() -> None:
    assert Money("1.00", "CNY") != Money("1.00", "USD")


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
    ids=["add", "sub", "lt", "le", "gt", "ge"],
)
def test_mixing_currencies_raises(operation: object) -> None:
    with pytest.raises(ValueError, match="cannot mix"):
        operation(Money("1.00", "CNY"), Money("1.00", "USD"))  # type: ignore[operator]


@pytest.mark.parametrize("other", [1, Decimal("1"), "1.00", 1.0])
def test_money_does_not_combine_with_plain_numbers(other: object) -> None:
    with pytest.raises(TypeError, match="cannot combine Money"):
        Money("1.00", "CNY") + other  # type: ignore[operator]


def test_from_minor_builds_money_in_major_units() -> None:
    assert Money.from_minor(19900, "CNY") == Money("199.00", "CNY")
    assert Money.from_minor(1990, "JPY").amount == Decimal("1990")
    assert Money.from_minor(1234, "KWD").amount == Decimal("1.234")


def test_minor_is_the_amount_in_minor_units_rounded_half_up() -> None:
    assert Money("199.00", "CNY").minor == 19900
    assert Money("2.995", "CNY").minor == 300


@pytest.mark.parametrize(
    ("amount", "code", "expected"),
    [
        ("2.995", "CNY", "3.00"),
        ("0.005", "CNY", "0.01"),
        ("0.004", "CNY", "0.00"),
        ("-2.995", "CNY", "-3.00"),
        ("-0.005", "CNY", "-0.01"),
        ("1990.5", "JPY", "1991"),
        ("1.2345", "KWD", "1.235"),
    ],
)
def test_quantize_rounds_half_up_to_the_minor_unit(amount: str, code: str,
                                                    expected: str) -> None:
    quantized = Money(amount, code).quantize()
    assert quantized == Money(expected, code)
    assert str(quantized.amount) == expected


@pytest.mark.parametrize(
    ("amount", "code", "text"),
    [("199", "CNY", "199.00 CNY"), ("1990", "JPY", "1990 JPY"), ("2.995", "CNY", "3.00 CNY")],
)
def test_str_writes_the_amount_in_minor_units_and_the_code(amount: str, code: str,
                                                           text: str) -> None:
    assert str(Money(amount, code)) == text


def test_money_is_frozen() -> None:
    money = Money("1.00", "CNY")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        money.amount = Decimal("2.00")  # type: ignore[misc]
