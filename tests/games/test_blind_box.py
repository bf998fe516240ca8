"""The ``blind_box`` game (盲盒): config, draws, pools, pity, caps, ages, audit, events,
disclosure, config changes and the CLI actions."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from conftest import EVERY_BACKEND
from hypothesis import given, settings
from hypothesis import strategies as st

from promokit import Engine, open_store
from promokit.cart import Customer
from promokit.cli import main
from promokit.errors import ConfigError, GameError
from promokit.gameplay import verify_log
from promokit.games import DrawLog, commitment
from promokit.games.audit import entry_hash
from promokit.plugins.games.blind_box import BlindBox, BlindBoxGame
from promokit.registry import Registry
from promokit.testing import Clock, Recorder, campaigns_from_toml, engine_from_toml

SHANGHAI = ZoneInfo("Asia/Shanghai")
SEED = "5eed" * 16
TIERS = ('tiers = [{id = "common", name = "普通款"}, {id = "rare", name = "稀有款"}, '
         '{id = "secret", name = "隱藏款"}]')

FIXED = f'''
currency = "CNY"
timezone = "Asia/Shanghai"
jurisdiction = "cn"

[[game]]
id = "molly"
kind = "blind_box"
name = "Molly 星座盲盒"
organiser = "泡泡商店，客服 400-800-1234"
series = "星座系列"
price = "59.00"
pool = "fixed"
{TIERS}
items = [
  {{id = "aries", name = "白羊座", tier = "common", value = "59.00", weight = 60}},
  {{id = "leo", name = "獅子座", tier = "common", value = "59.00", weight = 30}},
  {{id = "gold", name = "金色獅子", tier = "rare", value = "199.00", weight = 9}},
  {{id = "moon", name = "月亮女神", tier = "secret", value = "899.00", weight = 1, hidden = true}},
]
'''

FINITE = f'''
currency = "CNY"
timezone = "Asia/Shanghai"
jurisdiction = "cn"

[[game]]
id = "ichiban"
kind = "blind_box"
name = "一番賞"
organiser = "泡泡商店，客服 400-800-1234"
series = "夏日祭"
price = "30.00"
pool = "finite"
{TIERS}
items = [
  {{id = "towel", name = "毛巾", tier = "common", value = "25.00", quantity = 5}},
  {{id = "cup", name = "杯子", tier = "rare", value = "80.00", quantity = 3}},
  {{id = "figure", name = "景品", tier = "secret", value = "600.00", quantity = 2, hidden = true}},
]
last_prize = {{name = "最後賞大公仔", value = "1200.00"}}
'''


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 11, 10, tzinfo=SHANGHAI))


def build(text: str, clock: Clock | None = None, **options: Any) -> Engine:
    return engine_from_toml(text, clock=clock or Clock(datetime(2026, 11, 11, 10,
                                                                tzinfo=SHANGHAI)), **options)


def box(engine: Engine, game_id: str) -> BlindBoxGame:
    game = engine.games[game_id]
    assert isinstance(game, BlindBoxGame)
    return game


def with_keys(text: str, **keys: str) -> str:
    """The text with more keys in its (single) game table."""
    return text + "".join(f"{key} = {value}\n" for key, value in keys.items())


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        campaigns_from_toml(text)
    return [str(problem) for problem in caught.value.problems]


def who(customer: str, birthday: date | None = None) -> Customer:
    return Customer(id=customer, birthday=birthday)


# -- config -----------------------------------------------------------------------------------


def test_a_valid_config_parses_into_the_kinds_config() -> None:
    spec = campaigns_from_toml(with_keys(FIXED, pity='{tier = "rare", within = 10}',
                                         draws_per_day="5", spend_per_day='"300.00"',
                                         min_age="12")).games[0]
    config = spec.config
    assert (config.series, config.price, config.pool) == ("星座系列", 5900, "fixed")
    assert [t.id for t in config.tiers] == ["common", "rare", "secret"]
    assert [(i.id, i.value, i.weight, i.hidden) for i in config.items] == [
        ("aries", 5900, 60, False), ("leo", 5900, 30, False), ("gold", 19900, 9, False),
        ("moon", 89900, 1, True)]
    assert (config.pity.tier, config.pity.within) == ("rare", 10)
    assert (config.draws_per_day, config.spend_per_day, config.min_age) == (5, 30000, 12)
    assert spec.kind_impl.top_prize(config) == 89900


@pytest.mark.parametrize(("old", "new", "problem"), [
    ('value = "899.00", ', "",
     "game[0].items[3].value: is required: the item's declared market value"),
    ('tier = "secret"', 'tier = "epic"',
     "game[0].items[3].tier: unknown tier 'epic'; tiers: common, rare, secret"),
    ("weight = 1,", "quantity = 1,",
     'game[0].items[3].quantity: only a finite pool (pool = "finite") has quantities'),
    ("weight = 1,", "", "game[0].items[3].weight: is required"),
    ("weight = 1,", "weight = 0,", "game[0].items[3].weight: must be at least 1, got 0"),
    ('id = "moon"', 'id = "gold"', "game[0].items[3].id: 'gold' is listed twice in items"),
    ('value = "899.00"', 'value = "0"', "game[0].items[3].value: must be > 0"),
    ('value = "899.00"', 'value = 899.5', "game[0].items[3].value:"),
    ("hidden = true", 'hidden = true, colour = "gold"',
     "game[0].items[3].colour: unknown key"),
    ('pool = "fixed"', 'pool = "endless"',
     "game[0].pool: must be one of fixed, finite; got 'endless'"),
    ('series = "星座系列"', "", "game[0].series: is required"),
    ('price = "59.00"', 'price = "0"', "game[0].price: must be > 0"),
    ('{id = "secret", name = "隱藏款"}', '{id = "secret", name = "隱藏款"}, {id = "ultra"}',
     "game[0].tiers[3].name: is required"),
    ('{id = "rare", name = "稀有款"}',
     '{id = "rare", name = "稀有款"}, {id = "epic", name = "史詩"}',
     "game[0].tiers[2]: tier 'epic' has no items"),
    ('{id = "rare", name = "稀有款"}', '{id = "common", name = "稀有款"}',
     "game[0].tiers[1].id: 'common' is listed twice in tiers"),
])
def test_config_errors_name_their_path(old: str, new: str, problem: str) -> None:
    assert old in FIXED
    found = problems_of(FIXED.replace(old, new, 1))
    assert any(p.startswith(problem) for p in found), found


@pytest.mark.parametrize(("keys", "problem"), [
    ({"pity": '{tier = "epic", within = 5}'},
     "game[0].pity.tier: unknown tier 'epic'; tiers: common, rare, secret"),
    ({"pity": '{tier = "rare", within = 0}'}, "game[0].pity.within: must be at least 1, got 0"),
    ({"pity": '{tier = "rare"}'}, "game[0].pity.within: is required"),
    ({"last_prize": '{name = "大娃", value = "999.00"}'},
     'game[0].last_prize: only a finite pool (pool = "finite") has a last box'),
    ({"draws_per_day": "0"}, "game[0].draws_per_day: must be at least 1, got 0"),
    ({"spend_per_day": '"58.99"'}, "game[0].spend_per_day: is below the price of one box"),
    ({"min_age": "6"}, "game[0].min_age: jurisdiction cn: blind boxes may not be sold to "
                       "children under 8"),
    ({"colour": '"red"'}, "game[0].colour: unknown key"),
])
def test_more_config_errors(keys: dict[str, str], problem: str) -> None:
    found = problems_of(with_keys(FIXED, **keys))
    assert any(p.startswith(problem) for p in found), found


def test_finite_pool_config_errors() -> None:
    found = problems_of(FINITE.replace("quantity = 2,", "weight = 2,")
                        .replace('value = "1200.00"', 'value = "x"'))
    assert any(p.startswith('game[0].items[2].weight: a finite pool draws by the quantities '
                            'left; weight is for pool = "fixed"') for p in found), found
    assert any(p.startswith("game[0].items[2].quantity: is required") for p in found), found
    assert any(p.startswith("game[0].last_prize.value:") for p in found), found


def test_the_cn_top_prize_cap_is_the_highest_item_value_or_the_last_prize() -> None:
    at_cap = FIXED.replace('value = "899.00"', 'value = "50000.00"')
    assert campaigns_from_toml(at_cap).games[0].kind_impl.top_prize(
        campaigns_from_toml(at_cap).games[0].config) == 5_000_000
    over = problems_of(FIXED.replace('value = "899.00"', 'value = "50000.01"'))
    assert any(p.startswith("game[0]: top prize ¥50,000.01 is above the ¥50,000.00 allowed")
               for p in over), over
    campaigns_from_toml(FINITE.replace('value = "1200.00"', 'value = "50000.00"'))
    over = problems_of(FINITE.replace('value = "1200.00"', 'value = "50000.01"'))
    assert any("top prize ¥50,000.01 is above" in p for p in over), over
    # outside cn there is no cap
    campaigns_from_toml(FIXED.replace('value = "899.00"', 'value = "50000.01"')
                        .replace('jurisdiction = "cn"', ""))


def test_cn_needs_an_organiser() -> None:
    found = problems_of(FIXED.replace('organiser = "泡泡商店，客服 400-800-1234"', ""))
    assert any(p.startswith("game[0].organiser: jurisdiction cn") for p in found), found


# -- opening, the state machine ---------------------------------------------------------------


def test_draws_before_open_are_refused_and_open_is_idempotent() -> None:
    game = box(build(FIXED), "molly")
    assert game.state("c1")["status"] == "not_open"
    with pytest.raises(GameError) as caught:
        game.draw(who("c1"))
    assert caught.value.reason == "not_open" and caught.value.game == "molly"
    published = game.open()
    assert len(published) == 64 and game.open() == published == game.commitment()
    assert game.state("c1")["status"] == "running"


def test_open_with_a_seed_is_for_tests_and_replays() -> None:
    game = box(build(FIXED), "molly")
    assert game.open(seed=SEED) == commitment(SEED) == game.open(seed=SEED) == game.open()
    with pytest.raises(GameError) as caught:
        game.open(seed="ab" * 32)
    assert caught.value.reason == "already_open"
    with pytest.raises(GameError) as caught:
        box(build(FIXED), "molly").open(seed="not hex")
    assert caught.value.reason == "bad_seed"


def test_the_schedule_the_customer_and_the_reveal_gate_draws(clock: Clock) -> None:
    text = with_keys(FIXED, start='"2026-11-11T00:00:00"', end='"2026-11-11T23:59:59"')
    game = box(build(text, clock), "molly")
    game.open(seed=SEED)
    for when, reason in ((datetime(2026, 11, 10, 23, 59, 59, tzinfo=SHANGHAI), "not_started"),
                         (datetime(2026, 11, 12, 0, 0, 0, tzinfo=SHANGHAI), "ended")):
        clock.now = when
        with pytest.raises(GameError) as caught:
            game.draw(who("c1"))
        assert caught.value.reason == reason
    clock.now = datetime(2026, 11, 11, 23, 59, 59, tzinfo=SHANGHAI)
    with pytest.raises(GameError) as caught:
        game.draw(Customer())
    assert caught.value.reason == "customer_required"
    with pytest.raises(GameError) as caught:
        game.draw(who("c1"), client_seed="x" * 129)
    assert caught.value.reason == "bad_argument"
    assert game.draw(who("c1")).nonce == 1
    assert game.reveal() == SEED
    assert game.state("c1")["status"] == "revealed"
    with pytest.raises(GameError) as caught:
        game.draw(who("c1"))
    assert caught.value.reason == "revealed"


def test_a_draw_that_read_the_game_running_is_refused_if_the_reveal_lands_first(
        clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    game = box(build(FIXED, clock), "molly")
    game.open(seed=SEED)
    assert game.draw(who("c1")).nonce == 1
    running = game.started()
    game.reveal()
    # the draw read the game row before the reveal was applied …
    monkeypatch.setattr(game, "started", lambda: running)
    with pytest.raises(GameError) as caught:
        game.draw(who("c1"))
    # … and the store refused its write: the reveal closed the live counter
    assert caught.value.reason == "revealed"
    assert len(game.draw_log().entries) == 1


def test_conditions_apply_to_draws() -> None:
    text = with_keys(FIXED, conditions='[{rule = "member_tier", in = ["gold"]}]')
    game = box(build(text), "molly")
    game.open(seed=SEED)
    with pytest.raises(GameError) as caught:
        game.draw(Customer(id="c1", tier="silver"))
    assert caught.value.reason.startswith("not_eligible:")
    assert game.draw(Customer(id="c2", tier="gold")).nonce == 1


# -- draws ------------------------------------------------------------------------------------


def test_a_draw_is_the_digest_of_seed_client_seed_nonce_and_config() -> None:
    first = box(build(FIXED), "molly")
    first.open(seed=SEED)
    again = box(build(FIXED), "molly")
    again.open(seed=SEED)
    a = [first.draw(who("c1"), client_seed="lucky") for _ in range(20)]
    b = [again.draw(who("c1"), client_seed="lucky") for _ in range(20)]
    assert [d.item.id for d in a] == [d.item.id for d in b]
    assert [d.nonce for d in a] == list(range(1, 21))
    default = first.draw(who("c2"))  # no client seed: the hash of the log before it
    log = first.draw_log()
    assert log.entries[-1]["client_seed"] is None and default.nonce == 1
    assert default.client_seed == log.entries[-1]["prev"] == entry_hash(log.entries[-2])
    assert default.to_json()["price"] == "59.00"


def test_fixed_mode_frequencies_follow_the_weights() -> None:
    """χ² of 2,000 draws against weights 60/30/9/1, on a fixed seed: below 16.27, the
    0.1% critical value with 3 degrees of freedom."""
    game = box(build(FIXED), "molly")
    game.open(seed=SEED)
    seen = Counter(game.draw(who(f"c{n % 40}")).item.id for n in range(2000))
    expected = {"aries": 1200, "leo": 600, "gold": 180, "moon": 20}
    chi2 = sum((seen[k] - e) ** 2 / e for k, e in expected.items())
    assert chi2 < 16.27, (seen, chi2)
    assert sum(seen.values()) == 2000


def test_won_only_for_hidden_or_rarest_items() -> None:
    # the hidden moon is rare here, the gold one of the rarest tier
    text = (FIXED.replace('tier = "rare", value = "199.00"', 'tier = "secret", value = "199.00"')
            .replace('tier = "secret", value = "899.00", weight = 1',
                     'tier = "rare", value = "899.00", weight = 10'))
    recorder = Recorder()
    game = box(build(text, plugins=[recorder]), "molly")
    game.open(seed=SEED)
    draws = [game.draw(who(f"c{n % 7}")) for n in range(200)]
    assert {d.item.id for d in draws if d.won} == {"moon", "gold"}
    assert recorder.names().count("won") == sum(d.won for d in draws)
    assert recorder.names().count("drawn") == 200
    won = next(e for e in recorder.games if e.event == "won" and e.data["item"] == "moon")
    assert won.data["hidden"] is True and won.data["tier"] == "rare"
    assert won.kind == "blind_box" and won.game == "molly" and won.customer is not None


# -- the finite pool --------------------------------------------------------------------------


def test_drawing_the_whole_pool_gives_each_quantity_and_one_last_prize() -> None:
    recorder = Recorder()
    engine = build(FINITE, plugins=[recorder])
    game = box(engine, "ichiban")
    game.open(seed=SEED)
    draws = [game.draw(who(f"c{n % 4}")) for n in range(10)]
    assert Counter(d.item.id for d in draws) == {"towel": 5, "cup": 3, "figure": 2}
    assert [d.pool_draw for d in draws] == list(range(1, 11))
    assert [d.remaining for d in draws] == list(range(9, -1, -1))
    assert [d.last_prize is not None for d in draws] == [False] * 9 + [True]
    assert draws[-1].to_json()["last_prize"] == {"name": "最後賞大公仔", "value": "1200.00"}
    with pytest.raises(GameError) as caught:
        game.draw(who("c9"))
    assert caught.value.reason == "sold_out"
    assert game.state("c9")["status"] == "sold_out" and game.state("c9")["remaining"] == 0
    assert engine.store.read(["game:ichiban:pool:draws", "game:ichiban:pool:last_prize",
                              "game:ichiban:pool:drawn:figure"]) == {
        "game:ichiban:pool:draws": 10, "game:ichiban:pool:last_prize": 1,
        "game:ichiban:pool:drawn:figure": 2}
    names = recorder.names()
    assert names.count("last_prize") == 1 and names.count("sold_out") == 1
    prize = next(e for e in recorder.games if e.event == "last_prize")
    assert prize.customer == draws[-1].customer and prize.data["value"] == "1200.00"
    sold_out = next(e for e in recorder.games if e.event == "sold_out")
    assert sold_out.customer is None and sold_out.data == {"released": 10,
                                                           "last_customer": draws[-1].customer}
    assert names.count("won") == 2  # the two hidden figures (also the rarest tier)


def test_probabilities_come_from_the_counts_that_remain() -> None:
    engine = build(FINITE)
    game = box(engine, "ichiban")
    odds = game.odds()
    assert [(o.id, o.probability, o.quantity, o.remaining) for o in odds.items] == [
        ("towel", Fraction(1, 2), 5, 5), ("cup", Fraction(3, 10), 3, 3),
        ("figure", Fraction(1, 5), 2, 2)]
    assert odds.items[2].name is None  # the hidden item's name is not disclosed
    assert (odds.released, odds.remaining, odds.min_value, odds.max_value) == (10, 10, 2500,
                                                                               60000)
    # 3 towels and 1 figure drawn: 2 towels, 3 cups, 1 figure left of 6
    store = engine.store
    for key, value in (("draws", 4), ("drawn:towel", 3), ("drawn:figure", 1)):
        store.set(f"game:ichiban:pool:{key}", value)  # type: ignore[attr-defined]
    odds = game.odds()
    assert [o.probability for o in odds.items] == [Fraction(1, 3), Fraction(1, 2),
                                                   Fraction(1, 6)]
    assert [(t.id, p) for t, p in odds.tiers] == [("common", Fraction(1, 3)),
                                                  ("rare", Fraction(1, 2)),
                                                  ("secret", Fraction(1, 6))]
    data = odds.to_json()
    assert data["remaining"] == 6 and data["value_range"] == {"min": "25.00", "max": "600.00"}
    assert [i["percent"] for i in data["items"]] == ["33.33", "50.00", "16.67"]
    assert [i["probability"] for i in data["items"]] == ["1/3", "1/2", "1/6"]
    zh = game.disclosure("zh-CN")
    assert "目前剩余6盒" in zh and "概率33.33%（1/3）" in zh and "剩余2个" in zh


def test_real_draws_move_the_odds() -> None:
    game = box(build(FINITE), "ichiban")
    game.open(seed=SEED)
    drawn = Counter(game.draw(who("c1")).item.id for _ in range(4))
    odds = {o.id: o.probability for o in game.odds().items}
    assert odds == {item: Fraction(total - drawn[item], 6)
                    for item, total in (("towel", 5), ("cup", 3), ("figure", 2))}


def test_a_refused_pool_draw_is_redone_with_the_same_digest(monkeypatch:
                                                              pytest.MonkeyPatch) -> None:
    """Another app server draws between our read and our write: the compare-and-set on
    the pool's draw counter refuses ours, and the retry picks from the new counts."""
    engine = build(FINITE)
    game = box(engine, "ichiban")
    game.open(seed=SEED)
    other = box(build(FINITE, store=engine.store), "ichiban")
    real_read = engine.store.read
    raced: list[Any] = []

    def read(keys: Any) -> Any:
        values = real_read(keys)
        if not raced and "game:ichiban:pool:draws" in keys:
            raced.append(None)
            raced[0] = other.draw(who("rival"))  # lands after our snapshot
        return values

    monkeypatch.setattr(engine.store, "read", read)
    mine = game.draw(who("c1"))
    assert raced[0].pool_draw == 1 and mine.pool_draw == 2 and mine.nonce == 1
    game.reveal()
    assert verify_log(game.draw_log(), engine.registry).ok


