"""The ``lottery`` game: loading and the cn rules, the draw state machine, daily
limits across local midnight, tickets, locks, stock-outs, wins, the guarantee
(as a property), the frequency of draws (χ²), the audit (verify and tampering),
events, the disclosure, config changes, the store backends and the CLI.

Outcomes are deterministic: every game here is opened with a fixed seed
(``open(seed=…)``), so a draw's prize is a function of the seed, the client
seed, the nonce and the config. Where a test relies on a prize being drawn, its
weight dwarfs the others' and the test also asserts what was drawn."""

from __future__ import annotations

import copy
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from conftest import EVERY_BACKEND
from hypothesis import given, settings
from hypothesis import strategies as st

from promokit import ConfigError, Engine, GameError
from promokit.cart import Customer
from promokit.cli import main
from promokit.gameplay import verify_log
from promokit.games import DrawLog
from promokit.loading import parse_campaigns
from promokit.plugins.games.lottery import CLOSED, Lottery, LotteryGame
from promokit.registry import Registry
from promokit.stores import MemoryStore, Store
from promokit.testing import Clock, Recorder, engine_from_toml, registry_with

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 11, 10, 0, tzinfo=SHANGHAI)
SEED = "5e" * 32
OTHER_SEED = "a7" * 32
REGISTRY = registry_with()

THANKS = {"id": "thanks", "name": "謝謝參與", "kind": "none", "weight": 900, "fallback": True}


def koi_table(**changes: Any) -> dict[str, Any]:
    """The 雙11 分享抽錦鯉 lottery: a 50,000.00 koi package (locked until 100 draws),
    50.00 coupons and 謝謝參與; probabilities 0.1%, 9.9%, 90%."""
    table: dict[str, Any] = {
        "id": "koi", "kind": "lottery", "name": "雙11 分享抽錦鯉",
        "organiser": "杭州某某旗艦店，客服 400-800-1111",
        "start": "2026-11-10T20:00:00", "end": "2026-11-11T23:59:59",
        "draws_per_day": 3, "free_draws_per_day": 1, "max_wins": 2, "guarantee_every": 10,
        "tickets": {"purchase": 2, "share": 1, "quiz": 1}, "max_tickets_per_day": 3,
        "draw_time": "即抽即開，結果當場顯示", "redeem": "中獎後7天內在「我的獎品」兌換，逾期作廢",
        "prizes": [
            {"id": "koi", "name": "錦鯉大禮包", "kind": "goods", "value": "50000.00",
             "weight": 1, "stock": 1, "locked_until": 100},
            {"id": "c50", "name": "50元無門檻券", "kind": "coupon", "value": "50.00",
             "weight": 99, "stock": 100},
            dict(THANKS),
        ]}
    table.update(changes)
    return table


def data_of(*tables: Mapping[str, Any], jurisdiction: str = "none") -> dict[str, Any]:
    return {"currency": "CNY", "timezone": "Asia/Shanghai", "jurisdiction": jurisdiction,
            "game": [dict(t) for t in tables]}


def engine_of(table: Mapping[str, Any], *, store: Store | None = None,
              clock: Callable[[], datetime] | None = None, registry: Registry = REGISTRY,
              jurisdiction: str = "none") -> Engine:
    campaigns = parse_campaigns(data_of(table, jurisdiction=jurisdiction), registry)
    return Engine(campaigns, registry=registry, store=store or MemoryStore(),
                  clock=clock or Clock(NOW))


def lottery(engine: Engine) -> LotteryGame:
    """The engine's one game."""
    (game_id,) = engine.games
    game = engine.games[game_id]
    assert isinstance(game, LotteryGame)
    return game


def problems_of(*tables: Mapping[str, Any], jurisdiction: str = "none") -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_campaigns(data_of(*tables, jurisdiction=jurisdiction), REGISTRY)
    return [str(problem) for problem in caught.value.problems]


def one_prize(weight: int = 1_000_000, stock: int = 2, **extra: Any) -> dict[str, Any]:
    """A game whose ``gold`` prize is drawn 1,000,000 times in 1,000,001."""
    table: dict[str, Any] = {
        "id": "g", "kind": "lottery", "free_draws_per_day": 50,
        "prizes": [{"id": "gold", "name": "Gold", "kind": "cash", "value": "10.00",
                    "weight": weight, "stock": stock},
                   {"id": "thanks", "name": "謝謝參與", "kind": "none", "weight": 1,
                    "fallback": True}]}
    table.update(extra)
    return table


def default_prev(entry: Mapping[str, Any]) -> str:
    """The hash of a log entry: SHA-256 of its canonical JSON (its keys are ASCII and it
    holds no float, so sorted compact JSON is canonical)."""
    text = json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def revealed_log(game: LotteryGame) -> DrawLog:
    game.reveal()
    return game.draw_log()


def entries_of(game: LotteryGame) -> list[dict[str, Any]]:
    return [json.loads(body) for _, body in game.store.journal(game.stream("draws"))]


# -- loading ------------------------------------------------------------------------------


def test_the_koi_lottery_loads() -> None:
    spec = parse_campaigns(data_of(koi_table(), jurisdiction="cn"), REGISTRY).games[0]
    config = spec.config
    assert [p.id for p in config.prizes] == ["koi", "c50", "thanks"]
    assert config.prizes[0].value == 5_000_000 and config.prizes[0].locked_until == 100
    assert config.fallback.id == "thanks" and config.fallback.stock is None
    assert config.tickets == (("purchase", 2), ("share", 1), ("quiz", 1))
    assert Lottery().top_prize(config) == 5_000_000
    # 1 / 1000 = 0.10%, 99 / 1000 = 9.90%, 900 / 1000 = 90.00%
    assert [str(config.probability(p)) for p in config.prizes] == ["0.10", "9.90", "90.00"]


def prize_with(index: int, **changes: Any) -> dict[str, Any]:
    table = koi_table()
    prizes = copy.deepcopy(table["prizes"])
    prizes[index].update(changes)
    for key, value in changes.items():
        if value is None:
            del prizes[index][key]
    return koi_table(prizes=prizes)


