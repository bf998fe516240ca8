"""The dispatcher: the outbox to sinks at least once, in order, with a cursor per
sink moved by compare-and-set; dead letters and redelivery; a dispatcher killed
with SIGKILL mid-batch and started again delivers every event."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from campaigns import HEADER
from conftest import EVERY_BACKEND, make_cart
from receiver import SECRET, Receiver

from promokit import hookimpl, open_store
from promokit.cli.events import sink_settings
from promokit.cli.main import main
from promokit.delivery import Dispatcher, TrimReport, outbox_events, trim_outbox
from promokit.errors import DeliveryError, PluginError
from promokit.events import OutboxEvent
from promokit.registry import Registry, open_sink
from promokit.sinks import SinkBackend
from promokit.stores import Store
from promokit.testing import Clock, engine_from_toml

NOW = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
SHOP = HEADER + '''
[[promotion]]
id = "ten-off"
kind = "order_amount_off"
amount = "10"
'''


def fill(store: Store, orders: int) -> list[OutboxEvent]:
    """``orders`` orders checked out (one event each); the outbox."""
    engine = engine_from_toml(SHOP, registry=Registry.default(load_entry_points=False),
                              store=store, clock=Clock(NOW))
    for n in range(orders):
        engine.checkout(make_cart(("l1", "A", 1, "100.00"), customer={"id": f"c{n}"}),
                        f"SO-{n}")
    return outbox_events(store)


class ListSink:
    """Keeps what it is given; refuses the ids in ``refuse``, breaks on ``breaks``."""

    def __init__(self, refuse: set[str] = frozenset(), breaks: set[str] = frozenset()
                 ) -> None:
        self.events: list[OutboxEvent] = []
        self.refuse, self.breaks = set(refuse), set(breaks)

    def deliver(self, event: OutboxEvent) -> None:
        if event.id in self.breaks:
            raise ConnectionError("the broker is down")
        if event.id in self.refuse:
            raise DeliveryError(f"refused {event.id}", attempts=3, status_code=400)
        self.events.append(event)

    def close(self) -> None:
        pass


@EVERY_BACKEND
def test_each_sink_gets_every_event_in_order_and_keeps_its_place(store: Store) -> None:
    events = fill(store, 7)
    a, b = ListSink(), ListSink()
    dispatcher = Dispatcher(store, {"a": a, "b": b}, batch=3)
    reports = dispatcher.drain()
    assert [e.id for e in a.events] == [e.id for e in b.events] == [e.id for e in events]
    assert [(r.sink, r.delivered, r.cursor) for r in reports[:2]] == [("a", 3, 3), ("b", 3, 3)]
    assert dispatcher.cursor("a")[1] == dispatcher.cursor("b")[1] == 7
    fill_more = fill(store, 9)[7:]  # the same orders again are repeats: 2 new ones
    assert len(fill_more) == 2
    dispatcher.drain()
    assert [e.id for e in a.events][7:] == [e.id for e in fill_more]
    assert [e.sequence for e in a.events] == list(range(1, 10))


@EVERY_BACKEND
def test_two_dispatchers_never_both_move_a_cursor(store: Store,
                                                  reopen: Any) -> None:
    fill(store, 5)
    first, second = ListSink(), ListSink()
    second_store = reopen()
    try:
        one = Dispatcher(store, {"s": first}, batch=5)
        other = Dispatcher(second_store, {"s": second}, batch=5)
        revision, after = one.cursor("s")
        assert (revision, after) == (0, 0)
        # both read the cursor at 0 and deliver the batch; the second to mark loses
        assert one._move("s", revision, 5)
        assert not other._move("s", revision, 5)
        [report] = other.run_once()
        assert report.delivered == 0 and report.cursor == 5  # it reads the cursor as is
    finally:
        second_store.close()


def test_a_dead_letter_is_written_with_the_cursor_and_can_be_redelivered() -> None:
    store = open_store("memory://")
    events = fill(store, 4)
    sink = ListSink(refuse={events[1].id})
    dispatcher = Dispatcher(store, {"s": sink})
    [report] = dispatcher.run_once()
    assert (report.delivered, report.dead, report.cursor) == (3, 1, 4)
    [letter] = dispatcher.dead_letters("s")
    assert letter.event.id == events[1].id and letter.attempts == 3
    assert "refused" in letter.error and not letter.redelivered
    sink.refuse.clear()
    [(again, error)] = dispatcher.redeliver("s")
    assert error is None and again.event.id == events[1].id
    assert dispatcher.dead_letters("s")[0].redelivered
    assert dispatcher.redeliver("s") == []  # once
    assert [e.id for e in sink.events] == [events[0].id, events[2].id, events[3].id,
                                           events[1].id]


def test_a_broken_sink_stops_the_round_before_the_event() -> None:
    store = open_store("memory://")
    events = fill(store, 4)
    sink = ListSink(breaks={events[2].id})
    dispatcher = Dispatcher(store, {"s": sink})
    [report] = dispatcher.run_once()
    assert report.error == "ConnectionError: the broker is down"
    assert (report.delivered, report.cursor) == (2, 2)
    sink.breaks.clear()
    dispatcher.drain()
    assert [e.id for e in sink.events] == [e.id for e in events]
    assert dispatcher.dead_letters("s") == []


def test_sink_settings_come_from_the_environment() -> None:
    environ = {"PROMOKIT_SINK_ERP_SECRET": "s3", "PROMOKIT_SINK_ERP_TIMEOUT": "2",
               "PROMOKIT_SINK_ERPX_SECRET": "no", "PROMOKIT_SINK_MY_CRM_SECRET": "c"}
    assert sink_settings("erp", environ) == {"secret": "s3", "timeout": "2"}
    assert sink_settings("my-crm", environ) == {"secret": "c"}


def test_the_commands_dispatch_list_and_redeliver(tmp_path: Path, capsys: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = open_store(url)
    events = fill(store, 3)
    store.close()
    monkeypatch.setenv("PROMOKIT_SINK_R_SECRET", SECRET)
    monkeypatch.setenv("PROMOKIT_SINK_R_ATTEMPTS", "1")
    with Receiver(["400"]) as receiver:
        sink = f"r={receiver.url}"
        assert main(["dispatch", "--store", url, "--sink", sink, "--once"]) == 0
        assert "r: delivered 2, dead 1, at 3" in capsys.readouterr().out
        assert main(["events", "list", "--store", url]) == 0
        listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert [e["id"] for e in listed] == [e.id for e in events]
        assert main(["events", "list", "--store", url, "--dead", "--sink", "r"]) == 0
        [dead] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert dead["event"]["id"] == events[0].id and "HTTP 400" in dead["error"]
        assert main(["events", "redeliver", "--store", url, "--sink", sink]) == 0
        assert "1 redelivered, 0 still dead" in capsys.readouterr().out
        assert sorted(receiver.keys) == sorted(e.id for e in events)
    assert main(["dispatch", "--store", url, "--sink", "r=ftp://x", "--once"]) == 2
    assert "no sink backend" in capsys.readouterr().err


@EVERY_BACKEND
def test_the_outbox_is_trimmed_only_through_what_every_sink_was_given(store: Store) -> None:
    events = fill(store, 6)
    a, b = ListSink(), ListSink()
    Dispatcher(store, {"a": a}, batch=4).run_once()   # a at 4
    Dispatcher(store, {"b": b}, batch=2).run_once()   # b at 2
    report = trim_outbox(store, ["a", "b"])
    assert (report.through, report.deleted) == (2, 2)
    assert report.cursors == {"a": 4, "b": 2}
    assert [e.sequence for e in outbox_events(store)] == [3, 4, 5, 6]
    assert trim_outbox(store, ["a", "b"]).deleted == 0  # again: nothing more
    assert trim_outbox(store, ["a", "b", "new"]).deleted == 0  # a sink at 0 holds all
    dispatcher = Dispatcher(store, {"a": a, "b": b}, batch=100)
    assert dispatcher.trim().deleted == 0
    dispatcher.drain()
    assert [e.id for e in a.events] == [e.id for e in b.events] == [e.id for e in events]
    assert dispatcher.trim() == TrimReport(through=6, deleted=4, cursors={"a": 6, "b": 6})
    assert outbox_events(store) == []
    with pytest.raises(ValueError, match="none was named"):
        trim_outbox(store, [])


@EVERY_BACKEND
def test_a_dispatcher_restarted_after_a_trim_carries_on(store: Store, reopen: Any) -> None:
    events = fill(store, 5)
    sink = ListSink()
    assert Dispatcher(store, {"s": sink}, batch=3).drain(rounds=1)[0].cursor == 3
    assert trim_outbox(store, ["s"]).deleted == 3
    more = fill(store, 8)  # three new orders, numbered on from 5
    assert [e.sequence for e in more] == [4, 5, 6, 7, 8]
    second = reopen()  # a new process: a new handle, a new dispatcher
    try:
        restarted = Dispatcher(second, {"s": sink}, batch=2, trim=True)
        assert restarted.cursor("s")[1] == 3
        restarted.drain()
        assert restarted.cursor("s")[1] == 8
    finally:
        if second is not store:
            second.close()
    assert [e.id for e in sink.events] == [e.id for e in events] + [e.id for e in more[2:]]
    assert [e.sequence for e in sink.events] == list(range(1, 9))
    assert outbox_events(store) == []  # trimmed after every round
    fill(store, 9)
    [event] = outbox_events(store)
    assert event.sequence == 9


def test_dead_letters_survive_a_trim() -> None:
    store = open_store("memory://")
    events = fill(store, 3)
    sink = ListSink(refuse={events[1].id})
    dispatcher = Dispatcher(store, {"s": sink}, trim=True)
    [report] = dispatcher.run_once()
    assert (report.delivered, report.dead, report.cursor) == (2, 1, 3)
    assert outbox_events(store) == []
    sink.refuse.clear()
    [(letter, error)] = dispatcher.redeliver("s")
    assert error is None and letter.event.id == events[1].id


def test_the_commands_trim_the_outbox(tmp_path: Path, capsys: Any,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = open_store(url)
    events = fill(store, 4)
    Dispatcher(store, {"a": ListSink()}, batch=3).run_once()
    Dispatcher(store, {"b": ListSink()}, batch=1).run_once()
    store.close()
    assert main(["events", "trim", "--store", url, "--sink", "a", "--sink", "b"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "a: at 3", "b: at 1", "trimmed 1 events through 1"]
    assert main(["events", "trim", "--store", url, "--sink", "a=https://x.example"]) == 0
    assert "trimmed 2 events through 3" in capsys.readouterr().out
    assert main(["events", "list", "--store", url]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["id"] for e in listed] == [events[3].id]
    assert main(["events", "trim", "--store", url, "--sink", "a:b"]) == 2
    assert "without ':'" in capsys.readouterr().err
    assert main(["events", "trim", "--store", url]) == 2  # --sink is required
    capsys.readouterr()
    missing = f"sqlite:///{tmp_path / 'missing.db'}"
    assert main(["events", "trim", "--store", missing, "--sink", "a"]) != 0
    assert not (tmp_path / "missing.db").exists()
    capsys.readouterr()
    monkeypatch.setenv("PROMOKIT_SINK_A_SECRET", SECRET)
    with Receiver([]) as receiver:
        assert main(["dispatch", "--store", url, "--sink", f"a={receiver.url}",
                     "--once", "--trim"]) == 0
        assert "a: delivered 1, dead 0, at 4" in capsys.readouterr().out
        assert receiver.keys == [events[3].id]
    assert main(["events", "list", "--store", url]) == 0
    assert capsys.readouterr().out == ""


def test_a_dispatcher_killed_mid_batch_redelivers_and_drops_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = open_store(url)
    events = fill(store, 40)
    env = {**os.environ, "PROMOKIT_SINK_R_SECRET": SECRET}
    command = [sys.executable, "-m", "promokit", "dispatch", "--store", url, "--batch", "10",
               "--once"]
    with Receiver(["slow:0.02"] * 25) as receiver:
        dispatch = subprocess.Popen([*command, "--sink", f"r={receiver.url}"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while len(receiver.keys) < 15 and time.monotonic() < deadline:
            time.sleep(0.005)
        dispatch.send_signal(signal.SIGKILL)  # mid-way through the second batch
        dispatch.wait(30)
        assert dispatch.returncode == -signal.SIGKILL
        time.sleep(0.2)  # the request in flight when it died may still be answered
        cursor = Dispatcher(store, {}).cursor("r")[1]
        seen_before = len(receiver.keys)
        assert cursor < seen_before < len(events)  # delivered, not all marked
        again = subprocess.run([*command, "--sink", f"r={receiver.url}"], env=env,
                               capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
    keys = receiver.keys
    assert set(keys) == {e.id for e in events}  # every event, at least once
    assert len(keys) > len(events)  # those delivered but not marked, twice
    assert keys[seen_before:] == [e.id for e in events][cursor:]  # again from the cursor
    assert Dispatcher(store, {}).cursor("r")[1] == len(events)
    store.close()


class MemoSinks:
    """A plugin declaring a sink backend for ``memo://``."""

    def __init__(self) -> None:
        self.opened: list[ListSink] = []

    @hookimpl
    def promokit_register_sinks(self) -> list[SinkBackend]:
        def open_memo(url: str, settings: dict[str, str]) -> ListSink:
            self.opened.append(ListSink(refuse=set(settings.get("refuse", "").split())))
            return self.opened[-1]
        return [SinkBackend(name="memo", schemes=("memo",), open=open_memo)]