# -- pity -------------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32).map(bytes.hex),
       within=st.integers(min_value=1, max_value=6),
       common=st.integers(min_value=50, max_value=1000),
       rare=st.integers(min_value=1, max_value=5),
       order=st.lists(st.integers(min_value=0, max_value=3), min_size=10, max_size=40))
def test_no_customer_goes_pity_within_draws_without_the_pity_tier(
        seed: str, within: int, common: int, rare: int, order: list[int]) -> None:
    text = (FIXED.replace("weight = 60", f"weight = {common}")
            .replace("weight = 9", f"weight = {rare}")
            + f'pity = {{tier = "rare", within = {within}}}\n')
    game = box(build(text), "molly")
    game.open(seed=seed)
    runs: Counter[str] = Counter()
    for n in order:
        draw = game.draw(who(f"c{n}"))
        due = runs[draw.customer] == within - 1
        assert (draw.reason == "pity") == due
        hit = draw.item.tier in ("rare", "secret")
        runs[draw.customer] = 0 if hit else runs[draw.customer] + 1
        assert runs[draw.customer] < within
        assert game.state(draw.customer)["pity"]["since"] == runs[draw.customer]


def test_pity_in_a_finite_pool_holds_while_such_items_remain() -> None:
    text = FINITE.replace('last_prize = {name = "最後賞大公仔", value = "1200.00"}',
                          'pity = {tier = "rare", within = 2}')
    engine = build(text)
    game = box(engine, "ichiban")
    game.open(seed=SEED)
    draws = [game.draw(who("solo")) for _ in range(10)]
    assert Counter(d.item.id for d in draws) == {"towel": 5, "cup": 3, "figure": 2}
    rare_left = 5
    since = 0
    for draw in draws:
        if since == 1:
            assert draw.reason == ("pity" if rare_left else "pity_unavailable")
        else:
            assert draw.reason == "draw"
        rare = draw.item.tier != "common"
        rare_left -= rare
        since = 0 if rare else since + 1
    # five towels, five rarer boxes, every second draw guaranteed: the towels come last
    assert any(d.reason == "pity_unavailable" for d in draws)
    game.reveal()
    assert verify_log(game.draw_log(), engine.registry).ok


