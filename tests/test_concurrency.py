"""Checkout under real concurrency: several processes × several threads on one shared store.

Every test runs on each backend that processes can share (SQLite in WAL mode, Redis,
PostgreSQL). Work is spread over ``PROCESSES`` spawned worker processes with
``THREADS`` threads each; every worker process builds its own :class:`~promokit.Engine`
from the same campaign TOML text and opens its own store with ``open_store(url)``, as
separate app servers would. The processes start each batch of work together (a
barrier), and return plain dicts to the test, which then checks the store directly.

What is asserted, exactly:

- **flash sale**: a ``fixed_price`` promotion with ``stock = 500, per_customer = 1``
  raced by 1,500 checkouts of 750 customers (each tries twice, one in five buys two
  units): the units discounted add up to exactly the stock, no customer gets it
  twice, and after committing the winners ``stock:flash`` is 500, the ledger holds
  one redemption per winning order whose units add up to 500, and every counter
  equals what the stored orders hold;
- **budget**: ``order_amount_off`` 50.00 off with a 1,000.00 budget raced by 120
  checkouts: exactly 20 get it, ``spent:`` is 100000 and the ledger sums to 1000.00;
- **single-use codes**: 50 one-use codes each raced by three customers in three
  processes: exactly one order per code gets the coupon, every ``code:`` counter is 1;
- **crash**: a process that reserved flash units is killed with SIGKILL before
  committing: its stock stays held until the TTL passes, then a new checkout gets it
  back, the killed orders are ``expired`` and the counters equal what the committed
  and live orders hold;
- **idempotency**: twelve callers at once checking out the same order id (one
  reservation, the same result everywhere), committing it (one set of ledger
  entries) and refunding it with one refund id (one refund, counters given back once).

Memory stores are left out: they cannot be shared across processes.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import concurrency_kit as kit
import pytest
from campaigns import HEADER
from concurrency_kit import BACKENDS, DEADLINE, LANES, PROCESSES, THREADS, deal

from promokit import Engine, open_store
from promokit.coupons import generate_codes
from promokit.stores import Store
from promokit.testing import Clock, engine_from_toml

NOW = "2026-11-11T00:30:00+08:00"

FLASH = HEADER + '''
[[promotion]]
id = "flash"
kind = "fixed_price"
price = "99.00"
scope = { skus = ["BLENDER"] }
start = "2026-11-11T00:00:00"
end = "2026-11-11T01:00:00"
limits = { stock = 500, per_customer = 1 }
'''

BUDGET = HEADER + '''
[[promotion]]
id = "fifty-off"
kind = "order_amount_off"
amount = "50.00"
budget = "1000.00"
'''

COUPONS = HEADER + '''
[[promotion]]
id = "new-20"
kind = "order_amount_off"
amount = "20"

[[coupon]]
id = "new-20-batch"
promotion = "new-20"
count = 50
uses = 1
prefix = "NEW"
start = "2026-11-01T00:00:00"
end = "2026-11-30T23:59:59"
'''

#: A flash unit and a budgeted discount in one order, so a refund gives back several
#: counters (stock, budget, uses, per-customer uses).
BOTH = HEADER + '''
[[promotion]]
id = "flash"
kind = "fixed_price"
price = "99.00"
scope = { skus = ["BLENDER"] }
limits = { stock = 500, per_customer = 1 }

[[promotion]]
id = "fifty-off"
kind = "order_amount_off"
amount = "50.00"
budget = "1000.00"
'''

Op = tuple[Any, ...]
"""``("checkout", order_id, cart_json)``, ``("commit", order_id)`` or
``("refund", order_id, refund_id)``."""
Lanes = list[list[Op]]
"""The ops of one worker process: one list per thread, run in order."""


# -- worker processes ---------------------------------------------------------------------

def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _run(engine: Engine, op: Op) -> dict[str, Any]:
    kind, order_id = op[0], op[1]
    if kind == "checkout":
        order = engine.checkout(op[2], order_id)
        return {"op": kind, "order_id": order_id, "pid": os.getpid(),
                "customer": order.cart.customer.id, "status": order.status,
                "revision": order.revision, "repeated": order.repeated,
                "result": _digest(order.result.to_json()), "total": str(order.result.total),
                "uses": [{"promotion": u.promotion, "units": u.units, "code": u.code}
                         for u in order.uses],
                "reasons": {n.promotion: n.reason for n in order.result.not_applied},
                "dropped": [n.promotion for n in order.dropped]}
    if kind == "commit":
        order = engine.commit(order_id)
        return {"op": kind, "order_id": order_id, "pid": os.getpid(), "status": order.status,
                "revision": order.revision}
    if kind == "refund":
        refund = engine.refund(order_id, op[2])
        return {"op": kind, "order_id": order_id, "pid": os.getpid(),
                "refund": refund.to_json()}
    raise ValueError(kind)  # pragma: no cover


def _work(url: str, toml: str, ttl: float, lanes: Lanes) -> list[dict[str, Any]]:
    """One worker process's share: its own engine and store, one thread per lane; the
    processes of a batch, and the threads of a process, start together."""
    kit.start_together(DEADLINE)
    with kit.open_engine(url, toml, ttl=ttl, clock=Clock(NOW)) as engine:
        return kit.run_lanes(lanes, lambda op: _run(engine, op), DEADLINE)


class Workers(kit.WorkerPool):
    """``PROCESSES`` spawned worker processes that run batches of lanes together."""

    def run(self, url: str, toml: str, lanes: Sequence[list[Op]], *,
            ttl: float = 900.0) -> list[dict[str, Any]]:
        """Run ``LANES`` lanes: ``THREADS`` per process, every process at once."""
        assert len(lanes) == LANES
        return kit.from_each_process(self.submit(_work, lanes, url, toml, ttl))


@pytest.fixture(scope="module")
def workers() -> Iterator[Workers]:
    with Workers() as pool:
        yield pool


# -- helpers -----------------------------------------------------------------------------


def cart_json(customer: str, *, units: int = 1, sku: str = "BLENDER", price: str = "199.00",
              codes: Sequence[str] = ()) -> dict[str, Any]:
    data: dict[str, Any] = {
        "currency": "CNY", "now": NOW, "customer": {"id": customer},
        "lines": [{"id": "l1", "sku": sku, "quantity": units, "unit_price": price}]}
    if codes:
        data["codes"] = list(codes)
    return data


def everywhere(ops: Sequence[Op]) -> Lanes:
    """The same ops, in the same order, in every lane."""
    return [list(ops) for _ in range(LANES)]


def used(result: dict[str, Any], promotion: str) -> dict[str, Any] | None:
    """The order's use of ``promotion`` (its units and code), or ``None``."""
    return next((u for u in result["uses"] if u["promotion"] == promotion), None)


