"""Checkout, commit, release, expiry and refunds (DESIGN §4.9), with hand-computed
amounts. The flows run on every store backend; the single-process details on memory."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from campaigns import HEADER, d11_shop
from conftest import EVERY_BACKEND, D, make_cart

import promokit
from promokit import Engine, OrderError, StoreError, StoreUnavailable
from promokit.cart import Customer
from promokit.errors import CartError, InputError, RefundError
from promokit.registry import Registry
from promokit.stores import Change, Delta, MemoryStore, Store, counter_keys
from promokit.testing import Clock, Recorder, engine_from_toml

SHOP = d11_shop(budget="1000.00", funding=True, flash_limits="stock = 3, per_customer = 1")

NOW = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, the carts' now


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def shop(store: Store, clock: Clock, recorder: Recorder) -> Callable[..., Engine]:
    """``shop(toml=SHOP, **options)``: an engine on the test's store, clock and recorder."""
    registry = Registry.default([recorder], load_entry_points=False)

    def build(text: str = SHOP, **options: Any) -> Engine:
        return engine_from_toml(text, registry=registry, store=store, clock=clock, **options)
    return build


def cart_of(*lines: tuple[Any, ...], customer: str | None = "c1", **fields: Any) -> Any:
    return make_cart(*lines, customer={"id": customer} if customer else {}, **fields)


BASKET = (("l1", "SHOE", 2, "150.00"), ("l2", "BLENDER", 1, "199.00"))


def counters(store: Store, *keys: str) -> dict[str, int]:
    return dict(store.read(list(keys)))


# -- reserve ---------------------------------------------------------------------------


@EVERY_BACKEND
def test_checkout_reserves_what_the_price_gives(shop: Callable[..., Engine],
                                                store: Store) -> None:
    engine = shop()
    order = engine.checkout(cart_of(*BASKET), "SO-1")
    # Item: BLENDER 199.00 → 99.00 (flash, 100.00 off). Platform: 300.00 + 99.00 = 399.00
    # ≥ 300 → 50.00 off by net: SHOE 50 × 300/399 = 37.593 → 37.59, BLENDER 12.406 → 12.41
    # (the larger remainder takes the odd cent). Total 399.00 − 50.00 = 349.00.
    assert order.status == "reserved" and order.revision == 1 and not order.repeated
    assert order.result.total == D("349.00")
    assert [(d.promotion, d.amount) for d in order.result.line("l1").discounts] == [
        ("d11-300-50", D("37.59"))]
    assert [(d.promotion, d.amount) for d in order.result.line("l2").discounts] == [
        ("flash", D("100.00")), ("d11-300-50", D("12.41"))]
    assert [(d.key, d.amount, d.limit) for d in order.holds] == [
        ("spent:campaign:d11", 5000, 100000),
        ("stock:flash", 1, 3),
        ("uses:d11-300-50", 1, None),
        ("uses:flash", 1, None),
        ("uses:flash:c:c1", 1, 1),
    ]
    assert counters(store, "stock:flash", "spent:campaign:d11", "uses:flash:c:c1") == {
        "stock:flash": 1, "spent:campaign:d11": 5000, "uses:flash:c:c1": 1}
    assert order.expires_at == NOW + timedelta(minutes=15)
    stored = engine.order("SO-1")
    assert stored is not None and stored.result == order.result and stored.holds == order.holds


@EVERY_BACKEND
def test_the_same_order_id_never_reserves_twice(shop: Callable[..., Engine],
                                                store: Store) -> None:
    engine = shop()
    first = engine.checkout(cart_of(*BASKET), "SO-1")
    again = engine.checkout(cart_of(*BASKET), "SO-1")
    assert again.repeated and again.result == first.result and again.revision == 1
    assert counters(store, "stock:flash", "uses:d11-300-50") == {"stock:flash": 1,
                                                                  "uses:d11-300-50": 1}
    with pytest.raises(OrderError, match="already used for another cart") as caught:
        engine.checkout(cart_of(("l1", "SHOE", 1, "150.00")), "SO-1")
    assert caught.value.order_id == "SO-1"


@EVERY_BACKEND
def test_stock_runs_out_exactly(shop: Callable[..., Engine], store: Store) -> None:
    engine = shop()
    for n in range(3):
        order = engine.checkout(cart_of(*BASKET, customer=f"c{n}"), f"SO-{n}")
        assert order.result.line("l2").discounts[0].promotion == "flash"
    fourth = engine.checkout(cart_of(*BASKET, customer="c9"), "SO-9")
    assert fourth.result.reason("flash") == "stock_exhausted"
    # Without the flash price: 300.00 + 199.00 = 499.00 − 50.00 = 449.00.
    assert fourth.result.total == D("449.00")
    assert counters(store, "stock:flash")["stock:flash"] == 3