def test_a_plugin_declares_a_sink_backend() -> None:
    plugin = MemoSinks()
    registry = Registry.default([plugin], load_entry_points=False)
    assert sorted(registry.sinks) == ["amqp", "memo", "nats", "webhook"]
    store = open_store("memory://")
    events = fill(store, 2)
    sink = open_sink("memo://x", {"refuse": events[0].id}, registry=registry)
    Dispatcher(store, {"m": sink}).drain()
    assert [e.id for e in plugin.opened[0].events] == [events[1].id]


def test_a_scheme_declared_twice_names_both_plugins() -> None:
    class Other:
        @hookimpl
        def promokit_register_sinks(self) -> list[SinkBackend]:
            return [SinkBackend(name="other", schemes=("memo",), open=None)]
    with pytest.raises(PluginError, match="memo:// is declared by two backends"):
        Registry.default([MemoSinks(), Other()], load_entry_points=False)


def test_run_delivers_until_stopped() -> None:
    store = open_store("memory://")
    events = fill(store, 3)
    sink = ListSink()
    stop = threading.Event()
    runner = threading.Thread(target=Dispatcher(store, {"s": sink}).run,
                              kwargs={"interval": 0.01, "stop": stop})
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while len(sink.events) < 3 and time.monotonic() < deadline:
            time.sleep(0.005)
        more = fill(store, 5)[3:]  # written while it runs
        while len(sink.events) < 5 and time.monotonic() < deadline:
            time.sleep(0.005)
    finally:
        stop.set()
        runner.join(5)
    assert not runner.is_alive()
    assert [e.id for e in sink.events] == [e.id for e in events + more]