# -- daily caps -------------------------------------------------------------------------------


def test_draws_per_day_resets_at_local_midnight(clock: Clock) -> None:
    game = box(build(with_keys(FIXED, draws_per_day="2"), clock), "molly")
    game.open(seed=SEED)
    clock.now = datetime(2026, 11, 11, 23, 59, 58, tzinfo=SHANGHAI)
    game.draw(who("c1"))
    clock.now = datetime(2026, 11, 11, 23, 59, 59, tzinfo=SHANGHAI)
    game.draw(who("c1"))
    assert game.state("c1")["draws_left_today"] == 0
    with pytest.raises(GameError) as caught:
        game.draw(who("c1"))
    assert caught.value.reason == "limit_reached:draws_per_day"
    assert game.draw(who("c2")).nonce == 1  # per customer
    clock.now = datetime(2026, 11, 12, 0, 0, 0, tzinfo=SHANGHAI)
    assert game.state("c1")["draws_left_today"] == 2
    assert game.draw(who("c1")).nonce == 3
    assert game.state("c1")["today"] == {"date": "2026-11-12", "draws": 1, "spend": "59.00"}


def test_spend_per_day_counts_the_price_of_each_box(clock: Clock) -> None:
    # 59.00 a box, 177.00 a day: three boxes (177.00), not a fourth (236.00)
    game = box(build(with_keys(FIXED, spend_per_day='"177.00"'), clock), "molly")
    game.open(seed=SEED)
    clock.now = datetime(2026, 11, 11, 23, 59, 59, tzinfo=SHANGHAI)
    for _ in range(3):
        game.draw(who("c1"))
    state = game.state("c1")
    assert state["today"]["spend"] == "177.00" and state["spend_left_today"] == "0.00"
    with pytest.raises(GameError) as caught:
        game.draw(who("c1"))
    assert caught.value.reason == "limit_reached:spend_per_day"
    clock.now = datetime(2026, 11, 12, 0, 0, 0, tzinfo=SHANGHAI)
    assert game.state("c1")["spend_left_today"] == "177.00"
    game.draw(who("c1"))
    assert game.state("c1")["spend_left_today"] == "118.00"


