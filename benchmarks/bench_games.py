"""Promotion-game operations per second on each store backend, with their latency.

Three operations of the built-in games, each timed on its own on a fresh store (a
new namespace, or a new SQLite file) dropped afterwards, for each backend (memory
in one process, SQLite, Redis, PostgreSQL) and 1 and 2 processes:

- ``draw``: lottery draws (抽獎) by distinct customers, one draw each:
  ``game.draw(Customer(id=…), client_seed=…)`` on a lottery with one prize of
  stock ``PRIZE_STOCK`` drawn 99 times in 100 and a fallback, opened once by the
  parent before the cell. Every draw raises the game's draw counter and appends to
  the draw journal; the first ``PRIZE_STOCK`` also take the prize's stock, the
  rest fall back (``out_of_stock``), so both paths are timed.
- ``join``: group-buy joins (拼團): ``game.join(group_id, Customer(id=…,
  orders_count=0), order_id)`` into groups of ``GROUP_SIZE`` that the parent
  opened beforehand (``open_group``, untimed). Each process joins its own groups,
  one after another, so this measures throughput, not the race for a last seat
  (contention is not the point here; the tests cover it).
- ``help``: bargain helps (砍價): ``game.help(bargain_id, Customer(id=…))`` by
  distinct helpers on bargains of ``BARGAIN_HELPS`` planned cuts that the parent
  started beforehand (``start_bargain``, untimed); again each process has its
  own bargains. A bargain's row keeps its helpers, so a help costs more as the
  bargain fills up: the rate is the average over whole bargains.

Every engine is built with ``promokit.testing.engine_from_toml`` and a fixed clock
inside the games' window. Every process opens its own store and engine, warms up
(real operations, checked with the others), and starts at one agreed moment; a
cell's rate is the timed operations of all its processes over the time from the
first start to the last end, and its latency the median and p99 (nearest rank) of
every timed call. The groups and bargains made beforehand are sized from how long
making one took, with a wide margin; a process that used them all stops early and
the run says so.

After each cell the script checks the store: ``draw``: the prize went to at most
its stock, its counter equals the draw log's winners, the log has exactly one
entry per draw made (and the draw counter agrees), each by a distinct customer,
and (for logs of at most ``VERIFY_MAX`` entries: always with ``--quick``) the
revealed log passes ``verify_log``; ``join``: no group has more members than its
size, each group's member counter equals its members, a group is full exactly
when it has ``GROUP_SIZE``, and the members of all groups add up to the joins
made plus the leaders; ``help``: no bargain was cut by more than price − floor,
each bargain's cut counter equals its cut, the planned cuts used add up to the
helps made, the help log has one entry per help with the same cuts, and (small
logs) the revealed log passes ``verify_log``. A failed check, or a refused
operation, exits with status 1.

    python benchmarks/bench_games.py            # full: 3 s per cell
    python benchmarks/bench_games.py --quick    # CI smoke run: 0.5 s per cell

A server that cannot be reached is skipped with the reason printed, unless
``CI=true``, where that fails. ``PROMOKIT_REDIS_URL`` and ``PROMOKIT_POSTGRES_URL``
override ``redis://127.0.0.1:6379/15`` and ``postgresql://postgres@127.0.0.1:5432/test``.
Results: a table on stdout and JSON in ``benchmarks/results/bench_games.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import json
import math
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.pool import Pool
from typing import Any
from zoneinfo import ZoneInfo

import _harness
from _harness import BACKENDS, Place

import promokit
from promokit import Engine, open_store
from promokit.cart import Customer
from promokit.errors import GameError
from promokit.gameplay import verify_log
from promokit.stores import Store
from promokit.testing import engine_from_toml

DEFAULT_JSON = _harness.RESULTS / "bench_games.json"
OPERATIONS = ("draw", "join", "help")
FULL_SECONDS = 3.0
QUICK_SECONDS = 0.5
WARMUP = 20
#: Revealed logs of at most this many entries are checked with ``verify_log`` (all of
#: them with ``--quick``); bigger ones are only counted.
VERIFY_MAX = 50_000
SECRET = b"x" * 32
NOW = dt.datetime(2026, 11, 11, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

PRIZE_STOCK = 100
GROUP_SIZE = 50
BARGAIN_HELPS = 200
BARGAIN_PRICE, BARGAIN_FLOOR = 100_000, 100  # minor units: "1000.00" and "1.00"
#: Groups and bargains made per process: this many times the operations a process
#: could do in the cell at the speed the parent made the first of them …
SUPPLY_MARGIN = 3.0
#: … timed over this many of them (median), after a few untimed ones.
CALIBRATE = 30

HEADER = '''currency = "CNY"
timezone = "Asia/Shanghai"

'''
WINDOW = '''start = "2026-11-10T00:00:00"
end = "2026-11-12T00:00:00"
'''
GOLD = ('{ id = "gold", name = "金條", kind = "goods", value = "500.00", weight = 99, '
        f"stock = {PRIZE_STOCK} }}")
GAMES = {
    "draw": HEADER + f'''[[game]]
id = "koi"
kind = "lottery"
name = "雙11 錦鯉抽獎"
{WINDOW}prizes = [
  {GOLD},
  {{ id = "thanks", name = "謝謝參與", kind = "none", weight = 1, fallback = true }},
]
''',
    "join": HEADER + f'''[[game]]
id = "pin"
kind = "group_buy"
name = "雙11 水壺拼團"
{WINDOW}sku = "KETTLE"
price = "69.00"
size = {GROUP_SIZE}
window_hours = 24
''',
    "help": HEADER + f'''[[game]]
id = "kettle"
kind = "bargain"
name = "電熱水壺砍價"
{WINDOW}sku = "KETTLE"
price = "{BARGAIN_PRICE // 100}.{BARGAIN_PRICE % 100:02d}"
floor = "{BARGAIN_FLOOR // 100}.{BARGAIN_FLOOR % 100:02d}"
helps = {BARGAIN_HELPS}
''',
}
GAME_ID = {"draw": "koi", "join": "pin", "help": "kettle"}


def fixed_clock() -> dt.datetime:
    return NOW


def build_engine(operation: str, store: Store) -> Engine:
    return engine_from_toml(GAMES[operation], store=store, clock=fixed_clock, secret=SECRET)


# -- what a cell plays on, made by the parent (untimed) ----------------------------------------


def make_supply(engine: Engine, operation: str, processes: int, seconds: float
                ) -> tuple[list[list[str]], dict[str, Any]]:
    """Open the lottery, or make each process's groups or bargains; returns each
    process's list of group or bargain ids (empty for ``draw``) and what was made."""
    game = engine.games[GAME_ID[operation]]
    if operation == "draw":
        game.open()  # type: ignore[attr-defined]
        return [[] for _ in range(processes)], {"commitment": game.commitment()}
    seats = GROUP_SIZE - 1 if operation == "join" else BARGAIN_HELPS
    serial = iter(range(10**9))

    def make() -> str:
        n = next(serial)
        if operation == "join":
            return game.open_group(  # type: ignore[attr-defined,no-any-return]
                Customer(id=f"leader-{n}"), f"SO-leader-{n}").group_id
        return game.start_bargain(  # type: ignore[attr-defined,no-any-return]
            Customer(id=f"owner-{n}")).id

    made = [make() for _ in range(5)]
    times = []
    for _ in range(CALIBRATE):
        t0 = time.perf_counter()
        made.append(make())
        times.append(time.perf_counter() - t0)
    each = max(statistics.median(times), 1e-6)
    per_process = math.ceil((seconds / each * SUPPLY_MARGIN + WARMUP) / seats)
    while len(made) < per_process * processes:
        made.append(make())
    shares = [made[w::processes] for w in range(processes)]
    return shares, {"made": len(made), "per_process": len(shares[0]),
                    "seats_each": seats, "make_ms": each * 1e3}


