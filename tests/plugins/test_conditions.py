"""The built-in conditions: parsing (with problem paths), checks and messages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promokit.cart import Customer, Line
from promokit.conditions import ConditionContext, ConditionType
from promokit.errors import Problem
from promokit.kinds import LineView
from promokit.money import currency
from promokit.params import Params
from promokit.plugins import conditions as builtin
from promokit.plugins.conditions import (
    Birthday,
    Channel,
    CustomerTag,
    Dormant,
    MemberTier,
    MinQuantity,
    MinSpend,
    NewCustomer,
    Region,
    region_matches,
)

PATH = "promotion[0].conditions[0]"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 11, 0, 30, tzinfo=SHANGHAI)


def parse(condition: ConditionType, data: dict[str, Any],
          code: str = "CNY") -> tuple[Any, list[Problem]]:
    problems: list[Problem] = []
    params = Params(data, PATH, problems, currency(code))
    parsed = condition.parse(params)
    params.finish()  # what the loader does after parse
    return parsed, problems


def parse_ok(condition: ConditionType, data: dict[str, Any], code: str = "CNY") -> Any:
    parsed, problems = parse(condition, data, code)
    assert problems == []
    return parsed


def problem(condition: ConditionType, data: dict[str, Any]) -> tuple[str, str]:
    """The one problem parsing ``data`` reports, as (path, message)."""
    _, problems = parse(condition, data)
    assert len(problems) == 1, problems
    return problems[0].path, problems[0].message


def view(index: int, quantity: int, unit_price: int, base: int | None = None) -> LineView:
    line = Line(id=f"l{index}", sku=f"SKU-{index}", quantity=quantity,
                unit_price=Decimal(unit_price).scaleb(-2))
    subtotal = quantity * unit_price
    return LineView(index=index, line=line, quantity=quantity, unit_price=unit_price,
                    subtotal=subtotal, net=subtotal, base=subtotal if base is None else base)


def ctx(customer: Customer | None = None, *, channel: str | None = "app",
        now: datetime = NOW, lines: tuple[LineView, ...] = ()) -> ConditionContext:
    return ConditionContext(customer=customer or Customer(), channel=channel, now=now,
                            currency=currency("CNY"), lines=lines)


def test_registers_every_builtin_condition_once() -> None:
    declared = builtin.promokit_register_conditions()
    names = [c.name for c in declared]
    assert names == ["member_tier", "new_customer", "dormant", "customer_tag", "region",
                     "channel", "birthday", "min_spend", "min_quantity"]
    assert all(isinstance(c, ConditionType) for c in declared)
    assert [c.name for c in declared if c.uses_amounts] == ["min_spend"]


def test_unknown_keys_are_left_for_the_loader() -> None:
    _, problems = parse(NewCustomer(), {"days": 3})
    assert [(p.path, p.message) for p in problems] == [(f"{PATH}.days", "unknown key")]


# -- member_tier ---------------------------------------------------------------


def test_member_tier() -> None:
    tiers = parse_ok(MemberTier(), {"in": ["gold", "platinum"]})
    assert MemberTier().check(tiers, ctx(Customer(tier="gold")))
    assert not MemberTier().check(tiers, ctx(Customer(tier="silver")))
    assert not MemberTier().check(tiers, ctx(Customer()))
    assert MemberTier().message(tiers) == "only for members of tier gold or platinum"
    assert MemberTier().message(("silver", "gold", "platinum")) == (
        "only for members of tier silver, gold or platinum")


@pytest.mark.parametrize(("data", "path", "message"), [
    ({}, f"{PATH}.in", "is required"),
    ({"in": []}, f"{PATH}.in", "must not be empty"),
    ({"in": "gold"}, f"{PATH}.in", "list of non-empty strings"),
    ({"in": ["gold", "gold"]}, f"{PATH}.in[1]", "listed twice"),
])
def test_member_tier_bad(data: dict[str, Any], path: str, message: str) -> None:
    got_path, got_message = problem(MemberTier(), data)
    assert got_path == path and message in got_message


# -- new_customer --------------------------------------------------------------


def test_new_customer() -> None:
    params = parse_ok(NewCustomer(), {})
    assert NewCustomer().check(params, ctx(Customer(orders_count=0)))
    assert not NewCustomer().check(params, ctx(Customer(orders_count=1)))
    assert not NewCustomer().check(params, ctx(Customer()))  # unknown count
    assert NewCustomer().message(params) == "only for customers with no earlier order"


# -- dormant ----------------------------------------------------------------------


def test_dormant_boundary() -> None:
    days = parse_ok(Dormant(), {"days": 30})
    then = NOW - timedelta(days=30)
    assert Dormant().check(days, ctx(Customer(orders_count=3, last_order_at=then)))
    earlier = then - timedelta(days=9)
    assert Dormant().check(days, ctx(Customer(orders_count=3, last_order_at=earlier)))
    almost = NOW - timedelta(days=29, hours=23)
    assert not Dormant().check(days, ctx(Customer(orders_count=3, last_order_at=almost)))
    assert Dormant().message(days) == (
        "only for customers whose last order was at least 30 days ago")


def test_dormant_unknowns_do_not_qualify() -> None:
    days = parse_ok(Dormant(), {"days": 30})
    assert not Dormant().check(days, ctx(Customer()))
    assert not Dormant().check(days, ctx(Customer(orders_count=0)))
    assert not Dormant().check(days, ctx(Customer(orders_count=5)))  # last order unknown


def test_dormant_compares_across_timezones_and_naive_times() -> None:
    days = parse_ok(Dormant(), {"days": 30})
    # The same instant as NOW - 30 days, written in UTC: holds.
    utc = (NOW - timedelta(days=30)).astimezone(UTC)
    assert Dormant().check(days, ctx(Customer(orders_count=1, last_order_at=utc)))
    # A naive time is taken in now's timezone (Shanghai), not UTC.
    naive = (NOW - timedelta(days=30)).replace(tzinfo=None)
    assert Dormant().check(days, ctx(Customer(orders_count=1, last_order_at=naive)))
    naive_later = naive + timedelta(minutes=1)
    assert not Dormant().check(days, ctx(Customer(orders_count=1, last_order_at=naive_later)))


@pytest.mark.parametrize(("data", "message"), [
    ({}, "is required"),
    ({"days": 0}, "must be at least 1"),
    ({"days": "soon"}, "must be a whole number"),
    ({"days": 1.5}, "must be a whole number"),
])
def test_dormant_bad(data: dict[str, Any], message: str) -> None:
    path, got = problem(Dormant(), data)
    assert path == f"{PATH}.days" and message in got


# -- customer_tag ----------------------------------------------------------------


def test_customer_tag_any_and_all() -> None:
    any_of = parse_ok(CustomerTag(), {"any": ["student", "teacher"]})
    all_of = parse_ok(CustomerTag(), {"all": ["student", "vip"]})
    student = ctx(Customer(tags=["student"]))
    both = ctx(Customer(tags=["student", "vip", "x"]))
    nobody = ctx(Customer())
    assert CustomerTag().check(any_of, student)
    assert not CustomerTag().check(any_of, nobody)
    assert not CustomerTag().check(all_of, student)
    assert CustomerTag().check(all_of, both)
    assert CustomerTag().message(any_of) == "only for customers tagged student or teacher"
    assert CustomerTag().message(all_of) == "only for customers tagged student and vip"


@pytest.mark.parametrize(("data", "path", "message"), [
    ({}, PATH, "exactly one of 'any' or 'all'"),
    ({"any": ["a"], "all": ["b"]}, PATH, "exactly one of 'any' or 'all'"),
    ({"any": []}, f"{PATH}.any", "must not be empty"),
    ({"all": [1]}, f"{PATH}.all", "list of non-empty strings"),
])
def test_customer_tag_bad(data: dict[str, Any], path: str, message: str) -> None:
    got_path, got_message = problem(CustomerTag(), data)
    assert got_path == path and message in got_message


# -- region -----------------------------------------------------------------------


def test_region_prefix_semantics() -> None:
    assert region_matches("CN", "CN-31")
    assert region_matches("CN", "CN")
    assert region_matches("CN-31", "CN-31-05")
    assert not region_matches("CN-3", "CN-31")
    assert not region_matches("CN-31", "CN")
    assert not region_matches("C", "CN")


def test_region_in_and_not_in() -> None:
    rule = parse_ok(Region(), {"in": ["CN"], "not_in": ["CN-54", "CN-65"]})
    assert Region().check(rule, ctx(Customer(region="CN-31")))
    assert Region().check(rule, ctx(Customer(region="CN")))
    assert not Region().check(rule, ctx(Customer(region="CN-54")))
    assert not Region().check(rule, ctx(Customer(region="CN-65-01")))
    assert not Region().check(rule, ctx(Customer(region="HK")))
    assert not Region().check(rule, ctx(Customer()))
    assert Region().message(rule) == "only for customers in CN, except CN-54 or CN-65"


def test_region_not_in_only() -> None:
    rule = parse_ok(Region(), {"not_in": ["CN-3"]})
    assert Region().check(rule, ctx(Customer(region="CN-31")))  # "CN-3" is not a prefix
    assert not Region().check(rule, ctx(Customer(region="CN-3")))
    assert Region().check(rule, ctx(Customer()))  # no region, no `in` list: holds
    assert Region().message(rule) == "not for customers in CN-3"


@pytest.mark.parametrize(("data", "path", "message"), [
    ({}, PATH, "needs 'in', 'not_in' or both"),
    ({"in": []}, f"{PATH}.in", "must not be empty"),
    ({"not_in": "CN"}, f"{PATH}.not_in", "list of non-empty strings"),
    ({"in": ["CN", "CN-"]}, f"{PATH}.in[1]", "is not a region code"),
    ({"in": ["CN"], "not_in": ["-31"]}, f"{PATH}.not_in[0]", "is not a region code"),
])
def test_region_bad(data: dict[str, Any], path: str, message: str) -> None:
    got_path, got_message = problem(Region(), data)
    assert got_path == path and message in got_message


_segment = st.text(alphabet="AB12", min_size=1, max_size=3)
_code = st.lists(_segment, min_size=1, max_size=4).map("-".join)


@given(code=_code, region=_code)
def test_region_match_is_whole_segment_prefix(code: str, region: str) -> None:
    # Equivalent formulation: equal, or the code followed by a separator starts the region.
    expected = region == code or region.startswith(code + "-")
    assert region_matches(code, region) is expected
    rule = parse_ok(Region(), {"in": [code]})
    assert Region().check(rule, ctx(Customer(region=region))) is expected


# -- channel ----------------------------------------------------------------------


def test_channel() -> None:
    channels = parse_ok(Channel(), {"in": ["app", "miniprogram"]})
    assert Channel().check(channels, ctx(channel="app"))
    assert not Channel().check(channels, ctx(channel="web"))
    assert not Channel().check(channels, ctx(channel=None))
    assert Channel().message(channels) == "only on app or miniprogram"


def test_channel_bad() -> None:
    assert problem(Channel(), {}) == (f"{PATH}.in", "is required")
    _, problems = parse(Channel(), {"channels": ["app"]})
    assert [(p.path, p.message) for p in problems] == [
        (f"{PATH}.in", "is required"), (f"{PATH}.channels", "unknown key")]


# -- birthday ---------------------------------------------------------------------


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=SHANGHAI)


def birthday_holds(within: int, birthday: date | None, today: date) -> bool:
    params = parse_ok(Birthday(), {"within_days": within})
    return Birthday().check(params, ctx(Customer(birthday=birthday), now=at(today)))


def test_birthday_within_days() -> None:
    born = date(1995, 11, 11)
    assert birthday_holds(0, born, date(2026, 11, 11))
    assert not birthday_holds(0, born, date(2026, 11, 12))
    assert birthday_holds(7, born, date(2026, 11, 4))
    assert birthday_holds(7, born, date(2026, 11, 18))
    assert not birthday_holds(7, born, date(2026, 11, 19))
    assert not birthday_holds(7, None, date(2026, 11, 11))


def test_birthday_across_the_year_boundary() -> None:
    assert birthday_holds(3, date(1990, 12, 30), date(2027, 1, 2))
    assert not birthday_holds(2, date(1990, 12, 30), date(2027, 1, 2))
    assert birthday_holds(3, date(1990, 1, 2), date(2026, 12, 30))
    assert not birthday_holds(2, date(1990, 1, 2), date(2026, 12, 30))


def test_birthday_on_29_february() -> None:
    leapling = date(2000, 2, 29)
    assert birthday_holds(0, leapling, date(2027, 2, 28))  # non-leap year: 28 Feb
    assert not birthday_holds(0, leapling, date(2027, 3, 1))
    assert birthday_holds(1, leapling, date(2027, 3, 1))
    assert birthday_holds(0, leapling, date(2028, 2, 29))  # leap year: the day itself
    assert not birthday_holds(0, leapling, date(2028, 2, 28))


def test_birthday_uses_the_local_date() -> None:
    params = parse_ok(Birthday(), {"within_days": 0})
    # 00:30 on 11 Nov in Shanghai is still 10 Nov in UTC; the local date counts.
    assert Birthday().check(params, ctx(Customer(birthday=date(1995, 11, 11)), now=NOW))


def test_birthday_messages_and_bad_input() -> None:
    assert Birthday().message(0) == "only on the customer's birthday"
    assert Birthday().message(7) == "only within 7 days of the customer's birthday"
    assert problem(Birthday(), {}) == (f"{PATH}.within_days", "is required")
    path, message = problem(Birthday(), {"within_days": -1})
    assert path == f"{PATH}.within_days" and "at least 0" in message


# -- min_spend --------------------------------------------------------------------


def test_min_spend_is_met_at_the_amount() -> None:
    rule = parse_ok(MinSpend(), {"amount": "300.00"})
    assert rule.amount == 30000
    exact = (view(0, 2, 10000), view(1, 1, 10000))
    assert MinSpend().check(rule, ctx(lines=exact))
    below = (view(0, 2, 10000), view(1, 1, 9999))
    assert not MinSpend().check(rule, ctx(lines=below))
    assert not MinSpend().check(rule, ctx(lines=()))


def test_min_spend_measures_the_base() -> None:
    rule = parse_ok(MinSpend(), {"amount": "300"})
    # List price 320.00, but the stage's base is 290.00: not met.
    assert not MinSpend().check(rule, ctx(lines=(view(0, 1, 32000, base=29000),)))
    assert MinSpend().check(rule, ctx(lines=(view(0, 1, 28000, base=30000),)))


def test_min_spend_threshold_between() -> None:
    rule = parse_ok(MinSpend(), {"amount": "300.00"})
    assert MinSpend().threshold_between(rule, 29999, 30000)
    assert MinSpend().threshold_between(rule, 0, 50000)
    assert not MinSpend().threshold_between(rule, 30000, 50000)  # already met at low
    assert not MinSpend().threshold_between(rule, 0, 29999)


def test_min_spend_message() -> None:
    assert MinSpend().message(parse_ok(MinSpend(), {"amount": "300"})) == (
        "spend at least ¥300.00 on eligible items")
    assert MinSpend().message(parse_ok(MinSpend(), {"amount": "300"}, "USD")) == (
        "spend at least $300.00 on eligible items")
    assert MinSpend().message(parse_ok(MinSpend(), {"amount": "1990"}, "JPY")) == (
        "spend at least ¥1,990 on eligible items")


@pytest.mark.parametrize(("data", "message"), [
    ({}, "is required"),
    ({"amount": "0"}, "must be > 0"),
    ({"amount": "-5"}, "is negative"),
    ({"amount": "3.001"}, "more decimals than CNY"),
    ({"amount": 300.0}, "must be a string"),
])
def test_min_spend_bad(data: dict[str, Any], message: str) -> None:
    path, got = problem(MinSpend(), data)
    assert path == f"{PATH}.amount" and message in got


# -- min_quantity ------------------------------------------------------------------


def test_min_quantity() -> None:
    quantity = parse_ok(MinQuantity(), {"quantity": 3})
    assert MinQuantity().check(quantity, ctx(lines=(view(0, 2, 100), view(1, 1, 100))))
    assert not MinQuantity().check(quantity, ctx(lines=(view(0, 2, 100),)))
    assert MinQuantity().message(quantity) == "buy at least 3 eligible items"
    assert MinQuantity().message(1) == "buy at least 1 eligible item"


@pytest.mark.parametrize(("data", "message"), [
    ({}, "is required"),
    ({"quantity": 0}, "must be at least 1"),
    ({"quantity": True}, "must be a whole number"),
])
def test_min_quantity_bad(data: dict[str, Any], message: str) -> None:
    path, got = problem(MinQuantity(), data)
    assert path == f"{PATH}.quantity" and message in got
