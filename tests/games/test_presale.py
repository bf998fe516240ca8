"""The ``presale`` game (預售, 定金膨脹): loading, the deposit's lifecycle, the balance
priced by the catalogue, lapses through the sweep and on touch (exactly once under
concurrent sweeps), limits, events, the disclosure and config changes.

The worked example: presale price 1,000.00, deposit 100.00 (10%), and the
``deposit_multiplier`` promotion ``d11-deposit`` with multiplier 3 and cap 300.00.
Every amount is worked out by hand in the comments.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import tomllib
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import EVERY_BACKEND as BACKENDS
from hypothesis import given, settings
from hypothesis import strategies as st

from promokit import ConfigError, Engine, GameError, open_store
from promokit.cart import Cart, Customer, Line
from promokit.loading import parse_campaigns
from promokit.plugins.games.presale import Deposit, Presale, PresaleGame, terms_changes
from promokit.registry import Registry
from promokit.stores import MemoryStore, Store
from promokit.testing import Clock, Recorder
from promokit.text import Text

TZ = ZoneInfo("Asia/Shanghai")
C1, C2, C3 = Customer(id="c1"), Customer(id="c2"), Customer(id="c3")
ROW = "game:tv:deposit:"

#: In the deposit window (20 Oct 20:00 – 10 Nov 23:59:59), before the balance window.
DURING_DEPOSITS = datetime(2026, 10, 25, 10, 0, tzinfo=TZ)
#: The first moment of the balance window (11 Nov 00:00:00 – 23:59:59).
BALANCE_OPENS = datetime(2026, 11, 11, 0, 0, tzinfo=TZ)


def local(*fields: int) -> datetime:
    """A time of day in Shanghai: ``local(2026, 11, 11, 0, 0, 0)``."""
    return datetime(*fields, tzinfo=TZ)


def game_table(**keys: Any) -> dict[str, Any]:
    table = {
        "id": "tv", "kind": "presale", "name": "65吋電視預售", "sku": "TV-65",
        "presale_price": "1000.00", "deposit": "100.00",
        "deposit_start": "2026-10-20T20:00:00", "deposit_end": "2026-11-10T23:59:59",
        "balance_start": "2026-11-11T00:00:00", "balance_end": "2026-11-11T23:59:59",
        "stock": 2, "max_units_per_customer": 2, "promotion": "d11-deposit",
    }
    table.update(keys)
    return {key: value for key, value in table.items() if value is not None}


DEPOSIT_PROMOTION = {"id": "d11-deposit", "name": "定金膨脹", "kind": "deposit_multiplier",
                     "multiplier": "3", "cap": "300.00", "scope": {"skus": ["TV-65"]}}
#: 滿1000減100, a shop-stage 滿減 of the catalogue.
THRESHOLD = {"id": "d11-1000-100", "kind": "tiered_threshold",
             "tiers": [{"spend": "1000", "off": "100"}]}


def campaign(*, promotions: list[dict[str, Any]] | None = None, jurisdiction: str = "none",
             **keys: Any) -> dict[str, Any]:
    return {"currency": "CNY", "timezone": "Asia/Shanghai", "jurisdiction": jurisdiction,
            "promotion": copy.deepcopy([DEPOSIT_PROMOTION, THRESHOLD]
                                       if promotions is None else promotions),
            "game": [game_table(**keys)]}


@pytest.fixture
def listener() -> Recorder:
    return Recorder()


@pytest.fixture
def registry(listener: Recorder) -> Registry:
    return Registry.default([listener], load_entry_points=False)


@pytest.fixture
def clock() -> Clock:
    return Clock(DURING_DEPOSITS)


def make(registry: Registry, clock: Clock, data: dict[str, Any] | None = None,
         store: Store | None = None) -> Engine:
    return Engine(parse_campaigns(data or campaign(), registry), registry=registry,
                  store=store if store is not None else MemoryStore(), clock=clock)


@pytest.fixture
def engine(registry: Registry, clock: Clock) -> Engine:
    return make(registry, clock)


@pytest.fixture
def tv(engine: Engine) -> PresaleGame:
    game = engine.games["tv"]
    assert isinstance(game, PresaleGame)
    return game


def problems(registry: Registry, data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_campaigns(data, registry)
    return [str(problem) for problem in raised.value.problems]


def amounts(result: Any) -> tuple[str, ...]:
    return tuple(str(getattr(result, key)) for key in
                 ("subtotal", "discount_total", "total", "balance_due"))


# -- loading ---------------------------------------------------------------------------


def test_the_config_is_read_in_minor_units(registry: Registry) -> None:
    spec = parse_campaigns(campaign(pay_within_minutes=15, category="tv/oled", shop="s1"),
                           registry).games[0]
    cfg = spec.config
    assert (cfg.sku, cfg.presale_price, cfg.deposit, cfg.stock, cfg.pay_within_minutes,
            cfg.max_units_per_customer, cfg.promotion, cfg.category, cfg.shop) == (
        "TV-65", 100000, 10000, 2, 15, 2, "d11-deposit", "tv/oled", "s1")
    assert cfg.deposit_end == datetime(2026, 11, 10, 23, 59, 59)  # in the file's timezone
    assert cfg.localized(TZ).deposit_end == datetime(2026, 11, 10, 23, 59, 59, tzinfo=TZ)
    assert cfg.deposit_cap == 20000  # 20% of 1,000.00


def test_defaults_pay_within_30_minutes_and_no_unit_limit(registry: Registry) -> None:
    cfg = parse_campaigns(campaign(max_units_per_customer=None, promotion=None),
                          registry).games[0].config
    assert (cfg.pay_within_minutes, cfg.max_units_per_customer, cfg.promotion) == (
        30, None, None)


@pytest.mark.parametrize("jurisdiction", ["none", "cn", "eu"])
def test_a_deposit_of_exactly_20_percent_loads(registry: Registry,
                                               jurisdiction: str) -> None:
    # 200.00 × 5 = 1,000.00: exactly 20% of the presale price, allowed.
    data = campaign(deposit="200.00", jurisdiction=jurisdiction)
    assert parse_campaigns(data, registry).games[0].config.deposit == 20000


@pytest.mark.parametrize("jurisdiction", ["none", "cn", "eu"])
def test_a_deposit_above_20_percent_is_rejected_in_every_jurisdiction(
        registry: Registry, jurisdiction: str) -> None:
    # 200.01 × 5 = 1,000.05 > 1,000.00: above the Civil Code's 20%.
    assert problems(registry, campaign(deposit="200.01", jurisdiction=jurisdiction)) == [
        "game[0].deposit: 200.01 is more than 20% of the presale price 1000.00: at most "
        "200.00 (《民法典》第五百八十六條: 定金的數額不得超過主合同標的額的百分之二十)"]


def test_the_20_percent_cap_rounds_down_to_the_minor_unit(registry: Registry) -> None:
    # 20% of 999.99 is 199.998: 199.99 is within it, 200.00 is not.
    assert parse_campaigns(campaign(presale_price="999.99", deposit="199.99"),
                           registry).games[0].config.deposit == 19999
    assert "at most 199.99" in problems(registry, campaign(presale_price="999.99",
                                                           deposit="200.00"))[0]


@pytest.mark.parametrize(("keys", "expected"), [
    ({"deposit": "0"}, ["game[0].deposit: must be > 0"]),
    ({"deposit": "-5.00"}, ["game[0].deposit: "]),
    ({"presale_price": "0"}, ["game[0].presale_price: must be > 0"]),
    ({"stock": 0}, ["game[0].stock: must be at least 1, got 0"]),
    ({"pay_within_minutes": 0}, ["game[0].pay_within_minutes: must be at least 1, got 0"]),
    ({"max_units_per_customer": 0},
     ["game[0].max_units_per_customer: must be at least 1, got 0"]),
    ({"sku": None, "stock": None}, ["game[0].sku: is required", "game[0].stock: is required"]),
    ({"colour": "red"}, ["game[0].colour: unknown key"]),
    ({"start": "2026-10-20T20:00:00"},
     ["game[0].start: a presale runs by deposit_start … balance_end; leave start out"]),
])
def test_bad_keys_are_rejected_with_their_path(registry: Registry, keys: dict[str, Any],
                                               expected: list[str]) -> None:
    found = problems(registry, campaign(**keys))
    assert len(found) == len(expected)
    for text, start in zip(found, expected, strict=True):
        assert text.startswith(start)


def test_windows_out_of_order_are_rejected(registry: Registry) -> None:
    assert problems(registry, campaign(deposit_end="2026-10-20T19:00:00")) == [
        "game[0].deposit_end: must be after deposit_start (2026-10-20T20:00:00), got "
        "2026-10-20T19:00:00: a window must end after it starts"]
    assert problems(registry, campaign(balance_start="2026-11-10T23:00:00")) == [
        "game[0].balance_start: must be at or after deposit_end (2026-11-10T23:59:59), got "
        "2026-11-10T23:00:00: the balance must start once deposits close"]
    assert problems(registry, campaign(balance_end="2026-11-11T00:00:00")) == [
        "game[0].balance_end: must be after balance_start (2026-11-11T00:00:00), got "
        "2026-11-11T00:00:00: a window must end after it starts"]
    assert problems(registry, campaign(balance_start="2026-11-11T00:00:00+08:00")) == [
        "game[0].deposit_start: write the four window times alike: all with an offset or "
        "all without (then they are in the file's timezone)"]
    assert problems(registry, campaign(deposit_start="not a time"))[0].startswith(
        "game[0].deposit_start: 'not a time' is not an ISO 8601 time")


def test_the_balance_may_open_the_moment_deposits_close(registry: Registry) -> None:
    data = campaign(balance_start="2026-11-10T23:59:59")
    assert parse_campaigns(data, registry).games[0].config.balance_start == datetime(
        2026, 11, 10, 23, 59, 59)


# -- the promotion, checked when the game is bound -------------------------------------


@pytest.mark.parametrize(("promotions", "message"), [
    ([THRESHOLD], "promotion = 'd11-deposit' names no promotion of the campaign files "
                  "(deposit_multiplier promotions: none)"),
    ([{**THRESHOLD, "id": "d11-deposit"}],
     "promotion = 'd11-deposit' is a tiered_threshold promotion, not a deposit_multiplier"),
    ([{**DEPOSIT_PROMOTION, "scope": {"skus": ["TV-55"]}}],
     "promotion = 'd11-deposit' does not cover sku 'TV-65', so it would not price the "
     "balance"),
    ([{**DEPOSIT_PROMOTION, "end": "2026-11-11T12:00:00"}],
     "promotion = 'd11-deposit' does not run through the whole balance window "
     "(2026-11-11T00:00:00+08:00 – 2026-11-11T23:59:59+08:00)"),
])
def test_a_promotion_that_cannot_price_the_balance_is_refused_at_bind(
        registry: Registry, clock: Clock, promotions: list[dict[str, Any]],
        message: str) -> None:
    engine = make(registry, clock, campaign(promotions=promotions))
    with pytest.raises(GameError) as raised:
        engine.games["tv"]
    assert raised.value.reason == "bad_promotion"
    assert str(raised.value) == f"presale 'tv': {message}"


def test_without_a_promotion_the_deposit_counts_at_face_value(registry: Registry,
                                                              clock: Clock) -> None:
    engine = make(registry, clock, campaign(promotion=None, promotions=[]))
    tv = engine.games["tv"]
    assert isinstance(tv, PresaleGame) and tv.terms is None
    tv.reserve(C1, "o1")
    tv.pay("o1")
    clock.now = BALANCE_OPENS
    result = engine.evaluate(Cart(currency="CNY", lines=(tv.balance_line("o1"),)))
    # no discount: total 1,000.00, of which the deposit 100.00 was paid: 900.00 due
    assert amounts(result) == ("1000.00", "0.00", "1000.00", "900.00")


# -- the whole lifecycle -----------------------------------------------------------------


def test_the_whole_lifecycle_with_the_worked_example(engine: Engine, tv: PresaleGame,
                                                     clock: Clock,
                                                     listener: Recorder) -> None:
    # 25 Oct 10:00: reserve one unit, pay within 30 minutes.
    deposit = tv.reserve(C1, "o1")
    assert (deposit.status, deposit.quantity, deposit.unit_deposit, deposit.deposit) == (
        "unpaid", 1, Decimal("100.00"), Decimal("100.00"))
    assert deposit.pay_by == datetime(2026, 10, 25, 10, 30, tzinfo=TZ)
    assert tv.stock_left() == 1
    clock.move(minutes=10)
    assert tv.pay("o1").status == "paid"
    assert tv.pay("o1").paid_at == datetime(2026, 10, 25, 10, 10, tzinfo=TZ)  # idempotent

    # Before the balance window: no balance yet.
    with pytest.raises(GameError) as early:
        tv.balance_line("o1")
    assert early.value.reason == "not_started"

    # 11 Nov 00:00: the sweep opens the balance (balance_due).
    clock.now = BALANCE_OPENS
    assert engine.sweep() == [ROW + "o1"]
    assert tv.state("o1").status == "balance_due"
    assert engine.sweep() == []  # next due at the balance window's end

    line = tv.balance_line("o1")
    assert line == Line(id="l1", sku="TV-65", quantity=1, unit_price=Decimal("1000.00"),
                        deposit_paid=Decimal("100.00"))
    # The balance alone: deposit 100.00 × 3 counts as 300.00, so 200.00 off (below the
    # cap of 300.00): total 1,000.00 − 200.00 = 800.00; 100.00 was paid, 700.00 is due.
    alone = engine.evaluate(Cart(currency="CNY", lines=(line,), customer=C1))
    assert amounts(alone) == ("1000.00", "200.00", "800.00", "700.00")

    # With a 200.00 cable from the catalogue and 滿1000減100 on top: after the item stage
    # the shop's lines come to 800.00 + 200.00 = 1,000.00 ≥ 1,000.00, so 100.00 more
    # off, spread over what is above each line's deposit: the TV 800.00 − 100.00 =
    # 700.00 and the cable 200.00 → 100.00 × 700/900 = 77.78 and 22.22. Total
    # 1,200.00 − 200.00 − 100.00 = 900.00; due 900.00 − 100.00 = 800.00.
    cable = Line(id="l2", sku="CABLE", quantity=1, unit_price=Decimal("200.00"))
    cart = Cart(currency="CNY", lines=(line, cable), customer=C1)
    both = engine.evaluate(cart)
    assert amounts(both) == ("1200.00", "300.00", "900.00", "800.00")
    assert [(d.promotion, str(d.amount)) for d in both.lines[0].discounts] == [
        ("d11-deposit", "200.00"), ("d11-1000-100", "77.78")]
    assert [(d.promotion, str(d.amount)) for d in both.lines[1].discounts] == [
        ("d11-1000-100", "22.22")]

    # The shop checks the balance order out, it is paid, and the presale settles.
    order = engine.checkout(cart, "b1")
    assert str(order.result.balance_due) == "800.00"
    engine.commit("b1")
    clock.move(hours=1)
    done = tv.settle("o1", "b1")
    assert (done.status, done.balance_order_id, done.completed_at) == (
        "completed", "b1", datetime(2026, 11, 11, 1, 0, tzinfo=TZ))
    assert tv.settle("o1", "b1") == done  # idempotent
    assert tv.stock_left() == 1  # the unit is sold

    assert listener.named("deposit_reserved", "deposit_paid", "balance_due",
                         "completed") == [
        ("deposit_reserved", "c1", {"order_id": "o1", "quantity": 1, "deposit": "100.00",
                                    "pay_by": "2026-10-25T10:30:00+08:00"}),
        ("deposit_paid", "c1", {"order_id": "o1", "quantity": 1, "deposit": "100.00"}),
        ("balance_due", "c1", {"order_id": "o1", "quantity": 1, "price": "1000.00",
                               "deposit": "100.00",
                               "balance_start": "2026-11-11T00:00:00+08:00",
                               "balance_end": "2026-11-11T23:59:59+08:00"}),
        ("completed", "c1", {"order_id": "o1", "quantity": 1, "balance_order_id": "b1"}),
    ]
    journal = [json.loads(body) for _, body in engine.store.journal("game:tv:deposits")]
    assert [(entry["event"], entry["at"]) for entry in journal] == [
        ("deposit_reserved", "2026-10-25T10:00:00+08:00"),
        ("deposit_paid", "2026-10-25T10:10:00+08:00"),
        ("balance_due", "2026-11-11T00:00:00+08:00"),
        ("completed", "2026-11-11T01:00:00+08:00"),
    ]


def test_two_units_expand_up_to_the_cap(tv: PresaleGame, engine: Engine,
                                        clock: Clock) -> None:
    # Two units: deposit 200.00, counted × 3 would take 400.00 off, but the cap is
    # 300.00 per line: total 2,000.00 − 300.00 = 1,700.00; due 1,700.00 − 200.00 =
    # 1,500.00 (滿1000減100 measures 1,700.00 ≥ 1,000.00: 100.00 more off → 1,600.00,
    # due 1,400.00).
    tv.reserve(C1, "o1", 2)
    tv.pay("o1")
    clock.now = BALANCE_OPENS
    line = tv.balance_line("o1", line_id="tv")
    assert (line.id, line.quantity, line.deposit_paid) == ("tv", 2, Decimal("200.00"))
    result = engine.evaluate(Cart(currency="CNY", lines=(line,)))
    assert amounts(result) == ("2000.00", "400.00", "1600.00", "1400.00")
    assert [(d.promotion, str(d.amount)) for d in result.lines[0].discounts] == [
        ("d11-deposit", "300.00"), ("d11-1000-100", "100.00")]


def test_the_balance_line_carries_the_catalogue_attributes(registry: Registry,
                                                           clock: Clock) -> None:
    engine = make(registry, clock, campaign(category="tv/oled", brand="acme", shop="s1"))
    tv = engine.games["tv"]
    assert isinstance(tv, PresaleGame)
    tv.reserve(C1, "o1")
    tv.pay("o1")
    clock.now = BALANCE_OPENS
    line = tv.balance_line("o1")
    assert (line.category, line.brand, line.shop) == ("tv/oled", "acme", "s1")


# -- reserving: idempotence, windows, stock, limits ----------------------------------------


def test_reserve_is_idempotent_per_order_id(tv: PresaleGame, listener: Recorder) -> None:
    first = tv.reserve(C1, "o1")
    assert tv.reserve(C1, "o1") == first
    assert tv.stock_left() == 1 and len(listener.named("deposit_reserved")) == 1
    for customer, quantity in ((C2, 1), (C1, 2)):
        with pytest.raises(GameError) as raised:
            tv.reserve(customer, "o1", quantity)
        assert raised.value.reason == "order_reused"


@pytest.mark.parametrize(("quantity", "reason"), [(0, "bad_quantity"), (-1, "bad_quantity"),
                                                  (True, "bad_quantity"),
                                                  (3, "sold_out")])
def test_bad_quantities_are_refused(tv: PresaleGame, quantity: Any, reason: str) -> None:
    with pytest.raises(GameError) as raised:
        tv.reserve(C1, "o1", quantity)
    assert raised.value.reason == reason


def test_a_signed_in_customer_and_a_good_order_id_are_needed(tv: PresaleGame) -> None:
    with pytest.raises(GameError) as anonymous:
        tv.reserve(Customer(), "o1")
    assert anonymous.value.reason == "customer_required"
    for bad in ("", "has space", "x" * 129):
        with pytest.raises(GameError) as raised:
            tv.reserve(C1, bad)
        assert raised.value.reason == "bad_order_id"
    with pytest.raises(GameError) as missing:
        tv.state("nope")
    assert missing.value.reason == "not_found"


def test_the_game_conditions_apply_to_reserving(registry: Registry, clock: Clock) -> None:
    data = campaign()
    data["game"][0]["conditions"] = [{"rule": "member_tier", "in": ["gold"]}]
    tv = make(registry, clock, data).games["tv"]
    assert isinstance(tv, PresaleGame)
    with pytest.raises(GameError) as raised:
        tv.reserve(C1, "o1")
    assert raised.value.reason == "not_eligible:member_tier"
    assert tv.reserve(Customer(id="c1", tier="gold"), "o1").status == "unpaid"


def test_the_deposit_window_at_its_boundaries(tv: PresaleGame, clock: Clock) -> None:
    clock.now = local(2026, 10, 20, 19, 59, 59)
    with pytest.raises(GameError) as early:
        tv.reserve(C1, "o1")
    assert early.value.reason == "not_started"
    clock.now = local(2026, 10, 20, 20, 0, 0)
    assert tv.reserve(C1, "o1").status == "unpaid"
    tv.cancel("o1")
    # deposit_end 23:59:59 is the last second deposits are taken; 00:00:00 local is out
    clock.now = local(2026, 11, 10, 23, 59, 59)
    late = tv.reserve(C1, "o2")
    # 30 minutes to pay, but never after deposits close: pay by 23:59:59
    assert late.pay_by == datetime(2026, 11, 10, 23, 59, 59, tzinfo=TZ)
    assert tv.pay("o2").status == "paid"  # at 23:59:59: still in time
    clock.now = local(2026, 11, 11, 0, 0, 0)
    with pytest.raises(GameError) as ended:
        tv.reserve(C1, "o3")
    assert ended.value.reason == "ended"


def test_an_unpaid_deposit_lapses_when_deposits_close(tv: PresaleGame, clock: Clock) -> None:
    clock.now = local(2026, 11, 10, 23, 50, 0)
    tv.reserve(C1, "o1")
    clock.now = local(2026, 11, 11, 0, 0, 0)  # 10 minutes later, but deposits have closed
    with pytest.raises(GameError) as raised:
        tv.pay("o1")
    assert raised.value.reason == "expired"
    assert tv.state("o1").cancelled_why == "timeout"


def test_the_balance_window_at_its_boundaries(tv: PresaleGame, clock: Clock) -> None:
    tv.reserve(C1, "o1")
    tv.pay("o1")
    tv.reserve(C2, "o2")
    tv.pay("o2")
    clock.now = local(2026, 11, 10, 23, 59, 59)
    with pytest.raises(GameError) as early:
        tv.balance_line("o1")
    assert early.value.reason == "not_started"
    clock.now = local(2026, 11, 11, 0, 0, 0)
    assert tv.balance_line("o1").quantity == 1
    clock.now = local(2026, 11, 11, 23, 59, 59)  # the last second of the balance window
    assert tv.settle("o1", "b1").status == "completed"
    clock.now = local(2026, 11, 12, 0, 0, 0)  # 00:00:00 local: the balance window has closed
    with pytest.raises(GameError) as late:
        tv.settle("o2", "b2")
    assert late.value.reason == "ended"
    assert tv.state("o2").status == "forfeited"


def test_the_per_customer_limit(registry: Registry, clock: Clock) -> None:
    engine = make(registry, clock, campaign(stock=10))
    tv = engine.games["tv"]
    assert isinstance(tv, PresaleGame)
    tv.reserve(C1, "o1")
    tv.reserve(C1, "o2")
    with pytest.raises(GameError) as third:
        tv.reserve(C1, "o3")
    assert third.value.reason == "limit_reached"
    with pytest.raises(GameError) as three_at_once:
        tv.reserve(C2, "o4", 3)
    assert three_at_once.value.reason == "limit_reached"
    assert tv.reserve(C2, "o4", 2).quantity == 2  # another customer's own limit
    tv.cancel("o2")  # a cancelled deposit gives its unit back to the customer
    assert tv.reserve(C1, "o3").status == "unpaid"
    assert engine.store.read(["game:tv:units:c1", "game:tv:units:c2", "game:tv:stock"]) == {
        "game:tv:units:c1": 2, "game:tv:units:c2": 2, "game:tv:stock": 4}
    assert tv.stock_left() == 6


# -- lapses: timeout, cancel, forfeiture -------------------------------------------------


def test_a_timeout_cancels_and_releases_stock_through_the_sweep(engine: Engine,
                                                                tv: PresaleGame,
                                                                clock: Clock,
                                                                listener: Recorder) -> None:
    # stock 2: one order takes both units, a third unit is sold out.
    tv.reserve(C1, "o1", 2)
    with pytest.raises(GameError) as sold_out:
        tv.reserve(C2, "o2")
    assert sold_out.value.reason == "sold_out"
    clock.move(minutes=30)  # 10:30:00 is the last moment to pay: nothing lapses yet
    assert engine.sweep() == []
    clock.move(seconds=1)
    assert engine.sweep() == [ROW + "o1"]
    assert engine.sweep() == []
    assert tv.stock_left() == 2
    state = tv.state("o1")
    assert (state.status, state.cancelled_why, state.cancelled_at) == (
        "cancelled", "timeout", datetime(2026, 10, 25, 10, 30, 1, tzinfo=TZ))
    assert tv.reserve(C2, "o2").status == "unpaid"
    assert listener.named("cancelled") == [
        ("cancelled", "c1", {"order_id": "o1", "quantity": 2, "why": "timeout"})]
    with pytest.raises(GameError) as expired:
        tv.pay("o1")
    assert expired.value.reason == "expired"


def test_a_timeout_is_applied_when_the_deposit_is_touched(engine: Engine, tv: PresaleGame,
                                                          clock: Clock,
                                                          listener: Recorder) -> None:
    tv.reserve(C1, "o1", 2)
    clock.move(minutes=31)
    with pytest.raises(GameError) as expired:
        tv.pay("o1")  # cancels it (and gives the stock back), then refuses
    assert expired.value.reason == "expired"
    assert str(expired.value) == ("presale deposit 'o1' was not paid by "
                                  "2026-10-25T10:30:00+08:00 and is cancelled")
    assert tv.stock_left() == 2 and tv.state("o1").status == "cancelled"
    assert engine.sweep() == []  # nothing left to do
    assert len(listener.named("cancelled")) == 1


def test_a_sold_out_reserve_cancels_lapsed_deposits_first(engine: Engine, tv: PresaleGame,
                                                          clock: Clock) -> None:
    tv.reserve(C1, "o1", 2)
    clock.move(minutes=31)
    assert tv.reserve(C2, "o2", 2).status == "unpaid"  # no sweep ran: reserve swept o1
    assert engine.store.order(ROW + "o1").status == "cancelled"  # type: ignore[union-attr]


def test_pay_at_the_last_moment(tv: PresaleGame, clock: Clock) -> None:
    tv.reserve(C1, "o1")
    clock.move(minutes=30)
    assert tv.pay("o1").status == "paid"


def test_the_customer_cancels_before_paying(tv: PresaleGame, listener: Recorder) -> None:
    tv.reserve(C1, "o1", 2)
    with pytest.raises(GameError) as other:
        tv.cancel("o1", C2)
    assert other.value.reason == "not_owner"
    cancelled = tv.cancel("o1", C1)
    assert (cancelled.status, cancelled.cancelled_why) == ("cancelled", "customer")
    assert tv.cancel("o1") == cancelled  # idempotent
    assert tv.stock_left() == 2
    assert listener.named("cancelled") == [
        ("cancelled", "c1", {"order_id": "o1", "quantity": 2, "why": "customer"})]
    with pytest.raises(GameError) as pay:
        tv.pay("o1")
    assert pay.value.reason == "cancelled"
    tv.reserve(C2, "o2")
    tv.pay("o2")
    with pytest.raises(GameError) as paid:
        tv.cancel("o2")
    assert paid.value.reason == "wrong_state"
    assert "a paid one is not refunded" in str(paid.value)


def test_an_unpaid_deposit_gets_no_balance(tv: PresaleGame, clock: Clock) -> None:
    tv.reserve(C1, "o1")
    for call in (lambda: tv.balance_line("o1"), lambda: tv.settle("o1", "b1")):
        with pytest.raises(GameError) as raised:
            call()
        assert raised.value.reason == "not_paid"
    tv.cancel("o1")
    clock.now = BALANCE_OPENS
    with pytest.raises(GameError) as cancelled:
        tv.balance_line("o1")
    assert cancelled.value.reason == "wrong_state"


def test_an_unpaid_balance_forfeits_the_deposit(engine: Engine, tv: PresaleGame,
                                               clock: Clock, listener: Recorder) -> None:
    tv.reserve(C1, "o1")
    tv.pay("o1")
    clock.now = BALANCE_OPENS
    assert engine.sweep() == [ROW + "o1"]  # balance_due
    clock.now = local(2026, 11, 11, 23, 59, 59)
    assert engine.sweep() == []  # the last second of the balance window
    clock.now = local(2026, 11, 12, 0, 0, 0)
    assert engine.sweep() == [ROW + "o1"]
    state = tv.state("o1")
    assert (state.status, state.forfeited_at) == ("forfeited",
                                                 datetime(2026, 11, 12, tzinfo=TZ))
    assert tv.stock_left() == 1  # the deposit bought the unit; it is not given back
    assert listener.named("forfeited") == [
        ("forfeited", "c1", {"order_id": "o1", "quantity": 1, "deposit": "100.00",
                             "balance_end": "2026-11-11T23:59:59+08:00"})]
    with pytest.raises(GameError) as late:
        tv.balance_line("o1")
    assert late.value.reason == "ended"
    assert engine.sweep() == []


def test_a_deposit_untouched_through_the_balance_window_is_forfeited_on_touch(
        tv: PresaleGame, clock: Clock, listener: Recorder) -> None:
    tv.reserve(C1, "o1")
    tv.pay("o1")
    clock.now = local(2026, 11, 13, 9, 0, 0)
    assert tv.state("o1").status == "forfeited"
    # the balance window was never seen open: no balance_due, one forfeited
    assert [event for event, _, _ in listener.named("balance_due", "forfeited")] == [
        "forfeited"]


def test_settle_checks_the_balance_order_in_the_store(engine: Engine, tv: PresaleGame,
                                                      clock: Clock) -> None:
    tv.reserve(C1, "o1")
    tv.pay("o1")
    tv.reserve(C2, "o2")
    tv.pay("o2")
    clock.now = BALANCE_OPENS
    engine.checkout(Cart(currency="CNY", lines=(tv.balance_line("o1"),), customer=C1), "b1")
    with pytest.raises(GameError) as unpaid:
        tv.settle("o1", "b1")
    assert unpaid.value.reason == "balance_not_paid"
    engine.commit("b1")
    with pytest.raises(GameError) as other:
        tv.settle("o2", "b1")  # b1 carries o1's deposit, and is c1's
    assert other.value.reason == "wrong_order"
    assert tv.settle("o1", "b1").status == "completed"
    with pytest.raises(GameError) as again:
        tv.settle("o1", "b9")
    assert again.value.reason == "wrong_state"
    # an order the store does not know (paid elsewhere) is taken at its word
    assert tv.settle("o2", "elsewhere-7").status == "completed"


# -- exactly once under concurrent sweeps -----------------------------------------------------


def _sweep_race(store_url: str, registry: Registry, listener: Recorder, clock: Clock,
                shared: Store) -> None:
    """Twelve lapsed deposits swept by two threads at once, each with its own engine
    and store handle (a memory store is shared)."""
    data = campaign(stock=30, max_units_per_customer=None)
    first = make(registry, clock, data, store=shared)
    tv = first.games["tv"]
    assert isinstance(tv, PresaleGame)
    for n in range(12):
        tv.reserve(Customer(id=f"c{n % 3}"), f"o{n}", 1 + n % 2)  # 18 units held
    assert tv.stock_left() == 12
    clock.move(minutes=31)
    handles = [shared if isinstance(shared, MemoryStore) else open_store(store_url)
               for _ in range(2)]
    engines = [make(registry, clock, data, store=handle) for handle in handles]
    for engine in engines:
        engine.games["tv"]  # bind outside the race
    barrier = threading.Barrier(2)
    swept: list[list[str]] = [[], []]

    def sweep(index: int) -> None:
        barrier.wait(timeout=10)
        swept[index] = engines[index].sweep()

    threads = [threading.Thread(target=sweep, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for handle in handles:
        if handle is not shared:
            handle.close()
    assert sorted(swept[0] + swept[1]) == sorted(ROW + f"o{n}" for n in range(12))
    assert not set(swept[0]) & set(swept[1])
    assert len(listener.named("cancelled")) == 12
    journal = [json.loads(body) for _, body in shared.journal("game:tv:deposits")]
    assert sum(entry["event"] == "cancelled" for entry in journal) == 12
    assert tv.stock_left() == 30
    assert shared.read(["game:tv:stock", "game:tv:units:c0", "game:tv:units:c1"]) == {
        "game:tv:stock": 0, "game:tv:units:c0": 0, "game:tv:units:c1": 0}


@BACKENDS
def test_concurrent_sweeps_cancel_each_deposit_exactly_once(
        store_url: str, store: Store, registry: Registry, listener: Recorder,
        clock: Clock) -> None:
    _sweep_race(store_url, registry, listener, clock, store)


def test_concurrent_touches_and_sweeps_cancel_once(registry: Registry, listener: Recorder,
                                                   clock: Clock, tmp_path: Any) -> None:
    # On SQLite, one thread sweeps while another pays, for the same lapsed deposit:
    # one cancellation, and the payment is refused as expired.
    url = f"sqlite:///{tmp_path / 'race.db'}"
    stores = [open_store(url) for _ in range(2)]
    engines = [make(registry, clock, store=s) for s in stores]
    tv = engines[0].games["tv"]
    assert isinstance(tv, PresaleGame)
    tv.reserve(C1, "o1", 2)
    clock.move(minutes=31)
    other = engines[1].games["tv"]
    assert isinstance(other, PresaleGame)
    barrier = threading.Barrier(2)
    errors: list[str] = []

    def pay() -> None:
        barrier.wait(timeout=10)
        try:
            other.pay("o1")
        except GameError as error:
            errors.append(error.reason)

    def sweep() -> None:
        barrier.wait(timeout=10)
        engines[0].sweep()

    threads = [threading.Thread(target=pay), threading.Thread(target=sweep)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for s in stores:
        s.close()
    assert errors == ["expired"]
    assert len(listener.named("cancelled")) == 1


# -- a property: the stock counter is what the live deposits hold -------------------------------


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["reserve", "pay", "cancel", "wait", "sweep"]),
                          st.integers(0, 4), st.integers(1, 3)), max_size=25))
def test_stock_held_matches_the_live_deposits(steps: list[tuple[str, int, int]]) -> None:
    registry = Registry.default(load_entry_points=False)
    clock = Clock(DURING_DEPOSITS)
    engine = make(registry, clock, campaign(stock=5, max_units_per_customer=3))
    tv = engine.games["tv"]
    assert isinstance(tv, PresaleGame)
    made: set[str] = set()
    for action, n, quantity in steps:
        order_id = f"o{n}"
        try:
            if action == "reserve":
                tv.reserve(Customer(id=f"c{n % 2}"), order_id, quantity)
                made.add(order_id)
            elif action == "pay":
                tv.pay(order_id)
            elif action == "cancel":
                tv.cancel(order_id)
            elif action == "wait":
                clock.move(minutes=10 * quantity)
            else:
                engine.sweep()
        except GameError as error:
            assert error.reason in ("sold_out", "limit_reached", "order_reused", "not_found",
                                    "expired", "cancelled", "wrong_state")
    held = {0: 0, 1: 0}
    for order_id in made:
        state = tv.state(order_id)
        if state.status != "cancelled":
            held[int(order_id[1:]) % 2] += state.quantity
    assert engine.store.read(["game:tv:stock"])["game:tv:stock"] == held[0] + held[1] <= 5
    assert engine.store.read(["game:tv:units:c0", "game:tv:units:c1"]) == {
        "game:tv:units:c0": held[0], "game:tv:units:c1": held[1]}


# -- disclosure ------------------------------------------------------------------------------


def test_the_disclosure_in_chinese(tv: PresaleGame) -> None:
    assert tv.disclosure("zh-CN").splitlines() == [
        "65吋電視預售：商品TV-65预售价¥1,000.00/件。",
        "定金：¥100.00/件（预售价的10%）。依《民法典》第五百八十六条，定金不得超过合同金额的20%，"
        "本商品定金最多¥200.00。",
        "支付尾款时，每件定金¥100.00可抵¥300.00（定金×3，每个订单行最多多抵¥300.00），"
        "每件尾款¥700.00（未计其他优惠）。",
        "定金支付时间：2026年10月20日 20:00 至 2026年11月10日 23:59（北京时间 / Asia/Shanghai）。"
        "下单后须在30分钟内（且不晚于定金支付截止时间）支付定金，逾时订单自动取消，库存释放；"
        "支付定金前可取消订单。",
        "尾款支付时间：2026年11月11日 00:00 至 23:59（北京时间 / Asia/Shanghai）。",
        "限量2件，售完即止；每人限购2件。",
        "定金支付后不退；未在2026年11月11日 23:59（北京时间）前支付尾款的，定金不予退还"
        "（《民法典》第五百八十七条：给付定金的一方不履行债务的，无权请求返还定金；"
        "收受定金的一方不履行债务的，应当双倍返还定金）。",
    ]


def test_the_disclosure_in_english(tv: PresaleGame) -> None:
    assert tv.disclosure("en").splitlines() == [
        "65吋電視預售: presale of TV-65 at ¥1,000.00 per unit.",
        "Deposit: ¥100.00 per unit (10% of the presale price). By law a deposit may be at "
        "most 20% of the price (PRC Civil Code, art. 586): here at most ¥200.00.",
        "When you pay the balance, each unit's deposit of ¥100.00 counts as ¥300.00 "
        "against the price (deposit × 3, the extra at most ¥300.00 per order line): the "
        "balance is ¥700.00 per unit before other offers.",
        "Deposits: 20 Oct 2026, 20:00 – 10 Nov 2026, 23:59 (China Time, Asia/Shanghai). "
        "Pay the deposit within 30 minutes of ordering, and before deposits close, or the "
        "order is cancelled and its units go back on sale. You may cancel an order before "
        "paying its deposit.",
        "Balance: 11 Nov 2026, 00:00–23:59 (China Time, Asia/Shanghai).",
        "2 units only, while stocks last; up to 2 per customer.",
        "A paid deposit is not refunded: if the balance is not paid by 11 Nov 2026, 23:59 "
        "(China Time), the deposit is forfeited (PRC Civil Code, art. 587: the party who "
        "fails to perform cannot claim the deposit back; a seller who fails to deliver "
        "returns twice the deposit).",
    ]


def test_the_disclosure_follows_the_config(registry: Registry, clock: Clock) -> None:
    # deposit 150.00 of 1,000.00 is 15%; multiplier 1.5 makes it count as
    # 150.00 + 75.00 = 225.00, no cap; the balance is 775.00 per unit.
    promotion = {**DEPOSIT_PROMOTION, "multiplier": "1.5"}
    del promotion["cap"]
    data = campaign(promotions=[promotion], deposit="150.00", max_units_per_customer=None,
                    pay_within_minutes=15, organiser="ACME, 400-800-1111")
    tv = make(registry, clock, data).games["tv"]
    zh = tv.disclosure("zh-CN").splitlines()
    assert zh[1].startswith("定金：¥150.00/件（预售价的15%）")
    assert zh[2] == ("支付尾款时，每件定金¥150.00可抵¥225.00（定金×1.5），"
                     "每件尾款¥775.00（未计其他优惠）。")
    assert "下单后须在15分钟内" in zh[3]
    assert zh[5] == "限量2件，售完即止。"
    assert zh[-1] == "主办方：ACME, 400-800-1111。"
    en = tv.disclosure("en").splitlines()
    assert en[2] == ("When you pay the balance, each unit's deposit of ¥150.00 counts as "
                     "¥225.00 against the price (deposit × 1.5): the balance is ¥775.00 per "
                     "unit before other offers.")
    assert en[-1] == "Organiser: ACME, 400-800-1111."


def test_the_kind_alone_names_the_promotion(registry: Registry) -> None:
    spec = parse_campaigns(campaign(), registry).games[0]
    zh = Presale().disclosure(spec, Text("zh-CN"))
    assert zh[2] == "支付尾款时，定金按活动「d11-deposit」的规则抵扣。"
    # the kind alone knows the file's timezone too
    assert zh[3].startswith(
        "定金支付时间：2026年10月20日 20:00 至 2026年11月10日 23:59（北京时间 / Asia/Shanghai）")
    no_promotion = parse_campaigns(campaign(promotion=None), registry).games[0]
    assert Presale().disclosure(no_promotion, Text("en"))[2] == (
        "When you pay the balance the deposit counts at its face value: the balance is "
        "¥900.00 per unit before other offers.")


def test_the_docs_example_loads_and_discloses_as_the_docs_say(registry: Registry,
                                                              clock: Clock) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "games" / "presale.md").read_text(
        encoding="utf-8")
    toml = re.search(r"^```toml\n(.*?)^```$", doc, re.MULTILINE | re.DOTALL)
    shown = re.search(r"^## Disclosure$.*?^```text\n(.*?)^```$", doc, re.MULTILINE | re.DOTALL)
    assert toml is not None and shown is not None
    engine = make(registry, clock, tomllib.loads(toml.group(1)))
    assert engine.games["tv"].disclosure("zh-CN") + "\n" == shown.group(1)


# -- config changes after the start ---------------------------------------------------------


@pytest.mark.parametrize(("keys", "path", "worse"), [
    ({"deposit": "120.00"}, "deposit", True),
    ({"deposit": "80.00"}, "deposit", False),
    ({"presale_price": "1100.00"}, "presale_price", True),
    ({"presale_price": "900.00"}, "presale_price", False),
    ({"deposit_start": "2026-10-21T20:00:00"}, "deposit_start", True),
    ({"deposit_end": "2026-11-10T22:00:00"}, "deposit_end", True),
    ({"balance_start": "2026-11-11T01:00:00"}, "balance_start", True),
    ({"balance_end": "2026-11-11T22:00:00"}, "balance_end", True),
    ({"balance_end": "2026-11-12T23:59:59"}, "balance_end", False),
    ({"stock": 1}, "stock", True),
    ({"stock": 5}, "stock", False),
    ({"pay_within_minutes": 15}, "pay_within_minutes", True),
    ({"max_units_per_customer": 1}, "max_units_per_customer", True),
    ({"max_units_per_customer": None}, "max_units_per_customer", False),
    ({"promotion": None}, "promotion", True),
    ({"sku": "TV-55"}, "sku", True),
    ({"shop": "s1"}, "shop", False),
])
def test_config_changes_are_worse_or_better(registry: Registry, keys: dict[str, Any],
                                            path: str, worse: bool) -> None:
    old = parse_campaigns(campaign(), registry).games[0]
    new = parse_campaigns(campaign(**keys), registry).games[0]
    assert [(c.path, c.worse) for c in Presale().changes(old, new)] == [(path, worse)]


def test_the_promotion_terms_are_compared() -> None:
    three = {"promotion": "p", "multiplier": "3", "cap": 30000}
    assert [(c.path, c.worse) for c in terms_changes(three, {**three, "multiplier": "2"})] == [
        ("promotion.multiplier", True)]
    assert [(c.path, c.worse) for c in terms_changes(three, {**three, "cap": None})] == [
        ("promotion.cap", False)]
    assert [(c.path, c.worse) for c in terms_changes(three, {**three, "cap": 20000})] == [
        ("promotion.cap", True)]
    assert [(c.path, c.worse) for c in terms_changes({"promotion": None}, three)] == [
        ("promotion", False)]


def test_a_started_presale_refuses_worse_changes_and_adopts_better(
        engine: Engine, tv: PresaleGame, registry: Registry, listener: Recorder) -> None:
    tv.reserve(C1, "o1")  # starts the game: its config and the promotion's terms are kept
    worse = engine.with_campaigns(parse_campaigns(campaign(deposit="150.00"), registry))
    with pytest.raises(GameError) as raised:
        worse.games["tv"]
    assert raised.value.reason == "config_worse"
    assert "deposit: 10000 → 15000 (worse for customers)" in str(raised.value)

    lower = {**DEPOSIT_PROMOTION, "multiplier": "2"}
    weaker = engine.with_campaigns(parse_campaigns(
        campaign(promotions=[lower, THRESHOLD]), registry))
    with pytest.raises(GameError) as multiplier:
        weaker.games["tv"]
    assert multiplier.value.reason == "config_worse"
    assert "promotion.multiplier: 3 → 2 (worse for customers)" in str(multiplier.value)

    # a better multiplier with a worse deposit: rejected whole, nothing adopted
    higher = {**DEPOSIT_PROMOTION, "multiplier": "4"}
    mixed = engine.with_campaigns(parse_campaigns(
        campaign(promotions=[higher, THRESHOLD], deposit="150.00"), registry))
    with pytest.raises(GameError) as mixed_error:
        mixed.games["tv"]
    assert mixed_error.value.reason == "config_worse"
    assert engine.with_campaigns(parse_campaigns(campaign(), registry)).games["tv"]

    better = engine.with_campaigns(parse_campaigns(
        campaign(promotions=[higher, THRESHOLD], stock=5), registry))
    adopted = better.games["tv"]
    assert isinstance(adopted, PresaleGame)
    assert adopted.terms is not None and adopted.terms.multiplier == Decimal(4)
    assert adopted.state("o1").status == "unpaid"  # the first operation keeps the terms
    assert adopted.stock_left() == 4
    changed = [data["changes"] for event, _, data in listener.named("config_changed")]
    assert changed == [["stock: 2 → 5 (in customers' favour)"],
                       ["promotion.multiplier: 3 → 4 (in customers' favour)"]]
    config = [json.loads(body)["event"] for _, body in engine.store.journal("game:tv:config")]
    assert config == ["started", "config_rejected", "terms_rejected", "config_rejected",
                      "config_changed", "terms_changed"]
    # the multiplier of 4 is now the one held: going back to 3 is worse
    back = engine.with_campaigns(parse_campaigns(campaign(stock=5), registry))
    with pytest.raises(GameError) as back_error:
        back.games["tv"]
    assert "promotion.multiplier: 4 → 3 (worse for customers)" in str(back_error.value)


# -- the command line ---------------------------------------------------------------------


def test_cli_actions(tv: PresaleGame, engine: Engine, clock: Clock) -> None:
    assert set(Presale.actions) == {"reserve", "pay", "cancel", "balance", "settle", "state"}
    reserved = tv.act("reserve", C1, {"order_id": "o1", "quantity": "2"})
    assert (reserved["status"], reserved["quantity"], reserved["deposit"]) == (
        "unpaid", 2, "200.00")
    assert tv.act("pay", C1, {"order_id": "o1"})["status"] == "paid"
    assert tv.act("state", C1, {}) == {"game": "tv", "stock": 2, "stock_left": 0}
    clock.now = BALANCE_OPENS
    assert tv.act("balance", C1, {"order_id": "o1"}) == {
        "id": "l1", "sku": "TV-65", "quantity": 2, "unit_price": "1000.00",
        "deposit_paid": "200.00"}
    settled = tv.act("settle", C1, {"order_id": "o1", "balance_order_id": "b1"})
    assert (settled["status"], settled["balance_order_id"]) == ("completed", "b1")
    assert tv.act("state", C1, {"order_id": "o1"}) == settled
    json.dumps(settled)  # JSON-ready


def test_cli_cancel_and_bad_arguments(tv: PresaleGame) -> None:
    tv.act("reserve", C1, {"order_id": "o1"})
    with pytest.raises(GameError) as not_theirs:
        tv.act("cancel", C2, {"order_id": "o1"})
    assert not_theirs.value.reason == "not_owner"
    assert tv.act("cancel", Customer(), {"order_id": "o1"})["cancelled_why"] == "customer"
    for action, args, reason in [
            ("reserve", {"order_id": "o2", "quantity": "two"}, "bad_quantity"),
            ("reserve", {"order_id": "o2", "colour": "red"}, "bad_argument"),
            ("pay", {}, "bad_argument"),
            ("settle", {"order_id": "o1"}, "bad_argument"),
            ("draw", {}, "unknown_action")]:
        with pytest.raises(GameError) as raised:
            tv.act(action, C1, args)
        assert raised.value.reason == reason, action


def test_deposit_json_round_trips_the_times(tv: PresaleGame) -> None:
    data = tv.reserve(C1, "o1").to_json()
    assert data["reserved_at"] == "2026-10-25T10:00:00+08:00"
    assert data["pay_by"] == "2026-10-25T10:30:00+08:00"
    assert isinstance(tv.state("o1"), Deposit)
