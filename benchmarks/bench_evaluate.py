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

Then promokit against django-oscar (``_oscar.py``), in this process, on the
same catalogue and carts: 20 offers that concern the 20-line cart, in the four
kinds both engines have (a percentage off a category range, spend ¥300 get ¥50
off, buy 2 get the cheapest free, 2 for a fixed price), plus N others (N = 10,
100, 1,000) scoped to what the cart does not hold; promokit prices the cart
with the same offers written as promokit promotions, oscar with
``Applicator().apply`` on a basket of the same lines (SQLite in memory). Each
cart's promokit and oscar scenarios are timed interleaved; oscar's are spread
over the rounds and get fewer runs (``--oscar-repeat``, default 10, or fewer,
at least 5, once they have taken ``--oscar-max-seconds``), each preceded,
untimed, by opening that scenario's N offers and suspending the others. The
table of the comparison gives each (cart, N)'s medians, p99s and the ratio
oscar ÷ promokit, and whether the two engines priced the cart alike (same
lines total, same offers applied: printed, not a failure; each engine's own
result must still be the same for every N). django-oscar is installed by
``benchmarks/requirements-oscar.txt`` only; without it the comparison is
skipped with a note, unless ``CI=true``, where that is an error.

    python benchmarks/bench_evaluate.py             # full: N = 10, 100, 1000; about 3 minutes
    python benchmarks/bench_evaluate.py --quick     # CI smoke run: N = 10, 100 (oscar: 10)
    python benchmarks/bench_evaluate.py --no-oscar  # promokit only, about half a minute

To add a scenario (another cart, another engine), write a function returning
a :class:`Prepared` and add a :class:`Scenario` for it in :func:`scenarios`;
the timing, checks, table and JSON are shared (a group with an engine other
than promokit is timed by :func:`measure_mixed`, where each scenario may have
its own runs and an untimed ``before``).
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
from decimal import Decimal
from pathlib import Path
from typing import Any

import _catalogue as data
import _harness
import _oscar

import promokit
from promokit import Cart, Engine
from promokit.loading import parse_campaigns
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
#: The comparison with django-oscar: its other active offers per scenario, its timed
#: runs (fewer, at least OSCAR_MIN_RUNS, once they have taken OSCAR_MAX_SECONDS per
#: scenario) and its warm-up calls. A 20-line basket under 1,020 offers takes ~10 s.
OSCAR_BACKGROUND = (10, 100, 1000)
QUICK_OSCAR_BACKGROUND = (10,)
OSCAR_REPEAT = 10
QUICK_OSCAR_REPEAT = 3
OSCAR_MIN_RUNS = 5
OSCAR_MAX_SECONDS = 20.0
OSCAR_WARMUP = 1
#: The issue's targets for oscar median ÷ promokit median on the 20-line cart, by N
#: (printed and kept in the JSON, not asserted).
RATIO_TARGETS = {100: 1000, 1000: 5000}


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
    before: Callable[[], None] | None = None
    """Called before each call of ``run``, untimed (oscar: open this scenario's offers)."""
    repeat: int | None = None
    """This scenario's own timed runs, warm-up calls, time box and least runs, where they
    differ from the run's (oscar); only :func:`measure_mixed` reads them."""
    warmup: int | None = None
    max_seconds: float | None = None
    min_runs: int | None = None


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
    oscar: _oscar.OscarShop | None = None
    """django-oscar with the catalogue and every offer the scenarios need (or ``None``)."""
    oscar_runs: dict[str, Any] = field(default_factory=dict)
    """The oscar scenarios' ``repeat``, ``warmup``, ``max_seconds`` and ``min_runs``."""


def _promokit_summary(result: Any) -> dict[str, Any]:
    return {
        "subtotal": str(result.subtotal),
        "total": str(result.total),
        "applied": sorted(a.promotion for a in result.applied),
        "not_applied": sorted(f"{n.promotion}: {n.reason}" for n in result.not_applied),
        "optimal": result.optimal,
    }


def _promokit_prepared(shared: Shared, promotions: list[dict[str, Any]], cart_lines: int,
                       summary: Callable[[Any], dict[str, Any]],
                       info: dict[str, Any]) -> Prepared:
    """An engine for ``promotions`` (parse and compile timed) pricing a ``cart_lines`` cart."""
    file = data.campaign_data(promotions)
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

    return Prepared(run=run, summary=summary,
                    construct_ns={"parse": parse_ns, "compile": compile_ns},
                    info={**info, "active_promotions": len(promotions),
                          "cart_lines": cart_lines,
                          "cart_units": sum(line.quantity for line in cart.lines)})