@pytest.mark.parametrize("table, expected", [
    (koi_table(prizes=[]), "game[0].prizes: must not be empty"),
    ({k: v for k, v in koi_table().items() if k != "prizes"}, "game[0].prizes: is required"),
    (prize_with(1, stock=None),
     "game[0].prizes[1].stock: is required (only the fallback prize is unlimited)"),
    (prize_with(2, stock=5), "game[0].prizes[2].stock: the fallback prize is unlimited: "
                             "remove stock"),
    (prize_with(1, stock=-1), "game[0].prizes[1].stock: must be at least 0, got -1"),
    (prize_with(1, weight=0), "game[0].prizes[1].weight: must be at least 1, got 0"),
    (prize_with(1, weight="5.0"), "game[0].prizes[1].weight: must be a whole number"),
    (prize_with(1, kind="gift"),
     "game[0].prizes[1].kind: must be one of cash, coupon, goods, points, none; got 'gift'"),
    (prize_with(0, value=None), "game[0].prizes[0].value: is required"),
    (prize_with(0, kind="cash", value=None), "game[0].prizes[0].value: is required"),
    (prize_with(1, value="0"), "game[0].prizes[1].value: must be > 0"),
    (prize_with(2, value="1.00"), "game[0].prizes[2].value: a prize of kind none has no value"),
    (prize_with(1, kind="none", value=None),
     "game[0].prizes[1].kind: only the fallback prize may be kind none (謝謝參與)"),
    (prize_with(2, locked_until=10),
     "game[0].prizes[2].locked_until: the fallback prize cannot be locked"),
    (prize_with(0, locked_until=0), "game[0].prizes[0].locked_until: must be at least 1, got 0"),
    (prize_with(1, id="c50!"),
     "game[0].prizes[1].id: may hold only letters, digits, '-' and '_' (it names a counter)"),
    (prize_with(1, id="koi"), "game[0].prizes[1].id: prize id 'koi' is used twice"),
    (prize_with(1, stok=5), "game[0].prizes[1].stok: unknown key (did you mean 'stock'?)"),
    (prize_with(1, fallback=True),
     "game[0].prizes: exactly one prize must be the fallback (fallback = true: 謝謝參與 or a "
     "small coupon); found 2"),
    (prize_with(2, fallback=None, kind="coupon", stock=1),
     "game[0].prizes: exactly one prize must be the fallback (fallback = true: 謝謝參與 or a "
     "small coupon); found 0"),
    (koi_table(prizes=[dict(THANKS)]),
     "game[0].prizes: needs at least one prize besides the fallback"),
    (koi_table(draws_per_day=0), "game[0].draws_per_day: must be at least 1, got 0"),
    (koi_table(free_draws_per_day=4),
     "game[0].free_draws_per_day: 4 free draws a day is more than draws_per_day (3)"),
    (koi_table(free_draws_per_day=3),
     "game[0].tickets: tickets can never be spent: the free draws already reach "
     "draws_per_day"),
    (koi_table(max_wins=0), "game[0].max_wins: must be at least 1, got 0"),
    (koi_table(guarantee_every=0), "game[0].guarantee_every: must be at least 1, got 0"),
    (koi_table(tickets={"share": 1, "like": 1}), "game[0].tickets.like: unknown key"),
    (koi_table(tickets={"share": 0}), "game[0].tickets.share: must be at least 1, got 0"),
    (koi_table(tickets=3), "game[0].tickets: must be a table"),
    ({k: v for k, v in koi_table().items() if k != "tickets"},
     "game[0].max_tickets_per_day: no action earns tickets (set tickets)"),
    (koi_table(draw_time=""), "game[0].draw_time: must be a non-empty string"),
    (koi_table(draws_per_dya=3), "game[0].draws_per_dya: unknown key (did you mean "
                                 "'draws_per_day'?)"),
])
def test_config_problems_name_their_path(table: dict[str, Any], expected: str) -> None:
    assert expected in problems_of(table)


def test_cn_allows_a_top_prize_of_exactly_50000_yuan() -> None:
    spec = parse_campaigns(data_of(prize_with(0, value="50000.00"), jurisdiction="cn"),
                           REGISTRY).games[0]
    assert Lottery().top_prize(spec.config) == 5_000_000


@pytest.mark.parametrize("index, kind", [(0, "goods"), (1, "coupon"), (0, "cash")])
def test_cn_rejects_a_top_prize_of_50000_01_yuan(index: int, kind: str) -> None:
    found = problems_of(prize_with(index, value="50000.01", kind=kind), jurisdiction="cn")
    assert found == ["game[0]: top prize ¥50,000.01 is above the ¥50,000.00 allowed for a "
                     "prize draw in jurisdiction cn (反不正當競爭法 第十條)"]


def test_outside_cn_a_large_prize_and_no_disclosure_keys_are_allowed() -> None:
    table = {k: v for k, v in prize_with(0, value="80000.00").items()
             if k not in ("draw_time", "redeem", "organiser")}
    assert parse_campaigns(data_of(table), REGISTRY).games[0].config.draw_time is None


def test_cn_requires_draw_time_redeem_and_organiser() -> None:
    table = {k: v for k, v in koi_table().items()
             if k not in ("draw_time", "redeem", "organiser")}
    found = problems_of(table, jurisdiction="cn")
    assert "game[0].organiser: jurisdiction cn: a prize game must name its organiser and how " \
           "to reach them (organiser = \"…, 客服 400-…\"); the disclosure prints it" in found
    assert "game[0].draw_time: jurisdiction cn: a lottery must say how and when draws happen " \
           "(draw_time = \"…\"); the disclosure prints it" in found
    assert "game[0].redeem: jurisdiction cn: a lottery must say how and when prizes are " \
           "redeemed (redeem = \"…\"); the disclosure prints it" in found
    assert len(found) == 3


# -- the state machine ---------------------------------------------------------------------


def test_draws_need_the_commitment_published_first() -> None:
    game = lottery(engine_of(koi_table()))
    with pytest.raises(GameError) as caught:
        game.draw("c1")
    assert caught.value.reason == "not_open" and caught.value.game == "koi"
    assert game.started() is None  # a refused draw does not open the game
    published = game.open(seed=SEED)
    assert published == hashlib.sha256(bytes.fromhex(SEED)).hexdigest()
    assert game.open() == published == game.commitment()  # idempotent
    assert game.open(seed=SEED) == published
    with pytest.raises(GameError) as caught:
        game.open(seed=OTHER_SEED)
    assert caught.value.reason == "already_open"
    with pytest.raises(GameError) as caught:
        game.open(seed="XYZ")
    assert caught.value.reason == "bad_seed"
    assert game.draw("c1").nonce == 1


def test_open_without_a_seed_draws_a_secret_one() -> None:
    game = lottery(engine_of(koi_table()))
    published = game.open()
    seed = game.seed()
    assert len(seed) == 64 and published == hashlib.sha256(bytes.fromhex(seed)).hexdigest()


def test_no_draw_and_no_ticket_after_the_reveal() -> None:
    game = lottery(engine_of(koi_table()))
    game.open(seed=SEED)
    game.draw("c1")
    assert game.reveal() == SEED
    assert game.reveal() == SEED  # idempotent
    assert game.total_draws() == 1
    for attempt in (lambda: game.draw("c2"), lambda: game.grant("c2", "share", "s1")):
        with pytest.raises(GameError) as caught:
            attempt()
        assert caught.value.reason == "revealed"
    # the draw counter itself is closed, so a process that missed the reveal cannot draw
    assert game.store.read([game.total_key])[game.total_key] == CLOSED + 1
    fresh = lottery(Engine(parse_campaigns(data_of(koi_table()), REGISTRY), registry=REGISTRY,
                           store=game.store, clock=Clock(NOW)))
    with pytest.raises(GameError) as caught:
        fresh.draw("c3")
    assert caught.value.reason == "revealed"


@pytest.mark.parametrize("now, reason", [
    (datetime(2026, 11, 10, 19, 59, 59, tzinfo=SHANGHAI), "not_started"),
    (datetime(2026, 11, 12, 0, 0, 0, tzinfo=SHANGHAI), "ended"),
])
def test_draws_and_tickets_only_while_the_game_runs(now: datetime, reason: str) -> None:
    game = lottery(engine_of(koi_table(), clock=Clock(now)))
    game.open(seed=SEED)
    for attempt in (lambda: game.draw("c1"), lambda: game.grant("c1", "share", "s1")):
        with pytest.raises(GameError) as caught:
            attempt()
        assert caught.value.reason == reason


def test_draws_need_an_eligible_signed_in_customer() -> None:
    game = lottery(engine_of(koi_table(conditions=[{"rule": "new_customer"}])))
    game.open(seed=SEED)
    with pytest.raises(GameError) as caught:
        game.draw(Customer())
    assert caught.value.reason == "customer_required"
    with pytest.raises(GameError) as caught:
        game.draw(Customer(id="c1", orders_count=3))
    assert caught.value.reason == "not_eligible:new_customer"
    assert game.draw(Customer(id="c2", orders_count=0)).nonce == 1


def test_a_client_seed_is_checked_and_logged() -> None:
    game = lottery(engine_of(koi_table()))
    game.open(seed=SEED)
    for bad in ("", "x" * 129):
        with pytest.raises(GameError) as caught:
            game.draw("c1", client_seed=bad)
        assert caught.value.reason == "bad_argument"
    draw = game.draw("c1", client_seed="我的幸運種子")
    assert (draw.client_seed, draw.nonce) == ("我的幸運種子", 1)
    assert entries_of(game)[0]["client_seed"] == "我的幸運種子"
    # without one, the draw uses the hash of the log before it, not the customer's id:
    # nothing the server knew when it committed to its seed
    default = game.draw("c2")
    first, second = entries_of(game)
    assert second["client_seed"] is None and default.client_seed == second["prev"] != "c2"
    assert second["prev"] == default_prev(first)