def test_a_counter_that_ran_out_since_pricing_is_dropped_and_said(
        shop: Callable[..., Engine], store: Store) -> None:
    engine = shop()
    assert isinstance(store, MemoryStore)
    engine.orders.known.learn({"stock:flash": 2})  # what an earlier checkout saw
    store.set("stock:flash", 3)  # another app server took the last unit meanwhile
    order = engine.checkout(cart_of(*BASKET), "SO-1")
    assert [(n.promotion, n.reason) for n in order.dropped] == [("flash", "stock_exhausted")]
    assert order.result.total == D("449.00")
    assert counters(store, "stock:flash")["stock:flash"] == 3


def test_per_customer_limits(shop: Callable[..., Engine]) -> None:
    engine = shop()
    engine.checkout(cart_of(*BASKET), "SO-1")
    second = engine.checkout(cart_of(*BASKET), "SO-2")
    assert second.result.reason("flash") == "limit_reached"
    anonymous = engine.checkout(cart_of(*BASKET, customer=None), "SO-3")
    assert anonymous.result.reason("flash") == "limit_reached"
    assert "signed-in" in anonymous.result.not_applied[0].message
    # evaluate still shows an anonymous visitor the flash price
    assert engine.evaluate(cart_of(*BASKET, customer=None)).reason("flash") is None


# -- commit, release, expiry ------------------------------------------------------------


@EVERY_BACKEND
def test_commit_writes_the_ledger_once(shop: Callable[..., Engine], store: Store,
                                       clock: Clock) -> None:
    engine = shop()
    engine.checkout(cart_of(*BASKET), "SO-1")
    clock.move(seconds=60)
    committed = engine.commit("SO-1")
    assert committed.status == "committed" and committed.expires_at is None
    assert committed.committed_at == NOW + timedelta(seconds=60)
    assert engine.commit("SO-1").revision == committed.revision  # idempotent
    ledger = store.ledger(order_id="SO-1")
    assert [(e.kind, e.promotion, e.amount, e.funding, e.units, e.customer) for e in ledger] == [
        ("redemption", "flash", D("100.00"), (("merchant", D("100.00")),), 1, "c1"),
        ("redemption", "d11-300-50", D("50.00"),
         (("platform", D("35.00")), ("merchant", D("15.00"))), 3, "c1"),
    ]
    assert all(e.campaign_version == engine.campaigns.version for e in ledger)
    assert store.expired(clock().timestamp() + 10**6) == []


@EVERY_BACKEND
def test_release_gives_everything_back(shop: Callable[..., Engine], store: Store) -> None:
    engine = shop()
    engine.checkout(cart_of(*BASKET), "SO-1")
    released = engine.release("SO-1")
    assert released.status == "released" and released.holds == ()
    assert engine.release("SO-1").revision == released.revision
    assert set(counters(store, "stock:flash", "spent:campaign:d11", "uses:flash:c:c1",
                        "uses:d11-300-50").values()) == {0}
    with pytest.raises(OrderError, match="was released"):
        engine.commit("SO-1")
    assert store.ledger() == []


@EVERY_BACKEND
def test_a_lapsed_reservation_expires_and_cannot_be_committed(
        shop: Callable[..., Engine], store: Store, clock: Clock, recorder: Recorder) -> None:
    engine = shop(ttl=60)
    engine.checkout(cart_of(*BASKET), "SO-1")
    clock.move(seconds=59)
    assert engine.sweep() == []
    clock.move(seconds=1)
    with pytest.raises(OrderError, match="lapsed"):
        engine.commit("SO-1")
    order = engine.order("SO-1")
    assert order is not None and order.status == "expired"
    assert counters(store, "stock:flash")["stock:flash"] == 0
    assert [e.kind for e in recorder.orders] == ["reserved", "expired"]


def test_sweep_expires_only_lapsed_reservations(shop: Callable[..., Engine], store: Store,
                                                clock: Clock) -> None:
    engine = shop(ttl=60)
    engine.checkout(cart_of(*BASKET, customer="a"), "SO-a")
    clock.move(seconds=30)
    engine.checkout(cart_of(*BASKET, customer="b"), "SO-b")
    engine.commit("SO-b")
    clock.move(seconds=31)
    assert engine.sweep() == ["SO-a"]
    assert counters(store, "stock:flash")["stock:flash"] == 1