def units(result: dict[str, Any], promotion: str) -> int:
    """Units the order holds of ``promotion``'s stock (0 if it did not get it)."""
    use = used(result, promotion)
    return int(use["units"]) if use else 0


def assert_counters_match_orders(engine: Engine, store: Store, order_ids: Iterable[str],
                                 keys: Sequence[str] = ()) -> dict[str, int]:
    """Every counter the orders hold, and every one of ``keys``, equals the sum of what
    the stored orders hold (released, expired and fully refunded orders hold nothing).
    Returns the values of ``keys``."""
    held: Counter[str] = Counter()
    for order_id in order_ids:
        order = engine.order(order_id)
        assert order is not None, order_id
        for delta in order.holds:
            held[delta.key] += delta.amount
    every = sorted(set(held) | set(keys))
    counters = dict(store.read(every))
    assert counters == {key: held[key] for key in every}
    return {key: counters[key] for key in keys}


# -- a. flash sale ---------------------------------------------------------------------------


@BACKENDS
def test_a_flash_sale_sells_exactly_its_stock(workers: Workers, store_url: str,
                                              store: Store) -> None:
    customers = [f"c{n:03d}" for n in range(750)]
    wanted = {c: 2 if n % 5 == 0 else 1 for n, c in enumerate(customers)}
    ops: list[Op] = [("checkout", f"SO-{c}-{attempt}", cart_json(c, units=wanted[c]))
                     for attempt in (1, 2) for c in customers]
    random.Random(11).shuffle(ops)
    results = workers.run(store_url, FLASH, deal(ops))
    assert len(results) == 1500 == len({r["order_id"] for r in results})
    assert all(r["status"] == "reserved" and not r["repeated"] for r in results)

    winners = [r for r in results if used(r, "flash")]
    losers = [r for r in results if not used(r, "flash")]
    sold = sum(units(r, "flash") for r in winners)
    assert sold == 500  # 900 units wanted
    assert len({r["customer"] for r in winners}) == len(winners)  # nobody twice
    assert all(r["reasons"]["flash"] in ("stock_exhausted", "limit_reached") for r in losers)
    # a loser turned away as a repeat customer is one whose other order won
    winning_customers = {r["customer"] for r in winners}
    assert all(r["customer"] in winning_customers for r in losers
               if r["reasons"]["flash"] == "limit_reached")
    # a two-unit cart discounts two units unless it took the last one
    assert sum(units(r, "flash") < wanted[r["customer"]] for r in winners) <= 1

    committed = workers.run(store_url, FLASH, deal(("commit", r["order_id"]) for r in winners))
    assert sorted(r["order_id"] for r in committed) == sorted(r["order_id"] for r in winners)
    assert all(r["status"] == "committed" for r in committed)

    engine = engine_from_toml(FLASH, store=store)
    counters = assert_counters_match_orders(
        engine, store, (r["order_id"] for r in results),
        ["stock:flash", "uses:flash", *(f"uses:flash:c:{c}" for c in customers)])
    assert counters["stock:flash"] == 500 and counters["uses:flash"] == len(winners)
    assert {c for c in customers if counters[f"uses:flash:c:{c}"]} == winning_customers
    assert all(counters[f"uses:flash:c:{c}"] == 1 for c in winning_customers)
    ledger = store.ledger(promotion="flash")
    assert all(e.kind == "redemption" for e in ledger)
    assert sorted(e.order_id for e in ledger) == sorted(r["order_id"] for r in winners)
    by_order = {r["order_id"]: units(r, "flash") for r in winners}
    assert {e.order_id: e.units for e in ledger} == by_order
    assert sum(e.units for e in ledger) == counters["stock:flash"] == 500
    assert len(ledger) == counters["uses:flash"]
    assert sum(e.amount for e in ledger) == Decimal("100.00") * 500


