"""The coupon-code throttle end to end: ``evaluate``, ``try_code`` and checkout count
each distinct wrong code against the customer in the same atomic step as the look-up
(:meth:`Store.check_codes <promokit.stores.Store.check_codes>`), and racing app
servers cannot get more than the limit of wrong codes looked up.

The race tests run several spawned processes × threads (``concurrency_kit``) on each
backend processes can share (SQLite, Redis, PostgreSQL). Each thread of every process
guesses wrong codes of its own for the same customers at the same time; what is
asserted, per customer (one throttle window): the codes the store looked up and found
wrong, over every process, are exactly the limit, never more; the throttle's count
and set agree; and the engine answered ``code_invalid`` at most the limit times.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import concurrency_kit as kit
import pytest
from campaigns import HEADER
from concurrency_kit import BACKENDS
from conftest import EVERY_BACKEND, D, make_cart

from promokit.cart import Cart, Line
from promokit.coupons import generate_codes
from promokit.errors import CartError, InputError, StoreError
from promokit.registry import Registry
from promokit.stores import MemoryStore, NoStore, Store, counter_keys
from promokit.testing import Clock, engine_from_toml

NOW = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, the carts' now
WINDOW = 600

COUPONS = HEADER + '''
[[promotion]]
id = "new-20"
kind = "order_amount_off"
amount = "20"

[[coupon]]
id = "new-20-batch"
promotion = "new-20"
count = 100
uses = 5
prefix = "NEW"
start = "2026-11-01T00:00:00"
end = "2026-11-30T23:59:59"
'''


def throttle(customer: str, at: datetime = NOW, window: int = WINDOW) -> str:
    return counter_keys.code_failures(customer, int(at.timestamp()) // window)


def coded(*codes: str, customer: str = "c1") -> Any:
    return make_cart(("l1", "A", 1, "100.00"), codes=list(codes), customer={"id": customer})


def reasons(result: Any) -> list[str]:
    return [c.reason for c in result.rejected_codes]


class Shop:
    """An engine on a store holding two good codes, its clock, and wrong codes to try
    (well formed, so each needs a look-up)."""

    def __init__(self, store: Any, registry: Registry, limit: int = 3) -> None:
        self.store = store
        self.good = generate_codes(2, "NEW")
        store.add_codes("new-20-batch", self.good, 5)
        self.wrong = generate_codes(12, "NEW", avoid=set(self.good))
        self.clock = Clock(NOW)
        self.engine = engine_from_toml(COUPONS, store=store, clock=self.clock,
                                       code_attempts=(limit, WINDOW), registry=registry)

    def failures(self, customer: str = "c1") -> int:
        key = throttle(customer, self.clock())
        return int(self.store.read([key])[key])


@pytest.fixture
def shop(store: Store, registry: Registry) -> Shop:
    return Shop(store, registry)


# -- every path counts -------------------------------------------------------------------


@EVERY_BACKEND
def test_a_code_or_customer_no_store_can_keep_is_refused_before_any_look_up(
        shop: Shop) -> None:
    """A NUL in a typed code's customer was a StoreError on PostgreSQL only."""
    engine = shop.engine
    for code, customer, path, why in (
            ("NEW\x00A", "c1", "code", "holds a control character"),
            ("NEW\x1bA", "c1", "code", "holds a control character"),
            ("\ud800", "c1", "code", "lone surrogate"),
            ("N" * 201, "c1", "code", "at most 200"),
            (shop.wrong[0], "c\x00", "customer", "holds a control character")):
        with pytest.raises(InputError, match=re.escape(why)) as error:
            engine.try_code(code, customer=customer)
        assert error.value.problems[0].path == path
    bad = Cart(currency="CNY", lines=[Line(id="l1", sku="A", quantity=1,
                                          unit_price=D("100.00"))], codes=("NEW\x00A",))
    with pytest.raises(CartError, match=re.escape("codes[0]: holds a control character")):
        engine.evaluate(bad)
    assert shop.failures() == 0


@EVERY_BACKEND
def test_evaluate_counts_each_distinct_wrong_code_once(shop: Shop) -> None:
    engine, wrong = shop.engine, shop.wrong
    assert reasons(engine.evaluate(coded(wrong[0]))) == ["code_invalid"]
    assert shop.failures() == 1  # evaluate wrote it: it was a guess
    for _ in range(3):  # the same code again, also typed another way: still one guess
        again = engine.evaluate(coded(wrong[0], wrong[0].lower()))
        assert reasons(again) == ["code_invalid", "code_invalid"]
    check = engine.try_code(wrong[0], customer="c1")
    assert (check.reason, check.failures) == ("code_invalid", 1)
    assert shop.failures() == 1
    assert reasons(engine.evaluate(coded(wrong[1], shop.good[0]))) == ["code_invalid"]
    assert shop.failures() == 2
    assert engine.evaluate(coded(shop.good[0])).total == D("80.00")  # a good one: not counted
    assert shop.failures() == 2 and shop.failures("c2") == 0