def test_stock_held_by_lapsed_reservations_comes_back_at_checkout(
        shop: Callable[..., Engine], store: Store, clock: Clock) -> None:
    engine = shop(ttl=60)
    for n in range(3):
        engine.checkout(cart_of(*BASKET, customer=f"c{n}"), f"SO-{n}")
    assert engine.evaluate(cart_of(*BASKET, customer="c9")).reason("flash") == \
        "stock_exhausted"
    clock.move(seconds=61)  # the three buyers never paid, and nobody swept
    late = engine.checkout(cart_of(*BASKET, customer="c9"), "SO-9")
    assert late.result.line("l2").discounts[0].promotion == "flash"
    assert [engine.order(f"SO-{n}").status for n in range(3)] == ["expired"] * 3  # type: ignore[union-attr]
    assert counters(store, "stock:flash")["stock:flash"] == 1


def test_order_operations_on_unknown_or_wrong_orders(shop: Callable[..., Engine]) -> None:
    engine = shop()
    for call in (engine.commit, engine.release):
        with pytest.raises(OrderError, match="no order 'nope'"):
            call("nope")
    engine.checkout(cart_of(*BASKET), "SO-1")
    with pytest.raises(OrderError, match="not committed yet"):
        engine.refund("SO-1", "RF-1")
    engine.commit("SO-1")
    with pytest.raises(OrderError, match="refund it instead"):
        engine.release("SO-1")
    for bad, why in (("", "must be a non-empty string"), ("   ", "must be a non-empty string"),
                     ("x" * 201, "is 201 characters long; at most 200"),
                     ("SO-\x1b[2J", "holds a control character"),
                     ("SO-\x00", "holds a control character"),
                     ("game:pin:group:abc", "kept for games' own records")):
        with pytest.raises(OrderError, match=re.escape(why)):
            engine.checkout(cart_of(*BASKET), bad)
    with pytest.raises(OrderError, match="refund_id 'RF\\\\x00' holds a control character"):
        engine.refund("SO-1", "RF\x00")


@EVERY_BACKEND
def test_a_customer_id_no_store_can_keep_is_refused_before_any_store_sees_it(
        shop: Callable[..., Engine], store: Store) -> None:
    """A NUL was a StoreError on PostgreSQL only, and stored as given elsewhere."""
    engine = shop()
    for bad, why in (("c\x00", "holds a NUL character"),
                     ("c\x1b[2J", "holds a control character"),
                     ("\ud800", "holds a lone surrogate")):
        with pytest.raises(InputError, match=re.escape(why)) as error:
            engine.checkout(cart_of(*BASKET, customer=bad), "SO-1")
        assert "customer" in str(error.value)
        with pytest.raises(InputError):
            Customer(id=bad)
    assert engine.order("SO-1") is None


@EVERY_BACKEND
def test_ids_with_the_separators_of_keys_and_entry_ids_name_nothing_else(
        shop: Callable[..., Engine], store: Store) -> None:
    """Keys and ledger entry ids are built from escaped parts (``stores.key_part``): a
    refund id ``r``, refund ids that spell another order's entries, and a customer
    ``alice:d:2026-11-11`` beside alice's daily counter are all told apart."""
    engine = shop(d11_shop(flash_limits="per_customer = 5, per_customer_daily = 1"))
    # Refund id "r" (its reversals were once named like the order's redemptions), and
    # refunds "x:r" of "A" and "r:r" of "B" beside orders "A:x" and "B:f:r".
    for order_id, customer, refund_id in (("SO-1", "c1", "r"), ("A", "ann", "x:r"),
                                          ("B", "bea", "r:r")):
        engine.checkout(cart_of(*BASKET, customer=customer), order_id)
        engine.commit(order_id)
        engine.refund(order_id, refund_id)
    for order_id, customer in (("A:x", "bob"), ("B:f:r", "ben")):
        engine.checkout(cart_of(*BASKET, customer=customer), order_id)
        assert engine.commit(order_id).status == "committed"
    ids = [entry.entry_id for entry in store.ledger()]
    # 5 orders × 2 redemptions (flash, d11-300-50), 3 full refunds × 2 reversals.
    assert len(ids) == len(set(ids)) == 16, ids
    # Flash, one BLENDER a day and five in all per customer. The customer whose id
    # spells alice's daily key buys first; alice has not bought today, and may.
    blender = ("l1", "BLENDER", 1, "199.00")
    for customer in ("alice:d:2026-11-11", "alice", "alice%3Ad%3A2026-11-11"):
        order = engine.checkout(cart_of(blender, customer=customer), f"SO-{customer}")
        assert [a.promotion for a in order.result.applied] == ["flash"], customer
    again = engine.checkout(cart_of(blender, customer="alice"), "SO-alice-2")
    assert [(n.promotion, n.reason) for n in again.result.not_applied] == [
        ("d11-300-50", "below_threshold"), ("flash", "limit_reached")]


# -- refunds ----------------------------------------------------------------------------