# -- daily limits and tickets ------------------------------------------------------------------


def test_the_daily_limit_resets_at_local_midnight() -> None:
    clock = Clock(datetime(2026, 11, 11, 23, 59, 59, tzinfo=SHANGHAI))
    table = koi_table(end="2026-11-13T00:00:00", draws_per_day=2, free_draws_per_day=2)
    del table["tickets"], table["max_tickets_per_day"]
    game = lottery(engine_of(table, clock=clock))
    game.open(seed=SEED)
    game.draw("c1")
    game.draw("c1")
    with pytest.raises(GameError) as caught:
        game.draw("c1")
    assert caught.value.reason == "daily_limit"
    assert game.state("c1")["draws_left_today"] == 0
    clock.now = datetime(2026, 11, 12, 0, 0, 0, tzinfo=SHANGHAI)  # 16:00 UTC: a new local day
    assert game.state("c1")["draws_left_today"] == 2
    assert game.draw("c1").nonce == 3  # nonces run on across days
    state = game.state("c1")
    assert {k: state[k] for k in ("draws", "draws_today", "draws_left_today",
                                  "free_draws_left_today")} == {
        "draws": 3, "draws_today": 1, "draws_left_today": 1, "free_draws_left_today": 1}


def test_tickets_buy_draws_beyond_the_free_ones() -> None:
    clock = Clock(datetime(2026, 11, 10, 23, 59, 59, tzinfo=SHANGHAI))
    game = lottery(engine_of(koi_table(), clock=clock))
    game.open(seed=SEED)
    assert game.draw("c1").ticket is False
    with pytest.raises(GameError) as caught:
        game.draw("c1")
    assert caught.value.reason == "no_ticket"

    share = game.grant("c1", "share", "s1")
    assert (share.granted, share.tickets, share.duplicate) == (1, 1, False)
    again = game.grant("c1", "share", "s1")
    assert (again.granted, again.tickets, again.duplicate) == (0, 1, True)
    assert game.grant("c2", "share", "s1").duplicate  # one share counts for one customer
    assert game.state("c2")["tickets"] == 0
    assert game.grant("c1", "purchase", "SO-1").granted == 2  # 1 + 2 = 3 today: the cap
    with pytest.raises(GameError) as caught:
        game.grant("c1", "quiz", "q1")
    assert caught.value.reason == "ticket_limit"
    with pytest.raises(GameError) as caught:
        game.grant("c1", "like", "l1")
    assert caught.value.reason == "bad_action"

    second, third = game.draw("c1"), game.draw("c1")
    assert (second.ticket, second.tickets, third.ticket, third.tickets) == (True, 2, True, 1)
    with pytest.raises(GameError) as caught:
        game.draw("c1")
    assert caught.value.reason == "daily_limit"  # 3 a day, tickets or not
    assert {k: game.state("c1")[k] for k in ("draws_today", "draws_left_today", "tickets",
                                               "tickets_granted_today")} == {
        "draws_today": 3, "draws_left_today": 0, "tickets": 1, "tickets_granted_today": 3}

    clock.now = datetime(2026, 11, 11, 0, 0, 0, tzinfo=SHANGHAI)
    assert game.state("c1")["draws_left_today"] == 2  # 1 free + the 1 ticket kept overnight
    assert game.grant("c1", "quiz", "q1").granted == 1  # the ticket cap reset too
    assert game.grant("c1", "purchase", "SO-2").granted == 2  # 1 + 2 = 3
    state = game.state("c1")
    assert (state["tickets"], state["tickets_granted_today"]) == (4, 3)
    assert [game.draw("c1").ticket for _ in range(3)] == [False, True, True]
    assert game.state("c1")["tickets"] == 2


def test_the_ticket_cap_grants_what_is_left_of_the_day() -> None:
    game = lottery(engine_of(koi_table()))
    assert game.grant("c1", "share", "s1").granted == 1
    assert game.grant("c1", "share", "s2").granted == 1
    partial = game.grant("c1", "purchase", "SO-1")  # earns 2, 1 left under the cap of 3
    assert (partial.granted, partial.tickets) == (1, 3)
    with pytest.raises(GameError) as caught:
        game.grant("c1", "share", "s3")
    assert caught.value.reason == "ticket_limit"
    with pytest.raises(GameError) as caught:
        game.grant("c1", "share", "")
    assert caught.value.reason == "bad_argument"


# -- prizes: locks, stock, wins, the guarantee ------------------------------------------------


def test_a_locked_prize_falls_back_until_the_game_has_had_its_draws() -> None:
    game = lottery(engine_of(one_prize(stock=5, prizes=[
        {"id": "gold", "name": "Gold", "kind": "cash", "value": "10.00", "weight": 1_000_000,
         "stock": 5, "locked_until": 3}, dict(THANKS, weight=1)])))
    game.open(seed=SEED)
    draws = [game.draw(f"c{n}") for n in range(1, 6)]
    assert [d.drawn for d in draws] == ["gold"] * 5
    # draws at positions 1–3 come after 0, 1, 2 draws (< 3): locked; position 4: won
    assert [(d.prize.id, d.reason) for d in draws] == [
        ("thanks", "locked"), ("thanks", "locked"), ("thanks", "locked"),
        ("gold", None), ("gold", None)]
    assert [e["position"] for e in entries_of(game)] == [d.position for d in draws] == [
        1, 2, 3, 4, 5]
    assert verify_log(revealed_log(game), REGISTRY).ok


def test_an_out_of_stock_prize_falls_back_and_never_to_another_paid_prize() -> None:
    table = one_prize(stock=2, prizes=[
        {"id": "gold", "name": "Gold", "kind": "cash", "value": "10.00", "weight": 1_000_000,
         "stock": 2},
        {"id": "silver", "name": "Silver", "kind": "cash", "value": "5.00", "weight": 1,
         "stock": 100},
        dict(THANKS, weight=1)])
    game = lottery(engine_of(table))
    game.open(seed=SEED)
    draws = [game.draw(f"c{n}") for n in range(1, 5)]
    assert [d.drawn for d in draws] == ["gold"] * 4
    assert [(d.prize.id, d.reason, d.won) for d in draws] == [
        ("gold", None, True), ("gold", None, True),
        ("thanks", "out_of_stock", False), ("thanks", "out_of_stock", False)]
    assert game.store.read([game.row_id("prize", "gold")]) == {"game:g:prize:gold": 2}
    assert verify_log(revealed_log(game), REGISTRY).ok


def test_a_stock_limit_refused_at_the_write_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """A draw that read the stock just before another took the last one: the store
    refuses the prize and the draw is built again with the fallback."""
    game = lottery(engine_of(one_prize(stock=1)))
    game.open(seed=SEED)
    assert game.draw("c1").prize.id == "gold"
    store = game.store
    real_read = store.read
    gold = game.row_id("prize", "gold")

    def stale(keys: Any) -> Mapping[str, int]:
        return {k: 0 if k == gold else v for k, v in real_read(keys).items()}

    monkeypatch.setattr(store, "read", stale)
    late = game.draw("c2")
    monkeypatch.undo()
    assert (late.drawn, late.prize.id, late.reason) == ("gold", "thanks", "out_of_stock")
    assert store.read([gold]) == {gold: 1}
    assert verify_log(revealed_log(game), REGISTRY).ok