# -- ages -------------------------------------------------------------------------------------


TODAY = date(2026, 11, 11)


def born(years: int, days_to_birthday: int = 0) -> date:
    """The birthday of someone ``years`` old today (``days_to_birthday`` from turning
    one year older when positive)."""
    return TODAY.replace(year=TODAY.year - years) + timedelta(days=days_to_birthday)


@pytest.mark.parametrize(("birthday", "consent", "reason"), [
    (born(7), True, "age_restricted"),
    (born(8, days_to_birthday=1), True, "age_restricted"),  # 8 tomorrow
    (born(8), False, "guardian_consent_required"),
    (born(8), True, None),
    (born(12), False, "guardian_consent_required"),
    (born(12), True, None),
    (born(18, days_to_birthday=1), False, "guardian_consent_required"),  # 17
    (born(18), False, None),
    (born(40), False, None),
    (None, False, None),  # age unknown
])
def test_the_cn_age_rule(birthday: date | None, consent: bool, reason: str | None) -> None:
    game = box(build(FIXED), "molly")
    game.open(seed=SEED)
    customer = who("kid", birthday)
    if reason is None:
        assert game.draw(customer, guardian_consent=consent).nonce == 1
    else:
        with pytest.raises(GameError) as caught:
            game.draw(customer, guardian_consent=consent)
        assert caught.value.reason == reason


