"""Checkout in one round trip: pricing with the counters a checkout has seen and
letting the store check them (``Expect``) as it applies the order.

Whatever a checkout remembers or guesses, an order is priced exactly as a fresh
read of the store would price it, and nothing is taken past a limit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from campaigns import HEADER, d11_shop
from conftest import EVERY_BACKEND, D, make_cart
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promokit import Engine
from promokit.registry import Registry
from promokit.stores import Change, Delta, MemoryStore, Store
from promokit.testing import engine_from_toml

NOW = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, the carts' now

SHOP = d11_shop(budget="1000.00",
                flash_limits="stock = 5, per_customer = 1, per_order_units = 2",
                threshold="partial_budget = true\nlimits = { total = 4 }\n") + '''
[[promotion]]
id = "new-20"
kind = "order_amount_off"
stage = "platform"
amount = "20"

[[coupon]]
id = "new-20-batch"
promotion = "new-20"
external = true
uses = 2
'''


class Counting:
    """A store that counts the calls made to it."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if callable(attribute):
            def counted(*args: Any, **kwargs: Any) -> Any:
                self.calls.append(name)
                return attribute(*args, **kwargs)
            return counted
        return attribute


@pytest.fixture
def counting(store: Store) -> Iterator[Counting]:
    yield Counting(store)


def shop(store: Any, text: str = SHOP) -> Engine:
    return engine_from_toml(text, store=store, clock=lambda: NOW,
                            registry=Registry.default(load_entry_points=False))


def cart(customer: str, blenders: int = 1, shoes: int = 2, **fields: Any) -> Any:
    lines = [("l1", "SHOE", shoes, "150.00")] if shoes else []
    lines.append(("l2", "BLENDER", blenders, "199.00"))
    return make_cart(*lines, customer={"id": customer}, **fields)


@EVERY_BACKEND
def test_a_checkout_is_one_store_call(counting: Counting) -> None:
    engine = shop(counting)
    engine.checkout(cart("c0"), "SO-0")  # keeps the campaign version: once per engine
    counting.calls.clear()
    for n in range(1, 4):
        order = engine.checkout(cart(f"c{n}"), f"SO-{n}")
        # BLENDER 199.00 → 99.00; 300.00 + 99.00 = 399.00 ≥ 300 → 50.00 off: 349.00.
        assert order.result.total == D("349.00")
    assert counting.calls == ["apply", "apply", "apply"]


@EVERY_BACKEND
def test_a_wrong_guess_costs_one_more_call_and_never_a_wrong_price(
        counting: Counting, store: Store) -> None:
    first = shop(counting)
    first.checkout(cart("c1"), "SO-1")  # c1 uses the flash sale once
    other = shop(counting)  # another app server: it has seen nothing of c1
    counting.calls.clear()
    order = other.checkout(cart("c1"), "SO-2")
    # Guessed c1 had not bought yet: the store answers 1 and the order is priced again
    # without the flash price: 300.00 + 199.00 = 499.00 − 50.00 = 449.00. A limit now
    # reached sends checkout looking for lapsed reservations that might hold it.
    assert counting.calls == ["save_campaigns", "apply", "expired", "apply"]
    assert order.result.total == D("449.00")
    assert order.result.reason("flash") == "limit_reached"
    assert order.dropped == ()  # never offered: it was a guess, not a price
    assert dict(store.read(["uses:flash:c:c1", "stock:flash"])) == {
        "uses:flash:c:c1": 1, "stock:flash": 1}


@EVERY_BACKEND
def test_stock_left_below_the_units_asked_is_checked_exactly(store: Store) -> None:
    engine = shop(store)
    for n in range(4):
        engine.checkout(cart(f"c{n}", shoes=0), f"SO-{n}")
    other = shop(store)  # remembers nothing: guesses 0 taken of 5
    order = other.checkout(cart("c9", blenders=2, shoes=0), "SO-9")
    # One unit left: the first BLENDER at 99.00, the second at 199.00 → 298.00 < 300.
    assert order.result.total == D("298.00")
    assert [d.amount for d in order.result.line("l2").discounts] == [D("100.00")]
    assert dict(store.read(["stock:flash"])) == {"stock:flash": 5}


@EVERY_BACKEND
def test_a_budget_nearly_spent_is_priced_with_what_is_left(store: Store) -> None:
    small = SHOP.replace('budget = "1000.00"', 'budget = "100.00"')
    engine = shop(store, small)
    engine.checkout(cart("c1"), "SO-1")  # spends 50.00 of 100.00
    store_spent = dict(store.read(["spent:campaign:d11"]))["spent:campaign:d11"]
    assert store_spent == 5000
    other = shop(store, small)
    other.orders.known.learn({"spent:campaign:d11": 0})  # an old answer: nothing spent
    engine.checkout(cart("c2"), "SO-2")  # spends the other 50.00 …
    # … so nothing is left: 300.00 + 99.00 = 399.00 and no 50.00 off.
    order = other.checkout(cart("c3"), "SO-3")
    assert order.result.total == D("399.00")
    assert order.result.reason("d11-300-50") == "budget_exhausted"
    assert [(n.promotion, n.reason) for n in order.dropped] == [
        ("d11-300-50", "budget_exhausted")]  # an answer once true: said as dropped
    assert dict(store.read(["spent:campaign:d11"]))["spent:campaign:d11"] == 10000


