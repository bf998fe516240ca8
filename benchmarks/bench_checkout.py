"""Flash-sale checkouts per second on each store backend, next to the bare floor.

A flash sale: one ``fixed_price`` promotion with ``stock`` and ``per_customer = 1``,
and one-unit carts of distinct customers, so every checkout reserves the stock,
the promotion's uses and a per-customer counter and writes an order row. For each
backend (SQLite, Redis, PostgreSQL) and 1 and 2 processes, four things are timed
for the same number of seconds, each on a fresh store (a new namespace, or a new
SQLite file) dropped afterwards:

- ``checkout``: ``engine.checkout(cart, order_id)`` alone (price + reserve, one
  store call);
- ``checkout+commit``: ``engine.checkout`` then ``engine.commit`` (the ledger row);
- ``write``: the reserving write alone, ``store.apply`` of the change a checkout
  sends (the order as checkout writes it, its expiry, the three counters with
  their limits and the expectations), priced once beforehand, each with its own
  order id and customer: what the store costs, without pricing or encoding;
- ``bare``: the least any implementation must do per flash-sale order, by hand on
  the same server, one call at a time: on Redis a Lua script (``register_script``)
  that decrements the stock if it is above zero and remembers the customer (SADD)
  and the order (HSET); on PostgreSQL a transaction ``UPDATE stock SET left = left -
  1 WHERE id = 1 AND left > 0`` + ``INSERT`` of an order row, committed (psycopg); on
  SQLite the same transaction under ``BEGIN IMMEDIATE`` on a WAL file with
  ``synchronous=FULL`` (promokit's default).

``ratio`` is promokit ``checkout``/s over ``bare``/s, ``write ÷ bare`` the same for
``write``. Memory (one process, no
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
import functools
import sqlite3
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.pool import Pool
from typing import Any

import _harness
from _harness import BACKENDS, Place

import promokit
from promokit import Engine, open_store
from promokit.pricing import Known
from promokit.stores import Change, Delta, Expect, Store
from promokit.testing import engine_from_toml

DEFAULT_JSON = _harness.RESULTS / "bench_checkout.json"
MODES = ("checkout", "checkout+commit", "write", "bare")
FULL_SECONDS = 6.0
QUICK_SECONDS = 0.6
WARMUP = 20
#: Far more than a run can sell: the sale never runs out while timed.
STOCK = 10_000_000
NOW = "2026-11-11T00:30:00+08:00"
# Checkout trusts the engine's clock, not the cart's now: the engine is held at NOW.
AT_NOW = dt.datetime.fromisoformat(NOW)

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

            def order() -> bool:
                n = next(counter)
                return bare(f"SO-{prefix}-{n}", f"{prefix}-{n}")
        else:
            if store is None:
                store = open_store(place.url)
                stack.callback(store.close)
            engine: Engine = engine_from_toml(CAMPAIGN, store=store, clock=lambda: AT_NOW)
            commit = mode == "checkout+commit"
            if mode == "write":
                order = _writer(engine, prefix, counter)

            def checkout() -> bool:
                n = next(counter)
                order_id = f"SO-{prefix}-{n}"
                placed = engine.checkout(cart(f"{prefix}-{n}"), order_id)
                if commit:
                    engine.commit(order_id)
                return bool(placed.uses)
            if mode != "write":
                order = checkout

        def once() -> bool:
            """One order, counting those that took stock; never runs out."""
            nonlocal took
            took += order()
            return True

        timed = _harness.time_from(start_at, seconds, once, WARMUP)
    return {**timed, "worker": worker, "took_stock": took}


def _writer(engine: Engine, prefix: str, counter: Iterator[int]) -> Callable[[], bool]:
    """``write`` mode: the reserving write of a checkout alone, ``store.apply`` of the
    change one would send (priced once, each order with its own id and customer)."""
    template = f"{prefix}-template"
    # The order as checkout writes it, made on a memory store: the cell's is untouched;
    # and the counter ranges its first pricing sends (checkout's, with nothing known).
    shop = engine_from_toml(CAMPAIGN, clock=lambda: AT_NOW)
    model = shop.checkout(cart(template), f"SO-{template}")
    body = model.dumps()
    deltas = [(d.key, d.amount, d.limit) for d in model.holds]
    priced = shop.pricer.price(model.cart, checkout=True, known=Known())
    expect = sorted(priced.reads.expect.items())

    def write() -> bool:
        n = next(counter)
        customer = f"{prefix}-{n}"
        change = Change(
            order_id=f"SO-{customer}", revision=0, status="reserved",
            body=body.replace(template, customer), expires_at=time.time() + 900,
            deltas=tuple(Delta(key.replace(template, customer), amount, limit)
                         for key, amount, limit in deltas),
            expect=tuple(Expect(key.replace(template, customer), low, high)
                         for key, (low, high) in expect))
        return engine.store.apply(change).applied

    return write


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
        assert place.backend != "memory" or store is not None
        shares, problems = _harness.run_shares(
            pool, run_share, [(place, mode, w) for w in range(processes)], lead, seconds,
            store=store)
        figures = _harness.timing(shares)
        ops = figures["ops"]
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
        return {
            "backend": place.backend, "mode": mode, "processes": processes, **figures,
            "per_process": [{k: s[k] for k in ("pid", "ops", "took_stock")} for s in shares],
            "problems": problems,
        }
    finally:
        if mode == "bare":
            bare_drop(place)
        if store is not None:
            _harness.drop_store(store)


# -- reporting ----------------------------------------------------------------------------------


def print_table(rows: list[dict[str, Any]]) -> None:
    header = ("backend", "procs", "checkout/s", "p50 ms", "checkout+commit/s", "write/s",
              "bare ops/s", "ratio", "write ÷ bare")
    table = [header]
    for row in rows:
        def rate(mode: str, row: dict[str, Any] = row) -> str:
            cell = row.get(mode)
            return f"{cell['per_second']:,.0f}" if cell else "-"
        checkout, bare = row.get("checkout"), row.get("bare")
        table.append((
            row["backend"], str(row["processes"]), rate("checkout"),
            f"{checkout['median_ms']:.2f}" if checkout else "-",
            rate("checkout+commit"), rate("write"), rate("bare"),
            f"{checkout['per_second'] / bare['per_second']:.2f}"
            if checkout and bare and bare["per_second"] else "-",
            f"{write['per_second'] / bare['per_second']:.2f}"
            if (write := row.get("write")) and bare and bare["per_second"] else "-"))
    _harness.print_columns(table)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    _harness.add_cell_options(parser, FULL_SECONDS, QUICK_SECONDS)
    _harness.add_json_option(parser, DEFAULT_JSON)
    args = parser.parse_args(argv)
    seconds, lead, backends, counts = _harness.cell_settings(args, FULL_SECONDS, QUICK_SECONDS)
    if set(backends) - set(BACKENDS) or not counts or min(counts) < 1 or seconds <= 0:
        parser.error(f"--backends from {', '.join(BACKENDS)}; --processes and --seconds > 0")

    host = _harness.machine()
    _harness.print_header(host, seconds, counts)
    started = time.perf_counter()

    skipped = _harness.skipped_backends(backends)
    if skipped is None:
        return 1

    rows, cells, problems = _harness.run_grid(
        "bench_checkout", [b for b in backends if b not in skipped], counts,
        lambda backend: [m for m in MODES if not (m == "bare" and backend == "memory")],
        functools.partial(run_cell, seconds=seconds, lead=lead))

    print()
    print_table(rows)
    print()
    _harness.print_late(cells)
    print(f"whole run {time.perf_counter() - started:.1f} s")

    report = {
        "benchmark": "bench_checkout",
        "created": _harness.timestamp(),
        "machine": host,
        "promokit": promokit.__version__,
        "settings": {"seconds": seconds, "lead": lead, "warmup": WARMUP, "stock": STOCK,
                     "processes": counts, "backends": backends, "quick": args.quick,
                     **_harness.server_urls()},
        "skipped": skipped,
        "cells": cells,
        "problems": problems,
    }
    _harness.write_json(args.json, report)
    return _harness.report_problems("over-consumption or lost orders", problems)


if __name__ == "__main__":
    sys.exit(main())