def promokit_evaluate(cart_lines: int, background: int) -> Callable[[Shared], Prepared]:
    """promokit pricing a ``cart_lines`` cart under the core promotions + ``background``."""

    def prepare(shared: Shared) -> Prepared:
        core = data.core_promotions(shared.catalogue)
        others = data.background_promotions(shared.catalogue, background)
        return _promokit_prepared(shared, core + others, cart_lines, _promokit_summary,
                                  {"core_promotions": len(core),
                                   "background_promotions": background})

    return prepare


def _equivalent_summary(result: Any) -> dict[str, Any]:
    """:func:`_promokit_summary` and the lines' total (what oscar's basket total is:
    no shipping)."""
    return {**_promokit_summary(result),
            "lines_total": str(sum((line.total for line in result.lines), Decimal(0)))}


def promokit_equivalent(cart_lines: int, background: int) -> Callable[[Shared], Prepared]:
    """promokit pricing a ``cart_lines`` cart under the offers of the oscar comparison
    (``_oscar.concerning_offers`` + ``background`` others), as promokit promotions."""

    def prepare(shared: Shared) -> Prepared:
        concerning = _oscar.concerning_offers(shared.catalogue)
        others = _oscar.background_offers(shared.catalogue, background)
        promotions = _oscar.promokit_promotions(concerning + others)
        return _promokit_prepared(shared, promotions, cart_lines, _equivalent_summary,
                                  {"concerning_offers": len(concerning),
                                   "background_offers": background})

    return prepare


def oscar_apply(cart_lines: int, background: int) -> Callable[[Shared], Prepared]:
    """django-oscar applying the same offers to a basket of the same ``cart_lines`` lines:
    one run is ``basket.reset_offer_applications()`` + ``Applicator().apply``."""

    def prepare(shared: Shared) -> Prepared:
        shop = shared.oscar
        assert shop is not None, "the oscar scenarios need Shared.oscar"
        concerning = _oscar.concerning_offers(shared.catalogue)
        others = _oscar.background_offers(shared.catalogue, background)
        active = frozenset(offer.id for offer in concerning + others)
        cart = data.make_cart(shared.catalogue, cart_lines)
        basket = shop.basket(cart)

        def before() -> None:
            shop.activate(active)

        def run() -> Any:
            return shop.apply(basket)

        return Prepared(run=run, summary=shop.summary, before=before, **shared.oscar_runs,
                        info={"active_promotions": len(active),
                              "concerning_offers": len(concerning),
                              "background_offers": background, "cart_lines": cart_lines,
                              "cart_units": sum(line["quantity"] for line in cart["lines"])})

    return prepare


