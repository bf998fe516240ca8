"""A finite blind box pool drawn by several processes at once, on every shared backend.

``PROCESSES`` spawned worker processes with ``THREADS`` threads each (separate app
servers, each with its own engine and its own store handle) make 150 draws of 30
customers on a pool of 60 boxes, all starting together. Asserted exactly:

- 60 draws get a box and 90 are refused ``sold_out``; each item is drawn exactly
  its released quantity, never more, and the store's counters agree;
- the draws hold pool places 1 … 60, once each, and the journal lists them in that
  order (log order == pick order);
- the last prize goes once, to the draw that emptied the pool;
- every customer's nonces are 1 … n, and after the reveal the log verifies.

A fixed pool drawn the same way (120 boxes): every draw logs its real position,
1 … 120 in journal order, the one its drawer was told, each entry's ``prev`` is
the hash of the one before, and the log verifies against the published count and
head.

Memory stores are left out: they cannot be shared across processes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import concurrency_kit as kit
import pytest
from concurrency_kit import BACKENDS, DEADLINE, PROCESSES, THREADS

from promokit.cart import Customer
from promokit.errors import GameError
from promokit.gameplay import verify_log
from promokit.games.canonical import canonical_json
from promokit.plugins.games.blind_box import BlindBoxGame
from promokit.stores import Store
from promokit.testing import engine_from_toml

SEED = "c0ffee" * 10 + "c0ff"
QUANTITIES = {"panda": 20, "tiger": 20, "crane": 10, "koi": 6, "dragon": 3, "phoenix": 1}
CUSTOMERS = 30
DRAWS = 150

POOL = '''
currency = "CNY"
timezone = "Asia/Shanghai"
jurisdiction = "cn"

[[game]]
id = "zodiac"
kind = "blind_box"
name = "生肖一番賞"
organiser = "泡泡商店，客服 400-800-1234"
series = "生肖"
price = "25.00"
pool = "finite"
tiers = [{id = "common", name = "普通款"}, {id = "rare", name = "稀有款"},
         {id = "top", name = "頂級款"}]
items = [
  {id = "panda", name = "熊貓", tier = "common", value = "20.00", quantity = 20},
  {id = "tiger", name = "老虎", tier = "common", value = "20.00", quantity = 20},
  {id = "crane", name = "仙鶴", tier = "rare", value = "60.00", quantity = 10},
  {id = "koi", name = "錦鯉", tier = "rare", value = "60.00", quantity = 6},
  {id = "dragon", name = "金龍", tier = "top", value = "300.00", quantity = 3},
  {id = "phoenix", name = "鳳凰", tier = "top", value = "900.00", quantity = 1, hidden = true},
]
last_prize = {name = "全套簽名版", value = "2000.00"}
pity = {tier = "rare", within = 4}
'''


FIXED = POOL.replace('pool = "finite"', 'pool = "fixed"').replace("quantity", "weight").replace(
    'last_prize = {name = "全套簽名版", value = "2000.00"}\n', "").replace(
    'id = "zodiac"', 'id = "fixed"')


def _draw(game: BlindBoxGame, customer: str) -> dict[str, Any]:
    try:
        draw = game.draw(Customer(id=customer))
    except GameError as error:
        return {"customer": customer, "refused": error.reason}
    return {**draw.to_json(), "pid": os.getpid()}


def _work(url: str, lanes: list[list[str]]) -> list[dict[str, Any]]:
    """One app server: its own engine and store handle, one thread per lane of
    customer ids, every draw's outcome as plain data."""
    with kit.open_engine(url, POOL, clock=lambda: datetime(
            2026, 11, 11, 10, tzinfo=ZoneInfo("Asia/Shanghai"))) as engine:
        game = kit.game_of(engine, "zodiac", BlindBoxGame)
        kit.start_together(DEADLINE)
        return kit.run_lanes(lanes, lambda customer: _draw(game, customer), DEADLINE)


def _work_fixed(url: str, lanes: list[list[str]]) -> list[dict[str, Any]]:
    """One app server drawing from the fixed pool."""
    with kit.open_engine(url, FIXED, clock=lambda: datetime(
            2026, 11, 11, 10, tzinfo=ZoneInfo("Asia/Shanghai"))) as engine:
        game = kit.game_of(engine, "fixed", BlindBoxGame)
        kit.start_together(DEADLINE)
        return kit.run_lanes(lanes, lambda customer: _draw(game, customer), DEADLINE)