def test_the_age_rule_outside_cn_is_min_age_only() -> None:
    text = FIXED.replace('jurisdiction = "cn"', "")
    game = box(build(text), "molly")
    game.open(seed=SEED)
    assert game.draw(who("kid", born(7))).nonce == 1
    strict = box(build(with_keys(text, min_age="16")), "molly")
    strict.open(seed=SEED)
    with pytest.raises(GameError) as caught:
        strict.draw(who("teen", born(15)))
    assert caught.value.reason == "age_restricted"
    assert strict.draw(who("adult", born(16))).nonce == 1
    # in cn a higher min_age adds to the law's rule
    cn = box(build(with_keys(FIXED, min_age="12")), "molly")
    cn.open(seed=SEED)
    with pytest.raises(GameError) as caught:
        cn.draw(who("kid", born(11)), guardian_consent=True)
    assert caught.value.reason == "age_restricted"


# -- audit ------------------------------------------------------------------------------------


def revealed_log(text: str, game_id: str, draws: int,
                 customers: int = 3) -> tuple[DrawLog, Registry]:
    engine = build(with_keys(text, pity='{tier = "rare", within = 3}'))
    game = box(engine, game_id)
    game.open(seed=SEED)
    for n in range(draws):
        game.draw(who(f"c{n % customers}"), client_seed=f"s{n % customers}")
    game.reveal()
    return game.draw_log(), engine.registry


def tampered(log: DrawLog, number: int, **changes: Any) -> DrawLog:
    entries = [dict(entry) for entry in log.entries]
    entries[number - 1].update(changes)
    return attrs.evolve(log, entries=tuple(entries))


def test_verify_passes_on_honest_logs_and_through_json() -> None:
    for text, game_id in ((FIXED, "molly"), (FINITE, "ichiban")):
        log, registry = revealed_log(text, game_id, 10)
        report = verify_log(log, registry)
        assert report.ok and report.draws == 10, report.problems
        assert verify_log(DrawLog.loads(log.dumps()), registry).ok
        entry = log.entries[0]
        assert {"customer", "nonce", "client_seed", "config_hash", "digest", "item",
                "reason", "since_pity", "pool_draw", "last_prize", "price"} <= set(entry)


def test_verify_before_the_reveal_says_so() -> None:
    game = box(build(FIXED), "molly")
    game.open(seed=SEED)
    game.draw(who("c1"))
    report = verify_log(game.draw_log(), Registry.default())
    assert not report.ok and "not revealed" in report.problems[0]


def other_item(log: DrawLog, number: int, items: tuple[str, ...]) -> str:
    return next(i for i in items if i != log.entries[number - 1]["item"])


@pytest.mark.parametrize("tamper", [
    "item", "nonce", "client_seed", "digest", "reason", "drop", "swap", "last_prize",
    "seed", "value", "remaining", "price",
])
def test_tampering_with_a_finite_log_fails(tamper: str) -> None:
    log, registry = revealed_log(FINITE, "ichiban", 10, customers=2)
    items = ("towel", "cup", "figure")
    if tamper == "item":
        log = tampered(log, 4, item=other_item(log, 4, items))
    elif tamper == "nonce":
        log = tampered(log, 5, nonce=log.entries[4]["nonce"] + 1)
    elif tamper == "client_seed":
        log = tampered(log, 2, client_seed="chosen-later")
    elif tamper == "digest":
        log = tampered(log, 2, digest="00" * 32)
    elif tamper == "reason":
        reason = log.entries[0]["reason"]
        log = tampered(log, 1, reason="pity" if reason != "pity" else "draw")
    elif tamper == "drop":
        log = attrs.evolve(log, entries=log.entries[:3] + log.entries[4:])
    elif tamper == "swap":
        entries = list(log.entries)
        entries[2], entries[3] = entries[3], entries[2]
        log = attrs.evolve(log, entries=tuple(entries))
    elif tamper == "last_prize":
        log = tampered(tampered(log, 10, last_prize=None), 9,
                       last_prize={"name": "最後賞大公仔", "value": "1200.00"})
    elif tamper == "seed":
        log = attrs.evolve(log, seed="ab" * 32)
    elif tamper == "value":
        log = tampered(log, 1, value="9999.00")
    elif tamper == "remaining":
        log = tampered(log, 3, remaining=log.entries[2]["remaining"] + 1)
    elif tamper == "price":
        log = tampered(log, 3, price="1.00")
    report = verify_log(log, registry)
    assert not report.ok, tamper
    assert all(p.startswith(("draw ", "the header says ", "the header's head "))
               or "commitment" in p for p in report.problems)


def test_a_pool_item_over_its_quantity_fails_verification() -> None:
    log, registry = revealed_log(FINITE, "ichiban", 10)
    towels = [n for n, e in enumerate(log.entries, 1) if e["item"] == "towel"]
    cup = next(n for n, e in enumerate(log.entries, 1) if e["item"] == "cup")
    report = verify_log(tampered(log, cup, item="towel"), registry)
    assert any("more than its released 5" in p for p in report.problems), report.problems
    assert len(towels) == 5


