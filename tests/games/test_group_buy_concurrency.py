"""Group buys under real concurrency: spawned processes × threads on one shared store.

Every test runs on the backends processes can share (SQLite in WAL mode, Redis,
PostgreSQL). Each worker process builds its own :class:`~promokit.Engine` from the same
campaign text and opens its own store from the URL, as separate app servers would;
the processes, and the threads inside each, start together (barriers).

- **the last seat**: a group of three with two members is raced by 100 distinct
  customers joining at once (4 processes × 25 threads): exactly one joins, the 99
  others are told ``group_full``, the group holds three members and its counters say
  so, and one ``joined`` and one ``full`` event were emitted over all processes;
- **expiry**: five groups short of members, with their members' orders checked out
  and paid, expire while 20 callers sweep and read them at once: each group is
  ``expired`` once, each member refunded exactly once (one ``refunded`` event, one
  checkout refund ``group:<group id>``, one ledger reversal per order).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import concurrency_kit as kit
import pytest
from campaigns import HEADER
from concurrency_kit import BACKENDS

from promokit.cart import Customer
from promokit.errors import GameError
from promokit.plugins.games.group_buy import GroupBuyGame
from promokit.stores import Store
from promokit.testing import Recorder, engine_from_toml

PROCESSES = 4
DEADLINE = 60.0
SECRET = b"s" * 32
NOW = datetime(2026, 11, 11, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
GAME = HEADER + '''
[[game]]
id = "pin"
kind = "group_buy"
sku = "KETTLE"
price = "69.00"
size = 3
'''

Op = tuple[str, ...]
"""``("join", group_id, customer, order_id)``, ``("sweep",)`` or ``("group", group_id)``."""


# -- worker processes ---------------------------------------------------------------------------

def _run(engine: Any, game: GroupBuyGame, op: Op) -> dict[str, Any]:
    if op[0] == "join":
        try:
            group = game.join(op[1], Customer(id=op[2], orders_count=0), op[3])
        except GameError as error:
            return {"op": "join", "customer": op[2], "ok": False, "reason": error.reason}
        return {"op": "join", "customer": op[2], "ok": True, "members": group.real_members}
    if op[0] == "sweep":
        return {"op": "sweep", "expired": engine.sweep()}
    return {"op": "group", "status": game.group(op[1]).status}


def _work(url: str, at: str, lanes: list[list[Op]]) -> dict[str, Any]:
    """One worker process: its own engine and store, one thread per lane."""
    kit.start_together(DEADLINE)
    events = Recorder()
    moment = datetime.fromisoformat(at)
    with kit.open_engine(url, GAME, plugins=[events], clock=lambda: moment,
                         secret=SECRET) as engine:
        game = kit.game_of(engine, "pin", GroupBuyGame)
        done = kit.run_lanes(lanes, lambda op: _run(engine, game, op), DEADLINE)
        return {"pid": os.getpid(), "results": done,
                "events": [(e.event, e.customer, dict(e.data)) for e in events.games]}


class Workers(kit.WorkerPool):
    """``PROCESSES`` spawned processes that run a batch of lanes together."""

    def run(self, url: str, at: datetime, lanes: list[list[Op]]) -> tuple[
            list[dict[str, Any]], list[tuple[str, str | None, dict[str, Any]]]]:
        """Every process takes an equal share of ``lanes``; all results and events."""
        assert len(lanes) % PROCESSES == 0
        done = self.run_all(_work, lanes, url, at.isoformat())
        assert len({d["pid"] for d in done}) == PROCESSES  # really several processes
        return (kit.flat(d["results"] for d in done), kit.flat(d["events"] for d in done))


@pytest.fixture(scope="module")
def workers() -> Iterator[Workers]:
    with Workers(PROCESSES, DEADLINE) as pool:
        yield pool


def local(store: Store, at: datetime = NOW) -> tuple[Any, GroupBuyGame]:
    engine = engine_from_toml(GAME, store=store, clock=lambda: at, secret=SECRET)
    return engine, kit.game_of(engine, "pin", GroupBuyGame)


# -- the last seat ---------------------------------------------------------------------------------


@BACKENDS
def test_one_hundred_joins_for_the_last_seat_admit_exactly_one(
        workers: Workers, store_url: str, store: Store) -> None:
    _, game = local(store)
    group_id = game.open_group(Customer(id="leader"), "o-leader").group_id
    game.join(group_id, Customer(id="first", orders_count=0), "o-first")
    customers = [f"c{n:03d}" for n in range(100)]
    lanes = [[("join", group_id, c, f"o-{c}")] for c in customers]  # 4 processes × 25

    results, events = workers.run(store_url, NOW + timedelta(minutes=1), lanes)

    assert len(results) == 100
    winners = [r["customer"] for r in results if r["ok"]]
    assert len(winners) == 1
    assert Counter(r["reason"] for r in results if not r["ok"]) == {"group_full": 99}
    group = game.group(group_id)
    assert group.status == "full" and group.seats_left == 0
    assert [m.customer for m in group.members] == ["leader", "first", winners[0]]
    code = group_id.partition(".")[2]
    counters = store.read([f"game:pin:group:{code}:members", f"game:pin:group:{code}:closed",
                           *(f"game:pin:group:{code}:member:{c}" for c in customers),
                           *(f"game:pin:groups:{c}" for c in customers)])
    assert counters[f"game:pin:group:{code}:members"] == 3
    assert counters[f"game:pin:group:{code}:closed"] == 1
    assert [c for c in customers if counters[f"game:pin:group:{code}:member:{c}"]] == winners
    assert [c for c in customers if counters[f"game:pin:groups:{c}"]] == winners
    assert Counter(name for name, _, _ in events) == {"joined": 1, "full": 1}
    assert [who for name, who, _ in events if name == "joined"] == winners


# -- expiry ----------------------------------------------------------------------------------------


def _cart(customer: str, group_id: str) -> dict[str, Any]:
    return {"currency": "CNY", "customer": {"id": customer, "orders_count": 0},
            "lines": [{"id": "l1", "sku": "KETTLE", "quantity": 1, "unit_price": "99.00",
                       "group_id": group_id}]}


@BACKENDS
def test_concurrent_sweeps_refund_each_member_exactly_once(
        workers: Workers, store_url: str, store: Store) -> None:
    engine, game = local(store)
    groups: dict[str, list[str]] = {}
    for n in range(5):
        leader, member = f"leader{n}", f"member{n}"
        engine.checkout(_cart(leader, "pin"), f"o-{leader}")
        engine.commit(f"o-{leader}")
        group_id = game.open_group(Customer(id=leader), f"o-{leader}").group_id
        engine.checkout(_cart(member, group_id), f"o-{member}")
        engine.commit(f"o-{member}")
        game.join(group_id, Customer(id=member, orders_count=0), f"o-{member}")
        groups[group_id] = [f"o-{leader}", f"o-{member}"]
    orders = [o for pair in groups.values() for o in pair]
    lanes: list[list[Op]] = [[("sweep",)] if n % 2 == 0 else
                             [("group", list(groups)[n % 5])] for n in range(20)]

    results, events = workers.run(store_url, NOW + timedelta(hours=24), lanes)

    swept = [row for r in results if r["op"] == "sweep" for row in r["expired"]]
    assert len(set(swept)) <= 5  # a row may be reported by several sweepers; never lost
    assert all(r["status"] == "expired" for r in results if r["op"] == "group")
    assert Counter(name for name, _, _ in events) == {"expired": 5, "refunded": 10}
    refunded = sorted(data["order_id"] for name, _, data in events if name == "refunded")
    assert refunded == sorted(orders)
    for group_id, pair in groups.items():
        assert all(data["refund_id"] == f"group:{group_id}" and data["amount"] == "69.00"
                   for name, _, data in events if name == "refunded"
                   and data["order_id"] in pair)
    _, later = local(store, NOW + timedelta(hours=25))
    for group_id, pair in groups.items():
        state = later.group(group_id)
        assert state.status == "expired" and all(m.refunded for m in state.members)
        row = store.order(f"game:pin:group:{group_id.partition('.')[2]}")
        assert row is not None and row.expires_at is None
        for order_id in pair:
            order = engine.order(order_id)
            assert order is not None and order.status == "refunded"
            assert [(r.refund_id, r.amount) for r in order.refunds] == [
                (f"group:{group_id}", Decimal("69.00"))]
    reversals = [e for e in store.ledger(promotion="pin") if e.kind == "reversal"]
    assert sorted(e.order_id for e in reversals) == sorted(orders)
    assert sum(e.amount for e in store.ledger(promotion="pin")) == 0
