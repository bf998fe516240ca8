"""What the benchmark scripts share: backends, the agreed start, timing, tables, JSON.

Not a script. The scripts in this directory are run as ``python
benchmarks/bench_x.py``, so this directory is ``sys.path[0]`` and they ``import
_harness``; the worker processes they spawn get the parent's ``sys.path`` and
import it (and unpickle :class:`Place`) the same way.

The per-backend benchmarks (``bench_checkout.py``, ``bench_games.py``) share one
structure, which lives here:

- where each backend lives: :class:`Place`, :func:`fresh_place` (a new namespace,
  or a new SQLite file, per cell) and :func:`unreachable`, with the servers
  ``PROMOKIT_REDIS_URL`` and ``PROMOKIT_POSTGRES_URL`` (default
  ``redis://127.0.0.1:6379/15`` and ``postgresql://postgres@127.0.0.1:5432/test``);
  :func:`skipped_backends` applies the rule that a server that cannot be reached
  is skipped with the reason printed, unless ``CI=true``, where that fails;
- the agreed start: :func:`run_grid` runs every (backend, processes, column) cell
  with one pool of spawned processes; a script's ``run_cell`` prepares a fresh
  store and hands its share function to :func:`run_shares`, which gives every
  worker the same start moment ``LEAD`` (``QUICK_LEAD``) seconds ahead; each
  worker opens its own store and engine and then calls :func:`time_from`, which
  warms up, waits for that moment and times call by call; :func:`drop_store`
  drops the cell's store afterwards;
- a cell's figures (:func:`timing`): the timed calls of all its processes over
  the time from the first start to the last end, with the median and p99
  (:func:`nearest_rank`) latency per call;
- the command line (:func:`add_cell_options`, :func:`cell_settings`,
  :func:`add_json_option`), the machine (:func:`machine`,
  :func:`print_header`), and the output: :func:`print_columns` (the tables of
  all three scripts), :func:`print_late`, :func:`write_json` and
  :func:`report_problems`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import multiprocessing
import os
import platform
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.pool import Pool
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import promokit
from promokit.stores import Store

#: Where the scripts write their JSON by default (git-ignored).
RESULTS = Path(__file__).resolve().parent / "results"
REDIS_URL = os.environ.get("PROMOKIT_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_URL = os.environ.get("PROMOKIT_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ("memory", "sqlite", "redis", "postgres")
#: Seconds between handing out a cell's work and its agreed start, for every process to
#: open its store, build its engine and warm up.
LEAD = 1.0
QUICK_LEAD = 0.5
#: Seconds a pool's shares may take beyond the lead and the timed seconds (warm-up,
#: reporting back) before the cell fails with a timeout.
SHARE_SLACK = 120


# -- where each backend lives ------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A fresh store of one backend: the promokit URL and what a bare floor needs."""

    backend: str
    url: str
    namespace: str
    base: str
    """The server URL without promokit's options (Redis, PostgreSQL), or the SQLite file."""


def fresh_place(backend: str, scratch: Path) -> Place:
    """A new namespace on ``backend`` (a new SQLite file in ``scratch``)."""
    namespace = f"bench{uuid.uuid4().hex[:10]}"
    if backend == "memory":
        return Place(backend, "memory://", namespace, "")
    if backend == "sqlite":
        path = scratch / f"{namespace}.db"
        return Place(backend, f"sqlite:///{path}", namespace, str(path))
    base = REDIS_URL if backend == "redis" else POSTGRES_URL
    joiner = "&" if "?" in base else "?"
    return Place(backend, f"{base}{joiner}namespace={namespace}", namespace, base)


def unreachable(backend: str) -> str | None:
    """Why a backend cannot be benchmarked here, or ``None``."""
    if backend in ("memory", "sqlite"):
        return None
    module, url = ("redis", REDIS_URL) if backend == "redis" else ("psycopg", POSTGRES_URL)
    try:
        __import__(module)
    except ImportError:
        return f"the {module!r} client is not installed (pip install -e '.[test]')"
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1",
                                  parts.port or (6379 if backend == "redis" else 5432)),
                                 timeout=2).close()
    except OSError as error:
        return f"{parts.hostname}:{parts.port} is not reachable ({error})"
    return None


def skipped_backends(backends: Sequence[str]) -> dict[str, str] | None:
    """The backends that cannot be benchmarked here → why, each printed as skipped; or
    ``None`` (the error printed) when one cannot and ``CI=true``: CI must run them all."""
    in_ci = os.environ.get("CI") == "true"
    skipped: dict[str, str] = {}
    for backend in backends:
        why = unreachable(backend)
        if why is not None:
            if in_ci:
                print(f"error: {backend}: {why}; CI must benchmark it", file=sys.stderr)
                return None
            skipped[backend] = why
            print(f"skipping {backend}: {why}")
    return skipped


