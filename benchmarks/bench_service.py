"""``promokit serve`` over HTTP on loopback, next to the same calls in process.

Two calls, each a bounded number of requests: ``evaluate`` (``POST /v1/evaluate``,
a 5-line cart under 6 promotions, five of which apply; the sixth needs a coupon
code the cart does not carry) and ``checkout`` (``POST /v1/orders/{id}/checkout``,
each request a new order id and customer, so every one reserves and writes an
order row). The
service runs as ``promokit serve`` with 1 and then 2 uvicorn workers on a fresh
SQLite store (WAL, the embedded default), and is driven by 1 client and by 8
clients (threads, each with its own keep-alive ``httpx.Client``) in this process.
``in process`` is the same calls on an ``Engine`` over a fresh SQLite store, one
after another. For each cell: requests per second (requests ÷ wall time from the
first to the last), p50 and p99 latency per request by nearest rank (as the
client saw it, so under 8 clients it includes queueing), and ``ratio``, the
cell's rate over the in-process rate of the same call. ``healthz`` (``GET
/healthz``: no body, no engine, no store) is the floor of the HTTP round trip on
the same server and client. Every response is
checked (200, the expected total); a failure exits with status 1.

    python benchmarks/bench_service.py            # 2,000 requests per cell
    python benchmarks/bench_service.py --quick    # 200 requests per cell

The client shares the machine with the server (and takes CPU from it): on a
2-core machine the figures are a floor. JSON in ``benchmarks/results/bench_service.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import _harness
import httpx

from promokit import Engine, open_store
from promokit.service import hash_key

CAMPAIGNS = '''currency = "CNY"
timezone = "Asia/Shanghai"

[[campaign]]
id = "always"
name = "Always on"
budget = "100000000.00"
funding = { platform = "0.7", merchant = "0.3" }

[[promotion]]
id = "tea-95"
campaign = "always"
kind = "percent_off"
percent = "5"
scope = { categories = ["tea"] }

[[promotion]]
id = "gold"
campaign = "always"
kind = "member_price"
percent_by_tier = { gold = "8" }

[[promotion]]
id = "cups-2nd-half"
campaign = "always"
kind = "nth_item"
n = 2
percent = "50"
scope = { categories = ["cups"] }

[[promotion]]
id = "spend-300-30"
campaign = "always"
kind = "tiered_threshold"
stage = "platform"
tiers = [ { spend = "300", off = "30" }, { spend = "600", off = "80" } ]

[[promotion]]
id = "ship-free"
campaign = "always"
kind = "free_shipping"
threshold = "99"

[[promotion]]
id = "tea-coupon"
kind = "order_amount_off"
amount = "20"
coupon = "tea"

[[coupon]]
id = "tea"
promotion = "tea-coupon"
'''

KEY = "bench-key-0123456789abcdef"


def cart(customer: str) -> dict[str, Any]:
    return {"currency": "CNY", "shipping": "12.00",
            "customer": {"id": customer, "tier": "gold"},
            "lines": [
                {"id": "l1", "sku": "TEA-1", "quantity": 2, "unit_price": "88.00",
                 "category": "tea/green"},
                {"id": "l2", "sku": "TEA-2", "quantity": 1, "unit_price": "128.00",
                 "category": "tea/black"},
                {"id": "l3", "sku": "CUP-1", "quantity": 2, "unit_price": "39.00",
                 "category": "cups"},
                {"id": "l4", "sku": "POT-1", "quantity": 1, "unit_price": "159.00",
                 "category": "pots"},
                {"id": "l5", "sku": "MAT-1", "quantity": 3, "unit_price": "9.90",
                 "category": "mats"}]}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def service(root: Path, workers: int) -> Iterator[str]:
    """``promokit serve`` on a fresh SQLite store; yields its URL."""
    db = root / f"service-{workers}.db"
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "promokit", "--no-plugins", "serve", str(root / "c.toml"),
         "--store", f"sqlite:///{db}", "--keys", str(root / "keys.toml"), "--port",
         str(port), "--workers", str(workers), "--no-watch"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the service did not start: "
                                   f"{process.stderr.read().decode() if process.stderr else ''}")
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def run_clients(count: int, clients: int, call: Callable[[httpx.Client, int], None],
                url: str) -> tuple[float, list[int]]:
    """``count`` calls shared by ``clients`` threads; wall seconds and latencies (ns)."""
    latencies: list[int] = []
    lock = threading.Lock()
    next_index = iter(range(count))
    start = threading.Barrier(clients + 1)

    def work() -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"},
                          timeout=60) as client:
            call(client, -1)  # warm the connection
            mine: list[int] = []
            start.wait()
            while True:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    break
                began = time.perf_counter_ns()
                call(client, index)
                mine.append(time.perf_counter_ns() - began)
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, latencies


def figures(seconds: float, latencies: list[int]) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {"requests": len(ordered), "seconds": round(seconds, 4),
            "per_second": round(len(ordered) / seconds, 1),
            "p50_ms": round(_harness.nearest_rank(ordered, 50) / 1e6, 3),
            "p99_ms": round(_harness.nearest_rank(ordered, 99) / 1e6, 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 requests per cell")
    parser.add_argument("--requests", type=int, help="requests per cell")
    parser.add_argument("--json", type=Path,
                        default=Path(__file__).parent / "results" / "bench_service.json")
    args = parser.parse_args()
    count = args.requests or (200 if args.quick else 2000)
    problems: list[str] = []
    host = _harness.machine()
    print(f"machine: {host['cpu_model']} | os.cpu_count() = {host['cpu_count']} | "
          f"{host['platform']} | Python {host['python']}")
    print(f"{count} requests per cell; a fresh SQLite store per service and in process")

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "c.toml").write_text(CAMPAIGNS, encoding="utf-8")
        (root / "keys.toml").write_text(f'[[key]]\nid = "bench"\nsha256 = "{hash_key(KEY)}"\n'
                                        'scopes = ["checkout"]\n', encoding="utf-8")
        engine = Engine.from_files(root / "c.toml", load_entry_points=False,
                                   store=open_store(f"sqlite:///{root / 'inprocess.db'}"))
        expected = str(engine.evaluate(cart("c0")).total)

        def in_process(name: str, once: Callable[[int], None]) -> dict[str, Any]:
            for index in range(min(50, count)):
                once(-1 - index)
            latencies = []
            began = time.perf_counter()
            for index in range(count):
                t0 = time.perf_counter_ns()
                once(index)
                latencies.append(time.perf_counter_ns() - t0)
            return figures(time.perf_counter() - began, latencies)

        def evaluate_local(index: int) -> None:
            if str(engine.evaluate(cart(f"c{index % 100}")).total) != expected:
                problems.append("in process: evaluate total differs")

        def checkout_local(index: int) -> None:
            order = engine.checkout(cart(f"p{index}"), f"local-{index}")
            if order.status != "reserved" or str(order.result.total) != expected:
                problems.append(f"in process: checkout {index} {order.status}")

        local = {"evaluate": in_process("evaluate", evaluate_local),
                 "checkout": in_process("checkout", checkout_local)}
        engine.store.close()

        cells: list[dict[str, Any]] = []
        for workers in (1, 2):
            with service(root, workers) as url:
                for clients in (1, 8):
                    run = f"w{workers}c{clients}"

                    def evaluate_http(client: httpx.Client, index: int) -> None:
                        response = client.post("/v1/evaluate", json=cart(f"c{index % 100}"))
                        if response.status_code != 200 or response.json()["total"] != expected:
                            problems.append(f"evaluate: {response.status_code} "
                                            f"{response.text[:200]}")

                    def checkout_http(client: httpx.Client, index: int, run: str = run) -> None:
                        order = f"{run}-{index}"
                        response = client.post(f"/v1/orders/{order}/checkout",
                                               json=cart(f"{run}-{index}"))
                        body = response.json()
                        if response.status_code != 200 or body["result"]["total"] != expected:
                            problems.append(f"checkout: {response.status_code} "
                                            f"{response.text[:200]}")

                    def healthz_http(client: httpx.Client, index: int) -> None:
                        if client.get("/healthz").status_code != 200:
                            problems.append("healthz failed")

                    for name, call in (("evaluate", evaluate_http),
                                       ("checkout", checkout_http),
                                       ("healthz", healthz_http)):
                        seconds, latencies = run_clients(count, clients, call, url)
                        cell = {"call": name, "workers": workers, "clients": clients,
                                **figures(seconds, latencies)}
                        if name in local:
                            cell["ratio"] = round(cell["per_second"]
                                                  / local[name]["per_second"], 3)
                        cells.append(cell)

    table = [["call", "where", "req/s", "p50 ms", "p99 ms", "ratio"]]
    for name in ("evaluate", "checkout", "healthz"):
        if name in local:
            table.append([name, "in process", f"{local[name]['per_second']:,.0f}",
                          f"{local[name]['p50_ms']:.2f}", f"{local[name]['p99_ms']:.2f}", "1"])
        for cell in cells:
            if cell["call"] == name:
                table.append([name, f"HTTP, {cell['workers']} worker(s), {cell['clients']} "
                              "client(s)", f"{cell['per_second']:,.0f}",
                              f"{cell['p50_ms']:.2f}", f"{cell['p99_ms']:.2f}",
                              f"{cell['ratio']:.3f}" if "ratio" in cell else "–"])
    _harness.print_columns(table)
    _harness.write_json(args.json, {"machine": host, "requests": count, "in_process": local,
                                    "http": cells, "when": _harness.timestamp()})
    return _harness.report_problems("bench_service", sorted(set(problems))[:20])


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    sys.exit(main())