@EVERY_BACKEND
def test_after_the_limit_evaluate_and_try_code_say_code_throttled(shop: Shop) -> None:
    engine, wrong, good = shop.engine, shop.wrong, shop.good[0]
    assert reasons(engine.evaluate(coded(wrong[0]))) == ["code_invalid"]
    assert engine.try_code(wrong[1], customer="c1").reason == "code_invalid"
    # The third wrong code fills the throttle: evaluate says so for the whole cart.
    third = engine.evaluate(coded(wrong[2]))
    assert reasons(third) == ["code_throttled"]
    assert shop.failures() == 3
    # From now on a new code is refused without a look-up, even a good one.
    check = engine.try_code(good, customer="c1")
    assert (check.ok, check.reason, check.failures) == (False, "code_throttled", 3)
    result = engine.evaluate(coded(good))
    assert result.reason("new-20") == "code_throttled" and result.total == D("100.00")
    assert reasons(result) == ["code_throttled"]
    assert reasons(engine.evaluate(coded(wrong[3]))) == ["code_throttled"]
    assert shop.failures() == 3  # nothing more was looked up, nothing more counted
    assert engine.evaluate(coded(good, customer="c2")).total == D("80.00")
    shop.clock.move(seconds=WINDOW)  # the next window
    assert engine.evaluate(coded(good)).total == D("80.00")
    assert engine.try_code(good, customer="c1").ok


class Spy(MemoryStore):
    """A memory store that keeps every code it looks up."""

    def __init__(self) -> None:
        super().__init__()
        self.looked_up: list[str] = []

    def find_codes(self, codes: Sequence[str]) -> dict[str, Any]:
        self.looked_up.extend(codes)
        return super().find_codes(codes)


def test_a_cart_full_of_guesses_looks_up_no_more_than_the_limit(registry: Registry) -> None:
    shop = Shop(Spy(), registry)
    guesses = [*shop.wrong[:9], shop.good[0]]  # ten codes, the most a cart carries
    result = shop.engine.evaluate(coded(*guesses))
    assert reasons(result) == ["code_throttled"] * 10
    assert shop.store.looked_up == guesses[:3]  # the good code was never looked up
    assert shop.failures() == 3


@EVERY_BACKEND
def test_checkout_counts_wrong_codes_and_refuses_a_known_code_once_throttled(
        shop: Shop) -> None:
    engine, wrong, good = shop.engine, shop.wrong, shop.good[0]
    paid = engine.checkout(coded(good, customer="c2"), "SO-1")  # the code's row is now known
    assert paid.result.total == D("80.00") and paid.uses[0].code == good
    lost = engine.checkout(coded(wrong[0], customer="c3"), "SO-2")
    assert reasons(lost.result) == ["code_invalid"] and shop.failures("c3") == 1
    for code in wrong[1:4]:
        engine.try_code(code, customer="c1")
    assert shop.failures() == 3
    # The known code needs no look-up, but the store checks the throttle's count as it
    # applies the order, so a throttled customer cannot use the cache as an oracle.
    refused = engine.checkout(coded(good), "SO-3")
    assert reasons(refused.result) == ["code_throttled"]
    assert refused.result.total == D("100.00") and refused.uses == ()
    for order_id in ("SO-1", "SO-2", "SO-3"):
        assert engine.replay(order_id).matches, engine.replay(order_id).differences


def test_an_engine_without_a_store_finds_no_code_and_counts_nothing() -> None:
    engine = engine_from_toml(COUPONS, store=NoStore(), clock=Clock(NOW),
                              code_attempts=(1, WINDOW))
    codes = generate_codes(3, "NEW")
    for code in codes:  # a preview: no code can be found, so there is nothing to throttle
        assert reasons(engine.evaluate(coded(code))) == ["code_invalid"]
        check = engine.try_code(code, customer="c1")
        assert (check.reason, check.failures) == ("code_invalid", 0)
    with pytest.raises(StoreError, match="this engine has no store"):
        engine.checkout(coded(codes[0]), "SO-1")


# -- racing processes ----------------------------------------------------------------------

PROCESSES, THREADS = 4, 8
LANES = PROCESSES * THREADS
LIMIT = 10
CUSTOMERS = 3  # throttles raced at once
GUESSES = 6  # wrong codes per lane and customer


def _check(url: str, lanes: list[list[tuple[str, list[str]]]]) -> list[dict[str, Any]]:
    """A worker process: its own store handle; each op checks codes on a throttle."""
    from promokit import open_store

    kit.start_together()
    store = open_store(url)
    try:
        def run(op: tuple[str, list[str]]) -> dict[str, Any]:
            key, codes = op
            checked = store.check_codes(codes, throttle=key, limit=LIMIT, ttl=WINDOW)
            return {"pid": os.getpid(), "throttle": key, "codes": codes,
                    "throttled": list(checked.throttled), "counted": list(checked.counted),
                    "found": list(checked.found), "failures": checked.failures}

        return kit.run_lanes(lanes, run)
    finally:
        store.close()


