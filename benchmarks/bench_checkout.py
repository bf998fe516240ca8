"""Flash-sale checkouts per second on each store backend, next to the bare floor.

A flash sale: one ``fixed_price`` promotion with ``stock`` and ``per_customer = 1``,
and one-unit carts of distinct customers, so every checkout reserves the stock,
the promotion's uses and a per-customer counter and writes an order row. For each
backend (SQLite, Redis, PostgreSQL) and 1 and 2 processes, three things are timed
for the same number of seconds, each on a fresh store (a new namespace, or a new
SQLite file) dropped afterwards:

- ``checkout``: ``engine.checkout(cart, order_id)`` alone (price + reserve);
- ``checkout+commit``: ``engine.checkout`` then ``engine.commit`` (the ledger row);
- ``bare``: the least any implementation must do per flash-sale order, by hand on
  the same server, one call at a time: on Redis a Lua script (``register_script``)
  that decrements the stock if it is above zero and remembers the customer (SADD)
  and the order (HSET); on PostgreSQL a transaction ``UPDATE stock SET left = left -
  1 WHERE id = 1 AND left > 0`` + ``INSERT`` of an order row, committed (psycopg); on
  SQLite the same transaction under ``BEGIN IMMEDIATE`` on a WAL file with
  ``synchronous=FULL`` (promokit's default).

``ratio`` is promokit ``checkout``/s over ``bare``/s. Memory (one process, no
server) is the reference for the pricing alone. Every process opens its own store
and engine, warms up, and starts at one agreed moment; a cell's rate is the timed
operations of all its processes over the time from the first start to the last
end. The stock is large enough not to run out. After each run the script checks
nothing was over-consumed: the stock counter is at most the stock and equals the
orders that got the flash price (and ``uses:``), the committed orders each have a
ledger redemption, and the bare stock went down by exactly the order rows written;
a failed check exits with status 1.

    python benchmarks/bench_checkout.py            # full: 6 s per cell
    python benchmarks/bench_checkout.py --quick    # CI smoke run: 0.6 s per cell

A server that cannot be reached is skipped with the reason printed, unless
``CI=true``, where that fails. ``PROMOKIT_REDIS_URL`` and ``PROMOKIT_POSTGRES_URL``
override ``redis://127.0.0.1:6379/15`` and ``postgresql://postgres@127.0.0.1:5432/test``.
Results: a table on stdout and JSON in ``benchmarks/results/bench_checkout.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import multiprocessing
import os
import platform
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.pool import Pool
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import promokit
from promokit import Engine
from promokit.stores import Store, open_store
from promokit.testing import engine_from_toml

HERE = Path(__file__).resolve().parent
DEFAULT_JSON = HERE / "results" / "bench_checkout.json"
REDIS_URL = os.environ.get("PROMOKIT_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_URL = os.environ.get("PROMOKIT_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ("memory", "sqlite", "redis", "postgres")
MODES = ("checkout", "checkout+commit", "bare")
FULL_SECONDS = 6.0
QUICK_SECONDS = 0.6
#: Seconds between handing out a cell's work and its agreed start, for every process to
#: open its store, build its engine and warm up.
LEAD = 1.0
QUICK_LEAD = 0.5
WARMUP = 20
#: Far more than a run can sell: the sale never runs out while timed.
STOCK = 10_000_000
NOW = "2026-11-11T00:30:00+08:00"

CAMPAIGN = f'''
currency = "CNY"
timezone = "Asia/Shanghai"

[[promotion]]
id = "flash"
name = "Blender flash sale"
kind = "fixed_price"
price = "99.00"
scope = {{ skus = ["BLENDER"] }}
start = "2026-11-11T00:00:00"
end = "2026-11-11T01:00:00"
limits = {{ stock = {STOCK}, per_customer = 1 }}
'''

BARE_LUA = """
local left = tonumber(redis.call('GET', KEYS[1]) or '0')
if left <= 0 then return -1 end
redis.call('DECR', KEYS[1])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[1])
return left - 1
"""


def cart(customer: str) -> dict[str, Any]:
    return {"currency": "CNY", "now": NOW, "customer": {"id": customer},
            "lines": [{"id": "l1", "sku": "BLENDER", "quantity": 1, "unit_price": "199.00"}]}


# -- where each backend lives ------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A fresh store of one backend: the promokit URL and what the bare floor needs."""

    backend: str
    url: str
    namespace: str
    base: str
    """The server URL without promokit's options (Redis, PostgreSQL), or the SQLite file."""