@pytest.fixture(scope="module")
def pool() -> Iterator[kit.WorkerPool]:
    with kit.WorkerPool() as workers:
        yield workers


@BACKENDS
def test_a_finite_pool_drawn_by_many_processes(pool: kit.WorkerPool, store_url: str,
                                               store: Store) -> None:
    engine = engine_from_toml(POOL, store=store, clock=lambda: datetime(
        2026, 11, 11, 10, tzinfo=ZoneInfo("Asia/Shanghai")))
    game = kit.game_of(engine, "zodiac", BlindBoxGame)
    game.open(seed=SEED)
    draws = [f"c{n % CUSTOMERS:02d}" for n in range(DRAWS)]
    lanes = [draws[lane::PROCESSES * THREADS] for lane in range(PROCESSES * THREADS)]
    results = kit.flat(pool.run_all(_work, lanes, store_url))

    assert len(results) == DRAWS
    boxes = [r for r in results if "refused" not in r]
    assert len({r["pid"] for r in boxes}) > 1  # really several processes
    assert Counter(r.get("refused") for r in results if "refused" in r) == {"sold_out": 90}
    assert Counter(r["item"] for r in boxes) == QUANTITIES
    assert sorted(r["pool_draw"] for r in boxes) == list(range(1, 61))
    prizes = [r for r in boxes if r["last_prize"] is not None]
    assert len(prizes) == 1 and prizes[0]["pool_draw"] == 60 and prizes[0]["remaining"] == 0
    counters = store.read(["game:zodiac:pool:draws", "game:zodiac:pool:last_prize",
                           *(f"game:zodiac:pool:drawn:{item}" for item in QUANTITIES)])
    assert counters == {"game:zodiac:pool:draws": 60, "game:zodiac:pool:last_prize": 1,
                        **{f"game:zodiac:pool:drawn:{i}": q for i, q in QUANTITIES.items()}}

    journal = [json.loads(body) for _, body in store.journal("game:zodiac:draws")]
    assert [entry["pool_draw"] for entry in journal] == list(range(1, 61))
    nonces: dict[str, list[int]] = {}
    for entry in journal:
        nonces.setdefault(entry["customer"], []).append(entry["nonce"])
    assert all(seen == list(range(1, len(seen) + 1)) for seen in nonces.values())
    assert sum(game.state(c)["draws"] for c in nonces) == 60

    game.reveal()
    report = verify_log(game.draw_log(), engine.registry)
    assert report.ok and report.draws == 60, report.problems


@BACKENDS
def test_a_fixed_pool_logs_every_draw_at_its_real_position(
        pool: kit.WorkerPool, store_url: str, store: Store) -> None:
    engine = engine_from_toml(FIXED, store=store, clock=lambda: datetime(
        2026, 11, 11, 10, tzinfo=ZoneInfo("Asia/Shanghai")))
    game = kit.game_of(engine, "fixed", BlindBoxGame)
    game.open(seed=SEED)
    draws = [f"c{n % CUSTOMERS:02d}" for n in range(120)]
    lanes = [draws[lane::PROCESSES * THREADS] for lane in range(PROCESSES * THREADS)]
    results = kit.flat(pool.run_all(_work_fixed, lanes, store_url))

    assert all("refused" not in r for r in results) and len(results) == 120
    assert len({r["pid"] for r in results}) > 1
    journal = [(sequence, json.loads(body))
               for sequence, body in store.journal("game:fixed:draws")]
    assert [e["position"] for _, e in journal] == [seq for seq, _ in journal] == list(
        range(1, 121))
    told = {r["position"]: r for r in results}
    previous = game.commitment()
    for _, entry in journal:
        assert entry["prev"] == previous
        previous = hashlib.sha256(canonical_json(entry).encode()).hexdigest()
        assert (told[entry["position"]]["receipt"], told[entry["position"]]["customer"]) == (
            previous, entry["customer"])

    game.reveal()
    assert (game.total_draws(), game.head()) == (120, previous)
    report = verify_log(game.draw_log(), engine.registry, draws=120, head=previous)
    assert report.ok, report.problems[:5]
