"""How long ``Engine.evaluate`` takes, and how that grows with the active promotions.

Prices a 20-line cart (and a 5-line one) under a fixed set of 22 promotions
that concern it (20 pass their checks, 2 are rejected: out of window, not a
new customer; 18 end up applied) plus N other active promotions scoped to
SKUs, brands and categories the cart does not hold (N = 10, 100, 1,000).
Every scenario of one cart has the same concerning promotions, so its priced
result (total, applied and rejected promotions) must be the same for every N;
the script checks that and exits with status 1 if it is not.

Each scenario is timed with ``time.perf_counter_ns`` around single
``evaluate`` calls (the cart is built once, outside the timing) after some
warm-up calls. The scenarios of one cart are timed interleaved (one call of
each per round), so load on the machine touches every N alike: R rounds
(default 300), or fewer (at least 20) once the timed calls have taken
``--max-seconds`` (default 8 s) per scenario, so the whole run stays within
about half a minute however slow the engine is; the table says how many runs
each scenario got. The engine's construction (parse + compile) is timed
separately. Results: a table on stdout and JSON in
``benchmarks/results/bench_evaluate.json``.

    python benchmarks/bench_evaluate.py            # full: N = 10, 100, 1000; 300 runs each
    python benchmarks/bench_evaluate.py --quick    # CI smoke run: N = 10, 100; 20 runs each

To add a scenario (another cart, another engine such as django-oscar's),
write a function returning a :class:`Prepared` and add a :class:`Scenario`
for it in :func:`scenarios`; the timing, checks, table and JSON are shared.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _catalogue as data
import _harness

import promokit
from promokit import Cart, Engine
from promokit.loader import parse_campaigns
from promokit.registry import Registry

DEFAULT_JSON = _harness.RESULTS / "bench_evaluate.json"
FULL_BACKGROUND = (10, 100, 1000)
QUICK_BACKGROUND = (10, 100)
FULL_REPEAT = 300
QUICK_REPEAT = 20
CONSTRUCT_REPEAT = 5
#: Timed seconds per scenario after which fewer than R runs are kept (full mode).
MAX_SECONDS = 8.0
#: Timed runs kept at least, whatever the time box.
MIN_RUNS = 20
CART_SIZES = (20, 5)


# -- scenarios ---------------------------------------------------------------------------


@dataclass
class Prepared:
    """A scenario ready to time: ``run`` is one evaluation."""

    run: Callable[[], Any]
    summary: Callable[[Any], dict[str, Any]]
    """What one result says (total, applied …): checked equal within a group."""
    construct_ns: dict[str, list[int]] = field(default_factory=dict)
    """Set-up phases (e.g. parse, compile) → the times of each repetition."""
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    name: str
    group: str
    """Scenarios of one group price the same cart under the same concerning
    promotions: their summaries must be equal, and their medians are compared
    with the group's first scenario."""
    prepare: Callable[[Shared], Prepared]
    params: dict[str, Any]


@dataclass
class Shared:
    """What every scenario may use, built once."""

    catalogue: data.Catalogue
    registry: Registry
    registry_ns: int
    construct_repeat: int


def _promokit_summary(result: Any) -> dict[str, Any]:
    return {
        "subtotal": str(result.subtotal),
        "total": str(result.total),
        "applied": sorted(a.promotion for a in result.applied),
        "not_applied": sorted(f"{n.promotion}: {n.reason}" for n in result.not_applied),
        "optimal": result.optimal,
    }


def promokit_evaluate(cart_lines: int, background: int) -> Callable[[Shared], Prepared]:
    """promokit pricing a ``cart_lines`` cart under the core promotions + ``background``."""

    def prepare(shared: Shared) -> Prepared:
        core = data.core_promotions(shared.catalogue)
        others = data.background_promotions(shared.catalogue, background)
        file = data.campaign_data(core + others)
        cart = Cart.from_json(data.make_cart(shared.catalogue, cart_lines))
        parse_ns: list[int] = []
        compile_ns: list[int] = []
        engine = None
        for _ in range(shared.construct_repeat):
            start = time.perf_counter_ns()
            campaigns = parse_campaigns(file, shared.registry)
            parsed = time.perf_counter_ns()
            engine = Engine(campaigns, registry=shared.registry)
            done = time.perf_counter_ns()
            parse_ns.append(parsed - start)
            compile_ns.append(done - parsed)
        assert engine is not None
        ready = engine

        def run() -> Any:
            return ready.evaluate(cart)

        return Prepared(run=run, summary=_promokit_summary,
                        construct_ns={"parse": parse_ns, "compile": compile_ns},
                        info={"active_promotions": len(core) + len(others),
                              "core_promotions": len(core), "background_promotions": background,
                              "cart_lines": cart_lines,
                              "cart_units": sum(line.quantity for line in cart.lines)})

    return prepare