@EVERY_BACKEND
def test_proportional_refunds_bit_by_bit_pay_back_exactly_the_total(
        shop: Callable[..., Engine], store: Store) -> None:
    engine = shop()
    engine.checkout(cart_of(*BASKET), "SO-1")
    engine.commit("SO-1")
    # SHOE line: 300.00 − 37.59 = 262.41 over 2 units → 131.21 + 131.20.
    first = engine.refund("SO-1", "RF-1", {"l1": 1})
    assert first.amount == D("131.21") and first.clawback == D("0.00")
    # d11-300-50 gave SHOE 37.59 → 18.80 + 18.79; the first unit gives back 18.80.
    assert first.reversals == (("d11-300-50", D("18.80")),)
    assert first.given_back == (("spent:campaign:d11", 1880),)
    assert counters(store, "spent:campaign:d11")["spent:campaign:d11"] == 5000 - 1880
    order = engine.order("SO-1")
    assert order is not None and order.status == "committed"
    rest = engine.refund("SO-1", "RF-2")
    assert rest.amount == D("349.00") - D("131.21") == D("217.79")
    assert dict(rest.reversals) == {"flash": D("100.00"), "d11-300-50": D("31.20")}
    order = engine.order("SO-1")
    assert order is not None and order.status == "refunded" and order.holds == ()
    assert set(counters(store, "stock:flash", "spent:campaign:d11", "uses:flash",
                        "uses:flash:c:c1", "uses:d11-300-50").values()) == {0}
    by_promotion: dict[str, Decimal] = {}
    for entry in store.ledger(order_id="SO-1"):
        by_promotion[entry.promotion] = by_promotion.get(entry.promotion, D("0")) + entry.amount
        assert sum(share for _, share in entry.funding) == entry.amount
    assert by_promotion == {"flash": D("0.00"), "d11-300-50": D("0.00")}
    with pytest.raises(OrderError, match="refunded in full"):
        engine.refund("SO-1", "RF-3")


@EVERY_BACKEND
def test_a_reevaluated_refund_claws_back_a_lost_threshold(
        shop: Callable[..., Engine], store: Store) -> None:
    engine = shop()
    engine.checkout(cart_of(*BASKET), "SO-1")
    engine.commit("SO-1")
    refund = engine.refund("SO-1", "RF-1", {"l1": 1}, policy="reevaluate")
    # Kept: one SHOE 150.00 + BLENDER 99.00 = 249.00 < 300: no 50.00 off. Paid 349.00,
    # so the refund is 349.00 − 249.00 = 100.00, not the proportional 131.21.
    assert refund.amount == D("100.00") and refund.clawback == D("31.21")
    assert refund.reversals == (("d11-300-50", D("50.00")),)
    assert refund.given_back == (("spent:campaign:d11", 5000), ("uses:d11-300-50", 1))
    assert counters(store, "stock:flash", "spent:campaign:d11") == {
        "stock:flash": 1, "spent:campaign:d11": 0}
    rest = engine.refund("SO-1", "RF-2", policy="reevaluate")
    assert rest.amount == D("249.00")
    assert set(counters(store, "stock:flash", "uses:flash", "uses:flash:c:c1").values()) == {0}


def test_a_reevaluated_refund_reports_gifts_owed_and_is_never_negative(
        shop: Callable[..., Engine]) -> None:
    engine = shop(HEADER + '''
[[promotion]]
id = "gift-300"
kind = "gift"
gift = { sku = "MUG", name = "Mug", quantity = 1, value = "39.00" }
threshold = "300"
limits = { stock = 10 }

[[promotion]]
id = "ship-free"
kind = "free_shipping"
threshold = "200"
''')
    cart = cart_of(("l1", "SHOE", 2, "150.00"), shipping="12.00")
    order = engine.checkout(cart, "SO-1")
    assert order.result.total == D("300.00") and len(order.result.gifts) == 1
    engine.commit("SO-1")
    refund = engine.refund("SO-1", "RF-1", {"l1": 1}, policy="reevaluate")
    # Kept: 150.00 < 200: shipping 12.00 is now charged: 162.00; refund 300 − 162 = 138.00.
    assert refund.amount == D("138.00") and refund.clawback == D("12.00")
    assert [(g.sku, g.quantity) for g in refund.gifts_owed] == [("MUG", 1)]
    # the mug is with the customer: its stock stays held until it comes back
    assert dict(refund.given_back).get("stock:gift-300") is None