# -- b. budget -------------------------------------------------------------------------------


@BACKENDS
def test_a_budget_pays_exactly_its_amount(workers: Workers, store_url: str,
                                          store: Store) -> None:
    ops: list[Op] = [("checkout", f"SO-{n}", cart_json(f"c{n}", sku="KETTLE", price="120.00"))
                     for n in range(120)]
    results = workers.run(store_url, BUDGET, deal(ops))
    winners = [r for r in results if used(r, "fifty-off")]
    assert len(winners) == 20
    assert all(r["total"] == "70.00" for r in winners)
    assert all(r["total"] == "120.00" and r["reasons"]["fifty-off"] == "budget_exhausted"
               for r in results if r not in winners)
    assert dict(store.read(["spent:fifty-off"])) == {"spent:fifty-off": 100000}

    committed = workers.run(store_url, BUDGET, deal(("commit", r["order_id"]) for r in winners))
    assert len(committed) == 20 and all(r["status"] == "committed" for r in committed)
    engine = engine_from_toml(BUDGET, store=store)
    assert_counters_match_orders(engine, store, (r["order_id"] for r in results),
                                 ["spent:fifty-off"])
    ledger = store.ledger(promotion="fifty-off")
    assert sorted(e.order_id for e in ledger) == sorted(r["order_id"] for r in winners)
    assert sum(e.amount for e in ledger) == Decimal("1000.00")


