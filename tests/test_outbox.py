"""The outbox: every applied change of an order or a game writes its event in the
same atomic write, on every backend, and alerts exactly when a level is crossed."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from campaigns import HEADER, d11_shop
from conftest import EVERY_BACKEND, D, make_cart
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promokit import Engine, OrderError, open_store
from promokit.delivery import outbox_events
from promokit.events import OutboxEvent
from promokit.registry import Registry
from promokit.stores import Change, Delta, Store
from promokit.testing import Clock, Recorder, engine_from_toml

NOW = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
SHOP = d11_shop(budget="1000.00", funding=True, flash_limits="stock = 3, per_customer = 1")
BASKET = (("l1", "SHOE", 2, "150.00"), ("l2", "BLENDER", 1, "199.00"))
ALERTS = HEADER + '''
[[promotion]]
id = "flash"
kind = "fixed_price"
price = "1.00"
scope = { skus = ["X"] }
limits = { stock = 10 }
'''
BUDGET = HEADER + '''
[[promotion]]
id = "coupon-50"
kind = "order_amount_off"
amount = "50"
budget = "120.00"
'''


def engine_on(store: Store, text: str = SHOP, recorder: Recorder | None = None,
              clock: Clock | None = None) -> Engine:
    registry = Registry.default([recorder] if recorder else [], load_entry_points=False)
    return engine_from_toml(text, registry=registry, store=store, clock=clock or Clock(NOW))


def cart(*lines: tuple[Any, ...], customer: str = "c1") -> Any:
    return make_cart(*lines, customer={"id": customer})


def order_events(store: Store) -> list[OutboxEvent]:
    return [e for e in outbox_events(store) if e.type.startswith("order.")]


@EVERY_BACKEND
def test_every_order_change_writes_one_event(store: Store) -> None:
    recorder = Recorder()
    engine = engine_on(store, recorder=recorder)
    engine.checkout(cart(*BASKET), "SO-1")
    engine.checkout(cart(*BASKET), "SO-1")  # a repeat writes nothing
    engine.commit("SO-1")
    engine.commit("SO-1")
    engine.refund("SO-1", "RF-1", {"l1": 1})
    engine.checkout(cart(*BASKET, customer="c2"), "SO-2")
    engine.release("SO-2")
    events = order_events(store)
    assert [(e.type, e.subject) for e in events] == [
        ("order.reserved", "SO-1"), ("order.committed", "SO-1"), ("order.refunded", "SO-1"),
        ("order.reserved", "SO-2"), ("order.released", "SO-2")]
    assert [(e.type, e.subject) for e in events] == [
        (f"order.{e.kind}", e.order_id) for e in recorder.orders]
    assert [e.sequence for e in outbox_events(store)] == list(
        range(1, len(outbox_events(store)) + 1))
    assert len({e.id for e in events}) == len(events)
    reserved, committed, refunded = events[:3]
    assert reserved.time == "2026-11-11T10:00:00+08:00"
    assert reserved.data["total"] == "349.00" and reserved.data["currency"] == "CNY"
    assert [r["promotion"] for r in committed.data["redemptions"]] == ["flash", "d11-300-50"]
    assert committed.data["redemptions"][0]["amount"] == "100.00"
    assert refunded.data["refund"]["amount"] == "131.21"
    assert refunded.data["refund"]["refund_id"] == "RF-1"
    assert all(isinstance(r["amount"], str) for r in refunded.data["reversals"])


@EVERY_BACKEND
def test_alerts_are_written_with_the_change_that_crossed(store: Store) -> None:
    recorder = Recorder()
    engine = engine_on(store, ALERTS, recorder)
    for n, quantity in enumerate([5, 1, 2, 1, 1]):
        engine.checkout(cart(("l1", "X", quantity, "9.00"), customer=f"c{n}"), f"SO-{n}")
    engine.release("SO-4")
    engine.release("SO-3")
    engine.checkout(cart(("l1", "X", 2, "9.00"), customer="c9"), "SO-9")
    alerts = [e for e in outbox_events(store) if e.type == "alert.crossed"]
    assert [(a.data["level"], a.data["left"], a.subject) for a in alerts] == [
        ("yellow", 4, "SO-1"), ("red", 1, "SO-3"), ("red", 0, "SO-9")]
    assert [(a.level, a.left, a.order_id) for a in recorder.alerts] == [
        (a.data["level"], a.data["left"], a.subject) for a in alerts]
    sequences = {e.id: e.sequence for e in outbox_events(store)}
    reserved = {e.subject: e.sequence for e in order_events(store) if e.type == "order.reserved"}
    assert all(sequences[a.id] == reserved[a.subject] + 1 for a in alerts)  # same write


@EVERY_BACKEND
def test_budget_alerts_carry_money(store: Store) -> None:
    engine = engine_on(store, BUDGET)
    engine.checkout(cart(("l1", "A", 1, "100.00"), customer="a"), "SO-a")
    engine.checkout(cart(("l1", "A", 1, "100.00"), customer="b"), "SO-b")
    alerts = [e.data for e in outbox_events(store) if e.type == "alert.crossed"]
    assert [(a["subject"], a["level"], a["left"], a["limit"]) for a in alerts] == [
        ("budget", "yellow", "20.00", "120.00"), ("budget", "red", "20.00", "120.00")]


def test_a_refused_or_conflicting_change_writes_no_event() -> None:
    store = open_store("memory://")
    engine = engine_on(store, ALERTS)
    engine.checkout(cart(("l1", "X", 10, "9.00")), "SO-1")
    before = outbox_events(store)
    engine.checkout(cart(("l1", "X", 1, "9.00"), customer="c2"), "SO-2")  # stock gone
    with pytest.raises(OrderError):
        engine.commit("nope")
    after = outbox_events(store)
    assert [e.type for e in after[len(before):]] == ["order.reserved"]
    assert after[-1].data["promotions"] == []  # priced without the flash price


def test_expiry_and_sweeps_write_events() -> None:
    store = open_store("memory://")
    clock = Clock(NOW)
    engine = engine_on(store, clock=clock)
    engine.checkout(cart(*BASKET), "SO-1")
    clock.move(hours=1)
    assert engine.sweep() == ["SO-1"]
    assert [e.type for e in order_events(store)] == ["order.reserved", "order.expired"]


def test_game_events_are_written_with_the_game_change() -> None:
    store = open_store("memory://")
    recorder = Recorder()
    engine = engine_on(store, GAME, recorder)
    game = engine.games["wheel"]
    game.open(seed="ab" * 32)
    game.draw("alice")  # type: ignore[attr-defined]  # a LotteryGame
    games = [e for e in outbox_events(store) if e.type.startswith("game.")]
    assert [e.type for e in games] == [f"game.{e.event}" for e in recorder.games]
    assert games[0].type == "game.started" and games[1].type == "game.drawn"
    assert {e.subject for e in games} == {"game:wheel"}
    assert games[1].data["customer"] == "alice" and games[1].data["game"] == "wheel"


GAME = HEADER + '''
[[game]]
id = "wheel"
kind = "lottery"
name = "wheel"
prizes = [
  { id = "mug", name = "Mug", kind = "goods", value = "5.00", weight = 1, stock = 5 },
  { id = "thanks", name = "Thanks", kind = "none", weight = 1, fallback = true },
]
'''


# -- the property: one event per applied change --------------------------------------

OPS = st.lists(st.tuples(st.sampled_from(["checkout", "commit", "release", "refund"]),
                         st.integers(0, 3), st.integers(1, 2)), max_size=14)


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_every_applied_change_has_exactly_one_event(
        backend: str, ops: list[tuple[str, int, int]],
        tmp_path_factory: pytest.TempPathFactory) -> None:
    url = ("memory://" if backend == "memory"
           else f"sqlite:///{tmp_path_factory.mktemp('outbox') / 'p.db'}")
    store = open_store(url)
    try:
        recorder = Recorder()
        engine = engine_on(store, recorder=recorder)
        refunds = Counter[str]()
        for op, n, units in ops:
            order_id = f"SO-{n}"
            try:
                if op == "checkout":
                    engine.checkout(cart(("l1", "SHOE", 2, "150.00"),
                                         ("l2", "BLENDER", 1, "199.00"), customer=f"c{n}"),
                                    order_id)
                elif op == "commit":
                    engine.commit(order_id)
                elif op == "release":
                    engine.release(order_id)
                else:
                    refunds[order_id] += 1
                    engine.refund(order_id, f"RF-{refunds[order_id]}", {"l1": units})
            except OrderError:
                pass  # not in a state for it: nothing applied
            except Exception as error:  # a refund of more units than are left
                assert type(error).__name__ == "RefundError"
        events = order_events(store)
        # one event per change the hooks heard of, in the same order …
        assert [(e.type, e.subject) for e in events] == [
            (f"order.{e.kind}", e.order_id) for e in recorder.orders]
        # … and one per revision each order went through
        per_order = Counter(e.subject for e in events)
        for order_id, count in per_order.items():
            row = store.order(order_id)
            assert row is not None and row.revision == count
        assert len({e.id for e in events}) == len(events)
    finally:
        store.close()


def test_a_raw_change_writes_only_what_it_carries() -> None:
    store = open_store("memory://")
    store.apply(Change(order_id="x", revision=0, status="s", body="{}",
                       deltas=(Delta("k", 1),)))
    assert outbox_events(store) == []
    assert D("1") == D("1.00")


def test_every_game_event_of_the_demo_is_in_the_outbox(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The scripted story plays all five games: every event a game tells its hook is in
    # the outbox, written with the change (the hook hears it after).
    import io

    from promokit import demo
    from promokit.games import base

    heard: list[str] = []
    emit = base.Game.emit

    def record(self: base.Game, event: str, customer: str | None, data: Any) -> None:
        heard.append(f"game.{event}")
        emit(self, event, customer, data)
    monkeypatch.setattr(base.Game, "emit", record)
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    demo.run(io.StringIO(), url, color=False)
    store = open_store(url)
    try:
        written = [e.type for e in outbox_events(store) if e.type.startswith("game.")]
    finally:
        store.close()
    assert Counter(written) == Counter(heard)
    assert {"game.drawn", "game.joined", "game.full", "game.helped", "game.deposit_paid",
            "game.revealed"} <= set(written)


def test_an_event_reads_back_and_its_id_is_stable() -> None:
    from promokit.events import alert_entry_body, event_id

    assert event_id("SO-1", 2, 0) == event_id("SO-1", 2, 0) != event_id("SO-1", 2, 1)
    assert event_id("SO-1", 2, 0) != event_id("SO-1", 3, 0)
    event = OutboxEvent(id="evt_1", type="order.committed", time="2026-11-11T10:00:00+08:00",
                        subject="SO-1", data={"total": "1990"}, sequence=4)
    assert OutboxEvent.loads(event.dumps()) == event
    assert OutboxEvent.loads(event.stored(), 4) == event
    # a yen budget (no minor unit) is money too: a string
    body = alert_entry_body("evt_2", "t", "SO-1", subject="budget", what="campaign:d11",
                            key="spent:campaign:d11", level="red", limit_units=5000, scale=0)
    alert = OutboxEvent.loads(body.replace("{value}", "4100"))
    assert (alert.data["limit"], alert.data["left"]) == ("5000", "900")