def test_max_wins_turns_further_wins_into_the_fallback() -> None:
    game = lottery(engine_of(one_prize(stock=10, max_wins=2)))
    game.open(seed=SEED)
    draws = [game.draw("c1") for _ in range(3)]
    assert [d.drawn for d in draws] == ["gold"] * 3
    assert [(d.prize.id, d.reason) for d in draws] == [
        ("gold", None), ("gold", None), ("thanks", "max_wins")]
    assert game.state("c1")["wins_left"] == 0 and game.state("c1")["won"] == {"gold": 2}
    assert game.draw("c2").prize.id == "gold"  # per customer
    assert verify_log(revealed_log(game), REGISTRY).ok


def guaranteed(stock: int, every: int = 3) -> dict[str, Any]:
    """Paid prizes drawn 2 times in 1,000,002: only the guarantee gives them."""
    return one_prize(guarantee_every=every, prizes=[
        {"id": "gold", "name": "Gold", "kind": "cash", "value": "10.00", "weight": 1,
         "stock": stock},
        {"id": "silver", "name": "Silver", "kind": "points", "weight": 1, "stock": stock},
        dict(THANKS, weight=1_000_000)])


def test_the_guarantee_wins_a_paid_prize_on_the_nth_draw_without_one() -> None:
    game = lottery(engine_of(guaranteed(stock=5)))
    game.open(seed=SEED)
    assert game.state("c1")["draws_until_guarantee"] == 3
    first, second = game.draw("c1"), game.draw("c1")
    assert (first.prize.id, second.prize.id) == ("thanks", "thanks")
    assert game.state("c1")["draws_until_guarantee"] == 1
    third = game.draw("c1")
    assert (third.drawn, third.won, third.reason) == ("thanks", True, "guarantee")
    assert third.prize.id in ("gold", "silver")
    assert entries_of(game)[2]["candidates"] == ["gold", "silver"]
    assert game.state("c1")["draws_until_guarantee"] == 3
    assert verify_log(revealed_log(game), REGISTRY).ok


def test_the_guarantee_gives_nothing_once_the_paid_prizes_are_gone() -> None:
    game = lottery(engine_of(guaranteed(stock=0)))
    game.open(seed=SEED)
    draws = [game.draw("c1") for _ in range(4)]
    assert [d.prize.id for d in draws] == ["thanks"] * 4
    assert [e.get("candidates") for e in entries_of(game)] == [None, None, [], []]
    assert game.state("c1")["draws_until_guarantee"] == 1
    assert verify_log(revealed_log(game), REGISTRY).ok


@settings(max_examples=40, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), every=st.integers(2, 4),
       stocks=st.tuples(st.integers(0, 4), st.integers(0, 4)),
       order=st.lists(st.integers(0, 2), min_size=1, max_size=40))
def test_no_customer_goes_n_draws_without_a_paid_prize_while_one_is_in_stock(
        seed: bytes, every: int, stocks: tuple[int, int], order: list[int]) -> None:
    table = one_prize(guarantee_every=every, prizes=[
        {"id": "gold", "name": "Gold", "kind": "cash", "value": "10.00", "weight": 2,
         "stock": stocks[0]},
        {"id": "silver", "name": "Silver", "kind": "coupon", "weight": 3, "stock": stocks[1]},
        dict(THANKS, weight=20)])
    game = lottery(engine_of(table))
    game.open(seed=seed.hex())
    keys = {"gold": game.row_id("prize", "gold"), "silver": game.row_id("prize", "silver")}
    streak: Counter[str] = Counter()
    for index in order:
        customer = f"c{index}"
        draw = game.draw(customer)
        streak[customer] = 0 if draw.won else streak[customer] + 1
        counters = game.store.read(list(keys.values()))
        # counters only grow: a prize in stock now was in stock at the draw
        in_stock = counters[keys["gold"]] < stocks[0] or counters[keys["silver"]] < stocks[1]
        assert streak[customer] < every or not in_stock
    assert verify_log(revealed_log(game), REGISTRY).ok


# -- randomness -------------------------------------------------------------------------------


def test_draw_frequencies_fit_the_weights() -> None:
    """20,000 draws (200 customers × 100) on a fixed seed; weights 1 : 4 : 15 : 80, so
    the expected counts are 200, 800, 3,000 and 16,000. The observed counts (200,
    804, 2,984, 16,012) give

        χ² = 0²/200 + 4²/800 + 16²/3000 + 12²/16000
           = 0 + 0.02 + 0.08533… + 0.009 = 0.11433…,

    far under 16.266, the critical value at p = 0.001 for 3 degrees of freedom."""
    table = {"id": "chi", "kind": "lottery", "free_draws_per_day": 100, "prizes": [
        {"id": "a", "name": "A", "kind": "cash", "value": "100.00", "weight": 1,
         "stock": 20_000},
        {"id": "b", "name": "B", "kind": "coupon", "weight": 4, "stock": 20_000},
        {"id": "c", "name": "C", "kind": "points", "weight": 15, "stock": 20_000},
        {"id": "none", "name": "謝謝參與", "kind": "none", "weight": 80, "fallback": True}]}
    game = lottery(engine_of(table))
    game.open(seed="ab" * 32)
    counts = Counter(game.draw(f"c{n}").prize.id for n in range(200) for _ in range(100))
    assert counts == {"a": 200, "b": 804, "c": 2984, "none": 16012}
    expected = {"a": 200, "b": 800, "c": 3000, "none": 16000}
    chi2 = sum(Fraction((counts[k] - e) ** 2, e) for k, e in expected.items())
    assert chi2 == Fraction(0, 200) + Fraction(16, 800) + Fraction(256, 3000) \
        + Fraction(144, 16000)
    assert chi2 < Fraction(16266, 1000)


# -- the audit ------------------------------------------------------------------------------


@pytest.fixture
def played() -> Iterator[tuple[LotteryGame, DrawLog]]:
    """A revealed game with fallbacks of every kind: stock 2 of gold, locked until 3
    draws, at most two wins each, a guarantee every 3 draws."""
    table = one_prize(max_wins=2, guarantee_every=3, prizes=[
        {"id": "gold", "name": "Gold", "kind": "cash", "value": "10.00", "weight": 500,
         "stock": 2, "locked_until": 3},
        {"id": "silver", "name": "Silver", "kind": "coupon", "weight": 1, "stock": 50},
        dict(THANKS, weight=500)])
    game = lottery(engine_of(table))
    game.open(seed=SEED)
    for n in range(12):
        for customer in ("c1", "c2", "c3"):
            game.draw(customer, client_seed=f"{customer}-{n // 4}")
    yield game, revealed_log(game)


def test_a_real_log_verifies(played: tuple[LotteryGame, DrawLog]) -> None:
    _, log = played
    report = verify_log(log, REGISTRY)
    assert report.ok and report.draws == 36
    reasons = Counter(e["reason"] for e in log.entries)
    assert set(reasons) == {"locked", "out_of_stock", "max_wins", "guarantee", None}
    # and through the exported JSON lines, as `promokit game verify` reads it
    assert verify_log(DrawLog.loads(log.dumps()), REGISTRY).ok


def tampered(log: DrawLog, change: Callable[[list[dict[str, Any]]], None]) -> DrawLog:
    entries = [dict(e) for e in log.entries]
    change(entries)
    return attrs.evolve(log, entries=tuple(entries))