# -- c. single-use codes ---------------------------------------------------------------------


@BACKENDS
def test_a_single_use_code_is_used_once(workers: Workers, store_url: str,
                                        store: Store) -> None:
    codes = generate_codes(50, "NEW")
    assert store.add_codes("new-20-batch", codes, 1).added == 50
    # Each code is tried by three customers, one in each process, at the same point of
    # the same thread's list, so the three attempts race.
    lanes: Lanes = [[] for _ in range(LANES)]
    for n, code in enumerate(codes):
        for attempt in range(PROCESSES):
            customer = f"c{n}-{attempt}"
            lanes[attempt * THREADS + n % THREADS].append(
                ("checkout", f"SO-{customer}", cart_json(customer, sku="MUG", price="100.00",
                                                         codes=[code])))
    results = workers.run(store_url, COUPONS, lanes)
    assert len(results) == 150
    winners = [r for r in results if used(r, "new-20")]
    assert sorted(str((used(r, "new-20") or {}).get("code")) for r in winners) == sorted(codes)
    assert all(r["total"] == "80.00" for r in winners)
    assert all(r["reasons"]["new-20"] == "code_used" and r["total"] == "100.00"
               for r in results if r not in winners)
    counters = dict(store.read([f"code:{code}" for code in codes]))
    assert set(counters.values()) == {1}

    workers.run(store_url, COUPONS, deal(("commit", r["order_id"]) for r in winners))
    engine = engine_from_toml(COUPONS, store=store)
    assert_counters_match_orders(engine, store, (r["order_id"] for r in results),
                                 [f"code:{code}" for code in codes])
    ledger = store.ledger(promotion="new-20")
    assert sorted(e.code or "" for e in ledger) == sorted(codes)
    assert sum(e.amount for e in ledger) == Decimal("20.00") * 50


# -- d. a crash before commit ----------------------------------------------------------------

CRASH_TTL = 2.0
CRASH = FLASH.replace("stock = 500", "stock = 3")


def _reserve_then_hang(url: str, marker: Any) -> None:
    """A child app server: commits one order, reserves two more, says so, then hangs
    until it is killed."""
    store = open_store(url)
    engine = engine_from_toml(CRASH, store=store, ttl=CRASH_TTL, clock=Clock(NOW))
    engine.checkout(cart_json("paid"), "SO-paid")
    engine.commit("SO-paid")
    expiry = [engine.checkout(cart_json(f"gone{n}"), f"SO-gone{n}").expires_at
              for n in (1, 2)]
    marker.put([at.timestamp() for at in expiry if at is not None])
    time.sleep(DEADLINE)


