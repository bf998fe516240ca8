"""The lottery under real concurrency: several spawned processes × several threads
drawing on one shared store (SQLite in WAL mode, Redis, PostgreSQL), each process
with its own engine and store handle, as separate app servers would.

What is asserted, exactly:

- **stock**: 1,000 draws by 1,000 distinct customers on a prize of stock 10 that
  is drawn 99 times in 100: exactly 10 winners (never more), the prize counter is
  10, the game's draw counter is 1,000, every other draw of the prize is an
  ``out_of_stock`` fallback, and the revealed log of 1,000 draws verifies;
- **reveal**: draws racing the reveal: every draw either lands before the reveal
  (and is in the log) or is refused with ``revealed``; the reveal never waits
  for the draws in flight; the count it publishes equals the draws logged, and
  the log verifies;
- **positions**: 600 draws racing for a prize locked until the 300th: every draw
  logs its real place in the game (positions 1 … 600 in journal order, each the
  one the drawer was told), the prize is ``locked`` exactly at positions up to
  300 and won at every later one, and the log verifies against the published
  count and head.

Memory stores are left out: they cannot be shared across processes.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import concurrency_kit as kit
import pytest
from concurrency_kit import BACKENDS, DEADLINE

from promokit.errors import GameError
from promokit.gameplay import verify_log
from promokit.games.canonical import canonical_json
from promokit.plugins.games.lottery import CLOSED, LotteryGame
from promokit.stores import Store
from promokit.testing import engine_from_toml, registry_with

SEED = "c3" * 32

KOI = '''currency = "CNY"
timezone = "Asia/Shanghai"

[[game]]
id = "koi"
kind = "lottery"
name = "錦鯉"
prizes = [
  { id = "gold", name = "金條", kind = "goods", value = "500.00", weight = 99, stock = 10 },
  { id = "thanks", name = "謝謝參與", kind = "none", weight = 1, fallback = true },
]
'''


LOCKED = '''currency = "CNY"
timezone = "Asia/Shanghai"

[[game]]
id = "koi"
kind = "lottery"
name = "錦鯉"
free_draws_per_day = 5

[[game.prizes]]
id = "gold"
name = "金條"
kind = "goods"
value = "500.00"
weight = 9
stock = 600
locked_until = 300

[[game.prizes]]
id = "thanks"
name = "謝謝參與"
kind = "none"
weight = 1
fallback = true
'''


# -- worker processes ---------------------------------------------------------------------

def _game(store: Store) -> LotteryGame:
    return kit.game_of(engine_from_toml(KOI, store=store), "koi", LotteryGame)


def _draw(game: LotteryGame, customer: str) -> dict[str, Any]:
    try:
        draw = game.draw(customer)
    except GameError as error:
        return {"customer": customer, "error": error.reason, "pid": os.getpid()}
    return {"customer": customer, "drawn": draw.drawn, "prize": draw.prize.id,
            "reason": draw.reason, "position": draw.position, "receipt": draw.receipt,
            "pid": os.getpid()}


def _after_the_reveal(game: LotteryGame, customer: str) -> dict[str, Any]:
    """Wait (a bounded poll) until the game is revealed, then draw: a draw that surely
    comes after the reveal, whatever the machine's load."""
    deadline = time.monotonic() + DEADLINE
    while (game.started() or {}).get("status") != "revealed":
        assert time.monotonic() < deadline, "the reveal never came"
        time.sleep(0.005)
    return _draw(game, customer)


def _work(url: str, toml: str, lanes: list[list[tuple[str, bool]]]) -> list[dict[str, Any]]:
    """One worker process: its own engine and store, one thread per lane of customers
    (each ``(customer, after the reveal)``); the processes, and the threads of a
    process, start together."""
    kit.start_together(DEADLINE)
    with kit.open_engine(url, toml) as engine:
        game = kit.game_of(engine, "koi", LotteryGame)
        return kit.run_lanes(lanes, lambda op: (_after_the_reveal if op[1] else _draw)(
            game, op[0]), DEADLINE)


class Workers(kit.WorkerPool):
    """``PROCESSES`` spawned worker processes that draw together."""

    def start(self, url: str, customers: Sequence[str], *, last_after_reveal: bool = False,
              toml: str = KOI) -> Any:
        """Deal ``customers`` round-robin over the lanes and start drawing; with
        ``last_after_reveal`` each lane draws its last customer only once the game
        is revealed."""
        lanes = [[(customer, last_after_reveal and index == len(lane) - 1)
                  for index, customer in enumerate(lane)]
                 for lane in kit.deal(customers)]
        return self.submit(_work, lanes, url, toml)

    @staticmethod
    def results(pending: Any) -> list[dict[str, Any]]:
        return kit.from_each_process(pending)