def fresh_place(backend: str, scratch: Path) -> Place:
    namespace = f"bench{uuid.uuid4().hex[:10]}"
    if backend == "memory":
        return Place(backend, "memory://", namespace, "")
    if backend == "sqlite":
        path = scratch / f"{namespace}.db"
        return Place(backend, f"sqlite:///{path}", namespace, str(path))
    base = REDIS_URL if backend == "redis" else POSTGRES_URL
    joiner = "&" if "?" in base else "?"
    return Place(backend, f"{base}{joiner}namespace={namespace}", namespace, base)


def unreachable(backend: str) -> str | None:
    """Why a backend cannot be benchmarked here, or ``None``."""
    if backend in ("memory", "sqlite"):
        return None
    module, url = ("redis", REDIS_URL) if backend == "redis" else ("psycopg", POSTGRES_URL)
    try:
        __import__(module)
    except ImportError:
        return f"the {module!r} client is not installed (pip install -e '.[test]')"
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1",
                                  parts.port or (6379 if backend == "redis" else 5432)),
                                 timeout=2).close()
    except OSError as error:
        return f"{parts.hostname}:{parts.port} is not reachable ({error})"
    return None


# -- the bare floor ----------------------------------------------------------------------------


def _pg_names(place: Place) -> tuple[str, str]:
    return f"{place.namespace}_bare_stock", f"{place.namespace}_bare_orders"