def server_urls() -> dict[str, str]:
    """The servers' URLs without credentials, for a report's settings."""
    return {"redis_url": REDIS_URL.split("@")[-1],
            "postgres_url": POSTGRES_URL.split("@")[-1]}


# -- the agreed start ----------------------------------------------------------------------------


def time_from(start_at: float, seconds: float, once: Callable[[], bool],
              warmup: int) -> dict[str, Any]:
    """One process's timed calls: call ``once`` ``warmup`` times untimed, wait for
    ``start_at`` (``time.monotonic``, the same clock in every process on the machine),
    then time ``once`` call by call until ``start_at + seconds``, or until it returns
    false: nothing left to do (that call is not counted, and ``ran_out`` is set).

    Plain data back: ``pid``, ``ops`` (timed calls), ``warmup`` (warm-up calls that
    returned true), ``ran_out``, ``begin`` and ``end`` (``time.monotonic``), ``late_s``
    (how long after ``start_at`` the warm-up ended, 0 if before) and ``samples_ns``.
    """
    warmed = 0
    for _ in range(warmup):
        warmed += once()
    late = time.monotonic() - start_at
    while time.monotonic() < start_at:
        time.sleep(min(0.01, start_at - time.monotonic()))
    clock = time.perf_counter_ns
    samples: list[int] = []
    ran_out = False
    begin = time.monotonic()
    end = start_at + seconds
    while True:
        t0 = clock()
        if not once():
            ran_out = True
            break
        samples.append(clock() - t0)
        if time.monotonic() >= end:
            break
    finish = time.monotonic()
    return {"pid": os.getpid(), "ops": len(samples), "warmup": warmed, "ran_out": ran_out,
            "begin": begin, "end": finish, "late_s": max(0.0, late), "samples_ns": samples}