def test_refund_ids_are_idempotent_and_bad_refunds_say_why(shop: Callable[..., Engine]) -> None:
    engine = shop()
    engine.checkout(cart_of(*BASKET), "SO-1")
    engine.commit("SO-1")
    first = engine.refund("SO-1", "RF-1", {"l1": 1})
    assert engine.refund("SO-1", "RF-1", {"l1": 1}) == first
    assert engine.refund("SO-1", "RF-1") == first
    with pytest.raises(OrderError, match="already used for other units"):
        engine.refund("SO-1", "RF-1", {"l2": 1})
    with pytest.raises(RefundError) as caught:
        engine.refund("SO-1", "RF-2", {"l1": 2, "nope": 1})
    assert {p.path for p in caught.value.problems} == {"units.l1", "units.nope"}
    with pytest.raises(RefundError, match="refunds no unit"):
        engine.refund("SO-1", "RF-3", {"l1": 0})
    with pytest.raises(ValueError, match="policy"):
        engine.refund("SO-1", "RF-4", policy="generous")  # type: ignore[arg-type]
    order = engine.order("SO-1")
    assert order is not None and len(order.refunds) == 1


# -- budgets ----------------------------------------------------------------------------

BUDGET = HEADER + '''
[[promotion]]
id = "coupon-50"
kind = "order_amount_off"
amount = "50"
budget = "120.00"
'''


def test_a_budget_is_never_passed(shop: Callable[..., Engine], store: Store) -> None:
    engine = shop(BUDGET)
    totals = [engine.checkout(cart_of(("l1", "A", 1, "100.00"), customer=f"c{n}"),
                              f"SO-{n}").result.total for n in range(3)]
    # 50 + 50 = 100.00 of 120.00 spent; 50.00 more would pass it.
    assert totals == [D("50.00"), D("50.00"), D("100.00")]
    assert counters(store, "spent:coupon-50")["spent:coupon-50"] == 10000


def test_a_partial_budget_gives_what_is_left(shop: Callable[..., Engine], store: Store) -> None:
    engine = shop(BUDGET.replace('budget = "120.00"',
                                 'budget = "120.00"\npartial_budget = true'))
    results = [engine.checkout(cart_of(("l1", "A", 1, "100.00"), ("l2", "B", 1, "60.00"),
                                       customer=f"c{n}"), f"SO-{n}").result for n in range(4)]
    assert [r.discount_total for r in results] == [D("50.00"), D("50.00"), D("20.00"),
                                                   D("0.00")]
    # 20.00 spread by net 100 : 60 → 12.50 + 7.50.
    assert [d.amount for line in results[2].lines for d in line.discounts] == [
        D("12.50"), D("7.50")]
    assert results[3].reason("coupon-50") == "budget_exhausted"
    assert counters(store, "spent:coupon-50")["spent:coupon-50"] == 12000


def test_partial_budget_needs_a_budget(make_engine: Callable[..., Engine]) -> None:
    with pytest.raises(promokit.ConfigError, match="partial_budget: needs a budget"):
        make_engine(BUDGET.replace('budget = "120.00"', "partial_budget = true"))


# -- alerts and events -------------------------------------------------------------------

ALERTS = HEADER + '''
[[promotion]]
id = "flash"
kind = "fixed_price"
price = "1.00"
scope = { skus = ["X"] }
limits = { stock = 10 }
'''


def test_alerts_fire_once_per_crossing(shop: Callable[..., Engine],
                                       recorder: Recorder) -> None:
    engine = shop(ALERTS)
    seen = []
    for n, quantity in enumerate([5, 1, 2, 1, 1]):
        engine.checkout(cart_of(("l1", "X", quantity, "9.00"), customer=f"c{n}"), f"SO-{n}")
        seen.append([(a.level, a.left) for a in recorder.alerts])
        recorder.alerts.clear()
    # left after each: 5 (50%: not below), 4 (yellow), 2 (not below 20%), 1 (red), 0.
    assert seen == [[], [("yellow", 4)], [], [("red", 1)], []]
    engine.release("SO-4")
    engine.release("SO-3")  # back to 2 left: above red again
    engine.checkout(cart_of(("l1", "X", 2, "9.00"), customer="c9"), "SO-9")
    assert [(a.subject, a.what, a.level, a.left, a.limit) for a in recorder.alerts] == [
        ("stock", "flash", "red", 0, 10)]


def test_budget_alerts_carry_money(shop: Callable[..., Engine], recorder: Recorder) -> None:
    engine = shop(BUDGET)
    engine.checkout(cart_of(("l1", "A", 1, "100.00"), customer="a"), "SO-a")
    engine.checkout(cart_of(("l1", "A", 1, "100.00"), customer="b"), "SO-b")
    # 120.00 → 70.00 left (58%) → 20.00 left (16.7%): yellow and red crossed at once.
    assert [(a.subject, a.level, a.left, a.limit) for a in recorder.alerts] == [
        ("budget", "yellow", D("20.00"), D("120.00")),
        ("budget", "red", D("20.00"), D("120.00"))]