def scenarios(background: Sequence[int], cart_sizes: Sequence[int] = CART_SIZES
              ) -> list[Scenario]:
    """Every scenario to run, grouped by cart; the first of a group is its baseline."""
    found = []
    for lines in cart_sizes:
        for n in background:
            found.append(Scenario(name=f"promokit cart-{lines} N={n}",
                                  group=f"promokit cart-{lines}",
                                  prepare=promokit_evaluate(lines, n),
                                  params={"engine": "promokit", "cart_lines": lines,
                                          "background": n}))
    return found


# -- timing ------------------------------------------------------------------------------


def measure(runs: Sequence[Callable[[], Any]], repeat: int, warmup: int,
            max_seconds: float | None = None) -> list[tuple[list[int], Any]]:
    """Timings (ns) of each of ``runs`` and its last result, interleaved.

    Each callable is called ``warmup`` times untimed; then in each round every
    callable is timed once (the order rotating from round to round), so a
    change in the machine's load during the run touches every scenario alike
    and their ratios stay fair. ``repeat`` rounds, or fewer (never under
    ``MIN_RUNS``) once the timed calls have taken ``max_seconds`` per callable.
    """
    results: list[Any] = [None] * len(runs)
    for i, run in enumerate(runs):
        for _ in range(warmup):
            results[i] = run()
    samples: list[list[int]] = [[] for _ in runs]
    clock = time.perf_counter_ns
    budget = math.inf if max_seconds is None else max_seconds * 1e9 * len(runs)
    spent = 0
    gc.collect()
    for round_no in range(repeat):
        for k in range(len(runs)):
            i = (round_no + k) % len(runs)
            start = clock()
            results[i] = runs[i]()
            took = clock() - start
            samples[i].append(took)
            spent += took
        if spent > budget and round_no + 1 >= MIN_RUNS:
            break
    return list(zip(samples, results, strict=True))


def stats(samples: Sequence[int]) -> dict[str, float]:
    ordered = sorted(samples)
    mean = statistics.fmean(ordered)
    return {"runs": len(ordered), "median_ns": statistics.median(ordered),
            "p99_ns": _harness.nearest_rank(ordered, 99), "mean_ns": mean, "min_ns": ordered[0],
            "max_ns": ordered[-1], "per_second": 1e9 / mean if mean else math.inf}


# -- reporting -----------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    return {"platform": platform.platform(), "machine": platform.machine(),
            "processor": platform.processor() or None,
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "cpu_count": os.cpu_count()}