def run_shares(pool: Pool | None, share: Callable[..., dict[str, Any]],
               arguments: Sequence[tuple[Any, ...]], lead: float, seconds: float,
               **here: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """Run ``share(*arguments[w], start_at, seconds)`` for every worker ``w``, all with
    the same ``start_at`` ``lead`` seconds from now: one worker per process of ``pool``,
    or, when ``pool`` is ``None`` (memory), the one worker in this process, with the
    keyword arguments ``here`` (such as the parent's store). ``share`` must be a
    module-level function of the script (the pool pickles it by name) that ends in
    :func:`time_from`. Returns the shares and, as a problem, whether they ran in fewer
    processes than workers."""
    start_at = time.monotonic() + lead
    if pool is None:
        assert len(arguments) == 1, "only one share runs in this process"
        shares = [share(*arguments[0], start_at, seconds, **here)]
    else:
        shares = pool.starmap_async(
            share, [(*args, start_at, seconds) for args in arguments],
            chunksize=1).get(seconds + lead + SHARE_SLACK)
    problems = []
    if len({s["pid"] for s in shares}) != len(arguments):
        problems.append(f"{len(arguments)} shares ran in fewer processes")
    return shares, problems


def drop_store(store: Store) -> None:
    """Drop what a cell wrote (backends that can: a namespace, tables) and close it."""
    with contextlib.suppress(AttributeError):
        store.drop()  # type: ignore[attr-defined]
    store.close()


def nearest_rank(sorted_samples: Sequence[int], percent: int) -> int:
    """The nearest-rank percentile: the smallest sample with at least ``percent``% at or
    below it."""
    rank = max(1, -(-len(sorted_samples) * percent // 100))
    return sorted_samples[rank - 1]


def timing(shares: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A cell's figures from its shares (:func:`time_from`): ``seconds`` from the first
    start to the last end, ``ops`` and ``per_second`` over them, the ``median_ms`` and
    ``p99_ms`` of every timed call, and the latest ``late_s``."""
    ops = sum(s["ops"] for s in shares)
    wall = max(s["end"] for s in shares) - min(s["begin"] for s in shares)
    samples = sorted(x for s in shares for x in s["samples_ns"])
    return {
        "seconds": wall, "ops": ops, "per_second": ops / wall if wall > 0 else 0.0,
        "median_ms": statistics.median(samples) / 1e6 if samples else None,
        "p99_ms": nearest_rank(samples, 99) / 1e6 if samples else None,
        "late_s": max(s["late_s"] for s in shares),
    }


def run_grid(name: str, backends: Sequence[str], counts: Sequence[int],
             columns: Callable[[str], Sequence[str]],
             run_cell: Callable[[Pool | None, Place, str, int], dict[str, Any]]
             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """Every cell: for each backend, each process count of ``counts`` (memory: 1 only)
    and each of ``columns(backend)``, ``run_cell(pool, place, column, processes)`` on a
    fresh place, with a pool of ``max(counts)`` spawned processes (``None`` for memory).
    Returns the rows (backend, processes and a cell per column), the cells in order,
    and every cell's problems prefixed with its backend and process count."""
    rows: list[dict[str, Any]] = []
    cells: list[dict[str, Any]] = []
    problems: list[str] = []
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix=f"{name}-") as scratch, \
            context.Pool(max(counts)) as pool:
        for backend in backends:
            for processes in ([1] if backend == "memory" else counts):
                row: dict[str, Any] = {"backend": backend, "processes": processes}
                for column in columns(backend):
                    place = fresh_place(backend, Path(scratch))
                    cell = run_cell(None if backend == "memory" else pool, place, column,
                                    processes)
                    row[column] = cell
                    cells.append(cell)
                    problems.extend(f"{backend} × {processes}: {p}" for p in cell["problems"])
                rows.append(row)
        pool.close()
        pool.join()
    return rows, cells, problems


# -- the command line ----------------------------------------------------------------------------


def add_cell_options(parser: argparse.ArgumentParser, full_seconds: float,
                     quick_seconds: float) -> None:
    """``--quick``, ``--seconds``, ``--backends`` and ``--processes``."""
    parser.add_argument("--quick", action="store_true",
                        help=f"CI smoke run: {quick_seconds:g} s per cell")
    parser.add_argument("--seconds", type=float, metavar="S",
                        help=f"timed seconds per cell (default {full_seconds:g}, "
                             f"{quick_seconds:g} with --quick)")
    parser.add_argument("--backends", default=",".join(BACKENDS), metavar="B,B,…",
                        help="backends to run (default: %(default)s)")
    parser.add_argument("--processes", default="1,2", metavar="N,N,…",
                        help="process counts (default: %(default)s; memory runs 1 only)")


def cell_settings(args: argparse.Namespace, full_seconds: float, quick_seconds: float
                  ) -> tuple[float, float, list[str], list[int]]:
    """The seconds per cell, the lead, the backends and the process counts asked for
    (not yet checked)."""
    seconds = args.seconds or (quick_seconds if args.quick else full_seconds)
    lead = QUICK_LEAD if args.quick else LEAD
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    counts = sorted({int(n) for n in args.processes.split(",")})
    return seconds, lead, backends, counts


def add_json_option(parser: argparse.ArgumentParser, default: Path) -> None:
    parser.add_argument("--json", type=Path, default=default, metavar="PATH",
                        help="where to write the results (default: %(default)s)")


# -- reporting ----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """The machine of a per-backend run: platform, Python, CPU count and model."""
    model = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"platform": platform.platform(), "python": platform.python_version(),
            "cpu_count": os.cpu_count(), "cpu_model": model or platform.processor() or None}


def print_header(host: dict[str, Any], seconds: float, counts: Sequence[int]) -> None:
    """The first two lines of a per-backend run: the machine and the settings."""
    print(f"machine: {host['cpu_model']} | os.cpu_count() = {host['cpu_count']} | "
          f"{host['platform']} | Python {host['python']}")
    print(f"promokit {promokit.__version__}; {seconds:g} s per cell, processes "
          f"{', '.join(map(str, counts))}; a fresh store per cell, dropped afterwards")


def print_columns(table: Sequence[Sequence[str]]) -> None:
    """A table of strings, its first row the header: the first column left-aligned,
    the others right-aligned, a rule under the header."""
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for n, r in enumerate(table):
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(r, widths, strict=True))))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def print_late(cells: Sequence[dict[str, Any]]) -> None:
    """A note if a process was ready only after its cell's agreed start."""
    late = max((c["late_s"] for c in cells), default=0.0)
    if late > 0:
        print(f"note: a process was ready up to {late:.2f} s after its cell's agreed start")


def timestamp() -> str:
    """Now, in UTC to the second, for a report's ``created``."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def write_json(path: Path, report: dict[str, Any], *, ensure_ascii: bool = True) -> None:
    """Write ``report`` to ``path`` (its directory made if need be) and say so."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1, ensure_ascii=ensure_ascii) + "\n",
                    encoding="utf-8")
    print(f"wrote {path}")


def report_problems(title: str, problems: Sequence[str], indent: str = "  ") -> int:
    """The exit status: 0 without problems; else 1, after printing ``FAILED: title``
    and each problem (indented by ``indent``) on stderr."""
    if not problems:
        return 0
    print(f"\nFAILED: {title}", file=sys.stderr)
    for problem in problems:
        print(f"{indent}{problem}", file=sys.stderr)
    return 1
