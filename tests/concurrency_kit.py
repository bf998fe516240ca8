"""The scaffolding of the multi-process concurrency tests: spawned worker processes with
several threads each, all starting together, on one store that processes can share.

A test module's worker function (module level, so the ``spawn`` start method can pickle
it by name) is called once in each worker process with that process's share of the
*lanes*: one lane per thread, a list of operations run in order. It waits for the other
processes (:func:`start_together`), opens its own store and builds its own engine from
the campaign TOML (:func:`open_engine`), as a separate app server would, and runs its
lanes in threads that start together (:func:`run_lanes`), returning plain data.

The test side drives a :class:`WorkerPool` (one per module, from a module-scoped
fixture, usually subclassed with methods in the module's own terms):
:meth:`WorkerPool.submit` hands every process its share of the lanes at once,
:meth:`WorkerPool.run_all` also waits for what they return, never longer than the
deadline, and :func:`from_each_process` gathers per-op results that name their process.

The module is imported as ``concurrency_kit`` (``import concurrency_kit as kit``):
``tests/`` is on ``sys.path`` because pytest puts ``tests/conftest.py``'s folder there
(the same reason ``from conftest import HEADER`` works). Children started with
``spawn`` get the parent's ``sys.path``, so they import the test module (to find its
worker function) and this kit by the same names.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from multiprocessing.pool import AsyncResult
from multiprocessing.synchronize import Barrier
from typing import Any, Self, TypeVar

from conftest import SHARED_BACKENDS

from promokit import Engine, open_store
from promokit.testing import engine_from_toml

T = TypeVar("T")
R = TypeVar("R")

#: The backends processes can share (a memory store lives in one process).
BACKENDS = SHARED_BACKENDS

#: Worker processes in a pool, unless a module asks for another number.
PROCESSES = 3
#: Threads (lanes) per worker process.
THREADS = 4
#: Lanes in all: one per thread of every process.
LANES = PROCESSES * THREADS
#: Seconds any wait on workers may take before the test fails instead of hanging.
DEADLINE = 120.0


# -- worker side ---------------------------------------------------------------------------

_start: Barrier | None = None


def _init_worker(barrier: Barrier) -> None:
    """The pool's initializer: keep the barrier every worker process waits on."""
    global _start
    _start = barrier


def start_together(deadline: float = DEADLINE) -> None:
    """In a worker process: wait until every process of the pool is here too."""
    assert _start is not None
    _start.wait(deadline)


@contextmanager
def open_engine(url: str, toml: str, **options: Any) -> Iterator[Engine]:
    """In a worker process: an engine built from ``toml`` (and ``options``, as for
    :func:`promokit.testing.engine_from_toml`) on its own store opened from ``url``,
    as an app server would; the store is closed afterwards."""
    store = open_store(url)
    try:
        yield engine_from_toml(toml, store=store, **options)
    finally:
        store.close()


def game_of(engine: Engine, game_id: str, kind: type[T]) -> T:
    """The engine's game ``game_id``, checked to be a ``kind``."""
    game = engine.games[game_id]
    assert isinstance(game, kind)
    return game


def run_lanes(lanes: Sequence[Sequence[T]], run: Callable[[T], R],
              deadline: float = DEADLINE) -> list[R]:
    """One thread per lane, the threads starting together; each runs ``run`` on its
    lane's ops in order. Every op's result, lane after lane."""
    together = threading.Barrier(len(lanes))

    def lane(ops: Sequence[T]) -> list[R]:
        together.wait(deadline)
        return [run(op) for op in ops]

    with ThreadPoolExecutor(len(lanes)) as threads:
        return flat(threads.map(lane, lanes))


# -- test side -----------------------------------------------------------------------------


def flat(shares: Iterable[Iterable[T]]) -> list[T]:
    """The items of every share, share after share."""
    return [item for share in shares for item in share]


def deal(ops: Iterable[T], lanes: int = LANES) -> list[list[T]]:
    """Ops dealt round-robin over ``lanes`` lanes."""
    dealt: list[list[T]] = [[] for _ in range(lanes)]
    for n, op in enumerate(ops):
        dealt[n % lanes].append(op)
    return dealt


class WorkerPool:
    """``processes`` spawned worker processes sharing one barrier (see
    :func:`start_together`); every wait on them is bounded by ``deadline``. Test
    modules subclass it with methods in their own terms, and close it when done (it is
    a context manager)."""

    def __init__(self, processes: int = PROCESSES, deadline: float = DEADLINE) -> None:
        self.processes = processes
        self.deadline = deadline
        context = multiprocessing.get_context("spawn")
        barrier = context.Barrier(processes)
        self._pool = context.Pool(processes, initializer=_init_worker, initargs=(barrier,))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Let the worker processes finish and wait for them."""
        self._pool.close()
        self._pool.join()

    def submit(self, work: Callable[..., T], lanes: Sequence[Any],
               *args: Any) -> AsyncResult[list[T]]:
        """Call ``work(*args, share)`` in every process at once, each with an equal,
        consecutive share of ``lanes`` (process ``p`` of ``n`` lanes each gets lanes
        ``p * n`` … ``p * n + n - 1``)."""
        if len(lanes) % self.processes:
            raise ValueError(f"{len(lanes)} lanes do not split over {self.processes} "
                             "processes")
        size = len(lanes) // self.processes
        shares = [(*args, list(lanes[p * size:(p + 1) * size]))
                  for p in range(self.processes)]
        return self._pool.starmap_async(work, shares, chunksize=1)

    def run_all(self, work: Callable[..., T], lanes: Sequence[Any], *args: Any) -> list[T]:
        """:meth:`submit`, then what every process's ``work`` returned, process after
        process (waiting no longer than the deadline)."""
        return self.submit(work, lanes, *args).get(self.deadline)


def from_each_process(pending: AsyncResult[list[list[dict[str, Any]]]],
                      processes: int = PROCESSES,
                      deadline: float = DEADLINE) -> list[dict[str, Any]]:
    """The results of every process's lanes (each result a dict naming its ``pid``),
    process after process, waiting no longer than ``deadline``; asserts they came
    from ``processes`` different processes, so the work really ran in several."""
    results = flat(pending.get(deadline))
    assert len({r["pid"] for r in results}) == processes  # really several processes
    return results
