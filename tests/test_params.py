"""Params: typed accessors over user input that record every problem with its path."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from promokit.errors import Problem
from promokit.money import currency
from promokit.params import Params

ROOT = "promotion[0]"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def params(data: dict[str, Any], code: str | None = None) -> tuple[Params, list[Problem]]:
    problems: list[Problem] = []
    money = currency(code) if code else None
    return Params(data, ROOT, problems, money), problems


def reported(problems: list[Problem]) -> list[str]:
    return [str(problem) for problem in problems]


# -- bookkeeping --------------------------------------------------------------


def test_path_of_a_key_and_an_index() -> None:
    p, _ = params({})
    assert p.path_of("tiers") == "promotion[0].tiers"
    assert p.path_of(2) == "promotion[0][2]"


def test_path_of_a_key_at_the_root_has_no_leading_dot() -> None:
    p = Params({}, "", [])
    assert p.path_of("currency") == "currency"


def test_problem_at_the_table_and_at_a_key() -> None:
    p, problems = params({})
    p.problem("is wrong")
    p.problem("is bad", "percent")
    assert problems == [Problem(path="promotion[0]", message="is wrong"),
                        Problem(path="promotion[0].percent", message="is bad")]


def test_has_and_raw() -> None:
    p, problems = params({"every": True})
    assert p.has("every")
    assert not p.has("cap")
    assert p.raw("every") is True
    assert p.raw("missing", "fallback") == "fallback"
    assert problems == []


def test_iterates_over_the_keys_given() -> None:
    p, _ = params({"a": 1, "b": 2})
    assert list(p) == ["a", "b"]


def test_money_currency_defaults_to_cny() -> None:
    p, _ = params({})
    assert p.currency == currency("CNY")


# -- unknown keys -------------------------------------------------------------


def test_finish_reports_every_key_nobody_read() -> None:
    p, problems = params({"percent": "5", "colour": "red", "size": 3})
    p.percent("percent")
    p.finish()
    assert reported(problems) == ["promotion[0].colour: unknown key",
                                  "promotion[0].size: unknown key"]


def test_finish_suggests_the_closest_key_that_was_read() -> None:
    p, problems = params({"tirs": []})
    p.tables("tiers")
    p.finish()
    assert reported(problems) == ["promotion[0].tirs: unknown key (did you mean 'tiers'?)"]


def test_a_key_looked_up_with_has_counts_as_read() -> None:
    p, problems = params({"off": "5"})
    p.has("off")
    p.finish()
    assert problems == []


def test_a_key_read_with_raw_counts_as_read() -> None:
    p, problems = params({"of": []})
    p.raw("of")
    p.finish()
    assert problems == []


def test_no_suggestion_when_nothing_is_close() -> None:
    p, problems = params({"zzz": 1})
    p.string("name", required=False)
    p.finish()
    assert reported(problems) == ["promotion[0].zzz: unknown key"]


# -- string -------------------------------------------------------------------


def test_string() -> None:
    p, problems = params({"name": "雙11"})
    assert p.string("name") == "雙11"
    assert problems == []


def test_string_required_and_missing() -> None:
    p, problems = params({})
    assert p.string("id") is None
    assert reported(problems) == ["promotion[0].id: is required"]


def test_string_optional_and_missing_gives_the_default() -> None:
    p, problems = params({})
    assert p.string("base", required=False, default="stage") == "stage"
    assert problems == []


@pytest.mark.parametrize("value", ["", "  ", 1, True, None, ["a"]])
def test_string_must_be_a_non_empty_string(value: object) -> None:
    p, problems = params({"id": value})
    assert p.string("id") is None
    assert reported(problems) == ["promotion[0].id: must be a non-empty string"]


def test_string_choices() -> None:
    p, problems = params({"stage": "shop", "base": "lst"})
    assert p.string("stage", choices=("item", "shop")) == "shop"
    assert p.string("base", choices=("stage", "list")) is None
    assert reported(problems) == ["promotion[0].base: must be one of stage, list; got 'lst'"]


# -- boolean ------------------------------------------------------------------


def test_boolean() -> None:
    p, problems = params({"every": True, "exclusive": False})
    assert p.boolean("every") is True
    assert p.boolean("exclusive", default=True) is False
    assert p.boolean("missing", default=True) is True
    assert problems == []


@pytest.mark.parametrize("value", ["true", 1, 0, None])
def test_boolean_must_be_true_or_false(value: object) -> None:
    p, problems = params({"every": value})
    assert p.boolean("every") is False
    assert reported(problems) == ["promotion[0].every: must be true or false"]


# -- integer ------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [(3, 3), (0, 0), (-2, -2)])
def test_integer(value: object, expected: int) -> None:
    p, problems = params({"n": value})
    assert p.integer("n") == expected
    assert problems == []


def test_integer_accepts_a_whole_number_written_as_text() -> None:
    # Issue 13, fault 11: money and numbers are strings elsewhere in the format.
    p, problems = params({"n": "7", "m": " -3 ", "big": "1" * 17})
    assert p.integer("n") == 7
    assert p.integer("m") == -3
    assert p.integer("big") is None
    assert reported(problems) == [
        "promotion[0].big: must be a whole number"]


def test_integer_has_a_maximum() -> None:
    p, problems = params({"n": 10**15 + 1, "m": 10})
    assert p.integer("n") is None
    assert p.integer("m", maximum=9) is None
    assert reported(problems) == [
        "promotion[0].n: must be at most 1,000,000,000,000,000, got 1,000,000,000,000,001",
        "promotion[0].m: must be at most 9, got 10"]


def test_integer_optional_and_missing_gives_the_default() -> None:
    p, problems = params({})
    assert p.integer("priority", required=False, default=0) == 0
    assert problems == []


def test_integer_required_and_missing() -> None:
    p, problems = params({})
    assert p.integer("n") is None
    assert reported(problems) == ["promotion[0].n: is required"]


@pytest.mark.parametrize("value", [1.5, 2.0, "x", "1.5", True, None, [1]])
def test_integer_must_be_a_whole_number(value: object) -> None:
    p, problems = params({"n": value})
    assert p.integer("n") is None
    assert reported(problems) == ["promotion[0].n: must be a whole number"]


def test_integer_minimum() -> None:
    p, problems = params({"per_customer": 0})
    assert p.integer("per_customer", minimum=1) is None
    assert reported(problems) == ["promotion[0].per_customer: must be at least 1, got 0"]


@pytest.mark.parametrize("value", ["--5", "²", "-²"])
def test_integer_records_a_problem_for_digit_like_text(value: str) -> None:
    p, problems = params({"n": value})
    assert p.integer("n") is None
    assert reported(problems) == ["promotion[0].n: must be a whole number"]


# -- decimal and percent ------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"),
                         [("0.5", Decimal("0.5")), (1, Decimal(1)), ("0", Decimal(0))])
def test_decimal(value: object, expected: Decimal) -> None:
    p, problems = params({"share": value})
    assert p.decimal("share") == expected
    assert problems == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0.5, 'must be a string such as "0.5", not 0.5'),
        (True, 'must be a string such as "0.5", not True'),
        ("abc", "'abc' is not a number"),
        ("NaN", "'NaN' is not a number"),
        ("Infinity", "'Infinity' is not a number"),
        (None, "None is not a number"),
        ("-0.1", "must be >= 0, got -0.1"),
    ],
)
def test_decimal_problems(value: object, message: str) -> None:
    p, problems = params({"share": value})
    assert p.decimal("share") is None
    assert reported(problems) == [f"promotion[0].share: {message}"]


def test_decimal_positive_and_maximum() -> None:
    p, problems = params({"a": "0", "b": "1.5"})
    assert p.decimal("a", positive=True) is None
    assert p.decimal("b", maximum=Decimal(1)) is None
    assert reported(problems) == ["promotion[0].a: must be > 0, got 0",
                                  "promotion[0].b: must be at most 1, got 1.5"]


def test_decimal_optional_and_missing() -> None:
    p, problems = params({})
    assert p.decimal("hint_within", required=False) is None
    assert problems == []


@pytest.mark.parametrize(("value", "expected"),
                         [("5", Decimal(5)), ("100", Decimal(100)), ("0.5", Decimal("0.5")),
                          (10, Decimal(10))])
def test_percent(value: object, expected: Decimal) -> None:
    p, problems = params({"percent": value})
    assert p.percent("percent") == expected
    assert problems == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "must be in (0, 100], got 0"),
        ("101", "must be in (0, 100], got 101"),
        ("100.01", "must be in (0, 100], got 100.01"),
        ("-5", "must be >= 0, got -5"),
        (5.5, 'must be a string such as "0.5", not 5.5'),
        ("five", "'five' is not a number"),
    ],
)
def test_percent_outside_0_to_100(value: object, message: str) -> None:
    p, problems = params({"percent": value})
    assert p.percent("percent") is None
    assert reported(problems) == [f"promotion[0].percent: {message}"]


def test_percent_value_checks_a_fetched_value_at_a_list_index() -> None:
    p, problems = params({})
    assert p.percent_value("120", 3) is None
    assert reported(problems) == ["promotion[0][3]: must be in (0, 100], got 120"]


# -- money --------------------------------------------------------------------


def test_money_in_the_tables_currency() -> None:
    cny, _ = params({"price": "99.00"})
    jpy, _ = params({"price": "1990"}, "JPY")
    assert cny.money("price") == 9900
    assert jpy.money("price") == 1990


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.5, 'must be a string such as "199.00", not float'),
        ("abc", "'abc' is not an amount of money"),
        ("-1", "'-1' is negative"),
        ("1.001", "'1.001' has more decimals than CNY allows (2)"),
    ],
)
def test_money_problems(value: object, message: str) -> None:
    p, problems = params({"price": value})
    assert p.money("price") is None
    assert reported(problems) == [f"promotion[0].price: {message}"]


def test_money_positive() -> None:
    p, problems = params({"amount": "0"})
    assert p.money("amount", positive=True) is None
    assert reported(problems) == ["promotion[0].amount: must be > 0"]


def test_money_required_and_optional() -> None:
    p, problems = params({})
    assert p.money("cap", required=False) is None
    assert p.money("price") is None
    assert reported(problems) == ["promotion[0].price: is required"]


def test_money_value_in_the_currency_of_the_table() -> None:
    p, problems = params({}, "JPY")
    assert p.money_value("1.5", "spend") is None
    assert reported(problems) == ["promotion[0].spend: '1.5' has more decimals than JPY allows (0)"]


# -- times --------------------------------------------------------------------


def test_datetime_without_offset_is_in_the_given_timezone() -> None:
    p, problems = params({"start": "2026-11-10T20:00:00"})
    assert p.datetime("start", SHANGHAI) == datetime(2026, 11, 10, 20, tzinfo=SHANGHAI)
    assert problems == []


def test_datetime_with_offset_keeps_it() -> None:
    p, _ = params({"start": "2026-11-10T12:00:00+00:00"})
    moment = p.datetime("start", SHANGHAI)
    assert moment == datetime(2026, 11, 10, 12, tzinfo=UTC)
    assert moment is not None and moment.utcoffset() == timedelta(0)


def test_datetime_accepts_a_toml_datetime() -> None:
    p, _ = params({"start": datetime(2026, 11, 10, 20)})
    assert p.datetime("start", SHANGHAI) == datetime(2026, 11, 10, 20, tzinfo=SHANGHAI)


def test_datetime_optional_by_default() -> None:
    p, problems = params({})
    assert p.datetime("start", SHANGHAI) is None
    assert problems == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("tomorrow", "'tomorrow' is not an ISO 8601 time"),
        ("2026-13-01T00:00:00", "'2026-13-01T00:00:00' is not an ISO 8601 time"),
        (20261111, "must be an ISO 8601 time such as 2026-11-11T00:00:00+08:00"),
        (date(2026, 11, 11), "must be an ISO 8601 time such as 2026-11-11T00:00:00+08:00"),
    ],
)
def test_datetime_problems(value: object, message: str) -> None:
    p, problems = params({"start": value})
    assert p.datetime("start", SHANGHAI) is None
    assert reported(problems) == [f"promotion[0].start: {message}"]


@pytest.mark.parametrize("value", ["1995-11-11", date(1995, 11, 11)])
def test_date(value: object) -> None:
    p, problems = params({"birthday": value})
    assert p.date("birthday") == date(1995, 11, 11)
    assert problems == []


@pytest.mark.parametrize("value", ["1995-13-01", "11/11/1995", 19951111,
                                   datetime(1995, 11, 11, 8)])
def test_date_problems(value: object) -> None:
    p, problems = params({"birthday": value})
    assert p.date("birthday") is None
    assert reported(problems) == [f"promotion[0].birthday: {value!r} is not a date (YYYY-MM-DD)"]


@pytest.mark.parametrize(("value", "expected"),
                         [("00:00", time(0)), ("23:30", time(23, 30)),
                          ("02:00:30", time(2, 0, 30)), (time(9, 15), time(9, 15))])
def test_clock(value: object, expected: time) -> None:
    p, problems = params({"from": value})
    assert p.clock("from") == expected
    assert problems == []


@pytest.mark.parametrize("value", ["24:00", "25:00", "noon", 2, "9.30"])
def test_clock_problems(value: object) -> None:
    p, problems = params({"from": value})
    assert p.clock("from") is None
    assert reported(problems) == [f"promotion[0].from: {value!r} is not a time of day (HH:MM)"]


def test_clock_is_required() -> None:
    p, problems = params({})
    assert p.clock("to") is None
    assert reported(problems) == ["promotion[0].to: is required"]


def test_clock_refuses_a_time_with_an_offset() -> None:
    p, problems = params({"from": "10:00+08:00"})
    assert p.clock("from") is None
    assert [problem.path for problem in problems] == ["promotion[0].from"]


# -- collections and nesting ---------------------------------------------------


def test_strings() -> None:
    p, problems = params({"skus": ["A", "B"]})
    assert p.strings("skus") == ("A", "B")
    assert p.strings("missing") is None
    assert problems == []


@pytest.mark.parametrize("value", ["A", ["A", 1], ["A", ""], [None], {"a": 1}])
def test_strings_must_be_a_list_of_non_empty_strings(value: object) -> None:
    p, problems = params({"skus": value})
    assert p.strings("skus") is None
    assert reported(problems) == ["promotion[0].skus: must be a list of non-empty strings"]


def test_strings_non_empty() -> None:
    p, problems = params({"in": []})
    assert p.strings("in", non_empty=True) is None
    assert reported(problems) == ["promotion[0].in: must not be empty"]


def test_strings_required() -> None:
    p, problems = params({})
    assert p.strings("in", required=True) is None
    assert reported(problems) == ["promotion[0].in: is required"]


def test_strings_repeats_are_reported_at_their_index() -> None:
    p, problems = params({"codes": ["A", "B", "A", "B"]})
    p.strings("codes")
    assert reported(problems) == ["promotion[0].codes[2]: 'A' is listed twice",
                                  "promotion[0].codes[3]: 'B' is listed twice"]


def test_nested_table_paths_and_shared_problems() -> None:
    p, problems = params({"scope": {"skus": "A", "colour": "red"}})
    scope = p.table("scope")
    assert scope is not None
    assert scope.path == "promotion[0].scope"
    scope.strings("skus")
    scope.finish()
    assert reported(problems) == [
        "promotion[0].scope.skus: must be a list of non-empty strings",
        "promotion[0].scope.colour: unknown key",
    ]


def test_nested_table_keeps_the_currency() -> None:
    p, _ = params({"gift": {"value": "1990"}}, "JPY")
    gift = p.table("gift")
    assert gift is not None
    assert gift.money("value") == 1990


@pytest.mark.parametrize("value", ["x", 1, ["a"]])
def test_table_must_be_a_table(value: object) -> None:
    p, problems = params({"scope": value})
    assert p.table("scope") is None
    assert reported(problems) == ["promotion[0].scope: must be a table"]


def test_table_required_and_optional() -> None:
    p, problems = params({})
    assert p.table("scope") is None
    assert p.table("percent_by_tier", required=True) is None
    assert reported(problems) == ["promotion[0].percent_by_tier: is required"]


def test_list_of_tables_paths() -> None:
    p, problems = params({"tiers": [{"spend": "300"}, {"spend": "x"}]})
    tiers = p.tables("tiers")
    assert tiers is not None
    assert [tier.path for tier in tiers] == ["promotion[0].tiers[0]", "promotion[0].tiers[1]"]
    assert tiers[0].money("spend") == 30000
    assert tiers[1].money("spend") is None
    assert reported(problems) == ["promotion[0].tiers[1].spend: 'x' is not an amount of money"]


def test_tables_nested_in_a_list_in_a_table() -> None:
    p, problems = params({"conditions": [{"rule": "all", "of": [{"in": 5}]}]})
    conditions = p.tables("conditions")
    assert conditions is not None
    children = conditions[0].tables("of")
    assert children is not None
    children[0].strings("in")
    assert reported(problems) == [
        "promotion[0].conditions[0].of[0].in: must be a list of non-empty strings"]


@pytest.mark.parametrize("value", [{"spend": "1"}, ["a"], [{"spend": "1"}, 2], "x"])
def test_tables_must_be_a_list_of_tables(value: object) -> None:
    p, problems = params({"tiers": value})
    assert p.tables("tiers") is None
    assert reported(problems) == ["promotion[0].tiers: must be a list of tables"]


def test_tables_non_empty() -> None:
    p, problems = params({"tiers": []})
    assert p.tables("tiers", non_empty=True) is None
    assert reported(problems) == ["promotion[0].tiers: must not be empty"]


def test_several_problems_accumulate_in_order() -> None:
    p, problems = params({"percent": "0", "price": 1.5, "every": "yes", "tirs": 1})
    p.percent("percent")
    p.money("price")
    p.boolean("every")
    p.integer("n", required=True)
    p.finish()
    assert [problem.path for problem in problems] == [
        "promotion[0].percent",
        "promotion[0].price",
        "promotion[0].every",
        "promotion[0].n",
        "promotion[0].tirs",
    ]


def test_aware_datetime_in_another_offset_is_the_same_moment() -> None:
    p, _ = params({"start": "2026-11-10T20:00:00+08:00"})
    assert p.datetime("start", UTC) == datetime(2026, 11, 10, 12, tzinfo=UTC)
