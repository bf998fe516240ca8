"""Bargains under real concurrency: spawned processes × threads helping at once.

Every test runs on the backends processes can share (SQLite, Redis, PostgreSQL).
``PROCESSES`` worker processes with ``THREADS`` threads each build their own
engine from the same TOML and open their own store, as app servers would; they
start together (a barrier) and return plain dicts. What is asserted:

- **more helpers than helps**: 36 returning customers race for a 10-help bargain
  while 36 more, some of them new customers (a help worth two planned cuts),
  race for another: exactly 10 helps (10 planned cuts) succeed on each, the
  others are refused as ``done``, the cuts add up to price − floor, the price
  is the floor exactly (never below), the ``cut`` counter equals the cut total,
  and the revealed log verifies;
- **a daily cap across bargains**: 24 helpers with ``helps_per_day = 1`` each
  try three bargains at once from three processes: each helper helps exactly
  once, and the daily counters are all 1.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import concurrency_kit as kit
import pytest
from concurrency_kit import BACKENDS, DEADLINE, LANES, PROCESSES, THREADS

from promokit import Engine
from promokit.cart import Customer
from promokit.errors import GameError
from promokit.gameplay import verify_log
from promokit.plugins.games.bargain import BargainGame
from promokit.stores import Store
from promokit.testing import engine_from_toml

SECRET = b"bargain-concurrency-secret-000000"
NOW = datetime(2026, 11, 11, 10, tzinfo=ZoneInfo("Asia/Shanghai"))

GAME = '''
currency = "CNY"
timezone = "Asia/Shanghai"

[[game]]
id = "kettle"
kind = "bargain"
sku = "KETTLE"
price = "100.00"
floor = "1.00"
helps = 10
new_helper_bonus = 2
'''

CAPPED = GAME.replace("helps = 10", "helps = 30\nhelps_per_day = 1")

Op = tuple[str, str, int]
"""``(bargain id, helper, orders_count)``."""


def _clock() -> datetime:
    return NOW


def _engine(toml: str, store: Store) -> Engine:
    return engine_from_toml(toml, store=store, clock=_clock, secret=SECRET)


# -- worker processes ---------------------------------------------------------------------

def _help(game: BargainGame, op: Op) -> dict[str, Any]:
    bargain, helper, orders = op
    try:
        done = game.help(bargain, Customer(id=helper, orders_count=orders))
    except GameError as error:
        return {"bargain": bargain, "helper": helper, "ok": False, "reason": error.reason,
                "pid": os.getpid()}
    return {"bargain": bargain, "helper": helper, "ok": True, "cut": done.cut,
            "cuts": done.cuts, "helps_left": done.helps_left, "price": done.price,
            "pid": os.getpid()}


def _work(url: str, toml: str, lanes: list[list[Op]]) -> list[dict[str, Any]]:
    """One worker process: its own engine and store, one thread per lane, all
    starting together."""
    kit.start_together(DEADLINE)
    with kit.open_engine(url, toml, clock=_clock, secret=SECRET) as engine:
        game = kit.game_of(engine, "kettle", BargainGame)
        return kit.run_lanes(lanes, lambda op: _help(game, op), DEADLINE)


class Workers(kit.WorkerPool):
    """``PROCESSES`` spawned processes running ``THREADS`` lanes each, at once."""

    def run(self, url: str, toml: str, lanes: Sequence[list[Op]]) -> list[dict[str, Any]]:
        assert len(lanes) == LANES
        return kit.from_each_process(self.submit(_work, lanes, url, toml))


@pytest.fixture(scope="module")
def workers() -> Iterator[Workers]:
    with Workers() as pool:
        yield pool


# -- tests --------------------------------------------------------------------------------


@BACKENDS
def test_more_helpers_than_helps_reach_the_floor_exactly(workers: Workers, store_url: str,
                                                         store: Store) -> None:
    engine = _engine(GAME, store)
    game = kit.game_of(engine, "kettle", BargainGame)
    plain = game.start_bargain(Customer(id="alice")).id
    mixed = game.start_bargain(Customer(id="bob")).id
    # every lane: three returning helpers on alice's bargain, three helpers on bob's,
    # one in three a new customer (worth two planned cuts), interleaved
    lanes = [[op for n in range(3) for op in (
        (plain, f"r{lane}-{n}", 5),
        (mixed, f"m{lane}-{n}", 0 if (lane + n) % 3 == 0 else 5))]
        for lane in range(LANES)]
    results = workers.run(store_url, GAME, lanes)
    assert len(results) == 72

    for bargain in (plain, mixed):
        mine = [r for r in results if r["bargain"] == bargain]
        won = [r for r in mine if r["ok"]]
        assert Counter(r["reason"] for r in mine if not r["ok"]) == {
            "done": len(mine) - len(won)}
        assert sum(r["cuts"] for r in won) == 10  # exactly N planned cuts
        assert sum(r["cut"] for r in won) == 9900  # 100.00 − 1.00, to the cent
        # each help saw a distinct number left; the last one left none
        lefts = sorted(r["helps_left"] for r in won)
        assert len(set(lefts)) == len(won) and lefts[0] == 0
        assert min(r["price"] for r in won) == 100  # the floor, never below
        state = game.bargain(bargain)
        assert (state.status, state.price, state.cut, state.helps_left) == (
            "done", 100, 9900, 0)
        assert sorted(state.helpers) == sorted(r["helper"] for r in won)
        key = f"game:kettle:bargain:{bargain.rpartition('.')[2]}:cut"
        assert store.read([key]) == {key: 9900}
    assert len([r for r in results if r["bargain"] == plain and r["ok"]]) == 10

    game.reveal()
    log = game.draw_log()
    assert len(log.entries) == len([r for r in results if r["ok"]])
    assert verify_log(log, engine.registry).ok


@BACKENDS
def test_a_daily_cap_holds_across_bargains_and_processes(workers: Workers, store_url: str,
                                                         store: Store) -> None:
    engine = _engine(CAPPED, store)
    game = kit.game_of(engine, "kettle", BargainGame)
    bargains = [game.start_bargain(Customer(id=f"o{n}")).id for n in range(PROCESSES)]
    helpers = [f"h{n}" for n in range(24)]
    # process p's lanes try bargain p; every helper appears once in each process
    lanes: list[list[Op]] = [[] for _ in range(LANES)]
    for n, helper in enumerate(helpers):
        for p in range(PROCESSES):
            lanes[p * THREADS + n % THREADS].append((bargains[p], helper, 5))
    results = workers.run(store_url, CAPPED, lanes)
    assert len(results) == 72
    wins = Counter(r["helper"] for r in results if r["ok"])
    assert wins == dict.fromkeys(helpers, 1)  # once a day, wherever they tried
    assert {r["reason"] for r in results if not r["ok"]} == {"limit_reached"}
    keys = [f"game:kettle:helps:{h}:2026-11-11" for h in helpers]
    assert set(store.read(keys).values()) == {1}
    cut = sum(r["cut"] for r in results if r["ok"])
    assert sum(game.bargain(b).cut for b in bargains) == cut