def test_events_follow_the_order(shop: Callable[..., Engine], recorder: Recorder) -> None:
    engine = shop()
    engine.checkout(cart_of(*BASKET), "SO-1")
    engine.checkout(cart_of(*BASKET), "SO-1")  # a repeat sends nothing
    engine.commit("SO-1")
    engine.commit("SO-1")
    engine.refund("SO-1", "RF-1", {"l1": 1})
    engine.refund("SO-1", "RF-1", {"l1": 1})
    assert [(e.kind, e.order_id, e.refund_id, e.amount) for e in recorder.orders] == [
        ("reserved", "SO-1", None, None), ("committed", "SO-1", None, None),
        ("refunded", "SO-1", "RF-1", D("131.21"))]
    assert recorder.orders[0].promotions == ("flash", "d11-300-50")
    assert recorder.orders[0].to_json()["customer"] == "c1"


# -- replay ------------------------------------------------------------------------------


@EVERY_BACKEND
def test_replay_prices_a_committed_order_again(shop: Callable[..., Engine],
                                               store: Store) -> None:
    engine = shop()
    engine.checkout(cart_of(*BASKET), "SO-1")
    engine.commit("SO-1")
    # later: other customers drain the stock, the campaigns change
    for n in range(2):
        engine.checkout(cart_of(*BASKET, customer=f"x{n}"), f"SO-x{n}")
    changed = shop(SHOP.replace('price = "99.00"', 'price = "89.00"'))
    replay = changed.replay("SO-1")
    assert replay.matches and replay.result.total == D("349.00")
    assert store.load_campaigns(engine.campaigns.version) == engine.campaigns.canonical


def test_replay_says_what_differs_and_refuses_an_altered_version(
        shop: Callable[..., Engine], store: Store) -> None:
    engine = shop()
    engine.checkout(cart_of(*BASKET), "SO-1")
    assert isinstance(store, MemoryStore)
    row = store.order("SO-1")
    assert row is not None
    store._orders["SO-1"] = type(row)(order_id="SO-1", revision=row.revision,
                                      status=row.status, expires_at=row.expires_at,
                                      body=row.body.replace('"349.00"', '"339.00"'))
    replay = engine.replay("SO-1")
    assert not replay.matches
    assert "total: \"339.00\" → \"349.00\"" in replay.differences
    store._campaigns[engine.campaigns.version] = store._campaigns[
        engine.campaigns.version].replace("99.00", "9.00")
    other = shop(SHOP.replace("d11-300-50", "d11-300-40"))
    with pytest.raises(StoreError, match="does not hash to its version"):
        other.replay("SO-1")


# -- the store failing -------------------------------------------------------------------


class Down:
    """A store that cannot be reached."""

    url = "redis://10.0.0.9:6379/0"

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise StoreUnavailable(f"cannot reach Redis at {self.url}")
        return fail


def test_an_unreachable_store_refuses_by_default(make_engine: Callable[..., Engine]) -> None:
    engine = make_engine(SHOP, store=Down(), clock=Clock(NOW))
    with pytest.raises(StoreUnavailable, match="cannot reach Redis"):
        engine.evaluate(cart_of(*BASKET))
    with pytest.raises(StoreUnavailable):
        engine.checkout(cart_of(*BASKET), "SO-1")


def test_an_unreachable_store_can_be_priced_around(make_engine: Callable[..., Engine]) -> None:
    engine = make_engine(SHOP, store=Down(), on_store_error="skip", clock=Clock(NOW))
    result = engine.evaluate(cart_of(*BASKET))
    assert result.store_unavailable and result.to_json()["store_unavailable"] is True
    assert result.reason("flash") == "store_unavailable"
    # d11-300-50 has no limit of its own but its campaign has a budget: it needs the store.
    assert result.reason("d11-300-50") == "store_unavailable"
    assert result.total == D("499.00")
    with pytest.raises(StoreUnavailable):  # checkout never prices around the store
        engine.checkout(cart_of(*BASKET), "SO-1")


def test_engine_options_are_checked(make_engine: Callable[..., Engine]) -> None:
    with pytest.raises(ValueError, match="on_store_error"):
        make_engine(SHOP, on_store_error="ignore")
    with pytest.raises(ValueError, match="code_attempts"):
        make_engine(SHOP, code_attempts=(0, 60))
    with pytest.raises(ValueError, match="ttl"):
        make_engine(SHOP, ttl=0)


def test_counter_keys_are_stable() -> None:
    assert counter_keys.code_uses("ABC") == "code:ABC"
    assert counter_keys.code_failures("c1", 7) == "fail:c1:7"


