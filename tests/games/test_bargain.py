"""The ``bargain`` game (砍價): its cut plan, rules, tokens, pricing, audit and events."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from campaigns import HEADER
from conftest import EVERY_BACKEND
from hypothesis import given, settings
from hypothesis import strategies as st

from promokit import ConfigError, Engine, open_store
from promokit.cart import Customer
from promokit.errors import GameError
from promokit.gameplay import verify_log
from promokit.games import is_token_shaped, sign_token
from promokit.loading import parse_game_table
from promokit.plugins.games.bargain import Bargain, BargainGame, cut_plan
from promokit.stores.base import Change, Delta
from promokit.testing import Clock, Recorder, campaigns_from_toml, engine_from_toml

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 11, 10, tzinfo=TZ)
SECRET = b"bargain-test-secret-32-bytes-long"
SEED = "11" * 32
#: alice's first bargain under SEED: "kettle." + HMAC-SHA256(seed, "bargain:alice:1")[:16]
ALICE = "kettle.169f6d3bc2ec8d27"
#: Its plan, 99.00 (price 100.00 − floor 1.00) in five cuts, first helps cutting most:
#: 39.66 + 21.53 + 17.90 + 11.46 + 8.45 = 99.00.
PLAN = (3966, 2153, 1790, 1146, 845)

GAME = HEADER + '''
[[game]]
id = "kettle"
kind = "bargain"
name = "Kettle bargain"
sku = "KETTLE"
price = "100.00"
floor = "1.00"
helps = 5
helps_per_day = 3
new_helper_bonus = 2
'''

OLD = {"orders_count": 4}  # a returning customer: one planned cut per help
NEW = {"orders_count": 0}  # a new customer: new_helper_bonus (2) planned cuts


def who(customer_id: str | None, **fields: Any) -> Customer:
    return Customer(id=customer_id, **fields)


@pytest.fixture
def fixed_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Games started in this test draw SEED as their server seed."""
    monkeypatch.setattr("promokit.games.base.new_seed", lambda: SEED)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def build(text: str = GAME, *, clock: Clock, recorder: Recorder | None = None,
          **options: Any) -> Engine:
    options.setdefault("secret", SECRET)
    return engine_from_toml(text, plugins=[recorder] if recorder else [], clock=clock,
                            **options)


@pytest.fixture
def engine(fixed_seed: None, clock: Clock, recorder: Recorder) -> Engine:
    return build(clock=clock, recorder=recorder)


@pytest.fixture
def game(engine: Engine) -> BargainGame:
    found = engine.games["kettle"]
    assert isinstance(found, BargainGame)
    return found


def reason_of(call: Any, *args: Any) -> str:
    with pytest.raises(GameError) as caught:
        call(*args)
    return str(caught.value.reason)


def bargain_cart(bargain: str, customer: str = "alice", *, quantity: int = 1,
                 price: str = "100.00", now: datetime | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "currency": "CNY", "customer": {"id": customer},
        "lines": [{"id": "l1", "sku": "KETTLE", "quantity": quantity, "unit_price": price,
                   "bargain_id": bargain}]}
    if now is not None:
        data["now"] = now.isoformat()
    return data


# -- the cut plan ---------------------------------------------------------------------------


def reference_plan(seed: str, bargain_id: str, total: int, helps: int) -> list[int]:
    """docs/games/bargain.md's algorithm, written again from the text."""
    key = bytes.fromhex(seed)
    weights = [1 << 64]
    for step in range(1, helps):
        block = hmac.new(key, f"{bargain_id}:{(step - 1) // 4}".encode(),
                         hashlib.sha256).digest()
        offset = 8 * ((step - 1) % 4)
        u = int.from_bytes(block[offset:offset + 8], "big") * (1 << 32) >> 64
        weights.append(weights[-1] * (helps * 2**32 - 2 * u) // ((helps + 1) * 2**32))
    spare, whole = total - helps, sum(weights)
    cuts = [1 + spare * w // whole for w in weights]
    order = sorted(range(helps), key=lambda i: (-(spare * weights[i] % whole), i))
    for i in order[:total - sum(cuts)]:
        cuts[i] += 1
    return cuts


def test_the_fixed_seed_plan_is_written_out() -> None:
    assert cut_plan(SEED, ALICE, 9900, 5) == PLAN
    assert sum(PLAN) == 9900
    assert list(PLAN) == reference_plan(SEED, ALICE, 9900, 5)
    code = hmac.new(bytes.fromhex(SEED), b"bargain:alice:1", hashlib.sha256).hexdigest()[:16]
    assert f"kettle.{code}" == ALICE


def test_one_help_takes_it_all_and_one_unit_each_is_exact() -> None:
    assert cut_plan(SEED, ALICE, 9900, 1) == (9900,)
    assert cut_plan(SEED, ALICE, 7, 7) == (1,) * 7
    assert cut_plan(SEED, ALICE, 8, 7) == (2, 1, 1, 1, 1, 1, 1)
    with pytest.raises(ValueError):
        cut_plan(SEED, ALICE, 6, 7)
    with pytest.raises(ValueError):
        cut_plan(SEED, ALICE, 6, 0)


@st.composite
def plans(draw: st.DrawFn) -> tuple[str, str, int, int]:
    seed = draw(st.binary(min_size=32, max_size=32)).hex()
    price = draw(st.integers(2, 10_000_000))
    floor = draw(st.integers(0, price - 1))
    helps = draw(st.integers(1, min(price - floor, 400)))
    code = draw(st.binary(min_size=6, max_size=6)).hex()
    return seed, f"kettle.{code}", price - floor, helps


@settings(max_examples=200, deadline=None)
@given(plans())
def test_the_plan_is_exact_positive_reproducible_and_front_loaded(
        case: tuple[str, str, int, int]) -> None:
    seed, bargain, total, helps = case
    plan = cut_plan(seed, bargain, total, helps)
    assert len(plan) == helps
    assert all(cut >= 1 for cut in plan)
    assert sum(plan) == total
    assert plan == cut_plan(seed, bargain, total, helps)  # reproducible from the seed
    assert list(plan) == reference_plan(seed, bargain, total, helps)
    assert all(a >= b for a, b in itertools.pairwise(plan))  # never increasing
    half = helps // 2
    if helps >= 2:
        assert sum(plan[:half]) >= sum(plan[helps - half:])


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 60), st.integers(1, 40), st.booleans())
def test_the_loader_rejects_more_helps_than_minor_units(units: int, extra: int,
                                                        enough: bool) -> None:
    helps = units if enough else units + extra
    text = GAME.replace('price = "100.00"', f'price = "{Decimal(100 + units) / 100}"') \
        .replace("helps = 5", f"helps = {helps}")
    if enough:
        assert campaigns_from_toml(text).games[0].config.helps == helps
        return
    with pytest.raises(ConfigError) as caught:
        campaigns_from_toml(text)
    assert [p.path for p in caught.value.problems] == ["game[0].helps"]
    assert f"only {units} between price and floor" in str(caught.value)