def test_tampering_with_a_fixed_log_fails() -> None:
    log, registry = revealed_log(FIXED, "molly", 30)
    items = ("aries", "leo", "gold", "moon")
    assert not verify_log(tampered(log, 7, item=other_item(log, 7, items)), registry).ok
    assert not verify_log(attrs.evolve(log, entries=log.entries[1:]), registry).ok
    pity = next((n for n, e in enumerate(log.entries, 1) if e["reason"] == "pity"), None)
    assert pity is not None
    assert not verify_log(tampered(log, pity, reason="draw"), registry).ok
    bad = verify_log(tampered(log, 3, item="unicorn"), registry)
    assert any("'unicorn' is not in the series" in p for p in bad.problems)
    broken = verify_log(tampered(log, 3, nonce="x"), registry)
    assert any(p.startswith("draw 3:") for p in broken.problems)


def forged(log: DrawLog, entries: list[dict[str, Any]]) -> DrawLog:
    """A forger who knows the scheme: positions renumbered, the chain and the header's
    count and head recomputed to fit ``entries``."""
    previous = log.commitment
    for position, entry in enumerate(entries, 1):
        entry.update(position=position, prev=previous)
        previous = entry_hash(entry)
    return attrs.evolve(log, entries=tuple(entries), draws=len(entries), head=previous)


def test_a_fixed_pool_log_missing_a_customers_last_box_fails() -> None:
    """Fault: a fixed pool's log with a customer's last draw removed verified (their
    nonces still ran 1, 2, 3 …, and a fixed pool counts nothing)."""
    log, registry = revealed_log(FIXED, "molly", 12)
    last = max(n for n, e in enumerate(log.entries, 1) if e["customer"] == "c1")
    assert last < len(log.entries)
    cut = [dict(e) for n, e in enumerate(log.entries, 1) if n != last]
    problems = verify_log(attrs.evolve(log, entries=tuple(cut)), registry).problems
    assert f"draw {last}: position {last + 1} logged, but it is entry {last} of the log " \
           "(positions go 1, 2, 3 … in log order)" in problems
    assert "the header says 12 draw(s), the log holds 11" in problems
    # renumbered and re-chained, the log holds together; the published count and head
    # (the reveal's) do not
    rewritten = forged(log, cut)
    assert verify_log(rewritten, registry).ok
    report = verify_log(rewritten, registry, draws=log.draws, head=log.head)
    assert report.problems == (
        "the reveal published 12 draw(s), the log holds 11",
        f"the reveal published the head {str(log.head)[:12]}…, the log ends at "
        f"{str(rewritten.head)[:12]}…")


def test_a_reordered_fixed_pool_log_fails() -> None:
    """Fault: a fixed pool's log reordered (each customer's draws kept in their order)
    verified."""
    log, registry = revealed_log(FIXED, "molly", 12)
    by_customer = sorted((dict(e) for e in log.entries), key=lambda e: e["customer"])
    assert [e["customer"] for e in by_customer] != [e["customer"] for e in log.entries]
    problems = verify_log(attrs.evolve(log, entries=tuple(by_customer)), registry).problems
    assert any("logged, but it is entry 2 of the log" in p for p in problems)
    assert any(p.startswith("draw 2: prev ") for p in problems)
    # renumbered and re-chained: the head is not the published one
    rewritten = forged(log, by_customer)
    assert not verify_log(rewritten, registry, draws=log.draws, head=log.head).ok


def test_a_default_draw_depends_on_the_log_before_it_not_on_the_customer_id() -> None:
    """Fault: the default client seed was the customer's id, known before the
    commitment, so a server could grind its seed to favour a chosen customer. Now a
    draw without a client seed uses the hash of the log before it: the same seed,
    customer and nonce give another digest after other draws."""
    draws = []
    for first in ("c7", "c8", "c9"):
        game = box(build(FIXED), "molly")
        game.open(seed=SEED)
        game.draw(who(first), client_seed="theirs")
        draws.append(game.draw(who("c1")))
    assert len({d.digest for d in draws}) == 3
    assert {d.nonce for d in draws} == {1} and "c1" not in {d.client_seed for d in draws}
    own = box(build(FIXED), "molly")
    own.open(seed=SEED)
    own.draw(who("c7"), client_seed="theirs")
    mine = own.draw(who("c1"), client_seed="chosen after the commitment")
    assert mine.client_seed == "chosen after the commitment" and mine.position == 2
    assert mine.receipt == entry_hash(own.draw_log().entries[1])


@pytest.mark.parametrize(("pool", "key"), [("fixed", "weight"), ("finite", "quantity")])
def test_weights_or_quantities_adding_up_past_the_bound_do_not_load(pool: str,
                                                                    key: str) -> None:
    """Fault: weights adding up past 2⁶⁴ loaded and skewed the probabilities."""
    text = FIXED if pool == "fixed" else FINITE
    big = {"fixed": ("weight = 60", "weight = 30"), "finite": ("quantity = 5", "quantity = 3")}
    first, second = big[pool]
    text = text.replace(first, f"{key} = 600000000000000").replace(
        second, f"{key} = 500000000000000")
    total = 1_100_000_000_000_000 + (10 if pool == "fixed" else 2)
    assert problems_of(text) == [
        f"game[0].items: the items' {key}s add up to {total:,}, more than "
        "1,000,000,000,000,000: a draw picks ⌊u·W/2⁶⁴⌋ among the total W, which must stay "
        "at most that for every item to get its share"]


# -- disclosure -------------------------------------------------------------------------------


