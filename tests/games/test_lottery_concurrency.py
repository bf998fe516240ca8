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
  the log verifies.

Memory stores are left out: they cannot be shared across processes.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.pool import Pool
from multiprocessing.synchronize import Barrier
from typing import Any

import pytest

from promokit.errors import GameError
from promokit.games import verify_log
from promokit.plugins.games.lottery import CLOSED, LotteryGame
from promokit.stores import Store, open_store
from promokit.testing import engine_from_toml, registry_with

BACKENDS = pytest.mark.parametrize("store_url", [
    "sqlite",
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("postgres", marks=pytest.mark.postgres),
], indirect=True)

PROCESSES = 3
THREADS = 4
LANES = PROCESSES * THREADS
#: Seconds any wait on workers may take before the test fails instead of hanging.
DEADLINE = 120.0
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


# -- worker processes ---------------------------------------------------------------------

_start: Barrier | None = None


def _init_worker(barrier: Barrier) -> None:
    global _start
    _start = barrier


def _game(store: Store) -> LotteryGame:
    game = engine_from_toml(KOI, store=store).games["koi"]
    assert isinstance(game, LotteryGame)
    return game


def _work(url: str, lanes: list[list[str]]) -> list[dict[str, Any]]:
    """One worker process: its own engine and store, one thread per lane of customers;
    the processes, and the threads of a process, start together."""
    assert _start is not None
    _start.wait(DEADLINE)
    store = open_store(url)
    try:
        game = _game(store)
        together = threading.Barrier(len(lanes))

        def lane(customers: list[str]) -> list[dict[str, Any]]:
            together.wait(DEADLINE)
            done = []
            for customer in customers:
                try:
                    draw = game.draw(customer)
                except GameError as error:
                    done.append({"customer": customer, "error": error.reason,
                                 "pid": os.getpid()})
                    continue
                done.append({"customer": customer, "drawn": draw.drawn,
                             "prize": draw.prize.id, "reason": draw.reason,
                             "pid": os.getpid()})
            return done

        with ThreadPoolExecutor(len(lanes)) as threads:
            results = list(threads.map(lane, lanes))
        return [result for share in results for result in share]
    finally:
        store.close()


class Workers:
    """``PROCESSES`` spawned worker processes that draw together."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    def start(self, url: str, customers: Sequence[str]) -> Any:
        """Deal ``customers`` round-robin over the lanes and start drawing."""
        lanes: list[list[str]] = [[] for _ in range(LANES)]
        for n, customer in enumerate(customers):
            lanes[n % LANES].append(customer)
        shares = [(url, lanes[p * THREADS:(p + 1) * THREADS]) for p in range(PROCESSES)]
        return self._pool.starmap_async(_work, shares, chunksize=1)

    @staticmethod
    def results(pending: Any) -> list[dict[str, Any]]:
        results = [r for share in pending.get(DEADLINE) for r in share]
        assert len({r["pid"] for r in results}) == PROCESSES  # really several processes
        return results


@pytest.fixture(scope="module")
def workers() -> Iterator[Workers]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    pool = context.Pool(PROCESSES, initializer=_init_worker, initargs=(barrier,))
    try:
        yield Workers(pool)
    finally:
        pool.close()
        pool.join()


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
    pending = workers.start(store_url, customers)
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