# -- one process's share of a cell ---------------------------------------------------------------


def operations(game: Any, operation: str, prefix: str, items: list[str]
               ) -> Iterator[Callable[[], bool]]:
    """The calls of one process, each returning whether it won a prize (draws)."""
    n = 0
    if operation == "draw":
        while True:
            customer = f"{prefix}-{n}"

            def draw(customer: str = customer) -> bool:
                return bool(game.draw(Customer(id=customer), client_seed=f"seed-{customer}").won)
            yield draw
            n += 1
    seats = GROUP_SIZE - 1 if operation == "join" else BARGAIN_HELPS
    for item in items:
        for _ in range(seats):
            who = f"{prefix}-{n}"
            if operation == "join":
                def call(item: str = item, who: str = who) -> bool:
                    game.join(item, Customer(id=who, orders_count=0), f"SO-{who}")
                    return False
            else:
                def call(item: str = item, who: str = who) -> bool:
                    game.help(item, Customer(id=who))
                    return False
            yield call
            n += 1


def run_share(place: Place, operation: str, worker: int, items: list[str], start_at: float,
              seconds: float, store: Store | None = None) -> dict[str, Any]:
    """Warm up, wait for ``start_at`` (``time.monotonic``, the same clock in every process
    on the machine), then run ``operation`` until ``start_at + seconds`` or until this
    process's groups or bargains are used up. Plain data back."""
    prefix = f"w{worker}-{uuid.uuid4().hex[:6]}"
    won = done = 0
    refused: Counter[str] = Counter()
    with contextlib.ExitStack() as stack:
        if store is None:
            store = open_store(place.url)
            stack.callback(store.close)
        game = build_engine(operation, store).games[GAME_ID[operation]]
        calls = operations(game, operation, prefix, items)

        def once() -> bool:
            """One call; false once the supply is used up."""
            nonlocal won, done
            call = next(calls, None)
            if call is None:
                return False
            try:
                won += call()
                done += 1
            except GameError as error:
                refused[error.reason or "?"] += 1
            return True

        timed = _harness.time_from(start_at, seconds, once, WARMUP)
    return {**timed, "worker": worker, "done": done, "refused": dict(refused), "won": won}