def scenarios(background: Sequence[int], cart_sizes: Sequence[int] = CART_SIZES,
              oscar_background: Sequence[int] = ()) -> list[Scenario]:
    """Every scenario to run, grouped by cart; the first of a group (of an engine) is its
    baseline. With ``oscar_background``, one more group per cart: promokit and
    django-oscar on the same offers, for each of those N."""
    found = []
    for lines in cart_sizes:
        for n in background:
            found.append(Scenario(name=f"promokit cart-{lines} N={n}",
                                  group=f"promokit cart-{lines}",
                                  prepare=promokit_evaluate(lines, n),
                                  params={"engine": "promokit", "cart_lines": lines,
                                          "background": n}))
    for lines in cart_sizes if oscar_background else ():
        group = f"oscar-equivalent cart-{lines}"
        for engine, prepare in (("promokit", promokit_equivalent),
                                ("django-oscar", oscar_apply)):
            for n in oscar_background:
                label = "promokit oscar-offers" if engine == "promokit" else engine
                found.append(Scenario(name=f"{label} cart-{lines} N={n}", group=group,
                                      prepare=prepare(lines, n),
                                      params={"engine": engine, "cart_lines": lines,
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


def measure_mixed(prepared: Sequence[Prepared], repeat: int, warmup: int,
                  max_seconds: float | None = None) -> list[tuple[list[int], Any]]:
    """:func:`measure` for scenarios that need different numbers of runs (promokit and
    django-oscar), each with its own time box.

    Each scenario takes its ``repeat``, ``warmup``, ``max_seconds`` and ``min_runs``
    from its :class:`Prepared`, or the arguments (and ``MIN_RUNS``). The rounds are
    the largest ``repeat``; a scenario with fewer runs is spread evenly over them (10
    runs in 300 rounds: one every 30th), so the runs of every scenario span the same
    stretch of time, one call at a time, the order rotating from round to round. A
    scenario stops once it has its runs, or once its timed calls have taken its
    ``max_seconds`` and it has at least ``min_runs``. ``before`` is called before
    every call, warm-up or timed, outside the timing.
    """
    plans = []
    for ready in prepared:
        runs = ready.repeat or repeat
        box = max_seconds if ready.max_seconds is None else ready.max_seconds
        plans.append({"run": ready.run, "before": ready.before, "repeat": runs,
                      "warmup": warmup if ready.warmup is None else ready.warmup,
                      "budget": math.inf if box is None else box * 1e9,
                      "min_runs": min(runs, ready.min_runs or MIN_RUNS)})
    results: list[Any] = [None] * len(plans)
    for i, plan in enumerate(plans):
        for _ in range(plan["warmup"]):
            if plan["before"]:
                plan["before"]()
            results[i] = plan["run"]()
    samples: list[list[int]] = [[] for _ in plans]
    spent = [0] * len(plans)
    stopped = [False] * len(plans)
    rounds = max(plan["repeat"] for plan in plans)
    clock = time.perf_counter_ns
    gc.collect()
    for round_no in range(rounds):
        due = [i for i, plan in enumerate(plans) if not stopped[i]
               and (round_no + 1) * plan["repeat"] // rounds
               > round_no * plan["repeat"] // rounds]
        for k in range(len(due)):
            i = due[(round_no + k) % len(due)]
            plan = plans[i]
            if plan["before"]:
                plan["before"]()
            start = clock()
            results[i] = plan["run"]()
            took = clock() - start
            samples[i].append(took)
            spent[i] += took
            if spent[i] > plan["budget"] and len(samples[i]) >= plan["min_runs"]:
                stopped[i] = True
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


def _phase(row: dict[str, Any], phase: str) -> str:
    times = row["construct_ns"].get(phase)
    return _ms(statistics.median(times)) if times else "–"


def print_table(rows: list[dict[str, Any]]) -> None:
    header = ("scenario", "active", "considered", "applied", "runs", "median ms", "p99 ms",
              "mean ms", "eval/s", "× base", "parse ms", "compile ms")
    table = [header]
    for row in rows:
        ev, info = row["evaluate"], row["info"]
        considered = row["considered"]
        table.append((
            row["name"], str(info.get("active_promotions", "")),
            "–" if considered is None else str(considered), str(row["applied"]),
            str(ev["runs"]), _ms(ev["median_ns"]), _ms(ev["p99_ns"]), _ms(ev["mean_ns"]),
            f"{ev['per_second']:.0f}" if ev["per_second"] >= 10 else f"{ev['per_second']:.2f}",
            f"{row['median_ratio']:.2f}", _phase(row, "parse"), _phase(row, "compile"),
        ))
    _harness.print_columns(table)


def compare(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each cart and N of the oscar comparison: both engines' figures, the ratio
    oscar ÷ promokit (medians, and p99s), the target, and whether they priced alike."""
    found = []
    promokit_rows = {(r["group"], r["params"]["background"]): r for r in rows
                     if r["group"].startswith("oscar-equivalent")
                     and r["params"]["engine"] == "promokit"}
    for oscar in rows:
        if oscar["params"]["engine"] != "django-oscar":
            continue
        n, lines = oscar["params"]["background"], oscar["params"]["cart_lines"]
        ours = promokit_rows[(oscar["group"], n)]
        mine, theirs = ours["result"], oscar["result"]
        agree = (mine["lines_total"] == theirs["lines_total"]
                 and mine["applied"] == theirs["applied"])
        found.append({
            "cart_lines": lines, "background": n,
            "active_promotions": oscar["info"]["active_promotions"],
            "promokit": {k: ours["evaluate"][k] for k in ("runs", "median_ns", "p99_ns")},
            "django_oscar": {k: oscar["evaluate"][k] for k in ("runs", "median_ns", "p99_ns")},
            "ratio": oscar["evaluate"]["median_ns"] / ours["evaluate"]["median_ns"],
            "p99_ratio": oscar["evaluate"]["p99_ns"] / ours["evaluate"]["p99_ns"],
            "target": RATIO_TARGETS.get(n) if lines == 20 else None,
            "agree": agree,
            "promokit_lines_total": mine["lines_total"],
            "django_oscar_lines_total": theirs["lines_total"],
        })
    return found


def print_comparison(comparison: list[dict[str, Any]]) -> None:
    table = [("cart", "N", "active", "promokit median ms", "p99 ms", "oscar median ms",
              "p99 ms", "oscar runs", "oscar ÷ promokit", "p99 ÷ p99", "target", "totals")]
    for c in comparison:
        target = c["target"]
        verdict = "" if target is None else (f"≥{target:,} " + (
            "met" if c["ratio"] >= target else "NOT met"))
        table.append((
            f"{c['cart_lines']} lines", f"{c['background']:,}", f"{c['active_promotions']:,}",
            _ms(c["promokit"]["median_ns"]), _ms(c["promokit"]["p99_ns"]),
            _ms(c["django_oscar"]["median_ns"]), _ms(c["django_oscar"]["p99_ns"]),
            str(c["django_oscar"]["runs"]), f"{c['ratio']:,.0f}×", f"{c['p99_ratio']:,.0f}×",
            verdict, "agree" if c["agree"] else "DIFFER"))
    _harness.print_columns(table)


def _oscar_setting(args: argparse.Namespace) -> tuple[tuple[int, ...], str | None]:
    """The N of the oscar comparison (none: skipped) and why it is skipped, if it is."""
    if args.no_oscar:
        return (), "--no-oscar"
    why = _oscar.unavailable()
    if why is not None:
        if os.environ.get("CI") == "true":
            print(f"error: {why}; CI must run the django-oscar comparison", file=sys.stderr)
            sys.exit(1)
        print(f"skipping the django-oscar comparison: {why}")
        return (), why
    if args.oscar_background:
        return tuple(sorted({int(n) for n in args.oscar_background.split(",")})), None
    return (QUICK_OSCAR_BACKGROUND if args.quick else OSCAR_BACKGROUND), None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"CI smoke run: N = {', '.join(map(str, QUICK_BACKGROUND))}, "
                             f"{QUICK_REPEAT} runs each; oscar: N = "
                             f"{', '.join(map(str, QUICK_OSCAR_BACKGROUND))}, "
                             f"{QUICK_OSCAR_REPEAT} runs")
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
    parser.add_argument("--no-oscar", action="store_true",
                        help="skip the comparison with django-oscar")
    parser.add_argument("--oscar-background", metavar="N,N,…",
                        help="other active offers per scenario of the oscar comparison "
                             f"(default {','.join(map(str, OSCAR_BACKGROUND))}; "
                             f"{','.join(map(str, QUICK_OSCAR_BACKGROUND))} with --quick)")
    parser.add_argument("--oscar-repeat", type=int, metavar="R",
                        help=f"timed runs per oscar scenario (default {OSCAR_REPEAT}, "
                             f"{QUICK_OSCAR_REPEAT} with --quick), after {OSCAR_WARMUP} "
                             "warm-up")
    parser.add_argument("--oscar-max-seconds", type=float, default=OSCAR_MAX_SECONDS,
                        metavar="S",
                        help="stop timing an oscar scenario after S seconds of timed runs, "
                             f"with at least {OSCAR_MIN_RUNS} runs (default %(default)s; "
                             "0: no limit)")
    _harness.add_json_option(parser, DEFAULT_JSON)
    args = parser.parse_args(argv)

    repeat = args.repeat or (QUICK_REPEAT if args.quick else FULL_REPEAT)
    warmup = args.warmup if args.warmup is not None else max(5, repeat // 20)
    max_seconds = args.max_seconds or None
    if args.background:
        background = tuple(sorted({int(n) for n in args.background.split(",")}))
    else:
        background = QUICK_BACKGROUND if args.quick else FULL_BACKGROUND
    oscar_repeat = args.oscar_repeat or (QUICK_OSCAR_REPEAT if args.quick else OSCAR_REPEAT)
    if repeat < 1 or warmup < 0 or min(background) < 0 or oscar_repeat < 1:
        parser.error("--repeat and --oscar-repeat must be ≥ 1, --warmup and --background ≥ 0")
    oscar_background, oscar_skipped = _oscar_setting(args)
    if oscar_background and min(oscar_background) < 0:
        parser.error("--oscar-background must be ≥ 0")

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
    oscar_report: dict[str, Any] = {"skipped": oscar_skipped}
    if oscar_background:
        oscar_box = args.oscar_max_seconds or None
        shared.oscar_runs = {"repeat": oscar_repeat, "warmup": OSCAR_WARMUP,
                             "max_seconds": oscar_box or math.inf,
                             "min_runs": min(oscar_repeat, OSCAR_MIN_RUNS)}
        shared.oscar = _oscar.OscarShop(shared.catalogue)
        offers = (_oscar.concerning_offers(shared.catalogue)
                  + _oscar.background_offers(shared.catalogue, max(oscar_background)))
        shared.oscar.add_offers(offers)
        setup = shared.oscar.setup_ns
        versions = _oscar.versions()
        oscar_report = {"skipped": None, **versions, "setup_ns": setup, "database": "sqlite",
                        "database_name": ":memory:"}
        box = f" (at most {oscar_box:g} s of them)" if oscar_box else ""
        print(f"django-oscar {versions['django-oscar']} (Django {versions['django']}), "
              f"SQLite in memory: {oscar_repeat} timed runs per oscar scenario{box}, at least "
              f"{shared.oscar_runs['min_runs']}, after {OSCAR_WARMUP} warm-up; set-up "
              f"(untimed): Django and tables {setup['django'] / 1e9:.1f} s, catalogue "
              f"{setup['catalogue'] / 1e9:.1f} s, "
              f"{len(offers):,} offers {setup['offers'] / 1e9:.1f} s")

    rows: list[dict[str, Any]] = []
    baseline: dict[tuple[str, str], dict[str, Any]] = {}
    failures: list[str] = []
    groups: dict[str, list[Scenario]] = {}
    for scenario in scenarios(background, oscar_background=oscar_background):
        groups.setdefault(scenario.group, []).append(scenario)
    for group, members in groups.items():
        prepared = [scenario.prepare(shared) for scenario in members]
        if any(scenario.params["engine"] != "promokit" for scenario in members):
            timed = measure_mixed(prepared, repeat, warmup, max_seconds)
        else:
            timed = measure([p.run for p in prepared], repeat, warmup, max_seconds)
        for scenario, ready, (samples, result) in zip(members, prepared, timed, strict=True):
            summary = ready.summary(result)
            evaluation = stats(samples)
            first = baseline.setdefault((group, scenario.params["engine"]),
                                        {"summary": summary,
                                         "median": evaluation["median_ns"],
                                         "name": scenario.name})
            if summary != first["summary"]:
                failures.append(f"{scenario.name} priced differently from {first['name']}:\n"
                                f"  {summary}\n  {first['summary']}")
            rows.append({
                "name": scenario.name, "group": group, "params": scenario.params,
                "info": ready.info, "result": summary,
                "considered": (len(summary["applied"]) + len(summary["not_applied"])
                               if "not_applied" in summary else None),
                "applied": len(summary["applied"]),
                "evaluate": evaluation,
                "median_ratio": evaluation["median_ns"] / first["median"],
                "construct_ns": ready.construct_ns,
                "samples_ns": samples,
            })

    print()
    print_table(rows)
    comparison = compare(rows)
    if comparison:
        print()
        print("promokit and django-oscar on the same offers, timed interleaved in this "
              "process (ratio: oscar median ÷ promokit median):")
        print_comparison(comparison)
    print()
    for (group, engine), first in baseline.items():
        summary = first["summary"]
        if "lines_total" in summary:
            print(f"{group}, {engine}: lines total {summary['lines_total']} (subtotal "
                  f"{summary['subtotal']}) for every N; applied: "
                  f"{', '.join(summary['applied'])}")
        else:
            print(f"{group}: total {summary['total']} "
                  f"(subtotal {summary['subtotal']}) for every N; "
                  f"applied: {', '.join(summary['applied'])}")
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
                     "registry": "built-in plugins only (load_entry_points=False)",
                     "oscar_background": list(oscar_background), **{
                         f"oscar_{k}": None if v == math.inf else v
                         for k, v in shared.oscar_runs.items()},
                     "ratio_targets": RATIO_TARGETS},
        "registry_ns": shared.registry_ns,
        "django_oscar": oscar_report,
        "scenarios": rows,
        "comparison": comparison,
    }
    _harness.write_json(args.json, report, ensure_ascii=False)
    return _harness.report_problems("results differ across N within a group", failures,
                                    indent="")


if __name__ == "__main__":
    sys.exit(main())
