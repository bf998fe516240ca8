"""How ``Engine.evaluate`` scales with the active promotions and with the cart's lines.

Issue 6: evaluation cost should follow the promotions that may apply to a cart,
not all that exist. Two sweeps, each cell timing ``evaluate`` on one cart:

1. promotions: the 20-line cart of ``bench_evaluate.py`` under the same 22
   promotions that concern it (18 applied) plus N = 10, 100, 1,000, 10,000 and
   100,000 other active promotions scoped to SKUs, brands and categories the
   cart does not hold. The considered set (applied + not applied) must stay
   at 22 while N grows; each median is compared with N = 10's (issue 6's
   targets: at most 2× at 1,000 and 5× at 100,000; printed, not asserted).
2. lines: carts of 5, 20, 50, 100 and 200 lines priced by one engine holding
   N = 1,000 other promotions, where the promotions that concern the cart grow
   with its lines. The cart is made of blocks: block 0 is the 20-line cart,
   block k a copy of it whose SKUs, brands, categories, tags, shops and line ids
   carry the prefix ``bk.``, and each block comes with its own copy of the core
   promotions that name what it holds (the cart-wide ones, such as the coupon
   and free shipping, exist once, their exclusions widened to every block). An
   L-line cart is the first L lines of the blocks; the engine holds the blocks
   of the longest cart. Each row gives ms per line too.

The promotions are built as in-memory dicts (``_catalogue.py``) and handed to
``promokit.loading.parse_campaigns``, as if read from a file (100,000 TOML
promotions would take long to write and read); the parse and the compile
(``Engine(...)``) are timed as one-time costs, and the promotions sweep also
shows how long making the dicts and the cart took ("data ms"). Each row says
whether the best-deal search was exhaustive ("exact") or, past
``EXACT_LIMIT`` competing units, "greedy" (the result's ``optimal``).

The timing is ``bench_evaluate.py``'s (imported from it): the cells of one
sweep are timed interleaved after some warm-up calls, R rounds (default 300)
or fewer (at least 20) once the timed calls have taken ``--max-seconds``
(default 8 s) per cell; median and p99 by nearest rank. A cart must be priced
the same (total, applied and rejected promotions) whatever the other
promotions: each promotions-sweep cell against N = 10, each lines-sweep cart
against the same blocks with no other promotions, and the 20-line cart of
both sweeps against each other; the script exits with status 1 if not.
Results: a table per sweep on stdout and JSON in
``benchmarks/results/bench_scale.json``.

    python benchmarks/bench_scale.py            # full: N up to 100,000, lines up to 200
    python benchmarks/bench_scale.py --quick    # CI smoke run: N up to 1,000, lines up to 50
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

import _catalogue as data
import _harness
import bench_evaluate as timing

import promokit
from promokit import Cart, Engine
from promokit.loading import parse_campaigns
from promokit.registry import Registry

DEFAULT_JSON = _harness.RESULTS / "bench_scale.json"
FULL_PROMOTIONS = (10, 100, 1000, 10_000, 100_000)
QUICK_PROMOTIONS = (10, 100, 1000)
FULL_LINES = (5, 20, 50, 100, 200)
QUICK_LINES = (5, 20, 50)
#: Other active promotions in the lines sweep.
LINES_BACKGROUND = 1000
#: The promotions sweep's cart.
CART_LINES = 20
#: Lines per block of the lines sweep's carts (the 20-line cart, relabelled).
BLOCK_LINES = 20
FULL_REPEAT = 300
QUICK_REPEAT = 20
MAX_SECONDS = 8.0
#: Times each engine is built (parse + compile) in full mode; once with --quick, and
#: once from this many promotions up (100,000 take seconds to parse).
CONSTRUCT_REPEAT = 3
CONSTRUCT_ONCE_FROM = 10_000
#: Scope dimensions that name what a line holds; the blocks relabel them.
DIMENSIONS = ("skus", "brands", "tags", "categories", "shops")
#: Issue 6's targets: N → the most its median may be over N = 10's.
TARGETS = {1000: 2.0, 100_000: 5.0}


# -- the lines sweep's blocks ------------------------------------------------------------


def _label(value: str, block: int) -> str:
    return value if block == 0 else f"b{block}.{value}"


def block_lines(template: dict[str, Any], blocks: int) -> list[dict[str, Any]]:
    """The lines of ``blocks`` copies of ``template``'s, block k's relabelled."""
    return [{**line, **{key: _label(line[key], block)
                        for key in ("id", "sku", "brand", "category", "shop")},
             "tags": [_label(tag, block) for tag in line["tags"]]}
            for block in range(blocks) for line in template["lines"]]


def _scope(scope: dict[str, list[str]], blocks: range) -> dict[str, list[str]]:
    return {key: [_label(value, block) for block in blocks for value in values]
            for key, values in scope.items()}


def block_promotions(core: Sequence[dict[str, Any]], blocks: int) -> list[dict[str, Any]]:
    """``core`` for each block: a promotion whose scope names SKUs, brands, tags,
    categories or shops once per block (its id, group and scope relabelled); a
    cart-wide one once, its exclusions extended to every block."""
    found = []
    for block in range(blocks):
        for promotion in core:
            scope = promotion.get("scope", {})
            if not any(key in scope for key in DIMENSIONS):
                if block == 0:
                    found.append({**promotion, **({"scope": _scope(scope, range(blocks))}
                                                  if scope else {})})
                continue
            copy = {**promotion, "id": _label(promotion["id"], block),
                    "scope": _scope(scope, range(block, block + 1))}
            if "group" in promotion:
                copy["group"] = _label(promotion["group"], block)
            found.append(copy)
    return found


# -- building and timing ---------------------------------------------------------------------


def _clocked(make: Any, *args: Any, **kwargs: Any) -> tuple[Any, int]:
    start = time.perf_counter_ns()
    made = make(*args, **kwargs)
    return made, time.perf_counter_ns() - start


def _construct_repeat(shared: timing.Shared, promotions: int) -> int:
    return 1 if promotions >= CONSTRUCT_ONCE_FROM else shared.construct_repeat


def build_engine(shared: timing.Shared, promotions: list[dict[str, Any]]
                 ) -> tuple[Engine, dict[str, list[int]]]:
    """An engine over ``promotions``, and how long each parse and compile took."""
    file = data.campaign_data(promotions)
    phases: dict[str, list[int]] = {"parse": [], "compile": []}
    engine = None
    for _ in range(_construct_repeat(shared, len(promotions))):
        campaigns, parse_ns = _clocked(parse_campaigns, file, shared.registry)
        engine, compile_ns = _clocked(Engine, campaigns, registry=shared.registry)
        phases["parse"].append(parse_ns)
        phases["compile"].append(compile_ns)
    assert engine is not None
    return engine, phases


def _cell(name: str, params: dict[str, Any], ready: timing.Prepared, samples: list[int],
          result: Any, base_median: float | None) -> dict[str, Any]:
    summary = ready.summary(result)
    evaluation = timing.stats(samples)
    return {"name": name, "params": params, "info": ready.info, "result": summary,
            "considered": len(summary["applied"]) + len(summary["not_applied"]),
            "applied": len(summary["applied"]), "evaluate": evaluation,
            "median_ratio": evaluation["median_ns"] / (base_median or evaluation["median_ns"]),
            "construct_ns": ready.construct_ns, "samples_ns": samples}


def _check(cell: dict[str, Any], reference: dict[str, Any], what: str,
           failures: list[str]) -> None:
    if cell["result"] != reference:
        failures.append(f"{cell['name']} priced differently from {what}:\n"
                        f"  {cell['result']}\n  {reference}")


def promotions_sweep(shared: timing.Shared, counts: Sequence[int], repeat: int, warmup: int,
                     max_seconds: float | None) -> list[dict[str, Any]]:
    """Sweep 1: ``bench_evaluate.py``'s 20-line scenario for each N of ``counts``."""
    prepared = []
    for n in counts:
        per_n = dataclasses.replace(shared, construct_repeat=_construct_repeat(shared, n))
        ready, built_ns = _clocked(timing.promokit_evaluate(CART_LINES, n), per_n)
        ready.construct_ns["data"] = [built_ns - sum(map(sum, ready.construct_ns.values()))]
        prepared.append(ready)
    timed = timing.measure([p.run for p in prepared], repeat, warmup, max_seconds)
    cells: list[dict[str, Any]] = []
    for n, ready, (samples, result) in zip(counts, prepared, timed, strict=True):
        cells.append(_cell(f"N={n}", {"background": n, "cart_lines": CART_LINES}, ready,
                           samples, result,
                           cells[0]["evaluate"]["median_ns"] if cells else None))
    return cells