def test_a_daily_limit_turns_over_at_local_midnight(shop: Callable[..., Engine],
                                                    store: Store, clock: Clock) -> None:
    engine = shop(HEADER + '''
[[promotion]]
id = "daily"
kind = "amount_off"
amount = "5"
limits = { per_customer_daily = 1 }
''')
    def at(now: str, order_id: str) -> Decimal:
        clock.now = datetime.fromisoformat(now)  # checkout prices at the engine's clock
        return engine.checkout(cart_of(("l1", "A", 1, "20.00"), now=now), order_id).result.total
    # Asia/Shanghai: 23:59:59 on the 11th and 00:00:00 on the 12th are two local days,
    # though both are 11 Nov in UTC (15:59:59Z and 16:00:00Z).
    assert at("2026-11-11T23:59:58+08:00", "SO-1") == D("15.00")
    assert at("2026-11-11T23:59:59+08:00", "SO-2") == D("20.00")
    assert at("2026-11-12T00:00:00+08:00", "SO-3") == D("15.00")
    assert counters(store, "uses:daily:c:c1:d:2026-11-11", "uses:daily:c:c1:d:2026-11-12") == {
        "uses:daily:c:c1:d:2026-11-11": 1, "uses:daily:c:c1:d:2026-11-12": 1}


def test_the_ledger_exports_csv_and_json_lines(shop: Callable[..., Engine],
                                              store: Store) -> None:
    from promokit.orders import ledger_csv, ledger_jsonl
    engine = shop()
    engine.checkout(cart_of(*BASKET), "SO-1")
    engine.commit("SO-1")
    engine.refund("SO-1", "RF-1", {"l1": 1})
    entries = store.ledger()
    rows = ledger_csv(entries).splitlines()
    assert rows[0].endswith(",campaign_version,funding_merchant,funding_platform")
    assert [row.split(",")[3] for row in rows[1:]] == ["redemption", "redemption", "reversal"]
    assert rows[3].split(",")[-2:] == ["-5.64", "-13.16"]  # 18.80 split 70/30 as 50.00 was
    lines = ledger_jsonl(entries).splitlines()
    assert [json.loads(line)["amount"] for line in lines] == ["100.00", "50.00", "-18.80"]


def test_times_are_written_in_the_campaign_timezone_with_its_offset(
        shop: Callable[..., Engine], store: Store) -> None:
    # issue 13, fault 9: the clock runs in UTC (02:00); the shop's timezone is Shanghai, so
    # every time the order, its refund, the ledger and its exports carry is 10:00+08:00
    from promokit.orders import ledger_csv, ledger_jsonl
    engine = shop()
    reserved = engine.checkout(cart_of(*BASKET), "SO-1")
    engine.commit("SO-1")
    engine.refund("SO-1", "RF-1", {"l1": 1})
    order = engine.order("SO-1")
    assert order is not None
    data = order.to_json()
    assert data["created_at"] == data["committed_at"] == "2026-11-11T10:00:00+08:00"
    assert data["cart"]["now"] == "2026-11-11T10:00:00+08:00"
    assert data["refunds"][0]["at"] == "2026-11-11T10:00:00+08:00"
    assert reserved.to_json()["expires_at"] == "2026-11-11T10:15:00+08:00"
    csv_times = [row.split(",")[1] for row in ledger_csv(store.ledger()).splitlines()[1:]]
    assert csv_times == ["2026-11-11T10:00:00+08:00"] * 3
    assert [json.loads(line)["at"] for line in ledger_jsonl(store.ledger()).splitlines()] == (
        ["2026-11-11T10:00:00+08:00"] * 3)


def test_a_ledger_entry_stored_without_an_offset_is_exported_as_utc() -> None:
    # an entry an older version stored with a naive UTC time
    from promokit.orders import ledger_csv, ledger_jsonl
    from promokit.stores import LedgerEntry
    entry = LedgerEntry(entry_id="SO-1:r:0", order_id="SO-1", kind="redemption",
                        promotion="flash", campaign=None, customer="c1", currency="CNY",
                        amount=D("100.00"), funding=(("merchant", D("100.00")),), units=1,
                        at=datetime(2026, 11, 11, 2, 0), campaign_version="v1")
    assert ledger_csv([entry]).splitlines()[1].split(",")[1] == "2026-11-11T02:00:00+00:00"
    assert json.loads(ledger_jsonl([entry]))["at"] == "2026-11-11T02:00:00+00:00"


# -- the clock checkout trusts (issue 13, fault 2) ----------------------------------------


ENDED = HEADER + '''
[[campaign]]
id = "d11"
start = "2026-11-10T20:00:00"
end = "2026-11-11T23:59:59"

[[promotion]]
id = "d11-20"
campaign = "d11"
kind = "order_amount_off"
amount = "20"
'''