@EVERY_BACKEND
def test_a_code_is_looked_up_once_per_engine(counting: Counting, store: Store) -> None:
    store.add_codes("new-20-batch", ["VIP1", "VIP2"], 2)  # as stored: normalized
    engine = shop(counting)
    engine.checkout(cart("c1", codes=["VIP-1"]), "SO-1")
    counting.calls.clear()
    order = engine.checkout(cart("c2", codes=["VIP-1"]), "SO-2")
    # 399.00 − 50.00 − 20.00 = 329.00, with the code's row remembered: one call.
    assert order.result.total == D("329.00")
    assert counting.calls == ["apply"]
    third = engine.checkout(cart("c3", codes=["VIP-1"]), "SO-3")
    # The code's two uses are taken: 349.00, and the store said so in the same call.
    assert third.result.total == D("349.00")
    assert [r.reason for r in third.result.rejected_codes] == ["code_used"]
    assert dict(store.read(["code:VIP1"])) == {"code:VIP1": 2}


# -- the property ---------------------------------------------------------------------------

KEYS = ("stock:flash", "uses:flash", "uses:flash:c:cx", "uses:d11-300-50",
        "spent:campaign:d11")
LIMITS = {"stock:flash": 5, "uses:flash": 10, "uses:flash:c:cx": 1, "uses:d11-300-50": 4,
          "spent:campaign:d11": 100000}


def _near(limit: int) -> st.SearchStrategy[int]:
    """A counter's value, often within a cart's reach of its limit."""
    return st.one_of(st.integers(0, limit), st.integers(max(0, limit - 8000), limit))


def _values() -> st.SearchStrategy[dict[str, int]]:
    return st.fixed_dictionaries({key: _near(limit) for key, limit in LIMITS.items()})


@st.composite
def _remembered(draw: st.DrawFn) -> dict[str, int]:
    """What an engine remembers: any of the counters, each as any value."""
    return {key: draw(_near(LIMITS[key])) for key in KEYS if draw(st.booleans())}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actual=_values(), remembered=_remembered(),
       blenders=st.integers(1, 4), shoes=st.integers(0, 3))
def test_checkout_prices_as_a_fresh_read_whatever_it_remembers(
        actual: dict[str, int], remembered: dict[str, int], blenders: int,
        shoes: int) -> None:
    store = MemoryStore()
    for key, value in actual.items():
        store.set(key, value)
    engine = shop(store)
    engine.orders.known.learn(remembered)
    fresh = engine.evaluate(cart("cx", blenders, shoes))
    order = engine.checkout(cart("cx", blenders, shoes), "SO-1")
    assert order.result.to_json() == fresh.to_json()
    after = dict(store.read(list(KEYS)))
    for key, limit in LIMITS.items():
        if key != "uses:flash":  # the flash sale's uses have no limit of their own
            assert after[key] <= max(limit, actual[key])  # nothing taken past a limit
    taken = {use.promotion: use.units for use in order.uses}
    assert after["stock:flash"] - actual["stock:flash"] == taken.get("flash", 0)


def test_remembered_values_do_not_outlive_their_engine() -> None:
    store = MemoryStore()
    first, second = shop(store), shop(store)
    first.orders.known.learn({"stock:flash": 5})
    assert second.orders.known.counters(["stock:flash"]) == ({"stock:flash": 0},
                                                             frozenset({"stock:flash"}))


def test_a_budget_that_capped_the_remembered_price_is_checked_exactly() -> None:
    store = MemoryStore()
    store.set("spent:campaign:d11", 99000)  # 10.00 of 1,000.00 left
    engine = shop(store)
    engine.orders.known.learn({"spent:campaign:d11": 99700})  # remembered: 3.00 left
    order = engine.checkout(cart("c1"), "SO-1")
    # 399.00 ≥ 300 → 50.00 off, of which the budget pays what is left: 10.00, not the
    # 3.00 the engine remembered. 399.00 − 10.00 = 389.00.
    assert order.result.total == D("389.00")
    assert dict(store.read(["spent:campaign:d11"])) == {"spent:campaign:d11": 100000}


GIFT = HEADER + '''
[[promotion]]
id = "cup"
kind = "gift"
threshold = "199"
gift = { sku = "CUP-1", name = "保溫杯", quantity = 1, value = "59" }
limits = { stock = 100 }
'''


class Busy(Counting):
    """A store where another server hands out a gift before each of this one's writes."""

    def __init__(self, store: MemoryStore) -> None:
        super().__init__(store)
        self.memory = store

    def apply(self, change: Any) -> Any:
        self.calls.append("apply")
        self.memory.apply(new_change(f"other-{len(self.calls)}", "stock:cup"))
        return self.memory.apply(change)


def new_change(order_id: str, key: str) -> Change:
    return Change(order_id=order_id, revision=0, status="reserved", body="{}",
                  deltas=(Delta(key, 1, 100),))


def test_a_counter_that_changes_under_every_attempt_does_not_stop_the_order() -> None:
    store = MemoryStore()
    busy = Busy(store)
    engine = shop(busy, GIFT)
    order = engine.checkout(make_cart(("l1", "TEA", 1, "229.00"), customer={"id": "c1"}),
                            "SO-1")
    # The cup's stock changes before every write: checked exactly twice (stale both
    # times), then written under its limit alone. ¥229.00 ≥ ¥199.00: the cup is given.
    assert busy.calls == ["save_campaigns", "apply", "apply", "apply"]
    assert [(g.sku, g.quantity) for g in order.result.gifts] == [("CUP-1", 1)]
    assert order.result.total == D("229.00")
    assert dict(store.read(["stock:cup"])) == {"stock:cup": 4}  # 3 others + this order