def lines_sweep(shared: timing.Shared, sizes: Sequence[int], repeat: int, warmup: int,
                max_seconds: float | None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Sweep 2: one engine (the blocks' promotions + ``LINES_BACKGROUND`` others)
    pricing carts of each size of ``sizes``; and that engine's set-up."""
    blocks = -(-max(sizes) // BLOCK_LINES)
    template = data.make_cart(shared.catalogue, BLOCK_LINES)
    lines = block_lines(template, blocks)
    own = block_promotions(data.core_promotions(shared.catalogue), blocks)
    others = data.background_promotions(shared.catalogue, LINES_BACKGROUND)
    engine, construct_ns = build_engine(shared, own + others)
    alone, _ = build_engine(dataclasses.replace(shared, construct_repeat=1), own)
    carts = [Cart.from_json({**template, "lines": lines[:size]}) for size in sizes]
    prepared = [timing.Prepared(run=functools.partial(engine.evaluate, cart),
                                summary=timing._promokit_summary,
                                info={"cart_lines": size,
                                      "cart_units": sum(line.quantity for line in cart.lines)})
                for size, cart in zip(sizes, carts, strict=True)]
    timed = timing.measure([p.run for p in prepared], repeat, warmup, max_seconds)
    cells: list[dict[str, Any]] = []
    for size, cart, ready, (samples, result) in zip(sizes, carts, prepared, timed,
                                                     strict=True):
        cell = _cell(f"{size} lines", {"background": LINES_BACKGROUND, "cart_lines": size},
                     ready, samples, result, cells[0]["evaluate"]["median_ns"] if cells else None)
        cell["ms_per_line"] = cell["evaluate"]["median_ns"] / 1e6 / size
        cell["alone"] = timing._promokit_summary(alone.evaluate(cart))
        cells.append(cell)
    setup = {"blocks": blocks, "block_promotions": len(own), "background": LINES_BACKGROUND,
             "active_promotions": len(own) + len(others), "construct_ns": construct_ns}
    return cells, setup


# -- reporting ---------------------------------------------------------------------------------


def _ms(ns: float) -> str:
    return f"{ns / 1e6:.3f}"


def _median_ms(samples: Sequence[int]) -> str:
    return _ms(statistics.median(samples))


def _timed_columns(cell: dict[str, Any]) -> tuple[str, ...]:
    ev = cell["evaluate"]
    return (str(cell["considered"]), str(cell["applied"]),
            "exact" if cell["result"]["optimal"] else "greedy", str(ev["runs"]),
            _ms(ev["median_ns"]), _ms(ev["p99_ns"]))


def print_promotions(cells: Sequence[dict[str, Any]]) -> None:
    table = [("N other", "active", "considered", "applied", "search", "runs", "median ms",
              "p99 ms", f"× {cells[0]['name']}", "data ms", "parse ms", "compile ms")]
    for cell in cells:
        table.append((str(cell["params"]["background"]),
                      str(cell["info"]["active_promotions"]), *_timed_columns(cell),
                      f"{cell['median_ratio']:.2f}",
                      *(_median_ms(cell["construct_ns"][phase])
                        for phase in ("data", "parse", "compile"))))
    _harness.print_columns(table)


def print_lines(cells: Sequence[dict[str, Any]], setup: dict[str, Any]) -> None:
    table = [("lines", "units", "active", "considered", "applied", "search", "runs",
              "median ms", "p99 ms", "ms/line", f"× {cells[0]['name']}")]
    for cell in cells:
        table.append((str(cell["info"]["cart_lines"]), str(cell["info"]["cart_units"]),
                      str(setup["active_promotions"]), *_timed_columns(cell),
                      f"{cell['ms_per_line']:.3f}", f"{cell['median_ratio']:.2f}"))
    _harness.print_columns(table)


def _parser() -> argparse.ArgumentParser:
    """The command line: the sweeps, the rounds and their time box, the JSON path."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"CI smoke run: N up to {max(QUICK_PROMOTIONS)}, lines up to "
                             f"{max(QUICK_LINES)}, {QUICK_REPEAT} runs each")
    numbers = {
        "--repeat": (int, "R", f"timed rounds per sweep (default {FULL_REPEAT}, "
                               f"{QUICK_REPEAT} with --quick)"),
        "--warmup": (int, "W", "untimed evaluations per cell first (default: R/20, at least 5)"),
        "--max-seconds": (float, "S", "stop a sweep after S seconds of timed runs per cell, "
                                      f"with at least {timing.MIN_RUNS} rounds (default "
                                      f"{MAX_SECONDS:g}; 0: no limit)"),
        "--promotions": (str, "N,N,…", "other active promotions of the promotions sweep "
                                        f"(default {','.join(map(str, FULL_PROMOTIONS))})"),
        "--lines": (str, "L,L,…", "cart sizes of the lines sweep (default "
                                  f"{','.join(map(str, FULL_LINES))})"),
    }
    for flag, (kind, metavar, text) in numbers.items():
        parser.add_argument(flag, type=kind, metavar=metavar, help=text)
    _harness.add_json_option(parser, DEFAULT_JSON)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    parser = _parser()
    args = parser.parse_args(argv)

    repeat = args.repeat or (QUICK_REPEAT if args.quick else FULL_REPEAT)
    warmup = args.warmup if args.warmup is not None else max(5, repeat // 20)
    max_seconds = MAX_SECONDS if args.max_seconds is None else args.max_seconds or None
    counts = (sorted({int(n) for n in args.promotions.split(",")}) if args.promotions
              else QUICK_PROMOTIONS if args.quick else FULL_PROMOTIONS)
    sizes = (sorted({int(n) for n in args.lines.split(",")}) if args.lines
             else QUICK_LINES if args.quick else FULL_LINES)
    if repeat < 1 or warmup < 0 or min(counts) < 0 or min(sizes) < 1:
        parser.error("--repeat and --lines must be ≥ 1, --warmup and --promotions ≥ 0")

    host = _harness.machine()
    print(f"machine: {host['cpu_model']} | os.cpu_count() = {host['cpu_count']} | "
          f"{host['platform']} | Python {host['python']}")
    digest = timing.source_digest()
    construct = 1 if args.quick else CONSTRUCT_REPEAT
    print(f"promokit {promokit.__version__} (source sha256 {digest[:12]}); {repeat} timed "
          f"rounds per sweep after {warmup} warm-up calls per cell"
          + (f", at most {max_seconds:g} s per cell" if max_seconds else "")
          + f"; engines built {construct}× (once from {CONSTRUCT_ONCE_FROM} promotions)")
    settings = {"repeat": repeat, "warmup": warmup, "max_seconds": max_seconds,
                "min_runs": timing.MIN_RUNS, "promotions": list(counts), "lines": list(sizes),
                "lines_background": LINES_BACKGROUND, "construct_repeat": construct,
                "construct_once_from": CONSTRUCT_ONCE_FROM, "quick": args.quick,
                "percentile": "nearest rank", "timer": "time.perf_counter_ns",
                "registry": "built-in plugins only (load_entry_points=False)"}
    registry, registry_ns = _clocked(Registry.default, load_entry_points=False)
    shared = timing.Shared(catalogue=data.make_catalogue(), registry=registry,
                           registry_ns=registry_ns, construct_repeat=construct)

    failures: list[str] = []
    by_n = promotions_sweep(shared, counts, repeat, warmup, max_seconds)
    for cell in by_n[1:]:
        _check(cell, by_n[0]["result"], by_n[0]["name"], failures)
    by_lines, setup = lines_sweep(shared, sizes, repeat, warmup, max_seconds)
    for cell in by_lines:
        _check(cell, cell["alone"], "its blocks' promotions alone", failures)
        if cell["info"]["cart_lines"] == CART_LINES:
            _check(cell, by_n[0]["result"], f"the promotions sweep's {by_n[0]['name']}",
                   failures)

    print(f"\npromotions: a {CART_LINES}-line cart, the 22 promotions that concern it and N "
          "others")
    print_promotions(by_n)
    ratios = {cell["params"]["background"]: cell["median_ratio"] for cell in by_n}
    print("issue 6 targets (not asserted): " + "; ".join(
        f"N={n} {ratios[n]:.2f}× (target ≤ {most:g}×)" if n in ratios
        else f"N={n} not run (target ≤ {most:g}×)" for n, most in TARGETS.items()))
    base = by_n[0]["result"]
    print(f"the {CART_LINES}-line cart: total {base['total']} (subtotal {base['subtotal']}) "
          f"for every N")

    print(f"\nlines: {setup['blocks']} blocks of {BLOCK_LINES} lines; one engine with "
          f"{setup['block_promotions']} block promotions + {setup['background']} others")
    print_lines(by_lines, setup)
    print(f"that engine: parse {_median_ms(setup['construct_ns']['parse'])} ms, compile "
          f"{_median_ms(setup['construct_ns']['compile'])} ms; totals: " + ", ".join(
              f"{cell['info']['cart_lines']} lines {cell['result']['total']}"
              for cell in by_lines))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"registry built in {_ms(registry_ns)} ms; peak RSS {peak_mb:.0f} MB; whole run "
          f"{time.perf_counter() - started:.1f} s")

    report = {
        "benchmark": "bench_scale", "created": _harness.timestamp(), "machine": host,
        "promokit": {"version": promokit.__version__, "source_sha256": digest},
        "settings": settings, "registry_ns": registry_ns, "peak_rss_mb": peak_mb,
        "targets": {str(n): most for n, most in TARGETS.items()},
        "promotions_sweep": by_n,
        "lines_sweep": {**setup, "cells": by_lines},
    }
    _harness.write_json(args.json, report, ensure_ascii=False)
    return _harness.report_problems("a cart was priced differently under other promotions",
                                    failures, indent="")


if __name__ == "__main__":
    sys.exit(main())