def test_checkout_prices_at_the_engine_clock_not_the_carts_now(store: Store) -> None:
    clock = Clock(datetime(2026, 12, 4, 10, 0, tzinfo=UTC))  # the campaign ended on 11.11
    engine = engine_from_toml(ENDED, store=store, clock=clock)
    back_then = cart_of(("l1", "A", 1, "100.00"), now="2026-11-11T10:00:00+08:00")
    # evaluate may be steered by now (a preview, a test, a simulation) ...
    assert engine.evaluate(back_then).total == D("80.00")
    # ... checkout may not: a cart from another time is refused, naming now ...
    with pytest.raises(CartError) as caught:
        engine.checkout(back_then, "SO-1")
    assert [p.path for p in caught.value.problems] == ["now"]
    assert "from the engine's clock" in str(caught.value)
    assert store.order("SO-1") is None
    # ... and without now, the order is priced at the clock: the campaign has ended.
    order = engine.checkout(cart_of(("l1", "A", 1, "100.00"), now=None), "SO-2")
    assert order.result.total == D("100.00") and order.result.reason("d11-20") == "ended"
    assert order.cart.now == clock()
    engine.commit("SO-2")
    assert store.ledger() == []


def test_a_cart_within_the_tolerance_is_priced_at_the_clock(store: Store) -> None:
    clock = Clock(datetime(2026, 11, 11, 15, 59, 0, tzinfo=UTC))  # 23:59:00 in Shanghai
    engine = engine_from_toml(ENDED, store=store, clock=clock, clock_tolerance=120)
    cart = cart_of(("l1", "A", 1, "100.00"), now="2026-11-12T00:00:30+08:00")  # 90 s ahead
    order = engine.checkout(cart, "SO-1")
    assert order.cart.now == clock() and order.result.total == D("80.00")
    clock.move(seconds=61)  # now 00:00:01 on the 12th: the campaign has ended
    assert engine.checkout(cart, "SO-2").result.reason("d11-20") == "ended"


# -- a record that cannot be read never stops the others (issue 13, fault 1) ------------


@EVERY_BACKEND
def test_an_unreadable_reservation_is_quarantined_and_the_rest_expire(
        shop: Callable[..., Engine], store: Store, clock: Clock, recorder: Recorder) -> None:
    engine = shop()
    good = engine.checkout(cart_of(*BASKET), "SO-good")
    # Another writer left a lapsed reservation whose cart no engine can read (a line of
    # 10^30 units), holding one unit of flash stock; and one not even JSON.
    bad = json.loads(good.dumps())
    bad["order_id"] = "SO-bad"
    bad["cart"]["lines"][0]["quantity"] = 10**30
    bad["holds"] = [["stock:flash", 1, 3]]
    assert store.apply(Change(order_id="SO-bad", revision=0, status="reserved",
                              body=json.dumps(bad), expires_at=clock().timestamp() - 1,
                              deltas=(Delta("stock:flash", 1, 3),))).applied
    assert store.apply(Change(order_id="SO-junk", revision=0, status="reserved",
                              body="{not json", expires_at=clock().timestamp() - 1)).applied
    assert counters(store, "stock:flash") == {"stock:flash": 2}
    clock.move(minutes=16)  # SO-good lapses too
    report = engine.orders.sweep_report()
    assert report.expired == ("SO-good",)
    assert dict(report.quarantined)["SO-bad"].endswith("gave back stock:flash 1")
    assert "nothing was given back" in dict(report.quarantined)["SO-junk"]
    assert counters(store, "stock:flash") == {"stock:flash": 0}
    # soonest lapsed first: the two records, then the good order
    assert [(e.kind, e.order_id) for e in recorder.orders if e.kind != "reserved"] == [
        ("quarantined", "SO-bad"), ("quarantined", "SO-junk"), ("expired", "SO-good")]
    assert engine.orders.sweep_report() == type(report)(expired=())  # never retried
    assert store.order("SO-bad").status == "quarantined"  # type: ignore[union-attr]
    with pytest.raises(OrderError, match="quarantined"):
        engine.order("SO-bad")


def test_releasing_an_unreadable_reservation_quarantines_it(
        shop: Callable[..., Engine], store: Store, clock: Clock) -> None:
    engine = shop()
    assert store.apply(Change(order_id="SO-bad", revision=0, status="reserved",
                              body='{"holds": [["stock:flash", 1, 3]]}',
                              expires_at=clock().timestamp() + 60,
                              deltas=(Delta("stock:flash", 1, 3),))).applied
    with pytest.raises(OrderError, match="cannot be read; it was quarantined"):
        engine.release("SO-bad")
    assert counters(store, "stock:flash") == {"stock:flash": 0}
    with pytest.raises(OrderError, match="was quarantined"):
        engine.release("SO-bad")