def source_digest() -> str:
    """SHA-256 over promokit's source files, to tell which code was measured."""
    root = Path(promokit.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _ms(ns: float) -> str:
    return f"{ns / 1e6:.3f}"


def print_table(rows: list[dict[str, Any]]) -> None:
    header = ("scenario", "active", "considered", "applied", "runs", "median ms", "p99 ms",
              "mean ms", "eval/s", "× base", "parse ms", "compile ms")
    table = [header]
    for row in rows:
        ev, info = row["evaluate"], row["info"]
        table.append((
            row["name"], str(info.get("active_promotions", "")),
            str(row["considered"]), str(row["applied"]), str(ev["runs"]),
            _ms(ev["median_ns"]), _ms(ev["p99_ns"]), _ms(ev["mean_ns"]),
            f"{ev['per_second']:.0f}", f"{row['median_ratio']:.2f}",
            *(_ms(statistics.median(row["construct_ns"][phase]))
              for phase in ("parse", "compile")),
        ))
    _harness.print_columns(table)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"CI smoke run: N = {', '.join(map(str, QUICK_BACKGROUND))}, "
                             f"{QUICK_REPEAT} runs each")
    parser.add_argument("--repeat", type=int, metavar="R",
                        help=f"timed evaluations per scenario (default {FULL_REPEAT}, "
                             f"{QUICK_REPEAT} with --quick)")
    parser.add_argument("--warmup", type=int, metavar="W",
                        help="untimed evaluations first (default: R/10, at least 5)")
    parser.add_argument("--background", metavar="N,N,…",
                        help="other active promotions per scenario (default "
                             f"{','.join(map(str, FULL_BACKGROUND))})")
    parser.add_argument("--max-seconds", type=float, default=MAX_SECONDS, metavar="S",
                        help="stop timing a scenario after S seconds of timed runs, with at "
                             f"least {MIN_RUNS} runs (default %(default)s; 0: no limit)")
    _harness.add_json_option(parser, DEFAULT_JSON)
    args = parser.parse_args(argv)

    repeat = args.repeat or (QUICK_REPEAT if args.quick else FULL_REPEAT)
    warmup = args.warmup if args.warmup is not None else max(5, repeat // 20)
    max_seconds = args.max_seconds or None
    if args.background:
        background = tuple(sorted({int(n) for n in args.background.split(",")}))
    else:
        background = QUICK_BACKGROUND if args.quick else FULL_BACKGROUND
    if repeat < 1 or warmup < 0 or min(background) < 0:
        parser.error("--repeat must be ≥ 1, --warmup and --background ≥ 0")

    host = machine()
    digest = source_digest()
    print(f"machine: {host['platform']} | {host['python']} | os.cpu_count() = "
          f"{host['cpu_count']}")
    print(f"promokit {promokit.__version__} (source sha256 {digest[:12]})")
    box = f" (at most {max_seconds:g} s of them)" if max_seconds else ""
    print(f"{repeat} timed evaluations per scenario{box} after {warmup} warm-up; "
          f"construction timed {CONSTRUCT_REPEAT if not args.quick else 1}×")

    started = time.perf_counter()
    start = time.perf_counter_ns()
    registry = Registry.default(load_entry_points=False)
    shared = Shared(catalogue=data.make_catalogue(), registry=registry,
                    registry_ns=time.perf_counter_ns() - start,
                    construct_repeat=1 if args.quick else CONSTRUCT_REPEAT)

    rows: list[dict[str, Any]] = []
    baseline: dict[str, dict[str, Any]] = {}
    failures: list[str] = []
    groups: dict[str, list[Scenario]] = {}
    for scenario in scenarios(background):
        groups.setdefault(scenario.group, []).append(scenario)
    for group, members in groups.items():
        prepared = [scenario.prepare(shared) for scenario in members]
        timed = measure([p.run for p in prepared], repeat, warmup, max_seconds)
        for scenario, ready, (samples, result) in zip(members, prepared, timed, strict=True):
            summary = ready.summary(result)
            evaluation = stats(samples)
            first = baseline.setdefault(group, {"summary": summary,
                                                "median": evaluation["median_ns"],
                                                "name": scenario.name})
            if summary != first["summary"]:
                failures.append(f"{scenario.name} priced differently from {first['name']}:\n"
                                f"  {summary}\n  {first['summary']}")
            rows.append({
                "name": scenario.name, "group": group, "params": scenario.params,
                "info": ready.info, "result": summary,
                "considered": len(summary["applied"]) + len(summary["not_applied"]),
                "applied": len(summary["applied"]),
                "evaluate": evaluation,
                "median_ratio": evaluation["median_ns"] / first["median"],
                "construct_ns": ready.construct_ns,
                "samples_ns": samples,
            })

    print()
    print_table(rows)
    print()
    for group, first in baseline.items():
        print(f"{group}: total {first['summary']['total']} "
              f"(subtotal {first['summary']['subtotal']}) for every N; "
              f"applied: {', '.join(first['summary']['applied'])}")
    print(f"registry (plugin manager) built once in {_ms(shared.registry_ns)} ms; "
          f"whole run {time.perf_counter() - started:.1f} s")

    report = {
        "benchmark": "bench_evaluate",
        "created": _harness.timestamp(),
        "machine": host,
        "promokit": {"version": promokit.__version__, "source_sha256": digest},
        "settings": {"repeat": repeat, "warmup": warmup, "max_seconds": max_seconds,
                     "min_runs": MIN_RUNS, "background": list(background),
                     "construct_repeat": shared.construct_repeat, "quick": args.quick,
                     "percentile": "nearest rank", "timer": "time.perf_counter_ns",
                     "registry": "built-in plugins only (load_entry_points=False)"},
        "registry_ns": shared.registry_ns,
        "scenarios": rows,
    }
    _harness.write_json(args.json, report, ensure_ascii=False)
    return _harness.report_problems("results differ across N within a group", failures,
                                    indent="")


if __name__ == "__main__":
    sys.exit(main())