def test_the_disclosure_in_both_languages() -> None:
    text = with_keys(FIXED, pity='{tier = "rare", within = 10}', draws_per_day="5",
                     spend_per_day='"300.00"', start='"2026-11-11T00:00:00"',
                     end='"2026-11-11T23:59:59"')
    game = box(build(text), "molly")
    zh = game.disclosure("zh-CN")
    for part in ("「星座系列」盲盒", "每盒¥59.00", "固定概率",
                 "【普通款】白羊座：概率60.00%（3/5）",
                 "市场价值¥59.00", "【稀有款】金色獅子：概率9.00%（9/100）",
                 "【隱藏款】隐藏款：概率1.00%（1/100），市场价值¥899.00",
                 "普通款 90.00%、稀有款 9.00%、隱藏款 1.00%", "¥59.00至¥899.00",
                 "保底：每位顾客连续10次抽取中至少得到一个稀有款或更稀有款式",
                 "最多5盒", "最多消费¥300.00", "不向未满8周岁者销售；未满18周岁者须经监护人同意",
                 "主办方：泡泡商店，客服 400-800-1234", "HMAC-SHA256", "活动时间：2026年11月11日"):
        assert part in zh, part
    assert "月亮女神" not in zh  # the hidden item keeps its secret
    en = game.disclosure("en")
    for part in ("Blind box “星座系列”", "¥59.00 a box", "hidden item: probability 1.00% (1/100)",
                 "By tier: 普通款 90.00%, 稀有款 9.00% and 隱藏款 1.00%",
                 "range from ¥59.00 to ¥899.00", "every 10 draws", "up to 5 boxes",
                 "up to ¥300.00", "Not sold to customers under 8; customers under 18 need",
                 "Organiser: 泡泡商店", "Audit:"):
        assert part in en, part
    assert "月亮女神" not in en
    published = game.open(seed=SEED)
    assert published in game.disclosure("en") and published in game.disclosure("zh-CN")


def test_the_finite_disclosure_tells_quantities_last_prize_and_what_is_left() -> None:
    game = box(build(FINITE), "ichiban")
    zh = game.disclosure("zh-CN")
    for part in ("共发售10盒", "抽出不放回", "目前剩余10盒", "限量5个", "剩余5个",
                 "最后赏：抽出盒池最后一盒者另得「最後賞大公仔」（市场价值¥1,200.00）"):
        assert part in zh, part
    game.open(seed=SEED)
    for _ in range(3):
        game.draw(who("c1"))
    assert "目前剩余7盒" in game.disclosure("zh-CN")
    assert "7 left now" in game.disclosure("en")
    spec = game.spec
    static = spec.kind_impl.disclosure(spec, __import__("promokit.text").text.Text("en"))
    assert any("10 boxes released" in line for line in static)
    assert not any("left now" in line for line in static)


# -- config changes ---------------------------------------------------------------------------


def kind_changes(old: str, new: str) -> dict[str, bool]:
    before, after = campaigns_from_toml(old).games[0], campaigns_from_toml(new).games[0]
    return {change.path: change.worse for change in BlindBox().changes(before, after)}


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('price = "59.00"', 'price = "69.00"', {"price": True}),
    ('price = "59.00"', 'price = "49.00"', {"price": False}),
    ('value = "899.00"', 'value = "799.00"', {"items.moon.value": True}),
    ('value = "899.00"', 'value = "999.00"', {"items.moon.value": False}),
    ("weight = 9}", "weight = 8}",  # rare 9/100 → 8/99, commons up
     {"tiers.common.probability": False, "tiers.rare.probability": True,
      "tiers.secret.probability": False, "items.aries.probability": False,
      "items.leo.probability": False, "items.gold.probability": True,
      "items.moon.probability": False}),
    ('name = "獅子座"', 'name = "獅子"', {"items.leo.name": False}),
    ('series = "星座系列"', 'series = "星座"', {"series": False}),
])
def test_changes_to_fixed_configs(old: str, new: str, expected: dict[str, bool]) -> None:
    assert kind_changes(FIXED, FIXED.replace(old, new, 1)) == expected


@pytest.mark.parametrize(("old", "new", "worse"), [
    ({"pity": '{tier = "rare", within = 10}'}, {"pity": '{tier = "rare", within = 12}'}, True),
    ({"pity": '{tier = "rare", within = 10}'}, {"pity": '{tier = "rare", within = 8}'}, False),
    ({"pity": '{tier = "rare", within = 10}'}, {"pity": '{tier = "common", within = 10}'},
     True),
    ({"pity": '{tier = "rare", within = 10}'}, {"pity": '{tier = "secret", within = 10}'},
     False),
    ({"pity": '{tier = "rare", within = 10}'}, {}, True),
    ({}, {"pity": '{tier = "rare", within = 10}'}, False),
    ({"draws_per_day": "5"}, {"draws_per_day": "4"}, True),
    ({"draws_per_day": "5"}, {"draws_per_day": "6"}, False),
    ({"draws_per_day": "5"}, {}, False),
    ({}, {"draws_per_day": "5"}, True),
    ({"spend_per_day": '"300.00"'}, {"spend_per_day": '"200.00"'}, True),
    ({"spend_per_day": '"300.00"'}, {"spend_per_day": '"400.00"'}, False),
    ({"min_age": "12"}, {"min_age": "14"}, True),
    ({"min_age": "12"}, {}, False),
])
def test_changes_to_pity_caps_and_ages(old: dict[str, str], new: dict[str, str],
                                       worse: bool) -> None:
    changes = kind_changes(with_keys(FIXED, **old), with_keys(FIXED, **new))
    assert len(changes) >= 1 and all(w == worse for w in changes.values()), changes


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("quantity = 2,", "quantity = 1,", {"items.figure.quantity": True}),
    ('value = "1200.00"', 'value = "1500.00"', {"last_prize.value": False}),
    ('value = "1200.00"', 'value = "1000.00"', {"last_prize.value": True}),
    ('last_prize = {name = "最後賞大公仔", value = "1200.00"}', "", {"last_prize": True}),
    ('pool = "finite"', 'pool = "fixed"', None),  # another pool is a different game
])
def test_changes_to_finite_configs(old: str, new: str, expected: dict[str, bool] | None
                                   ) -> None:
    changed = FINITE.replace(old, new, 1)
    if expected is None:
        changed = changed.replace("quantity", "weight").replace(
            'last_prize = {name = "最後賞大公仔", value = "1200.00"}', "")
        changes = kind_changes(FINITE, changed)
        assert changes["pool"] is True
        return
    changes = kind_changes(FINITE, changed)
    for path, worse in expected.items():
        assert changes[path] is worse, changes
    if "items.figure.quantity" in expected:  # fewer figures: a lower chance of one
        assert changes["items.figure.probability"] is True