def bare_setup(place: Place) -> None:
    if place.backend == "redis":
        import redis
        client = redis.Redis.from_url(place.base)
        client.set(f"{{{place.namespace}}}:bare:stock", STOCK)
        client.close()
    elif place.backend == "postgres":
        import psycopg
        stock, orders = _pg_names(place)
        with psycopg.connect(place.base, autocommit=True) as conn:
            conn.execute(f'CREATE TABLE "{stock}" (id int PRIMARY KEY, "left" int NOT NULL)')
            conn.execute(f'CREATE TABLE "{orders}" (order_id text PRIMARY KEY, '
                         "customer text NOT NULL)")
            conn.execute(f'INSERT INTO "{stock}" VALUES (1, %s)', (STOCK,))
    elif place.backend == "sqlite":
        db = sqlite3.connect(place.base, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute('CREATE TABLE stock (id INTEGER PRIMARY KEY, "left" INTEGER NOT NULL)')
        db.execute("CREATE TABLE orders (order_id TEXT PRIMARY KEY, customer TEXT NOT NULL)")
        db.execute("INSERT INTO stock VALUES (1, ?)", (STOCK,))
        db.close()


def bare_check(place: Place) -> tuple[int, int]:
    """(stock taken, order rows) of the bare floor's store."""
    if place.backend == "redis":
        import redis
        client = redis.Redis.from_url(place.base)
        tag = f"{{{place.namespace}}}:bare"
        left = int(client.get(f"{tag}:stock") or 0)
        rows = int(client.hlen(f"{tag}:orders"))
        customers = int(client.scard(f"{tag}:customers"))
        client.close()
        return STOCK - left, rows if rows == customers else -1
    if place.backend == "postgres":
        import psycopg
        stock, orders = _pg_names(place)
        with psycopg.connect(place.base, autocommit=True) as conn:
            left_row = conn.execute(f'SELECT "left" FROM "{stock}" WHERE id = 1').fetchone()
            count_row = conn.execute(f'SELECT count(*) FROM "{orders}"').fetchone()
        assert left_row is not None and count_row is not None
        return STOCK - int(left_row[0]), int(count_row[0])
    db = sqlite3.connect(place.base)
    left = db.execute('SELECT "left" FROM stock WHERE id = 1').fetchone()[0]
    rows = db.execute("SELECT count(*) FROM orders").fetchone()[0]
    db.close()
    return STOCK - int(left), int(rows)


def bare_drop(place: Place) -> None:
    if place.backend == "redis":
        import redis
        client = redis.Redis.from_url(place.base)
        tag = f"{{{place.namespace}}}:bare"
        client.delete(f"{tag}:stock", f"{tag}:customers", f"{tag}:orders")
        client.close()
    elif place.backend == "postgres":
        import psycopg
        with psycopg.connect(place.base, autocommit=True) as conn:
            for table in _pg_names(place):
                conn.execute(f'DROP TABLE IF EXISTS "{table}"')


@contextlib.contextmanager
def bare_op(place: Place) -> Iterator[Callable[[str, str], bool]]:
    """``op(order_id, customer)``: one bare flash-sale order; true if it took stock."""
    if place.backend == "redis":
        import redis
        client = redis.Redis.from_url(place.base)
        script = client.register_script(BARE_LUA)
        tag = f"{{{place.namespace}}}:bare"
        keys = [f"{tag}:stock", f"{tag}:customers", f"{tag}:orders"]

        def redis_op(order_id: str, customer: str) -> bool:
            return int(script(keys=keys, args=[customer, order_id])) >= 0
        try:
            yield redis_op
        finally:
            client.close()
    elif place.backend == "postgres":
        import psycopg
        stock, orders = _pg_names(place)
        update = (f'UPDATE "{stock}" SET "left" = "left" - 1 WHERE id = 1 AND "left" > 0 '
                  'RETURNING "left"').encode()
        insert = f'INSERT INTO "{orders}" (order_id, customer) VALUES (%s, %s)'.encode()
        conn = psycopg.connect(place.base)

        def pg_op(order_id: str, customer: str) -> bool:
            with conn.transaction():
                took = conn.execute(update).fetchone() is not None
                if took:
                    conn.execute(insert, (order_id, customer))
            return took
        try:
            yield pg_op
        finally:
            conn.close()
    else:
        db = sqlite3.connect(place.base, timeout=30, isolation_level=None)
        db.execute("PRAGMA synchronous=FULL")

        def sqlite_op(order_id: str, customer: str) -> bool:
            db.execute("BEGIN IMMEDIATE")
            try:
                took = db.execute('UPDATE stock SET "left" = "left" - 1 '
                                  'WHERE id = 1 AND "left" > 0').rowcount == 1
                if took:
                    db.execute("INSERT INTO orders VALUES (?, ?)", (order_id, customer))
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return took
        try:
            yield sqlite_op
        finally:
            db.close()


# -- one process's share of a cell ---------------------------------------------------------------


def run_share(place: Place, mode: str, worker: int, start_at: float, seconds: float,
              store: Store | None = None) -> dict[str, Any]:
    """Warm up, wait for ``start_at`` (``time.monotonic``, the same clock in every process
    on the machine), then run ``mode`` until ``start_at + seconds``. Plain data back."""
    prefix = f"w{worker}-{uuid.uuid4().hex[:6]}"
    counter = iter(range(10**9))
    took = 0
    with contextlib.ExitStack() as stack:
        if mode == "bare":
            bare = stack.enter_context(bare_op(place))

            def once() -> bool:
                n = next(counter)
                return bare(f"SO-{prefix}-{n}", f"{prefix}-{n}")
        else:
            if store is None:
                store = open_store(place.url)
                stack.callback(store.close)
            engine: Engine = engine_from_toml(CAMPAIGN, store=store)
            commit = mode == "checkout+commit"

            def once() -> bool:
                n = next(counter)
                order_id = f"SO-{prefix}-{n}"
                order = engine.checkout(cart(f"{prefix}-{n}"), order_id)
                if commit:
                    engine.commit(order_id)
                return bool(order.uses)
        for _ in range(WARMUP):
            took += once()
        late = time.monotonic() - start_at
        while time.monotonic() < start_at:
            time.sleep(min(0.01, start_at - time.monotonic()))
        clock = time.perf_counter_ns
        samples: list[int] = []
        begin = time.monotonic()
        end = start_at + seconds
        while True:
            t0 = clock()
            took += once()
            samples.append(clock() - t0)
            if time.monotonic() >= end:
                break
        finish = time.monotonic()
    return {"pid": os.getpid(), "worker": worker, "ops": len(samples),
            "warmup": WARMUP, "took_stock": took, "begin": begin, "end": finish,
            "late_s": max(0.0, late), "samples_ns": samples}


# -- cells --------------------------------------------------------------------------------------


def run_cell(pool: Pool | None, place: Place, mode: str, processes: int, seconds: float,
             lead: float) -> dict[str, Any]:
    """Time one (backend, mode, processes) cell on a fresh store; check and drop it."""
    store: Store | None = None
    if mode == "bare":
        bare_setup(place)
    else:
        store = open_store(place.url)  # creates the tables before the workers race to
    try:
        start_at = time.monotonic() + lead
        if place.backend == "memory":
            assert processes == 1 and store is not None
            shares = [run_share(place, mode, 0, start_at, seconds, store=store)]
        else:
            assert pool is not None
            shares = pool.starmap_async(
                run_share, [(place, mode, w, start_at, seconds) for w in range(processes)],
                chunksize=1).get(seconds + lead + 120)
        problems = []
        if len({s["pid"] for s in shares}) != processes:
            problems.append(f"{processes} shares ran in fewer processes")
        ops = sum(s["ops"] for s in shares)
        took = sum(s["took_stock"] for s in shares)
        orders = ops + sum(s["warmup"] for s in shares)
        if mode == "bare":
            taken, rows = bare_check(place)
            if not (taken == rows == took == orders):
                problems.append(f"bare: stock taken {taken}, order rows {rows}, calls that "
                                f"took stock {took}, calls {orders}")
        else:
            assert store is not None
            counters = store.read(["stock:flash", "uses:flash"])
            if not (counters["stock:flash"] <= STOCK
                    and counters["stock:flash"] == counters["uses:flash"] == took == orders):
                problems.append(f"{mode}: stock:flash {counters['stock:flash']}, uses:flash "
                                f"{counters['uses:flash']}, orders with the flash price "
                                f"{took}, orders {orders}")
            if mode == "checkout+commit":
                entries = len(store.ledger(promotion="flash"))
                if entries != took:
                    problems.append(f"{mode}: {entries} ledger redemptions for {took} "
                                    "committed flash orders")
        wall = max(s["end"] for s in shares) - min(s["begin"] for s in shares)
        samples = sorted(x for s in shares for x in s["samples_ns"])
        return {
            "backend": place.backend, "mode": mode, "processes": processes,
            "seconds": wall, "ops": ops, "per_second": ops / wall if wall > 0 else 0.0,
            "median_ms": statistics.median(samples) / 1e6 if samples else None,
            "p99_ms": samples[max(0, -(-len(samples) * 99 // 100) - 1)] / 1e6
            if samples else None,
            "late_s": max(s["late_s"] for s in shares),
            "per_process": [{k: s[k] for k in ("pid", "ops", "took_stock")} for s in shares],
            "problems": problems,
        }
    finally:
        if mode == "bare":
            bare_drop(place)
        if store is not None:
            with contextlib.suppress(AttributeError):
                store.drop()  # type: ignore[attr-defined]
            store.close()


# -- reporting ----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"platform": platform.platform(), "python": platform.python_version(),
            "cpu_count": os.cpu_count(), "cpu_model": model or platform.processor() or None}


def print_table(rows: list[dict[str, Any]]) -> None:
    header = ("backend", "procs", "checkout/s", "p50 ms", "checkout+commit/s", "bare ops/s",
              "ratio")
    table = [header]
    for row in rows:
        def rate(mode: str, row: dict[str, Any] = row) -> str:
            cell = row.get(mode)
            return f"{cell['per_second']:,.0f}" if cell else "-"
        checkout, bare = row.get("checkout"), row.get("bare")
        table.append((
            row["backend"], str(row["processes"]), rate("checkout"),
            f"{checkout['median_ms']:.2f}" if checkout else "-",
            rate("checkout+commit"), rate("bare"),
            f"{checkout['per_second'] / bare['per_second']:.2f}"
            if checkout and bare and bare["per_second"] else "-"))
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for n, r in enumerate(table):
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(r, widths, strict=True))))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"CI smoke run: {QUICK_SECONDS:g} s per cell")
    parser.add_argument("--seconds", type=float, metavar="S",
                        help=f"timed seconds per cell (default {FULL_SECONDS:g}, "
                             f"{QUICK_SECONDS:g} with --quick)")
    parser.add_argument("--backends", default=",".join(BACKENDS), metavar="B,B,…",
                        help="backends to run (default: %(default)s)")
    parser.add_argument("--processes", default="1,2", metavar="N,N,…",
                        help="process counts (default: %(default)s; memory runs 1 only)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="PATH",
                        help="where to write the results (default: %(default)s)")
    args = parser.parse_args(argv)
    seconds = args.seconds or (QUICK_SECONDS if args.quick else FULL_SECONDS)
    lead = QUICK_LEAD if args.quick else LEAD
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    counts = sorted({int(n) for n in args.processes.split(",")})
    if set(backends) - set(BACKENDS) or not counts or min(counts) < 1 or seconds <= 0:
        parser.error(f"--backends from {', '.join(BACKENDS)}; --processes and --seconds > 0")
    in_ci = os.environ.get("CI") == "true"

    host = machine()
    print(f"machine: {host['cpu_model']} | os.cpu_count() = {host['cpu_count']} | "
          f"{host['platform']} | Python {host['python']}")
    print(f"promokit {promokit.__version__}; {seconds:g} s per cell, processes "
          f"{', '.join(map(str, counts))}; a fresh store per cell, dropped afterwards")
    started = time.perf_counter()

    skipped: dict[str, str] = {}
    for backend in backends:
        why = unreachable(backend)
        if why is not None:
            if in_ci:
                print(f"error: {backend}: {why}; CI must benchmark it", file=sys.stderr)
                return 1
            skipped[backend] = why
            print(f"skipping {backend}: {why}")

    rows: list[dict[str, Any]] = []
    cells: list[dict[str, Any]] = []
    problems: list[str] = []
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="bench_checkout-") as scratch, \
            context.Pool(max(counts)) as pool:
        for backend in backends:
            if backend in skipped:
                continue
            for processes in ([1] if backend == "memory" else counts):
                row: dict[str, Any] = {"backend": backend, "processes": processes}
                for mode in MODES:
                    if mode == "bare" and backend == "memory":
                        continue
                    place = fresh_place(backend, Path(scratch))
                    cell = run_cell(None if backend == "memory" else pool, place, mode,
                                    processes, seconds, lead)
                    row[mode] = cell
                    cells.append(cell)
                    problems.extend(f"{backend} × {processes}: {p}" for p in cell["problems"])
                rows.append(row)
        pool.close()
        pool.join()

    print()
    print_table(rows)
    print()
    late = max((c["late_s"] for c in cells), default=0.0)
    if late > 0:
        print(f"note: a process was ready up to {late:.2f} s after its cell's agreed start")
    print(f"whole run {time.perf_counter() - started:.1f} s")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "bench_checkout",
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": host,
        "promokit": promokit.__version__,
        "settings": {"seconds": seconds, "lead": lead, "warmup": WARMUP, "stock": STOCK,
                     "processes": counts, "backends": backends, "quick": args.quick,
                     "redis_url": REDIS_URL.split("@")[-1],
                     "postgres_url": POSTGRES_URL.split("@")[-1]},
        "skipped": skipped,
        "cells": cells,
        "problems": problems,
    }
    args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.json}")
    if problems:
        print("\nFAILED: over-consumption or lost orders", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