@pytest.mark.parametrize(("change", "path", "words"), [
    (('floor = "1.00"', 'floor = "100.00"'), "game[0].floor", "must be below price"),
    (('floor = "1.00"', 'floor = "120.00"'), "game[0].floor", "must be below price"),
    (("helps = 5", "helps = 0"), "game[0].helps", "at least 1"),
    (("helps = 5", 'helps = "5.5"'), "game[0].helps", "whole number"),
    (("helps = 5", "helps = 5\nwindow_hours = 0"), "game[0].window_hours", "at least 1"),
    (("helps = 5", "helps = 5\nbuy_within_hours = -1"), "game[0].buy_within_hours",
     "at least 0"),
    (("helps_per_day = 3", "helps_per_day = 0"), "game[0].helps_per_day", "at least 1"),
    (("new_helper_bonus = 2", "new_helper_bonus = 0"), "game[0].new_helper_bonus",
     "at least 1"),
    (("helps = 5", "helps = 5\nmax_bargains_per_customer = 0"),
     "game[0].max_bargains_per_customer", "at least 1"),
    (('price = "100.00"', 'price = "0"'), "game[0].price", "> 0"),
    (('price = "100.00"', 'price = 100.5'), "game[0].price", "float"),
    (('sku = "KETTLE"\n', ""), "game[0].sku", "is required"),
    (("helps = 5", "helps = 5\nhelp_per_day = 3"), "game[0].help_per_day", "unknown key"),
])
def test_bad_configs_are_rejected_naming_the_path(change: tuple[str, str], path: str,
                                                  words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        campaigns_from_toml(GAME.replace(*change))
    assert path in [p.path for p in caught.value.problems]
    assert words in str(caught.value)


def test_the_config_is_read_with_its_defaults() -> None:
    text = GAME.replace("helps_per_day = 3\nnew_helper_bonus = 2\n", "")
    config = campaigns_from_toml(text).games[0].config
    assert (config.price, config.floor, config.helps, config.window_hours,
            config.buy_within_hours, config.helps_per_day, config.new_helper_bonus,
            config.max_bargains_per_customer) == (10000, 100, 5, 24, 24, None, 1, 1)
    longer = campaigns_from_toml(text.replace("helps = 5", "helps = 5\nwindow_hours = 6"))
    assert longer.games[0].config.buy_within_hours == 6  # defaults to the window


# -- the state machine, by hand ---------------------------------------------------------------


def test_five_helps_walk_the_written_out_plan_to_the_floor(game: BargainGame,
                                                           recorder: Recorder) -> None:
    state = game.start_bargain(who("alice"))
    assert (state.id, state.status, state.price, state.cut, state.helps_left) == (
        ALICE, "open", 10000, 0, 5)
    assert state.closes_at == START + timedelta(hours=24)
    assert state.buy_by == START + timedelta(hours=48)
    prices = []
    for n, helper in enumerate(["b1", "b2", "b3", "b4", "b5"]):
        result = game.help(ALICE, who(helper, **OLD))
        assert (result.cut, result.cuts, result.helps_left) == (PLAN[n], 1, 4 - n)
        prices.append(result.price)
    assert prices == [6034, 3881, 2091, 945, 100]  # 100.00 − 39.66 − 21.53 − …
    assert result.done
    final = game.bargain(ALICE)
    assert (final.status, final.price, final.cut, final.helps_left) == ("done", 100, 9900, 0)
    assert final.helpers == ("b1", "b2", "b3", "b4", "b5")
    assert reason_of(game.help, ALICE, who("b6", **OLD)) == "done"
    assert game.store.read([f"game:kettle:bargain:{ALICE[7:]}:cut"]) == {
        f"game:kettle:bargain:{ALICE[7:]}:cut": 9900}

    assert recorder.named("started")[-1] == ("started", "alice", {
        "bargain": ALICE, "price": "100.00", "floor": "1.00", "helps": 5,
        "closes_at": "2026-11-12T10:00:00+08:00"})
    helped = recorder.named("helped")
    assert [(e[2]["helper"], e[2]["cut"], e[2]["helps_left"]) for e in helped] == [
        ("b1", "39.66", 4), ("b2", "21.53", 3), ("b3", "17.90", 2), ("b4", "11.46", 1),
        ("b5", "8.45", 0)]
    assert all(customer == "alice" for _, customer, _ in helped)
    assert recorder.named("floor_reached") == [("floor_reached", "alice", {
        "bargain": ALICE, "price": "1.00", "helpers": ["b1", "b2", "b3", "b4", "b5"]})]


def test_a_new_customer_cuts_like_two_helps_and_never_past_the_floor(
        game: BargainGame) -> None:
    game.start_bargain(who("alice"))
    first = game.help(ALICE, who("n1", **NEW))
    assert (first.cut, first.cuts, first.new_helper, first.helps_left) == (
        3966 + 2153, 2, True, 3)
    assert game.help(ALICE, who("b1", **OLD)).cut == 1790
    second = game.help(ALICE, who("n2", **NEW))
    assert (second.cut, second.cuts, second.price, second.helps_left) == (1146 + 845, 2, 100, 0)
    assert game.bargain(ALICE).helpers == ("n1", "b1", "n2")  # three people, five cuts


def test_a_new_customer_with_one_cut_left_takes_just_that_one(game: BargainGame) -> None:
    game.start_bargain(who("alice"))
    for helper in ("b1", "b2", "b3", "b4"):
        game.help(ALICE, who(helper, **OLD))
    last = game.help(ALICE, who("n1", **NEW))
    assert (last.cut, last.cuts, last.price, last.helps_left, last.done) == (
        845, 1, 100, 0, True)


def test_an_unknown_order_count_is_not_a_new_customer(game: BargainGame) -> None:
    game.start_bargain(who("alice"))
    assert game.help(ALICE, who("x")).cuts == 1


# -- the rules --------------------------------------------------------------------------------


def test_the_owner_cannot_help_and_nobody_helps_twice(game: BargainGame) -> None:
    game.start_bargain(who("alice"))
    assert reason_of(game.help, ALICE, who("alice", **NEW)) == "self_help"
    game.help(ALICE, who("b1", **OLD))
    assert reason_of(game.help, ALICE, who("b1", **OLD)) == "already_helped"
    assert game.bargain(ALICE).helps_left == 4


def test_helpers_must_sign_in_and_bargains_must_exist(game: BargainGame) -> None:
    game.start_bargain(who("alice"))
    assert reason_of(game.help, ALICE, who(None)) == "customer_required"
    assert reason_of(game.start_bargain, who(None)) == "customer_required"
    assert reason_of(game.help, "kettle.0000000000000000", who("b1")) == "not_found"
    assert reason_of(game.bargain, "kettle.0000000000000000") == "not_found"
    assert reason_of(game.bargain, "other.169f6d3bc2ec8d27") == "not_found"
    assert reason_of(game.help, "other.169f6d3bc2ec8d27", who("b1")) == "not_found"


def test_each_customer_starts_one_bargain_unless_allowed_more(
        fixed_seed: None, clock: Clock) -> None:
    game = build(clock=clock).games["kettle"]
    assert isinstance(game, BargainGame)
    game.start_bargain(who("alice"))
    assert reason_of(game.start_bargain, who("alice")) == "limit_reached"
    more = build(GAME + "max_bargains_per_customer = 2\n", clock=clock,
                 store=game.store).games["kettle"]
    assert isinstance(more, BargainGame)
    second = more.start_bargain(who("alice"))
    assert second.id != ALICE and second.status == "open"
    assert reason_of(more.start_bargain, who("alice")) == "limit_reached"


def test_a_code_already_taken_is_salted(game: BargainGame) -> None:
    game.start()
    taken = game.row_id("bargain", ALICE[7:])
    assert game.store.apply(Change(order_id=taken, revision=0, status="x", body="{}")).applied
    state = game.start_bargain(who("alice"))
    code = hmac.new(bytes.fromhex(SEED), b"bargain:alice:1+", hashlib.sha256).hexdigest()
    assert state.id == f"kettle.{code[:16]}" != ALICE
    assert game.help(state.id, who("b1")).helps_left == 4


def test_the_window_closes_helps_and_sweep_expires_the_bargain(
        engine: Engine, game: BargainGame, clock: Clock, recorder: Recorder) -> None:
    game.start_bargain(who("alice"))
    game.help(ALICE, who("b1", **OLD))
    clock.move(hours=23, minutes=59, seconds=59)
    game.help(ALICE, who("b2", **OLD))
    clock.move(seconds=1)  # 24 hours after the start: closed
    assert reason_of(game.help, ALICE, who("b3", **OLD)) == "expired"
    state = game.bargain(ALICE)
    assert (state.status, state.price, state.helps_left) == ("expired", 3881, 3)
    assert engine.sweep() == [f"game:kettle:bargain:{ALICE[7:]}"]
    assert recorder.named("expired") == [("expired", "alice", {
        "bargain": ALICE, "price": "38.81", "helps_left": 3})]
    assert engine.sweep() == []  # handled once
    assert reason_of(game.help, ALICE, who("b3", **OLD)) == "expired"
    assert reason_of(game.share, ALICE, "alice") == "expired"


def test_sweep_leaves_a_finished_bargain_alone(engine: Engine, game: BargainGame,
                                               clock: Clock, recorder: Recorder) -> None:
    game.start_bargain(who("alice"))
    for helper in ("b1", "b2", "b3", "b4", "b5"):
        game.help(ALICE, who(helper, **OLD))
    clock.move(days=3)
    assert engine.sweep() == []
    assert game.bargain(ALICE).status == "done"
    assert not recorder.named("expired")


def test_daily_help_caps_reset_at_local_midnight(fixed_seed: None, recorder: Recorder) -> None:
    clock = Clock(datetime(2026, 11, 11, 23, 0, tzinfo=TZ))
    game = build(clock=clock, recorder=recorder).games["kettle"]
    assert isinstance(game, BargainGame)
    owners = [game.start_bargain(who(f"o{n}")).id for n in range(5)]
    clock.now = datetime(2026, 11, 11, 23, 59, 59, tzinfo=TZ)
    for bargain in owners[:3]:
        game.help(bargain, who("h", **OLD))
    assert reason_of(game.help, owners[3], who("h", **OLD)) == "limit_reached"
    assert game.bargain(owners[3]).helps_left == 5  # a refused help changes nothing
    clock.now = datetime(2026, 11, 12, 0, 0, 0, tzinfo=TZ)  # a new local day
    assert game.help(owners[3], who("h", **OLD)).helps_left == 4
    assert game.store.read(["game:kettle:helps:h:2026-11-11", "game:kettle:helps:h:2026-11-12"]
                           ) == {"game:kettle:helps:h:2026-11-11": 3,
                                 "game:kettle:helps:h:2026-11-12": 1}
    assert len(recorder.named("helped")) == 4


def test_without_a_daily_cap_helpers_help_any_number(fixed_seed: None, clock: Clock) -> None:
    game = build(GAME.replace("helps_per_day = 3\n", ""), clock=clock).games["kettle"]
    assert isinstance(game, BargainGame)
    for n in range(6):
        game.help(game.start_bargain(who(f"o{n}")).id, who("h", **OLD))


def test_the_game_schedule_and_the_reveal_stop_bargains(fixed_seed: None,
                                                        clock: Clock) -> None:
    timed = GAME + 'start = "2026-11-11T12:00:00"\nend = "2026-11-11T20:00:00"\n'
    game = build(timed, clock=clock).games["kettle"]
    assert isinstance(game, BargainGame)
    assert reason_of(game.start_bargain, who("alice")) == "not_started"
    clock.now = datetime(2026, 11, 11, 12, tzinfo=TZ)
    bargain = game.start_bargain(who("alice")).id
    clock.now = datetime(2026, 11, 11, 20, 0, 1, tzinfo=TZ)
    assert reason_of(game.help, bargain, who("b1")) == "ended"
    clock.now = datetime(2026, 11, 11, 19, tzinfo=TZ)
    game.reveal()
    assert reason_of(game.help, bargain, who("b1")) == "revealed"
    assert reason_of(game.start_bargain, who("bob")) == "revealed"


def test_a_help_that_read_the_game_running_is_refused_if_the_reveal_lands_first(
        fixed_seed: None, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    game = build(GAME, clock=clock).games["kettle"]
    assert isinstance(game, BargainGame)
    bargain = game.start_bargain(who("alice")).id
    game.help(bargain, who("b1"))
    running = game.start()
    game.reveal()
    # the help and the start read the game row before the reveal was applied …
    monkeypatch.setattr(game, "start", lambda **_: running)
    assert reason_of(game.help, bargain, who("b2")) == "revealed"
    assert reason_of(game.start_bargain, who("bob")) == "revealed"
    # … and nothing of theirs was written
    assert [entry["helper"] for entry in game.draw_log().entries] == ["b1"]


def test_conditions_decide_who_may_start(fixed_seed: None, clock: Clock) -> None:
    gold = GAME + 'conditions = [ { rule = "member_tier", in = ["gold"] } ]\n'
    game = build(gold, clock=clock).games["kettle"]
    assert isinstance(game, BargainGame)
    assert reason_of(game.start_bargain, who("alice", tier="silver")) == \
        "not_eligible:member_tier"
    bargain = game.start_bargain(who("bob", tier="gold")).id
    assert game.help(bargain, who("carol", tier="silver")).cuts == 1  # anyone may help


# -- share tokens -----------------------------------------------------------------------------

TWO_GAMES = GAME + '''
[[game]]
id = "blender"
kind = "bargain"
sku = "BLENDER"
price = "300.00"
floor = "0"
helps = 10
'''


def test_a_share_token_invites_friends_to_help(game: BargainGame) -> None:
    game.start_bargain(who("alice"))
    token = game.share(ALICE, "alice")
    assert game.help(token, who("b1", **OLD)).cut == PLAN[0]
    passed_on = game.share(ALICE, "b1")  # a helper passes it on
    assert game.help(passed_on, who("b2", **OLD)).cut == PLAN[1]
    assert reason_of(game.help, token, who("alice")) == "self_help"


def test_bad_tokens_are_refused_with_their_reasons(fixed_seed: None, clock: Clock) -> None:
    engine = build(TWO_GAMES, clock=clock)
    game, other = engine.games["kettle"], engine.games["blender"]
    assert isinstance(game, BargainGame) and isinstance(other, BargainGame)
    game.start_bargain(who("alice"))
    blender = other.start_bargain(who("alice")).id
    token = game.share(ALICE, "alice")
    payload, _, signature = token.partition(".")
    tampered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    assert reason_of(game.help, tampered, who("b1")) == "token_invalid"
    # Neither an id nor a token: said so, not blamed on a token it never was.
    assert reason_of(game.help, "not-a-token", who("b1")) == "not_found"
    assert reason_of(game.help, "kettle.0123", who("b1")) == "not_found"
    assert reason_of(game.help, other.share(blender, "alice"), who("b1")) == \
        "token_other_game"
    clock.move(hours=24)
    assert reason_of(game.help, token, who("b1")) == "token_expired"


def test_tokens_need_a_secret(fixed_seed: None, clock: Clock) -> None:
    game = build(clock=clock, secret=None).games["kettle"]
    assert isinstance(game, BargainGame)
    game.start_bargain(who("alice"))
    assert reason_of(game.share, ALICE, "alice") == "secret_required"
    foreign = sign_token(b"k" * 32, game="kettle", subject=ALICE, inviter="alice",
                         expires=2**40)
    assert reason_of(game.help, foreign, who("b1")) == "secret_required"
    assert reason_of(game.help, "a.b", who("b1")) == "not_found"
    assert game.help(ALICE, who("b1")).cut == PLAN[0]  # ids work without one


def test_a_finished_bargain_is_not_shared(game: BargainGame) -> None:
    game.start_bargain(who("alice"))
    game.help(ALICE, who("n1", **NEW))
    game.help(ALICE, who("n2", **NEW))
    game.help(ALICE, who("n3", **NEW))
    assert reason_of(game.share, ALICE, "alice") == "done"


# -- pricing ----------------------------------------------------------------------------------


def test_the_owner_pays_list_price_minus_the_cut(engine: Engine, game: BargainGame) -> None:
    game.start_bargain(who("alice"))
    assert engine.evaluate(bargain_cart(ALICE)).total == Decimal("100.00")  # no cut: no deal
    game.help(ALICE, who("b1", **OLD))
    game.help(ALICE, who("b2", **OLD))
    # 100.00 − 39.66 − 21.53 = 38.81
    result = engine.evaluate(bargain_cart(ALICE))
    assert result.total == Decimal("38.81")
    assert [(a.promotion, a.amount) for a in result.applied] == [("kettle", Decimal("61.19"))]
    # one unit per bargain: the second is at the shop's price
    assert engine.evaluate(bargain_cart(ALICE, quantity=2)).total == Decimal("138.81")
    # the game sets the price, whatever the line says: 120.00 in the cart → 38.81
    assert engine.evaluate(bargain_cart(ALICE, price="120.00")).total == Decimal("38.81")
    for helper in ("b3", "b4", "b5"):
        game.help(ALICE, who(helper, **OLD))
    assert engine.evaluate(bargain_cart(ALICE)).total == Decimal("1.00")  # the floor


def test_only_the_owner_gets_the_bargain_price(engine: Engine, game: BargainGame) -> None:
    game.start_bargain(who("alice"))
    game.help(ALICE, who("b1", **OLD))
    result = engine.evaluate(bargain_cart(ALICE, customer="b1"))
    assert result.total == Decimal("100.00")
    assert [(n.promotion, n.reason) for n in result.not_applied] == [
        ("kettle", "not_eligible:bargain_owner")]
    unknown = engine.evaluate(bargain_cart("kettle.0000000000000000"))
    assert [(n.promotion, n.reason) for n in unknown.not_applied] == [
        ("kettle", "not_eligible:bargain")]
    garbage = engine.evaluate(bargain_cart("kettle.x:owner:alice"))
    assert garbage.total == Decimal("100.00")
    other_sku = bargain_cart(ALICE)
    other_sku["lines"][0]["sku"] = "MUG"
    assert engine.evaluate(other_sku).total == Decimal("100.00")


def test_the_price_holds_until_the_purchase_window_ends(engine: Engine, game: BargainGame,
                                                        clock: Clock) -> None:
    game.start_bargain(who("alice"))
    game.help(ALICE, who("b1", **OLD))
    # the window closes 24 h after the start; the owner may buy for another 24 h
    late = START + timedelta(hours=47, minutes=59, seconds=59)
    assert engine.evaluate(bargain_cart(ALICE, now=late)).total == Decimal("60.34")
    over = engine.evaluate(bargain_cart(ALICE, now=START + timedelta(hours=48)))
    assert over.total == Decimal("100.00")
    assert [(n.promotion, n.reason) for n in over.not_applied] == [("kettle", "ended")]


def test_a_bargain_is_bought_once(engine: Engine, game: BargainGame) -> None:
    game.start_bargain(who("alice"))
    game.help(ALICE, who("b1", **OLD))
    first = engine.checkout(bargain_cart(ALICE), "SO-1")
    assert (first.status, first.result.total) == ("reserved", Decimal("60.34"))
    bought = f"game:kettle:bargain:{ALICE[7:]}:bought"
    assert any(d.key == bought for d in first.holds)
    assert game.bargain(ALICE).bought
    assert reason_of(game.help, ALICE, who("b2", **OLD)) == "done"
    second = engine.checkout(bargain_cart(ALICE), "SO-2")
    assert second.result.total == Decimal("100.00")
    assert [(n.promotion, n.reason) for n in second.result.not_applied] == [
        ("kettle", "limit_reached")]
    engine.release("SO-1")  # not paid: the bargain may be bought again
    assert not game.bargain(ALICE).bought
    third = engine.checkout(bargain_cart(ALICE), "SO-3")
    assert third.result.total == Decimal("60.34")
    engine.commit("SO-3")
    assert engine.store.read([bought]) == {bought: 1}
    assert engine.evaluate(bargain_cart(ALICE)).total == Decimal("100.00")


# -- the audit --------------------------------------------------------------------------------


def test_the_revealed_log_recomputes_every_cut(engine: Engine, game: BargainGame) -> None:
    commitment = game.commitment()
    game.start_bargain(who("alice"))
    bob = game.start_bargain(who("bob")).id
    game.help(ALICE, who("n1", **NEW))
    game.help(bob, who("b1", **OLD))
    game.help(ALICE, who("b1", **OLD))
    assert game.draw_log().seed is None
    assert not verify_log(game.draw_log(), engine.registry).ok  # not revealed yet
    assert game.reveal() == SEED
    log = game.draw_log()
    assert (log.seed, log.commitment, log.kind) == (SEED, commitment, "bargain")
    assert [(e["bargain"], e["helper"], e["index"], e["cuts"], e["cut"]) for e in log.entries
            ] == [(ALICE, "n1", 0, 2, 6119), (bob, "b1", 0, 1, cut_plan(SEED, bob, 9900, 5)[0]),
                  (ALICE, "b1", 2, 1, 1790)]
    report = verify_log(log, engine.registry)
    assert report.ok and report.draws == 3
    again = type(log).loads(log.dumps())
    assert verify_log(again, engine.registry).ok


@pytest.mark.parametrize(("tamper", "found"), [
    (lambda es: [{**es[0], "cut": es[0]["cut"] + 1}, *es[1:]], "the plan gives 6119"),
    (lambda es: [es[0], {**es[1], "index": 3}], "takes planned cut 4, but 2 were taken"),
    (lambda es: [es[1], es[0]], "takes planned cut 3, but 0 were taken"),
    (lambda es: [es[0], {**es[1], "new": False, "cuts": 2, "cut": 1790 + 1146}],
     "makes 2 planned cut(s), 1 were due"),
    (lambda es: [es[0], {**es[1], "helper": "n1"}], "may not help it again"),
    (lambda es: [es[0], {**es[1], "helper": "alice"}], "may not help it again"),
    (lambda es: [*es, {**es[1], "index": 3, "helper": "x", "cut": 2000,
                       "cut_total": 9908}], "more than price − floor"),
    (lambda es: [{**es[0], "cut_total": 1}], "logged cut total 1"),
    (lambda es: [{**es[0], "bargain": "other.169f6d3bc2ec8d27"}], "not a bargain id"),
    (lambda es: [{k: v for k, v in es[0].items() if k != "cuts"}], "malformed entry"),
])
def test_a_tampered_log_fails_verification(engine: Engine, game: BargainGame,
                                           tamper: Any, found: str) -> None:
    game.start_bargain(who("alice"))
    game.help(ALICE, who("n1", **NEW))
    game.help(ALICE, who("b1", **OLD))
    game.reveal()
    log = game.draw_log()
    bad = attrs.evolve(log, entries=tuple(tamper(list(log.entries))))
    report = verify_log(bad, engine.registry)
    assert not report.ok
    assert any(found in problem for problem in report.problems), report.problems
    assert all(problem.startswith("help ") for problem in report.problems)


def test_a_wrong_seed_fails_verification(engine: Engine, game: BargainGame) -> None:
    game.start_bargain(who("alice"))
    game.help(ALICE, who("b1", **OLD))
    game.reveal()
    log = game.draw_log()
    problems = Bargain().verify({log.config_hash: parse_game_table(
        log.config, engine.registry, currency="CNY", timezone="Asia/Shanghai")},
        "22" * 32, log.entries)
    assert problems and "the plan gives" in problems[0]


# -- config changes ---------------------------------------------------------------------------


def spec_of(text: str) -> Any:
    return campaigns_from_toml(text).games[0]


@pytest.mark.parametrize(("before", "after", "paths", "worse"), [
    ('floor = "1.00"', 'floor = "2.00"', {"floor"}, True),
    ('floor = "1.00"', 'floor = "0.50"', {"floor"}, False),
    ('price = "100.00"', 'price = "120.00"', {"price"}, True),
    ('price = "100.00"', 'price = "90.00"', {"price"}, False),
    ("helps = 5", "helps = 6", {"helps"}, True),
    ("helps = 5", "helps = 4", {"helps"}, False),
    # the purchase time defaults to the window, so it moves with it
    ("helps = 5", "helps = 5\nwindow_hours = 12", {"window_hours", "buy_within_hours"}, True),
    ("helps = 5", "helps = 5\nwindow_hours = 48", {"window_hours", "buy_within_hours"}, False),
    ("helps = 5", "helps = 5\nbuy_within_hours = 1", {"buy_within_hours"}, True),
    ("helps = 5", "helps = 5\nbuy_within_hours = 72", {"buy_within_hours"}, False),
    ("helps_per_day = 3", "helps_per_day = 2", {"helps_per_day"}, True),
    ("helps_per_day = 3", "helps_per_day = 4", {"helps_per_day"}, False),
    ("helps_per_day = 3\n", "", {"helps_per_day"}, False),  # no cap at all
    ("new_helper_bonus = 2", "new_helper_bonus = 1", {"new_helper_bonus"}, True),
    ("new_helper_bonus = 2", "new_helper_bonus = 3", {"new_helper_bonus"}, False),
    ("helps = 5", "helps = 5\nmax_bargains_per_customer = 2", {"max_bargains_per_customer"},
     False),
    ('sku = "KETTLE"', 'sku = "KETTLE-2"', {"sku"}, True),
])
def test_changes_are_judged_for_customers(before: str, after: str, paths: set[str],
                                          worse: bool) -> None:
    old, new = spec_of(GAME), spec_of(GAME.replace(before, after))
    changes = Bargain().changes(old, new)
    assert {change.path for change in changes} == paths
    assert all(change.worse is worse for change in changes)
    assert Bargain().changes(old, old) == []
    back = Bargain().changes(new, old)
    if paths != {"sku"}:  # another product is worse either way
        assert all(change.worse is not worse for change in back)


def test_a_started_game_refuses_worse_and_adopts_better(engine: Engine, game: BargainGame,
                                                        recorder: Recorder) -> None:
    game.start_bargain(who("alice"))
    game.help(ALICE, who("b1", **OLD))
    worse = engine.with_campaigns(campaigns_from_toml(
        GAME.replace('floor = "1.00"', 'floor = "2.00"'), plugins=[recorder]))
    with pytest.raises(GameError) as caught:
        worse.games["kettle"]
    assert caught.value.reason == "config_worse" and "floor: 100 → 200" in str(caught.value)
    better = engine.with_campaigns(campaigns_from_toml(
        GAME.replace('floor = "1.00"', 'floor = "0.50"'), plugins=[recorder]))
    adopted = better.games["kettle"]
    assert isinstance(adopted, BargainGame)
    assert recorder.named("config_changed")
    # alice's bargain keeps the terms it started with; new bargains get the new floor
    for helper in ("b2", "b3", "b4", "b5"):
        adopted.help(ALICE, who(helper, **OLD))
    assert adopted.bargain(ALICE).price == 100
    bob = adopted.start_bargain(who("bob"))
    assert (bob.floor, bob.helps_left) == (50, 5)
    for helper in ("c1", "c2", "c3", "c4", "c5"):
        adopted.help(bob.id, who(helper, **OLD))
    assert adopted.bargain(bob.id).price == 50
    adopted.reveal()
    assert verify_log(adopted.draw_log(), better.registry).ok  # two configs, one log


# -- disclosure, CLI actions ------------------------------------------------------------------


def test_the_disclosure_is_generated_from_the_config(fixed_seed: None, clock: Clock) -> None:
    text = GAME + 'organiser = "Kettle Co., 客服 400-000-0000"\n' \
        'start = "2026-11-11T00:00:00"\nend = "2026-11-11T23:59:59"\n'
    game = build(text, clock=clock).games["kettle"]
    en = game.disclosure("en")
    for words in ("KETTLE", "list price ¥100.00", "floor price ¥1.00", "Exactly 5 helps",
                  "at most 5", "cuts like 2 helps", "for 24 hours", "within 48 hours",
                  "except the bargain's starter", "once per bargain",
                  "3 helps a calendar day", "one bargain", "Kettle Co.", "commitment",
                  "recompute every cut", "11 Nov 2026"):
        assert words in en, words
    zh = game.disclosure("zh-CN")
    for words in ("KETTLE", "原价¥100.00", "底价¥1.00", "恰好5次助力", "最多需5位好友",
                  "新用户", "相当于2刀", "24小时", "48小时", "除发起人外", "每个砍价限助力一次",
                  "每人每自然日最多助力3次", "限发起1次", "客服 400-000-0000", "SHA-256",
                  "重算每一刀", "2026年11月11日"):
        assert words in zh, words
    plain = build(GAME.replace("helps_per_day = 3\nnew_helper_bonus = 2\n", ""),
                  clock=clock).games["kettle"]
    assert "new customer" not in plain.disclosure("en")
    assert "a calendar day" not in plain.disclosure("en")
    assert "每自然日" not in plain.disclosure("zh-CN")


def test_the_cli_actions(engine: Engine, game: BargainGame) -> None:
    assert set(Bargain.actions) == {"start", "help", "share", "state"}
    started = game.act("start", who("alice"), {})
    assert (started["id"], started["price"], started["helps_left"]) == (ALICE, "100.00", 5)
    helped = game.act("help", who("b1", **OLD), {"bargain": ALICE})
    assert (helped["cut"], helped["price"], helped["helps_left"]) == ("39.66", "60.34", 4)
    shared = game.act("share", who("alice"), {"bargain": ALICE})
    assert game.act("help", who("b2", **OLD), {"token": shared["token"]})["cut"] == "21.53"
    state = game.act("state", who(None), {"bargain": ALICE})
    assert (state["price"], state["helpers"], state["status"]) == (
        "38.81", ["b1", "b2"], "open")
    for action, args in [("help", {}), ("help", {"bargain": ALICE, "token": "x"}),
                         ("state", {}), ("share", {}), ("start", {"bargain": ALICE})]:
        assert reason_of(game.act, action, who("c1"), args) == "bad_argument"
    assert reason_of(game.act, "share", who(None), {"bargain": ALICE}) == "customer_required"
    assert reason_of(game.act, "draw", who("c1"), {}) == "unknown_action"


# -- every backend ----------------------------------------------------------------------------


@EVERY_BACKEND
def test_a_bargain_on_every_backend(store_url: str, fixed_seed: None,
                                    recorder: Recorder) -> None:
    store = open_store(store_url)
    try:
        clock = Clock(START)
        engine = build(clock=clock, recorder=recorder, store=store)
        game = engine.games["kettle"]
        assert isinstance(game, BargainGame)
        game.start_bargain(who("alice"))
        assert reason_of(game.start_bargain, who("alice")) == "limit_reached"
        game.help(ALICE, who("n1", **NEW))
        game.help(game.share(ALICE, "alice"), who("b1", **OLD))
        assert reason_of(game.help, ALICE, who("b1", **OLD)) == "already_helped"
        # 100.00 − 39.66 − 21.53 − 17.90 = 20.91
        assert engine.evaluate(bargain_cart(ALICE)).total == Decimal("20.91")
        game.help(ALICE, who("n2", **NEW))
        state = game.bargain(ALICE)
        assert (state.status, state.price, state.helps_left) == ("done", 100, 0)
        order = engine.checkout(bargain_cart(ALICE), "SO-1")
        assert order.result.total == Decimal("1.00")
        engine.commit("SO-1")
        assert engine.checkout(bargain_cart(ALICE), "SO-2").result.total == Decimal("100.00")
        game.reveal()
        assert verify_log(game.draw_log(), engine.registry).ok
        assert [e.event for e in recorder.games if e.event != "config_changed"] == [
            "started", "started", "helped", "helped", "helped", "floor_reached", "revealed"]
    finally:
        store.close()


def test_the_docs_example_loads_and_gives_the_plan_it_shows(fixed_seed: None,
                                                            clock: Clock) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "games" / "bargain.md").read_text()
    toml = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    engine = build(toml, clock=clock)
    game = engine.games["kettle"]
    assert isinstance(game, BargainGame)
    assert game.start_bargain(who("alice")).id == ALICE
    assert "39.66, 21.53, 17.90, 11.46, 8.45 (= 99.00)" in " ".join(doc.split())
    for helper in ("b1", "b2"):
        game.help(ALICE, who(helper, **OLD))
    assert engine.evaluate(bargain_cart(ALICE)).total == Decimal("38.81")
    assert engine.evaluate(bargain_cart(ALICE, quantity=2)).total == Decimal("138.81")
    assert "**38.81**" in doc and "138.81" in doc


def test_the_cut_counter_never_passes_the_floor(game: BargainGame) -> None:
    game.start_bargain(who("alice"))
    key = f"game:kettle:bargain:{ALICE[7:]}:cut"
    # something else moved the counter: the help that would pass the floor is refused
    assert game.store.apply(Change(order_id="x", revision=0, status="x", body="{}",
                                   deltas=(Delta(key, 9000),))).applied
    assert reason_of(game.help, ALICE, who("b1")) == "done"
    assert game.bargain(ALICE).helps_left == 5 and game.store.read([key]) == {key: 9000}


# -- command line -----------------------------------------------------------------------------


def test_the_cli_names_the_secret_variable_and_calls_an_unknown_action_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from promokit.cli import main

    campaigns = tmp_path / "kettle.toml"
    campaigns.write_text(GAME, encoding="utf-8")
    store = ["--store", f"sqlite:///{tmp_path / 'store.db'}"]
    monkeypatch.delenv("PROMOKIT_SECRET", raising=False)
    assert main(["game", "play", "kettle", "start", str(campaigns), *store,
                 "--customer", "alice"]) == 0
    bargain = json.loads(capsys.readouterr().out)["id"]

    assert main(["game", "play", "kettle", "share", str(campaigns), *store,
                 "--customer", "alice", "--set", f"bargain={bargain}"]) == 1
    err = capsys.readouterr().err
    assert "set $PROMOKIT_SECRET (at least 16 bytes" in err
    assert "Engine(secret" not in err and "Traceback" not in err

    assert main(["game", "play", "kettle", "dance", str(campaigns), *store]) == 2
    err = capsys.readouterr().err
    assert "dance" in err and "Traceback" not in err
    assert main(["game", "play", "kettle", "start", str(campaigns), *store,
                 "--customer", "alice", "--set", "colour=red"]) == 2
    assert "colour" in capsys.readouterr().err

    monkeypatch.setenv("PROMOKIT_SECRET", "s" * 16)
    assert main(["game", "play", "kettle", "share", str(campaigns), *store,
                 "--customer", "alice", "--set", f"bargain={bargain}"]) == 0
    assert is_token_shaped(json.loads(capsys.readouterr().out)["token"])