@BACKENDS
def test_a_killed_reservation_lapses_and_gives_its_stock_back(store_url: str,
                                                             store: Store) -> None:
    context = multiprocessing.get_context("spawn")
    marker = context.Queue()
    child = context.Process(target=_reserve_then_hang, args=(store_url, marker))
    child.start()
    try:
        expires = marker.get(timeout=DEADLINE)
    finally:
        child.kill()
        child.join(DEADLINE)
    assert child.exitcode == -signal.SIGKILL
    marker.close()
    marker.join_thread()

    clock = Clock(NOW)  # the time of the other app server's reservations
    engine = engine_from_toml(CRASH, store=store, ttl=CRASH_TTL, clock=clock)
    orders = ["SO-paid", "SO-gone1", "SO-gone2"]
    assert dict(store.read(["stock:flash"])) == {"stock:flash": 3}
    early = engine.checkout(cart_json("early"), "SO-early")
    assert clock().timestamp() < min(expires), "the check before the TTL came too late"
    assert early.result.reason("flash") == "stock_exhausted"
    assert [engine.order(o).status for o in orders] == [  # type: ignore[union-attr]
        "committed", "reserved", "reserved"]
    assert_counters_match_orders(engine, store, [*orders, "SO-early"], ["stock:flash"])

    clock.move(seconds=max(expires) - clock().timestamp() + 0.05)  # past the TTL, at once
    late = engine.checkout(cart_json("late"), "SO-late")
    assert late.result.reason("flash") is None and late.uses[0].units == 1
    assert [engine.order(o).status for o in orders] == [  # type: ignore[union-attr]
        "committed", "expired", "expired"]
    assert engine.sweep() == []
    counters = assert_counters_match_orders(
        engine, store, [*orders, "SO-early", "SO-late"],
        ["stock:flash", "uses:flash", "uses:flash:c:gone1", "uses:flash:c:gone2"])
    assert counters == {"stock:flash": 2, "uses:flash": 2, "uses:flash:c:gone1": 0,
                        "uses:flash:c:gone2": 0}
    assert [e.order_id for e in store.ledger(promotion="flash")] == ["SO-paid"]


# -- e. idempotency under retries ------------------------------------------------------------


@BACKENDS
def test_retries_at_once_reserve_commit_and_refund_once(workers: Workers, store_url: str,
                                                        store: Store) -> None:
    orders = [f"SO-{n}" for n in range(8)]
    carts = {o: cart_json(f"c{n}") for n, o in enumerate(orders)}
    results = workers.run(store_url, BOTH, everywhere([("checkout", o, carts[o])
                                                       for o in orders]))
    assert len(results) == LANES * len(orders)
    for order_id in orders:
        calls = [r for r in results if r["order_id"] == order_id]
        assert len(calls) == LANES
        assert sum(not r["repeated"] for r in calls) == 1  # one reservation
        assert len({r["result"] for r in calls}) == 1  # the same result for every caller
        assert {(r["status"], r["revision"]) for r in calls} == {("reserved", 1)}
        assert [u["promotion"] for u in calls[0]["uses"]] == ["flash", "fifty-off"]
    engine = engine_from_toml(BOTH, store=store)
    counters = assert_counters_match_orders(engine, store, orders,
                                            ["stock:flash", "uses:flash", "spent:fifty-off"])
    assert counters == {"stock:flash": 8, "uses:flash": 8, "spent:fifty-off": 8 * 5000}

    results = workers.run(store_url, BOTH, everywhere([("commit", o) for o in orders]))
    assert {(r["status"], r["revision"]) for r in results} == {("committed", 2)}
    for order_id in orders:
        ledger = store.ledger(order_id=order_id)
        assert [(e.kind, e.promotion) for e in ledger] == [
            ("redemption", "flash"), ("redemption", "fifty-off")]

    results = workers.run(store_url, BOTH, everywhere([("refund", o, "RF-1") for o in orders]))
    for order_id in orders:
        refunds = [r["refund"] for r in results if r["order_id"] == order_id]
        assert len(refunds) == LANES and all(r == refunds[0] for r in refunds)
        assert refunds[0]["amount"] == "49.00"  # 199.00 − 100.00 − 50.00
        order = engine.order(order_id)
        assert order is not None and order.status == "refunded" and order.revision == 3
        assert [r.refund_id for r in order.refunds] == ["RF-1"]
        ledger = store.ledger(order_id=order_id)
        assert sorted((e.kind, e.promotion, e.amount) for e in ledger) == [
            ("redemption", "fifty-off", Decimal("50.00")),
            ("redemption", "flash", Decimal("100.00")),
            ("reversal", "fifty-off", Decimal("-50.00")),
            ("reversal", "flash", Decimal("-100.00"))]
    keys = ["stock:flash", "uses:flash", "spent:fifty-off",
            *(f"uses:flash:c:c{n}" for n in range(8))]
    counters = assert_counters_match_orders(engine, store, orders, keys)
    assert set(counters.values()) == {0}