def _guess(url: str, lanes: list[list[tuple[str, str, str]]]) -> list[dict[str, Any]]:
    """A worker process: its own engine; each op tries a code by try_code or evaluate."""
    kit.start_together()
    with kit.open_engine(url, COUPONS, clock=Clock(NOW),
                         code_attempts=(LIMIT, WINDOW)) as engine:
        def run(op: tuple[str, str, str]) -> dict[str, Any]:
            how, customer, code = op
            if how == "try":
                reason = engine.try_code(code, customer=customer).reason
            else:
                reason = reasons(engine.evaluate(coded(code, customer=customer)))[0]
            return {"pid": os.getpid(), "customer": customer, "reason": reason}

        return kit.run_lanes(lanes, run)


class Racers(kit.WorkerPool):
    def check(self, url: str, lanes: list[list[Any]]) -> list[dict[str, Any]]:
        return kit.from_each_process(self.submit(_check, lanes, url), PROCESSES)

    def guess(self, url: str, lanes: list[list[Any]]) -> list[dict[str, Any]]:
        return kit.from_each_process(self.submit(_guess, lanes, url), PROCESSES)


@pytest.fixture(scope="module")
def racers() -> Iterator[Racers]:
    with Racers(PROCESSES) as pool:
        yield pool


def _assert_throttle_holds(store: Store, key: str, counted: list[str]) -> None:
    """The throttle's count is what was counted, and no more than the limit."""
    assert len(counted) == len(set(counted)) == LIMIT
    assert store.read([key])[key] == LIMIT
    again = store.check_codes(counted, throttle=key, limit=LIMIT, ttl=WINDOW)
    assert (again.counted, again.throttled, again.failures) == ((), (), LIMIT)  # the set


@BACKENDS
def test_racing_processes_get_exactly_the_limit_of_wrong_codes_looked_up(
        racers: Racers, store_url: str, store: Store) -> None:
    good = generate_codes(1, "NEW")
    store.add_codes("new-20-batch", good, 5)
    keys = [throttle(f"victim{n}") for n in range(CUSTOMERS)]
    # Each lane guesses its own wrong codes, one or two (and the good code) a call,
    # going round the customers, so every throttle is raced by every thread at once.
    lanes: list[list[tuple[str, list[str]]]] = [[] for _ in range(LANES)]
    for lane in range(LANES):
        for n in range(0, GUESSES, 2):
            for key in keys:
                first, second = f"L{lane}-{key}-{n}", f"L{lane}-{key}-{n + 1}"
                lanes[lane] += [(key, [first]), (key, [second, good[0]])]
    results = racers.check(store_url, lanes)
    assert len(results) == LANES * GUESSES * CUSTOMERS
    for key in keys:
        mine = [r for r in results if r["throttle"] == key]
        wrong_looked_up = [c for r in mine for c in r["codes"]
                           if c not in r["throttled"] and c not in r["found"]]
        counted = [c for r in mine for c in r["counted"]]
        assert sorted(wrong_looked_up) == sorted(counted)
        _assert_throttle_holds(store, key, counted)
        assert max(r["failures"] for r in mine) == LIMIT
        # the good code is found while there is room and refused unseen after, never counted
        assert all(good[0] in r["found"] or good[0] in r["throttled"]
                   for r in mine if good[0] in r["codes"])


@BACKENDS
def test_racing_processes_guessing_through_the_engine_are_held_at_the_limit(
        racers: Racers, store_url: str, store: Store) -> None:
    customers = [f"mallory{n}" for n in range(CUSTOMERS)]
    wrong = generate_codes(LANES * GUESSES * CUSTOMERS, "NEW")
    lanes: list[list[tuple[str, str, str]]] = [[] for _ in range(LANES)]
    codes = iter(wrong)
    for lane in range(LANES):
        for n in range(GUESSES):
            for customer in customers:
                lanes[lane].append(("try" if (lane + n) % 2 else "evaluate", customer,
                                    next(codes)))
    results = racers.guess(store_url, lanes)
    assert len(results) == len(wrong)
    for customer in customers:
        answers = Counter(r["reason"] for r in results if r["customer"] == customer)
        assert set(answers) <= {"code_invalid", "code_throttled"}
        # code_invalid is said only of a code looked up and counted before the limit
        assert 0 < answers["code_invalid"] <= LIMIT
        assert answers["code_throttled"] >= LANES * GUESSES - LIMIT
        key = throttle(customer)
        assert store.read([key])[key] == LIMIT