def test_a_started_game_rejects_worse_configs_and_adopts_better_ones() -> None:
    recorder = Recorder()
    engine = build(FIXED, plugins=[recorder])
    box(engine, "molly").open(seed=SEED)
    box(engine, "molly").draw(who("c1"))
    worse = build(FIXED.replace('price = "59.00"', 'price = "69.00"'), store=engine.store)
    with pytest.raises(GameError) as caught:
        worse.games["molly"]
    assert caught.value.reason == "config_worse" and "price: 5900 → 6900" in str(caught.value)
    better_text = FIXED.replace('price = "59.00"', 'price = "49.00"')
    better = build(better_text, store=engine.store)
    game = box(better, "molly")
    second = game.draw(who("c1"))
    assert second.nonce == 2 and second.price == 4900
    game.reveal()
    log = game.draw_log()
    assert len(log.configs) == 2 and verify_log(log, better.registry).ok


# -- CLI actions ------------------------------------------------------------------------------


def test_actions() -> None:
    game = box(build(FIXED), "molly")
    assert set(BlindBox.actions) == {"open", "draw", "odds", "state", "reveal"}
    opened = game.act("open", Customer(), {})
    assert opened == {"game": "molly", "commitment": game.commitment()}
    kid = Customer(id="kid", birthday=born(12))
    with pytest.raises(GameError) as caught:
        game.act("draw", kid, {"client_seed": "abc"})
    assert caught.value.reason == "guardian_consent_required"
    drawn = game.act("draw", kid, {"client_seed": "abc", "guardian_consent": "true"})
    assert drawn["client_seed"] == "abc" and drawn["nonce"] == 1
    assert json.loads(json.dumps(drawn)) == drawn
    assert len(game.act("odds", Customer(), {})["items"]) == 4
    assert game.act("state", kid, {})["draws"] == 1
    for action, args, reason in (("draw", {"guardian_consent": "maybe"}, "bad_argument"),
                                 ("draw", {"colour": "red"}, "bad_argument"),
                                 ("state", {}, "customer_required"),
                                 ("dance", {}, "unknown_action")):
        with pytest.raises(GameError) as caught:
            game.act(action, Customer(id=None if action == "state" else "c1"), args)
        assert caught.value.reason == reason
    revealed = game.act("reveal", Customer(), {})
    assert commitment(revealed["seed"]) == revealed["commitment"]


def test_the_promokit_game_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    campaigns = tmp_path / "boxes.toml"
    campaigns.write_text(FINITE, encoding="utf-8")
    store = f"sqlite:///{tmp_path / 'store.db'}"
    play = ["game", "play", "ichiban"]
    assert main([*play, "open", str(campaigns), "--store", store]) == 0
    assert len(json.loads(capsys.readouterr().out)["commitment"]) == 64
    for n in range(10):
        assert main([*play, "draw", str(campaigns), "--store", store, "--customer", f"c{n}",
                     "--customer-json", '{"birthday": "2012-05-01"}',
                     "--set", "client_seed=fan", "--set", "guardian_consent=true"]) == 0
        drawn = json.loads(capsys.readouterr().out)
        assert drawn["pool_draw"] == n + 1
    assert drawn["last_prize"] == {"name": "最後賞大公仔", "value": "1200.00"}
    assert main([*play, "odds", str(campaigns), "--store", store]) == 0
    assert json.loads(capsys.readouterr().out)["remaining"] == 0
    assert main([*play, "state", str(campaigns), "--store", store, "--customer", "c3"]) == 0
    assert json.loads(capsys.readouterr().out)["draws"] == 1
    assert main([*play, "reveal", str(campaigns), "--store", store]) == 0
    capsys.readouterr()
    log = tmp_path / "draws.jsonl"
    assert main(["game", "log", "ichiban", str(campaigns), "--store", store,
                 "--out", str(log)]) == 0
    assert main(["game", "verify", str(log)]) == 0
    assert "all 10 draw(s) verified" in capsys.readouterr().out


# -- every backend ----------------------------------------------------------------------------


@pytest.fixture
def backend_store(store_url: str) -> Iterator[Any]:
    opened = open_store(store_url)
    yield opened
    opened.close()


@EVERY_BACKEND
def test_a_small_flow_on_every_backend(backend_store: Any, store_url: str) -> None:
    recorder = Recorder()
    engine = build(with_keys(FINITE, pity='{tier = "rare", within = 3}', draws_per_day="4"),
                   store=backend_store, plugins=[recorder])
    game = box(engine, "ichiban")
    game.open(seed=SEED)
    draws = [game.draw(who(f"c{n % 3}"), client_seed="fan") for n in range(10)]
    assert Counter(d.item.id for d in draws) == {"towel": 5, "cup": 3, "figure": 2}
    assert sum(d.last_prize is not None for d in draws) == 1
    with pytest.raises(GameError) as caught:
        game.draw(who("c4"))
    assert caught.value.reason == "sold_out"
    with pytest.raises(GameError) as caught:
        game.draw(who("c0"))
    assert caught.value.reason == "limit_reached:draws_per_day"
    assert game.state("c1")["draws"] == 3
    assert recorder.names().count("sold_out") == 1
    game.reveal()
    log = game.draw_log()
    assert len(log.entries) == 10 and verify_log(log, engine.registry).ok


# -- the docs ---------------------------------------------------------------------------------


DOC = Path(__file__).resolve().parents[2] / "docs" / "games" / "blind_box.md"


def test_the_docs_example_loads_and_its_disclosure_is_what_the_docs_show() -> None:
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"^```(\w+)\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
    example = next(body for lang, body in blocks if lang == "toml")
    shown = next(body for lang, body in blocks if lang == "text" and "「生肖」盲盒" in body)
    game = box(build(example), "zodiac")
    assert game.disclosure("zh-CN") + "\n" == shown
    finite = next(body for lang, body in blocks if lang == "toml" and 'pool = "finite"' in body)
    pool, tiers, items, pity = (example.index(key) for key in
                                ('pool = "fixed"', "tiers = [", "items = [", "pity ="))
    swapped = example[:pool] + example[tiers:items] + finite + example[pity:]
    assert box(build(swapped), "zodiac").odds().released == 60