# -- checks -------------------------------------------------------------------------------------


def check_draws(engine: Engine, store: Store, done: int, won: int, verify: bool) -> list[str]:
    game: Any = engine.games["koi"]
    problems = []
    entries = [json.loads(body) for _, body in store.journal(game.stream("draws"))]
    winners = sum(1 for e in entries if e["prize"] == "gold")
    keys = [game.row_id("prize", "gold"), game.row_id("total")]
    counters = store.read(keys)
    prize, total = counters[keys[0]], counters[keys[1]]
    if not (winners <= PRIZE_STOCK and prize == winners == won):
        problems.append(f"draw: prize 'gold' (stock {PRIZE_STOCK}) counter {prize}, "
                        f"{winners} winners in the log, {won} draws won it")
    if not (len(entries) == total == done):
        problems.append(f"draw: {len(entries)} log entries, draw counter {total}, "
                        f"{done} draws made")
    if len({e["customer"] for e in entries}) != len(entries):
        problems.append("draw: a customer drew twice")
    if verify:
        game.reveal()
        log = game.draw_log()
        report = verify_log(log, engine.registry)
        if not report.ok or len(log.entries) != done or game.total_draws() != done:
            problems.append(f"draw: the revealed log ({len(log.entries)} entries, "
                            f"{game.total_draws()} draws published) does not verify: "
                            f"{list(report.problems[:3])}")
    return problems