@pytest.fixture(scope="module")
def workers() -> Iterator[Workers]:
    with Workers() as pool:
        yield pool


# -- tests ----------------------------------------------------------------------------------


@BACKENDS
def test_a_thousand_parallel_draws_never_overrun_a_stock_of_ten(
        workers: Workers, store_url: str, store: Store) -> None:
    game = _game(store)
    game.open(seed=SEED)
    customers = [f"c{n:04d}" for n in range(1000)]
    results = Workers.results(workers.start(store_url, customers))

    assert sorted(r["customer"] for r in results) == customers
    assert all("error" not in r for r in results)
    winners = [r["customer"] for r in results if r["prize"] == "gold"]
    assert len(winners) == 10  # at most the stock; and 99% of draws want it
    assert Counter(r["drawn"] for r in results)["gold"] > 900
    assert all(r["reason"] == "out_of_stock" for r in results
               if r["drawn"] == "gold" and r["prize"] != "gold")
    assert all(r["reason"] is None for r in results if r["drawn"] == "thanks")
    assert store.read([game.prize_key(game.config.prizes[0]), game.total_key]) == {
        "game:koi:prize:gold": 10, "game:koi:total": 1000}

    game.reveal()
    log = game.draw_log()
    assert len(log.entries) == 1000
    assert sorted(e["customer"] for e in log.entries if e["prize"] == "gold") == sorted(winners)
    assert all(e["nonce"] == 1 for e in log.entries)
    report = verify_log(log, registry_with())
    assert report.ok, report.problems[:5]


@BACKENDS
def test_draws_racing_the_reveal_land_before_it_or_not_at_all(
        workers: Workers, store_url: str, store: Store) -> None:
    game = _game(store)
    game.open(seed=SEED)
    customers = [f"r{n:04d}" for n in range(600)]
    # The last draw of every lane waits for the reveal, so some surely come after it;
    # the others race it.
    pending = workers.start(store_url, customers, last_after_reveal=True)
    deadline = time.monotonic() + DEADLINE
    while game.store.read([game.total_key])[game.total_key] < 50:  # mid-way
        assert time.monotonic() < deadline
        time.sleep(0.001)
    game.reveal()
    results = Workers.results(pending)

    drawn = [r for r in results if "error" not in r]
    refused = [r for r in results if "error" in r]
    assert {r["error"] for r in refused} <= {"revealed"}
    assert len(drawn) + len(refused) == 600
    assert len(drawn) >= 50 and refused  # the reveal came mid-way
    assert store.read([game.total_key])[game.total_key] == CLOSED + len(drawn)
    log = game.draw_log()
    assert game.total_draws() == len(log.entries) == len(drawn)
    assert sorted(e["customer"] for e in log.entries) == sorted(r["customer"] for r in drawn)
    report = verify_log(log, registry_with())
    assert report.ok, report.problems[:5]


@BACKENDS
def test_every_draw_logs_its_real_position_and_locked_until_is_decided_by_it(
        workers: Workers, store_url: str, store: Store) -> None:
    """Fault: the position that decides "locked until draw N" was a count read before
    the write; under 8 processes it trailed the real position by up to 601 draws,
    and a prize drawn at position 346 (locked until 300) was refused."""
    game = kit.game_of(engine_from_toml(LOCKED, store=store), "koi", LotteryGame)
    game.open(seed=SEED)
    customers = [f"p{n:04d}" for n in range(600)]
    results = Workers.results(workers.start(store_url, customers, toml=LOCKED))

    assert all("error" not in r for r in results)
    assert sorted(r["position"] for r in results) == list(range(1, 601))
    journal = [(sequence, json.loads(body))
               for sequence, body in store.journal("game:koi:draws")]
    assert [entry["position"] for _, entry in journal] == [seq for seq, _ in journal] == list(
        range(1, 601))
    by_position = {r["position"]: r for r in results}
    for _, entry in journal:  # each drawer was told the position and receipt logged
        told = by_position[entry["position"]]
        assert (told["customer"], told["prize"]) == (entry["customer"], entry["prize"])
        assert told["receipt"] == hashlib.sha256(
            canonical_json(entry).encode()).hexdigest()
        if entry["drawn"] == "gold":
            expected = ("thanks", "locked") if entry["position"] <= 300 else ("gold", None)
            assert (entry["prize"], entry["reason"]) == expected, entry
    assert sum(e["drawn"] == "gold" for _, e in journal if e["position"] > 300) > 200

    game.reveal()
    report = verify_log(game.draw_log(), registry_with(), draws=game.total_draws(),
                        head=game.head())
    assert report.ok, report.problems[:5]
