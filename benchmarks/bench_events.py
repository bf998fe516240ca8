"""Outbox events dispatched per second, on each store backend.

For each backend a fresh store is filled with ``N`` outbox events (each written by
its own ``Store.apply``, as checkout writes an ``order.committed`` event: a real
event's JSON, ids varied), then timed:

- ``write``: the filling itself, applies per second (each a new order row with its
  one outbox entry), next to ``write (no event)``, the same applies without the
  entry: what the outbox adds to a write;
- ``null sink``: a :class:`~promokit.delivery.Dispatcher` draining the outbox into a
  sink that keeps nothing, batches of 100: the cost of reading the outbox,
  decoding events and moving the cursor by compare-and-set;
- ``webhook``: the same into the signed webhook sink, POSTing each event over
  loopback HTTP to a stdlib ``ThreadingHTTPServer`` that verifies the signature and
  answers 204 (one event per request, one keep-alive connection).

Afterwards it checks every event reached each sink once, in order, and the
cursor stands at the last one; a failed check exits 1.

    python benchmarks/bench_events.py            # full: 3,000 events per cell
    python benchmarks/bench_events.py --quick    # CI smoke run: 300 events

A server that cannot be reached is skipped with the reason printed, unless
``CI=true``. Results: a table on stdout and JSON in
``benchmarks/results/bench_events.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import _harness
from _harness import BACKENDS

from promokit import open_store
from promokit.delivery import Dispatcher
from promokit.events import OUTBOX, OutboxEvent, event_id
from promokit.plugins.sinks.webhook import WebhookSink
from promokit.stores import Change, JournalEntry, Store
from promokit.webhooks import verify

DEFAULT_JSON = _harness.RESULTS / "bench_events.json"
SECRET = "whsec_YmVuY2htYXJrLXNlY3JldC1rZXktMzItYnl0ZXMhIQ=="
DATA = {"order_id": "SO-0", "customer": "c0", "status": "committed", "currency": "CNY",
        "promotions": ["flash", "d11-300-50"], "total": "349.00",
        "redemptions": [{"promotion": "flash", "amount": "100.00", "units": 1,
                         "funding": {"merchant": "100.00"}},
                        {"promotion": "d11-300-50", "amount": "50.00", "units": 3,
                         "funding": {"platform": "35.00", "merchant": "15.00"}}]}


def event_body(n: int) -> str:
    return OutboxEvent(id=event_id(f"SO-{n}", 2, 0), type="order.committed",
                       time="2026-11-11T10:00:00+08:00", subject=f"SO-{n}",
                       data={**DATA, "order_id": f"SO-{n}"}).stored()


def fill(store: Store, count: int, *, events: bool = True, prefix: str = "SO",
         start: int = 0) -> float:
    """Apply ``count`` changes (with the outbox entries of events ``start`` … if
    ``events``); seconds taken."""
    started = time.perf_counter()
    for n in range(start, start + count):
        journal = (JournalEntry(OUTBOX, event_body(n)),) if events else ()
        outcome = store.apply(Change(order_id=f"{prefix}-{n}", revision=0,
                                     status="committed", body="{}", journal=journal))
        assert outcome.applied
    return time.perf_counter() - started


class NullSink:
    def __init__(self) -> None:
        self.count = 0
        self.last = 0

    def deliver(self, event: OutboxEvent) -> None:
        assert event.sequence == self.last + 1, "out of order"
        self.last = event.sequence
        self.count += 1

    def close(self) -> None:
        pass


class Receiver:
    """A loopback receiver that verifies every request and counts the ids."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        seen = self.ids

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                seen.append(verify(SECRET, dict(self.headers.items()), body)["id"])
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def drain(store: Store, name: str, sink: Any) -> float:
    dispatcher = Dispatcher(store, {name: sink}, batch=100)
    started = time.perf_counter()
    reports = dispatcher.drain()
    seconds = time.perf_counter() - started
    assert not any(r.error or r.dead for r in reports), reports
    return seconds


def run(backend: str, count: int, scratch: Path) -> tuple[dict[str, float], list[str]]:
    place = _harness.fresh_place(backend, scratch)
    store = open_store(place.url)
    problems: list[str] = []
    try:
        fill(store, 100, events=False, prefix="WARM")  # the file, tables, connections
        half = count // 2  # the two kinds of write alternate, so load hits both alike
        bare = fill(store, half, events=False, prefix="NE")
        written = fill(store, half)
        bare += fill(store, count - half, events=False, prefix="NF")
        written += fill(store, count - half, events=True, prefix="SX", start=half)
        null = NullSink()
        null_s = drain(store, "null", null)
        receiver = Receiver()
        try:
            sink = WebhookSink(receiver.url, SECRET)
            webhook_s = drain(store, "webhook", sink)
            sink.close()
        finally:
            receiver.close()
        expected = [event_id(f"SO-{n}", 2, 0) for n in range(count)]
        if null.count != count:
            problems.append(f"{backend}: the null sink got {null.count} of {count}")
        if receiver.ids != expected:
            problems.append(f"{backend}: the receiver did not get every event once, in order")
        dispatcher = Dispatcher(store, {})
        for name in ("null", "webhook"):
            if dispatcher.cursor(name)[1] != count:
                problems.append(f"{backend}: the {name} cursor is not at {count}")
    finally:
        _harness.drop_store(store)
    return {"write (no event)": count / bare, "write": count / written,
            "null sink": count / null_s, "webhook": count / webhook_s}, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI smoke run: 300 events")
    parser.add_argument("--events", type=int, default=None)
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    count = args.events or (300 if args.quick else 3000)
    skipped = _harness.skipped_backends(args.backends)
    if skipped is None:
        return 1
    rows: dict[str, dict[str, float]] = {}
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        for backend in args.backends:
            if backend in skipped:
                continue
            rows[backend], found = run(backend, count, Path(scratch))
            problems += found
    columns = ["write (no event)", "write", "null sink", "webhook"]
    print(f"outbox events per second ({count} events per cell)")
    print(f"{'backend':<10}" + "".join(f"{c:>18}" for c in columns))
    for backend, row in rows.items():
        print(f"{backend:<10}" + "".join(f"{row[c]:>18,.0f}" for c in columns))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"events": count, "per_second": rows,
                                     "settings": _harness.server_urls()}, indent=2))
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