def check_joins(engine: Engine, store: Store, groups: list[str], joins: int) -> list[str]:
    game: Any = engine.games["pin"]
    problems = []
    keys = {gid: game.row_id("group", gid.rpartition(".")[2], "members") for gid in groups}
    counters = store.read(list(keys.values()))
    members = 0
    for gid in groups:
        group = game.group(gid)
        n = len(group.members)
        members += n
        if not (n <= GROUP_SIZE and counters[keys[gid]] == n
                and (group.status == "full") == (n == GROUP_SIZE)):
            problems.append(f"join: group {gid}: {n} members of {GROUP_SIZE}, counter "
                            f"{counters[keys[gid]]}, status {group.status}")
            if len(problems) > 5:
                break
    if members != joins + len(groups):
        problems.append(f"join: {members} members in {len(groups)} groups, expected "
                        f"{joins} joins + {len(groups)} leaders")
    return problems


def check_helps(engine: Engine, store: Store, bargains: list[str], helps: int,
                verify: bool) -> list[str]:
    game: Any = engine.games["kettle"]
    problems = []
    keys = {bid: game.row_id("bargain", bid.rpartition(".")[2], "cut") for bid in bargains}
    counters = store.read(list(keys.values()))
    used = cut = 0
    for bid in bargains:
        state = game.bargain(bid)
        n = state.helps - state.helps_left
        used += n
        cut += state.cut
        if not (state.cut <= BARGAIN_PRICE - BARGAIN_FLOOR and counters[keys[bid]] == state.cut
                and len(state.helpers) == n and state.price == BARGAIN_PRICE - state.cut):
            problems.append(f"help: bargain {bid}: cut {state.cut} (at most "
                            f"{BARGAIN_PRICE - BARGAIN_FLOOR}), counter {counters[keys[bid]]}, "
                            f"{n} planned cuts used, {len(state.helpers)} helpers")
            if len(problems) > 5:
                break
    if used != helps:
        problems.append(f"help: {used} planned cuts used over {len(bargains)} bargains, "
                        f"{helps} helps made")
    entries = [json.loads(body) for _, body in store.journal(game.stream("helps"))]
    if len(entries) != helps or sum(e["cut"] for e in entries) != cut:
        problems.append(f"help: {len(entries)} help log entries cutting "
                        f"{sum(e['cut'] for e in entries)}, for {helps} helps cutting {cut}")
    if verify:
        game.reveal()
        report = verify_log(game.draw_log(), engine.registry)
        if not report.ok:
            problems.append(f"help: the revealed log does not verify: "
                            f"{list(report.problems[:3])}")
    return problems


# -- cells --------------------------------------------------------------------------------------


def run_cell(pool: Pool | None, place: Place, operation: str, processes: int, seconds: float,
             lead: float, quick: bool) -> dict[str, Any]:
    """Time one (backend, operation, processes) cell on a fresh store; check and drop it."""
    store = open_store(place.url)  # creates the tables before the workers race to
    try:
        engine = build_engine(operation, store)
        shares_items, supply = make_supply(engine, operation, processes, seconds)
        shares, problems = _harness.run_shares(
            pool, run_share, [(place, operation, w, shares_items[w]) for w in range(processes)],
            lead, seconds, store=store)
        done = sum(s["done"] for s in shares)
        refused: Counter[str] = Counter()
        for s in shares:
            refused.update(s["refused"])
        if refused:
            problems.append(f"{operation}: refused {dict(refused)}")
        verify = quick or done <= VERIFY_MAX
        if operation == "draw":
            problems += check_draws(engine, store, done, sum(s["won"] for s in shares), verify)
        elif operation == "join":
            problems += check_joins(engine, store, [i for x in shares_items for i in x], done)
        else:
            problems += check_helps(engine, store, [i for x in shares_items for i in x], done,
                                    verify)
        return {
            "backend": place.backend, "operation": operation, "processes": processes,
            **_harness.timing(shares),
            "ran_out": any(s["ran_out"] for s in shares),
            "verified_log": verify and operation != "join",
            "supply": supply,
            "per_process": [{k: s[k] for k in ("pid", "ops", "warmup", "done", "won",
                                               "refused", "ran_out")} for s in shares],
            "problems": problems,
        }
    finally:
        _harness.drop_store(store)