def first(entries: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    return next(e for e in entries if all(e.get(k) == v for k, v in match.items()))


def test_a_changed_prize_fails(played: tuple[LotteryGame, DrawLog]) -> None:
    _, log = played

    def give_gold(entries: list[dict[str, Any]]) -> None:
        entry = first(entries, reason="max_wins")
        entry.update(prize="gold", reason=None)

    problems = verify_log(tampered(log, give_gold), REGISTRY).problems
    number = next(n for n, e in enumerate(log.entries, 1) if e["reason"] == "max_wins")
    assert any(p.startswith(f"draw {number}: should award 'thanks' (reason max_wins)")
               for p in problems)


def test_a_changed_drawn_prize_fails(played: tuple[LotteryGame, DrawLog]) -> None:
    _, log = played

    def redraw(entries: list[dict[str, Any]]) -> None:
        entries[0]["drawn"] = "silver"

    problems = verify_log(tampered(log, redraw), REGISTRY).problems
    assert any(p.startswith("draw 1: the randomness picks") for p in problems)


def test_a_changed_nonce_fails(played: tuple[LotteryGame, DrawLog]) -> None:
    _, log = played

    def renonce(entries: list[dict[str, Any]]) -> None:
        entries[3]["nonce"] = 7

    problems = verify_log(tampered(log, renonce), REGISTRY).problems
    assert "draw 4: customer 'c1' draws with nonce 7, expected 2 (nonces go 1, 2, 3 … without " \
           "gaps or repeats)" in problems


def test_a_removed_entry_fails(played: tuple[LotteryGame, DrawLog]) -> None:
    _, log = played

    def remove(entries: list[dict[str, Any]]) -> None:
        del entries[4]  # c2's second draw

    problems = verify_log(tampered(log, remove), REGISTRY).problems
    assert "draw 7: customer 'c2' draws with nonce 3, expected 2 (nonces go 1, 2, 3 … without " \
           "gaps or repeats)" in problems
    assert "draw 5: position 6 logged, but it is entry 5 of the log (positions go 1, 2, 3 … " \
           "in log order)" in problems
    assert any(p.startswith("draw 5: prev ") and p.endswith(
        "is not the hash of the entry before it (an entry was changed, removed or moved)")
        for p in problems)


def test_a_changed_seed_fails(played: tuple[LotteryGame, DrawLog]) -> None:
    _, log = played
    problems = verify_log(attrs.evolve(log, seed=OTHER_SEED), REGISTRY).problems
    assert problems[0] == "the revealed seed does not hash to the published commitment"
    forged = attrs.evolve(log, seed=OTHER_SEED,
                          commitment=hashlib.sha256(bytes.fromhex(OTHER_SEED)).hexdigest())
    assert any("the randomness picks" in p for p in verify_log(forged, REGISTRY).problems)


def test_a_claimed_out_of_stock_fallback_fails(played: tuple[LotteryGame, DrawLog]) -> None:
    _, log = played
    number = next(n for n, e in enumerate(log.entries, 1)
                  if e["prize"] == "gold" and e["reason"] is None)

    def deny(entries: list[dict[str, Any]]) -> None:
        entries[number - 1].update(prize="thanks", reason="out_of_stock")

    problems = verify_log(tampered(log, deny), REGISTRY).problems
    assert any(p.startswith(f"draw {number}: should award 'gold' (reason None)")
               for p in problems)


def test_a_denied_guarantee_fails(played: tuple[LotteryGame, DrawLog]) -> None:
    _, log = played
    number = next(n for n, e in enumerate(log.entries, 1) if e["reason"] == "guarantee")

    def deny(entries: list[dict[str, Any]]) -> None:
        entries[number - 1].update(prize="thanks", reason=None, candidates=[])

    problems = verify_log(tampered(log, deny), REGISTRY).problems
    assert any(p.startswith(f"draw {number}: the guarantee left out") for p in problems)


def guarantee_at(log: DrawLog) -> int:
    return next(n for n, e in enumerate(log.entries, 1) if e["reason"] == "guarantee")


@pytest.mark.parametrize("change, expected", [
    (lambda log, es: es[3].update(position=1),
     "draw 4: position 1 logged, but it is entry 4 of the log (positions go 1, 2, 3 … in log "
     "order)"),
    (lambda log, es: es[0].update(prize="diamond"),
     "draw 1: awards 'diamond', which is not a prize"),
    (lambda log, es: es[guarantee_at(log) - 1].update(
        candidates=[*es[guarantee_at(log) - 1]["candidates"], "thanks"]),
     "guarantee candidates {listed} include a prize that is not a paid, unlocked prize"),
    (lambda log, es: es[guarantee_at(log) - 1].pop("candidates"),
     "the guarantee was due but the log lists no candidates"),
    (lambda log, es: es[0].update(candidates=[]),
     "draw 1: lists guarantee candidates, but no guarantee was due"),
    (lambda log, es: es[0].update(nonce="1"),
     "draw 1: malformed entry (TypeError('customer must be a string, nonce a whole number, "
     "client_seed a string or null'))"),
])
def test_other_tampering_fails(played: tuple[LotteryGame, DrawLog],
                               change: Callable[[DrawLog, list[dict[str, Any]]], None],
                               expected: str) -> None:
    _, log = played
    entries = [dict(e) for e in log.entries]
    change(log, entries)
    problems = verify_log(attrs.evolve(log, entries=tuple(entries)), REGISTRY).problems
    number = guarantee_at(log)
    listed = entries[number - 1].get("candidates")
    expected = expected.replace("{listed}", str(listed))
    assert any(p.endswith(expected) or p == expected for p in problems), problems


def test_a_guarantee_of_a_prize_out_of_stock_fails(played: tuple[LotteryGame, DrawLog]) -> None:
    _, log = played
    number = next(n for n, e in enumerate(log.entries, 1)
                  if e["reason"] == "guarantee" and e["candidates"] == ["silver"])
    gold_gone = sum(e["prize"] == "gold" for e in log.entries[:number - 1]) == 2
    assert gold_gone and log.entries[number - 1]["candidates"] == ["silver"]
    entries = [dict(e) for e in log.entries]
    entries[number - 1].update(candidates=["gold"], prize="gold")
    problems = verify_log(attrs.evolve(log, entries=tuple(entries)), REGISTRY).problems
    assert f"draw {number}: the guarantee gave 'gold', which was out of stock" in problems
    assert f"draw {number}: the guarantee left out ['silver'], which were in stock" in problems


def test_two_opens_racing_with_one_seed_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    store = MemoryStore()
    first = lottery(engine_of(koi_table(), store=store))
    second = lottery(engine_of(koi_table(), store=store))
    published = first.open(seed=SEED)
    real_started = second.started
    calls = Counter[str]()

    def late() -> dict[str, Any] | None:  # read before the other open landed
        calls["started"] += 1
        return None if calls["started"] == 1 else real_started()

    monkeypatch.setattr(second, "started", late)
    assert second.open(seed=SEED) == published
    calls.clear()
    with pytest.raises(GameError) as caught:
        second.open(seed=OTHER_SEED)
    assert caught.value.reason == "already_open"


def test_malformed_entries_are_reported_not_raised() -> None:
    spec = parse_campaigns(data_of(one_prize()), REGISTRY).games[0]
    problems = Lottery().verify({spec.config_hash: spec}, SEED,
                                [{"config_hash": spec.config_hash, "customer": "c1"},
                                 {"config_hash": "0" * 64}])
    assert problems[:2] == [
        "draw 1: position None logged, but it is entry 1 of the log (positions go 1, 2, 3 … "
        "in log order)", "draw 1: prev None… is not the commitment"]
    assert problems[2].startswith("draw 1: malformed entry (KeyError('nonce')")
    assert problems[-1] == "draw 2: ran under a config the log does not hold"


def test_verify_passes_after_a_change_in_customers_favour_mid_game() -> None:
    store = MemoryStore()
    game = lottery(engine_of(one_prize(stock=2), store=store))
    game.open(seed=SEED)
    before = [game.draw(f"c{n}") for n in range(3)]
    assert [d.reason for d in before] == [None, None, "out_of_stock"]
    more = one_prize(stock=3)  # one more gold: better for customers
    game2 = lottery(engine_of(more, store=store))
    assert game2.spec.config_hash != game.spec.config_hash
    after = [game2.draw(f"c{n}") for n in range(3, 5)]
    assert [(d.prize.id, d.reason) for d in after] == [("gold", None), ("thanks", "out_of_stock")]
    log = revealed_log(game2)
    assert set(log.configs) == {game.audit_hash, game2.audit_hash}
    assert [e["config_hash"] for e in log.entries] == [game.audit_hash] * 3 + [
        game2.audit_hash] * 2
    assert verify_log(log, REGISTRY).ok
    assert verify_log(DrawLog.loads(log.dumps()), REGISTRY).ok


def test_an_edited_readable_config_in_the_header_fails(
        played: tuple[LotteryGame, DrawLog]) -> None:
    """Fault: editing only the header's readable ``config`` (a weight 10 → 1) verified."""
    _, log = played
    config = json.loads(json.dumps(log.config))
    config["prizes"][1]["weight"] = 10
    problems = verify_log(attrs.evolve(log, config=config), REGISTRY).problems
    assert problems == (f"the header's config is not the config {log.config_hash[:12]}… it "
                        "names",)
    text = log.dumps().replace('"weight":1}', '"weight":10}', 1)  # in the exported lines
    assert text != log.dumps() and not verify_log(DrawLog.loads(text), REGISTRY).ok


def rechained(log: DrawLog, entries: list[dict[str, Any]]) -> DrawLog:
    """A forger who knows the scheme: the chain and the header recomputed to fit."""
    previous = log.commitment
    for entry in entries:
        entry["prev"] = previous
        previous = default_prev(entry)
    return attrs.evolve(log, entries=tuple(entries), draws=len(entries), head=previous)


def test_a_win_rewritten_as_locked_and_given_to_a_later_drawer_fails() -> None:
    """Fault: the draw count deciding "locked until draw N" was outside the HMAC, so a
    genuine win could be rewritten as ``locked`` and the prize given to a later drawer,
    and both verifiers accepted it."""
    game = lottery(engine_of(one_prize(stock=1, prizes=[
        {"id": "gold", "name": "Gold", "kind": "cash", "value": "10.00", "weight": 1_000_000,
         "stock": 1, "locked_until": 3}, dict(THANKS, weight=1)])))
    game.open(seed=SEED)
    draws = [game.draw(f"c{n}") for n in range(1, 7)]
    assert [(d.position, d.prize.id, d.reason) for d in draws[2:5]] == [
        (3, "thanks", "locked"), (4, "gold", None), (5, "thanks", "out_of_stock")]
    log = revealed_log(game)
    entries = [dict(e) for e in log.entries]
    entries[3].update(position=3, prize="thanks", reason="locked")  # c4's win, "locked"
    entries[4].update(prize="gold", reason=None)  # … and its gold to c5
    problems = verify_log(rechained(log, entries), REGISTRY).problems
    assert "draw 4: position 3 logged, but it is entry 4 of the log (positions go 1, 2, 3 … " \
           "in log order)" in problems
    entries[3]["position"] = 4  # the real position: then "locked" is not due
    problems = verify_log(rechained(log, entries), REGISTRY).problems
    assert any(p.startswith("draw 4: should award 'gold' (reason None), the log says "
                            "'thanks' (reason locked)") for p in problems), problems
    # either way the head is not the one the reveal published
    assert not verify_log(rechained(log, entries), REGISTRY, draws=log.draws,
                          head=game.head()).ok


def test_each_draw_returns_its_position_and_receipt() -> None:
    game = lottery(engine_of(one_prize()))
    game.open(seed=SEED)
    draws = [game.draw(customer) for customer in ("c1", "c2", "c1")]
    entries = entries_of(game)
    assert [d.position for d in draws] == [e["position"] for e in entries] == [1, 2, 3]
    assert [d.receipt for d in draws] == [default_prev(e) for e in entries]
    assert [e["prev"] for e in entries] == [game.commitment(), draws[0].receipt,
                                            draws[1].receipt]
    assert game.head() == draws[-1].receipt and game.total_draws() == 3
    log = revealed_log(game)
    assert (log.draws, log.head) == (3, draws[-1].receipt)
    assert verify_log(log, REGISTRY, draws=3, head=draws[-1].receipt).ok


def test_a_seed_cannot_be_ground_for_a_customers_default_draws() -> None:
    """Fault: the default client seed was the customer's id, known before the
    commitment, so the server could grind its seed to favour a chosen customer (found
    in 406 tries). A draw without a client seed now uses the hash of the log before
    it, which depends on every earlier draw: after other draws, the same seed,
    customer and nonce give other randomness."""
    seeds = set()
    for first in ("c7", "c8", "c9"):
        game = lottery(engine_of(one_prize()))
        game.open(seed=SEED)
        game.draw(first, client_seed="theirs")
        draw = game.draw("c1")
        assert draw.nonce == 1 and entries_of(game)[1]["client_seed"] is None
        seeds.add(draw.client_seed)
    assert len(seeds) == 3 and "c1" not in seeds


def test_weights_adding_up_past_the_bound_do_not_load() -> None:
    """Fault: weights adding up past 2⁶⁴ loaded and skewed the probabilities; each is
    at most 10¹⁵ and so is their total."""
    table = one_prize(weight=600_000_000_000_000, prizes=[
        {"id": "gold", "name": "Gold", "kind": "cash", "value": "10.00",
         "weight": 600_000_000_000_000, "stock": 1},
        {"id": "silver", "name": "Silver", "kind": "cash", "value": "5.00",
         "weight": "400000000000000", "stock": 1},
        dict(THANKS, weight=1)])
    assert problems_of(table) == [
        "game[0].prizes: the prizes' weights add up to 1,000,000,000,000,001, more than "
        "1,000,000,000,000,000: a draw picks ⌊u·W/2⁶⁴⌋ among the total W, which must stay "
        "at most that for every prize to get its share"]
    table["prizes"][1]["weight"] = "399999999999999"  # exactly 10¹⁵ in all: loads
    assert parse_campaigns(data_of(table), REGISTRY).games[0].config.weights == (
        600_000_000_000_000, 399_999_999_999_999, 1)


# -- config changes ----------------------------------------------------------------------------


def changes_between(old: dict[str, Any], new: dict[str, Any]) -> dict[str, bool]:
    a = parse_campaigns(data_of(old), REGISTRY).games[0]
    b = parse_campaigns(data_of(new), REGISTRY).games[0]
    return {change.path: change.worse for change in Lottery().changes(a, b)}


@pytest.mark.parametrize("new, path", [
    (prize_with(1, value="40.00"), "prizes[c50].value"),
    (prize_with(1, weight=50), "prizes[c50].probability"),
    (prize_with(2, weight=2000), "prizes[c50].probability"),
    (prize_with(1, stock=99), "prizes[c50].stock"),
    (prize_with(0, locked_until=200), "prizes[koi].locked_until"),
    (prize_with(1, kind="points"), "prizes[c50].kind"),
    (koi_table(prizes=koi_table()["prizes"][1:]), "prizes[koi]"),
    (koi_table(draws_per_day=2), "draws_per_day"),
    (koi_table(free_draws_per_day=0), "free_draws_per_day"),
    (koi_table(max_wins=1), "max_wins"),
    (koi_table(guarantee_every=20), "guarantee_every"),
    ({k: v for k, v in koi_table().items() if k != "guarantee_every"}, "guarantee_every"),
    (koi_table(tickets={"purchase": 1, "share": 1, "quiz": 1}), "tickets.purchase"),
    (koi_table(tickets={"purchase": 2, "share": 1}), "tickets.quiz"),
    (koi_table(max_tickets_per_day=2), "max_tickets_per_day"),
])
def test_changes_worse_for_customers(new: dict[str, Any], path: str) -> None:
    assert changes_between(koi_table(), new)[path] is True


@pytest.mark.parametrize("new, path", [
    (prize_with(1, value="60.00"), "prizes[c50].value"),
    (prize_with(1, weight=150), "prizes[c50].probability"),
    (prize_with(1, stock=200), "prizes[c50].stock"),
    (prize_with(0, locked_until=None), "prizes[koi].locked_until"),
    (prize_with(1, name="50元券"), "prizes[c50].name"),
    (koi_table(prizes=[*koi_table()["prizes"], {"id": "c5", "name": "5元券", "kind": "coupon",
                                                 "weight": 10, "stock": 10}]), "prizes[c5]"),
    (koi_table(draws_per_day=5), "draws_per_day"),
    (koi_table(max_wins=3), "max_wins"),
    ({k: v for k, v in koi_table().items() if k != "max_wins"}, "max_wins"),
    (koi_table(guarantee_every=5), "guarantee_every"),
    (koi_table(tickets={"purchase": 3, "share": 1, "quiz": 1}), "tickets.purchase"),
    (koi_table(max_tickets_per_day=5), "max_tickets_per_day"),
    (koi_table(redeem="中獎後30天內兌換"), "redeem"),
])
def test_changes_in_customers_favour(new: dict[str, Any], path: str) -> None:
    assert changes_between(koi_table(), new)[path] is False


def test_a_started_game_rejects_a_worse_config_and_adopts_a_better_one() -> None:
    store, recorder = MemoryStore(), Recorder()
    registry = registry_with(recorder)
    game = lottery(engine_of(koi_table(), store=store, registry=registry))
    game.open(seed=SEED)
    with pytest.raises(GameError) as caught:
        engine_of(prize_with(1, stock=50), store=store, registry=registry).games["koi"]
    assert caught.value.reason == "config_worse"
    assert "prizes[c50].stock: 100 → 50 (worse for customers)" in str(caught.value)
    better = lottery(engine_of(prize_with(1, stock=150), store=store, registry=registry))
    assert better.started()["config_hash"] == better.spec.config_hash  # type: ignore[index]
    assert [e.event for e in recorder.games] == ["started", "config_changed"]
    assert recorder.games[-1].data == {"changes": [
        "prizes[c50].stock: 100 → 150 (in customers' favour)"]}


# -- events -----------------------------------------------------------------------------------


def test_events_reach_the_hook() -> None:
    recorder = Recorder()
    game = lottery(engine_of(one_prize(stock=1, tickets={"share": 1}), registry=registry_with(
        recorder)))
    commitment = game.open(seed=SEED)
    game.grant("c1", "share", "s1")
    game.grant("c1", "share", "s1")  # a repeat: no event
    game.draw("c1")
    game.draw("c2")
    game.reveal()
    assert [(e.event, e.customer) for e in recorder.games] == [
        ("started", None), ("ticket_granted", "c1"), ("drawn", "c1"), ("won", "c1"),
        ("drawn", "c2"), ("revealed", None)]
    started, granted, drawn, won, lost, revealed = recorder.games
    assert all((e.game, e.kind, e.at) == ("g", "lottery", NOW) for e in recorder.games)
    assert started.data == {"commitment": commitment}
    assert granted.data == {"action": "share", "action_id": "s1", "granted": 1, "tickets": 1}
    assert drawn.data == {"nonce": 1, "position": 1, "prize": "gold", "won": True,
                          "reason": None, "receipt": default_prev(entries_of(game)[0])}
    assert won.data == {"nonce": 1, "id": "gold", "name": "Gold", "kind": "cash",
                        "value": "10.00", "fallback": False}  # money as in JSON: a string
    assert lost.data == {"nonce": 1, "position": 2, "prize": "thanks", "won": False,
                         "reason": "out_of_stock", "receipt": default_prev(entries_of(game)[1])}
    assert revealed.data == {"seed": SEED, "draws": 2, "commitment": commitment,
                             "head": lost.data["receipt"]}


# -- disclosure ----------------------------------------------------------------------------------


def test_the_disclosure_in_chinese() -> None:
    game = lottery(engine_of(koi_table(), jurisdiction="cn"))
    assert game.disclosure("zh-CN").splitlines() == [
        "主办方：杭州某某旗艦店，客服 400-800-1111",
        "活动时间：2026年11月10日 20:00 至 2026年11月11日 23:59（北京时间 / Asia/Shanghai）",
        "奖项设置（每次抽奖的中奖概率）：",
        "- 錦鯉大禮包（实物，市场价值¥50,000.00）：共1份，中奖概率0.10%；本活动累计抽奖满100次后"
        "方可抽中",
        "- 50元無門檻券（优惠券，面值¥50.00）：共100份，中奖概率9.90%",
        "- 謝謝參與（无奖品）：不限量，中奖概率90.00%；"
        "抽中的奖品已抽完、尚未开放或您已达中奖上限时，均改为获得此奖",
        "抽奖次数：每人每天最多抽奖3次；每天免费1次，其余每次消耗1张抽奖券；每人最多中奖2次（不含謝謝參與）；"
        "按活动所在时区的自然日计算",
        "抽奖券：每次下单购买得2张、每次分享得1张、每次答题得1张；每人每天最多获得3张；抽奖券在活动结束前有效",
        "保底：连续9次未抽中謝謝參與以外的奖品，第10次必中一个尚有库存的奖品（按权重抽取）",
        "开奖方式及时间：即抽即開，結果當場顯示",
        "兑奖方式及时间：中獎後7天內在「我的獎品」兌換，逾期作廢",
        "公正性：每次抽奖结果以服务器种子为密钥，对您的顾客编号、您的客户种子（未提供时为本次"
        "抽奖前一条抽奖记录的哈希值）、您的抽奖序号和本规则的哈希值计算 HMAC-SHA256 得出。"
        "服务器种子的 SHA-256 承诺值在首次抽奖前公布；如需确保结果公正，请在承诺值公布后自行"
        "提供随机的客户种子，并保留抽奖凭据。活动结束后公布种子、抽奖总次数、最终哈希值和全部"
        "抽奖记录，任何人都可逐条重算验证（promokit game verify）。"]
    commitment = game.open(seed=SEED)
    assert game.disclosure("zh-CN").splitlines()[-1] == \
        f"承诺值（服务器种子的 SHA-256）：{commitment}"


def test_the_disclosure_in_english() -> None:
    game = lottery(engine_of(koi_table()))
    lines = game.disclosure("en").splitlines()
    assert lines[:8] == [
        "Organiser: 杭州某某旗艦店，客服 400-800-1111",
        "Period: 10 Nov 2026, 20:00 – 11 Nov 2026, 23:59 (China Time, Asia/Shanghai)",
        "Prizes (probability per draw):",
        "- 錦鯉大禮包 (goods, market value ¥50,000.00): 1 in total, probability 0.10%; it can be "
        "won only after the game has had 100 draws in total",
        "- 50元無門檻券 (coupon, worth ¥50.00): 100 in total, probability 9.90%",
        "- 謝謝參與 (no prize): unlimited, probability 90.00%; also given whenever the prize "
        "drawn is out of stock, not yet unlocked, or beyond your win limit",
        "Draws: up to 3 times a day per customer; once a day free, each further draw uses one "
        "entry ticket; each customer wins at most twice (prizes other than 謝謝參與); days are "
        "local days",
        "Entry tickets: each purchase earns 2, each share earns 1 and each quiz answered earns 1; "
        "at most 3 a day per customer; tickets stay valid until the game ends"]
    assert lines[8] == ("Guarantee: after 9 draws in a row without a prize other than 謝謝參與, "
                        "your next draw wins one of the prizes still in stock (picked by their "
                        "weights)")
    assert lines[9] == "How and when draws happen: 即抽即開，結果當場顯示"
    assert lines[10] == "How and when to redeem: 中獎後7天內在「我的獎品」兌換，逾期作廢"
    assert lines[11].startswith("Fairness: each result is HMAC-SHA256, keyed by the server "
                                "seed, of your customer id, your client seed")
    assert "commitment of the server seed is published before the first draw" in lines[11]
    assert "give your own random client seed after it is published" in lines[11]


def test_a_plain_lottery_discloses_cash_and_points() -> None:
    table = one_prize(prizes=[
        {"id": "red", "name": "Red packet", "kind": "cash", "value": "8.88", "weight": 1,
         "stock": 1000},
        {"id": "pts", "name": "100 points", "kind": "points", "weight": 2, "stock": 1000},
        dict(THANKS, weight=5)])
    lines = lottery(engine_of(table)).disclosure("en").splitlines()
    assert lines[0] == "Organiser: the shop"
    assert lines[2:5] == [
        "- Red packet (cash ¥8.88): 1,000 in total, probability 12.50%",  # 1/8
        "- 100 points (points): 1,000 in total, probability 25.00%",  # 2/8
        "- 謝謝參與 (no prize): unlimited, probability 62.50%; also given whenever the prize "
        "drawn is out of stock, not yet unlocked, or beyond your win limit"]
    assert lines[5] == "Draws: 50 times a day free; days are local days"


# -- every store backend ---------------------------------------------------------------------


@EVERY_BACKEND
def test_a_small_game_on_every_backend(store: Store, reopen: Callable[[], Store]) -> None:
    table = one_prize(stock=2, max_wins=1, tickets={"share": 1}, draws_per_day=3,
                      free_draws_per_day=1)
    game = lottery(engine_of(table, store=store))
    game.open(seed=SEED)
    assert game.grant("c1", "share", "s1").granted == 1
    assert game.grant("c1", "share", "s1").duplicate
    draws = [game.draw("c1"), game.draw("c1"), game.draw("c2"), game.draw("c3")]
    assert [(d.prize.id, d.reason, d.ticket) for d in draws] == [
        ("gold", None, False), ("thanks", "max_wins", True), ("gold", None, False),
        ("thanks", "out_of_stock", False)]
    # another app server sees the same game
    handle = reopen()
    other = lottery(engine_of(table, store=handle))
    assert other.state("c1") | {"won": None} == {
        "customer": "c1", "draws": 2, "draws_today": 2, "draws_left_today": 0,
        "free_draws_left_today": 0, "tickets": 0, "tickets_granted_today": 1, "wins": 1,
        "wins_left": 0, "won": None, "draws_until_guarantee": None}
    assert other.total_draws() == 4
    assert other.reveal() == SEED
    if handle is not store:
        handle.close()
    with pytest.raises(GameError) as caught:
        game.draw("c4")
    assert caught.value.reason == "revealed"
    log = game.draw_log()
    assert [e["nonce"] for e in log.entries] == [1, 2, 1, 1]
    assert verify_log(log, REGISTRY).ok


# -- CLI ----------------------------------------------------------------------------------------


CLI_TOML = '''currency = "CNY"
timezone = "Asia/Shanghai"

[[game]]
id = "koi"
kind = "lottery"
name = "分享抽錦鯉"
free_draws_per_day = 1
tickets = { share = 1 }
prizes = [
  { id = "c50", name = "50元券", kind = "coupon", value = "50.00", weight = 1, stock = 10 },
  { id = "thanks", name = "謝謝參與", kind = "none", weight = 9, fallback = true },
]
'''


def test_the_cli_actions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    campaigns = tmp_path / "koi.toml"
    campaigns.write_text(CLI_TOML, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'store.db'}"

    def play(action: str, *extra: str) -> Any:
        assert main(["game", "play", "koi", action, str(campaigns), "--store", url,
                     *extra]) == 0
        return json.loads(capsys.readouterr().out)

    opened = play("open")
    assert len(opened["commitment"]) == 64
    drawn = play("draw", "--customer", "c1", "--set", "client_seed=lucky")
    assert (drawn["nonce"], drawn["client_seed"]) == (1, "lucky")
    granted = play("grant", "--customer", "c1", "--set", "action=share", "--set",
                   "action_id=s1")
    assert (granted["granted"], granted["tickets"]) == (1, 1)
    assert play("draw", "--customer", "c1")["ticket"] is True
    state = play("state", "--customer", "c1")
    assert (state["draws"], state["tickets"]) == (2, 0)
    revealed = play("reveal")
    assert revealed["commitment"] == opened["commitment"] and revealed["draws"] == 2
    assert main(["game", "reveal", "koi", str(campaigns), "--store", url]) == 0
    assert json.loads(capsys.readouterr().out) == revealed  # the same, published again
    assert len(revealed["head"]) == 64

    log = tmp_path / "log.jsonl"
    assert main(["game", "log", "koi", str(campaigns), "--store", url, "--out", str(log)]) == 0
    capsys.readouterr()
    assert main(["game", "verify", str(log)]) == 0
    assert main(["game", "verify", str(log), "--draws", "2", "--head", revealed["head"]]) == 0
    capsys.readouterr()
    # a log cut short, held against what the reveal published, fails
    short = tmp_path / "short.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines()
    short.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    assert main(["game", "verify", str(short), "--draws", "2", "--head", revealed["head"]]) == 1
    assert "the reveal published 2 draw(s), the log holds 1" in capsys.readouterr().err


def test_a_draw_as_json_writes_the_prize_value_as_a_decimal_string() -> None:
    # issue 13, fault 9: money in every JSON output is a DESIGN §5 string ("10.00"),
    # never minor units (1000), as the blind box, bargain and presale write it
    game = lottery(engine_of(one_prize(stock=1)))
    game.open(seed=SEED)
    drawn = game.act("draw", Customer(id="c1"), {})
    assert drawn["prize"] == {"id": "gold", "name": "Gold", "kind": "cash", "value": "10.00",
                              "fallback": False}
    assert json.loads(json.dumps(drawn)) == drawn
    # the only gold is gone: the fallback, which has no value
    assert game.draw("c2").to_json()["prize"] == {"id": "thanks", "name": "謝謝參與",
                                                  "kind": "none", "value": None,
                                                  "fallback": True}


def test_act_refuses_bad_arguments() -> None:
    game = lottery(engine_of(koi_table()))
    for action, args, reason in [("draw", {"seed": "x"}, "bad_argument"),
                                 ("grant", {"action": "share"}, "bad_argument"),
                                 ("state", {}, "customer_required"),
                                 ("dance", {}, "unknown_action")]:
        with pytest.raises(GameError) as caught:
            game.act(action, Customer(id=None if action == "state" else "c1"), args)
        assert caught.value.reason == reason, action


# -- docs -------------------------------------------------------------------------------------


def test_the_docs_example_loads_and_its_disclosure_is_the_one_shown() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "games" / "lottery.md").read_text(
        encoding="utf-8")
    toml = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    shown = doc.split("For the example:\n\n```text\n", 1)[1].split("```", 1)[0]
    game = lottery(engine_from_toml(toml, registry=REGISTRY))
    assert game.disclosure("zh-CN") == shown.strip()


def test_an_action_id_claimed_meanwhile_grants_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two customers claim one share id at once: the store's limit of 1 on the
    action id's counter lets one of them have it."""
    game = lottery(engine_of(koi_table()))
    assert game.grant("c1", "share", "s1").granted == 1
    store = game.store
    real_read = store.read
    once = game.row_id("grant", "share", "s1")

    def stale(keys: Any) -> Mapping[str, int]:
        return {k: 0 if k == once else v for k, v in real_read(keys).items()}

    monkeypatch.setattr(store, "read", stale)
    late = game.grant("c2", "share", "s1")
    monkeypatch.undo()
    assert (late.granted, late.tickets, late.duplicate) == (0, 0, True)
    assert store.read([once]) == {once: 1}