# -- reporting ----------------------------------------------------------------------------------


def print_table(rows: list[dict[str, Any]], ops: Sequence[str]) -> None:
    header = ["backend", "procs"]
    for op in ops:
        header += [f"{op}/s", "p50 ms", "p99 ms"]
    table = [tuple(header)]
    for row in rows:
        line = [row["backend"], str(row["processes"])]
        for op in ops:
            cell = row.get(op)
            if cell is None or not cell["ops"]:
                line += ["-", "-", "-"]
                continue
            line += [f"{cell['per_second']:,.0f}{'*' if cell['ran_out'] else ''}",
                     f"{cell['median_ms']:.2f}", f"{cell['p99_ms']:.2f}"]
        table.append(tuple(line))
    _harness.print_columns(table)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    _harness.add_cell_options(parser, FULL_SECONDS, QUICK_SECONDS)
    parser.add_argument("--ops", default=",".join(OPERATIONS), metavar="OP,OP,…",
                        help="operations to time (default: %(default)s)")
    _harness.add_json_option(parser, DEFAULT_JSON)
    args = parser.parse_args(argv)
    seconds, lead, backends, counts = _harness.cell_settings(args, FULL_SECONDS, QUICK_SECONDS)
    ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    if set(backends) - set(BACKENDS) or set(ops) - set(OPERATIONS) or not ops \
            or not counts or min(counts) < 1 or seconds <= 0:
        parser.error(f"--backends from {', '.join(BACKENDS)}; --ops from "
                     f"{', '.join(OPERATIONS)}; --processes and --seconds > 0")

    host = _harness.machine()
    _harness.print_header(host, seconds, counts)
    started = time.perf_counter()

    skipped = _harness.skipped_backends(backends)
    if skipped is None:
        return 1

    rows, cells, problems = _harness.run_grid(
        "bench_games", [b for b in backends if b not in skipped], counts,
        lambda backend: ops,
        functools.partial(run_cell, seconds=seconds, lead=lead, quick=args.quick))

    print()
    print_table(rows, ops)
    print()
    print(f"ops/s: timed calls of all processes over the cell's wall time; p50/p99: per "
          f"call. draw: lottery, prize stock {PRIZE_STOCK}; join: groups of {GROUP_SIZE}; "
          f"help: bargains of {BARGAIN_HELPS} helps; each process on its own groups and "
          "bargains")
    if any(c["ran_out"] for c in cells):
        print("*: a process used up the groups or bargains made for it and stopped early")
    _harness.print_late(cells)
    unverified = [f"{c['backend']} × {c['processes']} {c['operation']}" for c in cells
                  if c["operation"] != "join" and not c["verified_log"]]
    if unverified:
        print(f"logs over {VERIFY_MAX:,} entries not replayed with verify_log: "
              f"{', '.join(unverified)}")
    print(f"whole run {time.perf_counter() - started:.1f} s")

    report = {
        "benchmark": "bench_games",
        "created": _harness.timestamp(),
        "machine": host,
        "promokit": promokit.__version__,
        "settings": {"seconds": seconds, "lead": lead, "warmup": WARMUP,
                     "prize_stock": PRIZE_STOCK, "group_size": GROUP_SIZE,
                     "bargain_helps": BARGAIN_HELPS, "verify_max": VERIFY_MAX,
                     "supply_margin": SUPPLY_MARGIN, "now": NOW.isoformat(),
                     "processes": counts, "backends": backends, "operations": ops,
                     "quick": args.quick, **_harness.server_urls()},
        "skipped": skipped,
        "cells": cells,
        "problems": problems,
    }
    _harness.write_json(args.json, report)
    return _harness.report_problems("over-consumption, lost or refused operations", problems)


if __name__ == "__main__":
    sys.exit(main())
