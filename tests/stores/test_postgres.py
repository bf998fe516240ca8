"""What the PostgreSQL store adds to the shared contract: its URL, its schema,
deadlock freedom, limits held across processes, and a server that goes away.

The server is ``PROMOKIT_POSTGRES_URL`` (default: the local one). Where it is
not reachable the tests skip, saying why; under CI (``CI=true``) they fail.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor

import pytest

pytest.importorskip("psycopg", reason="the PostgreSQL tests need psycopg "
                    "(pip install -e '.[test]')")

import psycopg
from conftest import missing_service

from promokit import open_store
from promokit.errors import StoreError, StoreUnavailable, StoreURLError
from promokit.stores.base import Delta, Expect
from promokit.stores.postgres import PostgresStore
from promokit.stores.postgres import store as postgres_module
from promokit.testing.stores import entry, new

pytestmark = pytest.mark.postgres

POSTGRES_URL = os.environ.get("PROMOKIT_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")


def with_options(url: str, **options: object) -> str:
    query = "&".join(f"{key}={value}" for key, value in options.items())
    return f"{url}{'&' if '?' in url else '?'}{query}"


@pytest.fixture(scope="module")
def server() -> str:
    """The server's URL, after checking that it answers."""
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except psycopg.Error as error:
        missing_service("PostgreSQL", f"PostgreSQL at {POSTGRES_URL} is not reachable "
                                      f"({error})")
    return POSTGRES_URL


@pytest.fixture
def admin(server: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A plain autocommit connection, to look at the tables from outside."""
    conn = psycopg.connect(server, autocommit=True)
    yield conn
    conn.close()


@pytest.fixture
def make_url(server: str) -> Iterator[Callable[..., str]]:
    """``make_url(**options)``: the URL of a fresh namespace (dropped afterwards)."""
    namespaces: list[str] = []

    def make(**options: object) -> str:
        namespace = f"t{uuid.uuid4().hex[:12]}"
        namespaces.append(namespace)
        return with_options(server, namespace=namespace, **options)

    yield make
    for namespace in namespaces:
        store = PostgresStore.from_url(with_options(server, namespace=namespace))
        store.drop()
        store.close()


@pytest.fixture
def url(make_url: Callable[..., str]) -> str:
    return make_url()


def tables(admin: psycopg.Connection[tuple[object, ...]], namespace: str) -> set[str]:
    rows = admin.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE %s",
                         (f"{namespace}\\_%",)).fetchall()
    return {str(name) for (name,) in rows}


# -- URLs --------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "says"), [
    ("postgresql://u@127.0.0.1/db?namespace=Bad", "namespace"),
    ("postgresql://u@127.0.0.1/db?namespace=1abc", "namespace"),
    ("postgresql://u@127.0.0.1/db?pool=0", "pool"),
    ("postgresql://u@127.0.0.1/db?pool=-2", "pool"),
    ("postgresql://u@127.0.0.1/db?pool=two", "pool"),
    ("postgresql://u@127.0.0.1/db?pool=1.5", "pool"),
    ("postgresql://u@127.0.0.1/db?timeout=0", "timeout"),
    ("postgresql://u@127.0.0.1/db?timeout=soon", "timeout"),
    ("postgresql://u@127.0.0.1/db?timeout=3&connect_timeout=3", "connect_timeout"),
    ("postgresql://u@127.0.0.1/db?no_such_option=1", "no_such_option"),
    ("postgresql://u@127.0.0.1/db?sslmode=bogus", "sslmode"),
    ("postgresql://u@127.0.0.1:port/db", "port"),
    ("postgresql://u@[::1/db", "IPv6"),
    ("postgresql://u@127.0.0.1/db?sslmode", "sslmode"),
    ("postgresql://u@127.0.0.1/d%zzb", "percent"),
    ("postgresql://u@127.0.0.1/db?namespace=a&namespace=b", "twice"),
    ("mysql://u@127.0.0.1/db", "postgresql://"),
])
def test_bad_urls_are_url_errors(url: str, says: str) -> None:
    with pytest.raises(StoreURLError) as raised:
        PostgresStore.from_url(url)
    assert says in str(raised.value)


def test_an_unreachable_server_fails_fast_naming_it() -> None:
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as raised:
        open_store("postgresql://postgres@127.0.0.1:1/test")
    assert time.monotonic() - started < 2
    message = str(raised.value)
    assert message.startswith("cannot reach PostgreSQL at postgresql://postgres@127.0.0.1:1/test")
    assert "127.0.0.1" in message


@pytest.mark.parametrize("url", [
    "postgresql://u:secret@127.0.0.1:1/test",
    "postgres://u:secret@127.0.0.1:1/test?namespace=x",
    "postgresql://u@127.0.0.1:1/test?password=secret",
])
def test_passwords_never_show(url: str) -> None:
    with pytest.raises(StoreUnavailable) as raised:
        PostgresStore.from_url(url)
    assert "secret" not in str(raised.value) and "***" in str(raised.value)
    with pytest.raises(StoreURLError) as bad:
        PostgresStore.from_url(url + ("&" if "?" in url else "?") + "pool=0")
    assert "secret" not in str(bad.value)


def test_a_silent_server_times_out() -> None:
    """A server that takes the TCP connection and never answers: the timeout holds
    (libpq counts whole seconds, at least 2)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="cannot reach PostgreSQL"):
            PostgresStore.from_url(f"postgresql://postgres@127.0.0.1:{port}/test?timeout=1")
        assert time.monotonic() - started < 6


def test_libpq_options_pass_through_and_the_url_is_masked(
        server: str, make_url: Callable[..., str],
        admin: psycopg.Connection[tuple[object, ...]]) -> None:
    name = f"promokit-{uuid.uuid4().hex[:8]}"
    base = make_url(pool=2, timeout=3, application_name=name)
    with_password = base.replace("://postgres@", "://postgres:hunter2@", 1)
    store = open_store(with_password)
    try:
        assert "hunter2" not in store.url and "postgres:***@" in store.url
        store.read(["k"])
        (count,) = admin.execute("SELECT count(*) FROM pg_stat_activity "
                                 "WHERE application_name = %s", (name,)).fetchone() or (0,)
        assert count == 1
    finally:
        store.close()


# -- schema --------------------------------------------------------------------------------


def test_open_creates_the_tables_and_drop_removes_only_its_own(
        make_url: Callable[..., str], admin: psycopg.Connection[tuple[object, ...]]) -> None:
    first, second = (PostgresStore.from_url(make_url()) for _ in range(2))
    try:
        names = {f"{first.namespace}_{t}" for t in
                 ("counters", "orders", "ledger", "campaigns", "codes", "journal",
                  "journal_head", "failures")}
        assert tables(admin, first.namespace) == names
        second.apply(new("o1", Delta("uses:p", 1, 5)))
        first.drop()
        assert tables(admin, first.namespace) == set()
        assert len(tables(admin, second.namespace)) == 8
        assert second.read(["uses:p"])["uses:p"] == 1
    finally:
        first.close()
        second.close()


def test_a_namespace_of_an_older_version_gets_the_throttle_table(
        make_url: Callable[..., str], admin: psycopg.Connection[tuple[object, ...]]) -> None:
    url = make_url()
    PostgresStore.from_url(url).close()
    namespace = url.rsplit("namespace=", 1)[1]
    admin.execute(f'DROP TABLE "{namespace}_failures"')  # as an older promokit left it
    store = PostgresStore.from_url(url)
    try:
        assert f"{namespace}_failures" in tables(admin, namespace)
        assert store.check_codes(["W"], throttle="fail:c:1", limit=1, ttl=60).counted == ("W",)
    finally:
        store.close()


def test_the_longest_namespace_fits_every_name(
        server: str, admin: psycopg.Connection[tuple[object, ...]]) -> None:
    namespace = "n" + uuid.uuid4().hex[:8] + "x" * 31  # 40 characters, the most allowed
    url = with_options(server.replace("postgresql://", "postgres://", 1), namespace=namespace)
    store = open_store(url)
    assert isinstance(store, PostgresStore)
    try:
        assert store.apply(new("o1", Delta("k", 1), ledger=(entry("o1"),))).applied
        rows = admin.execute("SELECT count(to_regclass(quote_ident(n))) FROM unnest(%s::text[]) n",
                             (store._q.names,)).fetchone()
        assert rows == (len(store._q.names),)  # not truncated: the next open needs no DDL
    finally:
        store.drop()
        store.close()


def test_stores_opened_at_once_create_the_tables_once(
        url: str, admin: psycopg.Connection[tuple[object, ...]]) -> None:
    stores: list[PostgresStore] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    gate = threading.Barrier(6)

    def open_one() -> None:
        gate.wait()
        try:
            store = PostgresStore.from_url(url)
        except BaseException as error:
            with lock:
                errors.append(error)
        else:
            with lock:
                stores.append(store)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()
    assert errors == [] and len(stores) == 6
    assert len(tables(admin, stores[0].namespace)) == 8


def test_close_is_idempotent_and_final(url: str) -> None:
    store = PostgresStore.from_url(url)
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.read(["k"])


# -- errors ----------------------------------------------------------------------------------


def test_database_errors_are_store_errors_and_change_nothing(url: str) -> None:
    store = PostgresStore.from_url(url)
    try:
        assert store.apply(new("o1", Delta("k", 1), ledger=(entry("o1"),))).applied
        # the same ledger entry id again, from another order: the unique index refuses
        with pytest.raises(StoreError) as raised:
            store.apply(new("o2", Delta("k", 1), ledger=(entry("o1"),)))
        assert not isinstance(raised.value, StoreUnavailable)
        assert store.order("o2") is None and store.read(["k"])["k"] == 1
        # a counter past a bigint
        with pytest.raises(StoreError):
            store.apply(new("o3", Delta("k", 2**63)))
        assert store.order("o3") is None
        # the store goes on (the failed connections were rolled back)
        assert store.apply(new("o4", Delta("k", 1, 2))).applied
        assert store.read(["k"])["k"] == 2
    finally:
        store.close()


def test_many_refusals_then_a_change(url: str) -> None:
    """Refused changes roll back; the connection and its prepared statements
    stay usable."""
    store = PostgresStore.from_url(with_options(url, pool=1))
    try:
        assert store.apply(new("o0", Delta("stock:s", 1, 1))).applied
        for n in range(20):
            outcome = store.apply(new(f"r{n}", Delta("stock:s", 1, 1), Delta("x", 1)))
            assert outcome.refused == ("stock:s",)
            assert dict(outcome.values) == {"stock:s": 1, "x": 0}
            assert store.apply(new("o0", revision=0)).conflict
        back = store.apply(new("o0", Delta("stock:s", -1), revision=1, status="released",
                               ledger=(entry("o0"),)))
        assert back.applied and store.read(["stock:s", "x"]) == {"stock:s": 0, "x": 0}
        assert store.ledger(order_id="o0") == [entry("o0")]
    finally:
        store.close()


def _prepared(store: PostgresStore) -> int:
    """Statements prepared on the store's (one) connection."""
    def count(conn: psycopg.Connection[tuple[object, ...]]) -> int:
        row = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
        return int(str(row[0])) if row else 0
    return store._run(count)


def test_refusals_keep_the_statements_prepared(url: str) -> None:
    store = PostgresStore.from_url(with_options(url, pool=1))

    try:
        store.apply(new("o0", Delta("stock:s", 1, 1)))
        before = _prepared(store)
        assert before >= 2
        for n in range(5):
            assert store.apply(new(f"r{n}", Delta("stock:s", 1, 1))).refused
        assert _prepared(store) == before
    finally:
        store.close()


def test_stale_changes_keep_the_statements_prepared(url: str) -> None:
    store = PostgresStore.from_url(with_options(url, pool=1))

    try:
        store.apply(new("o0", Delta("stock:s", 1), expect=(Expect("stock:s", 0, 0),)))
        before = _prepared(store)
        for n in range(5):
            outcome = store.apply(new(f"r{n}", Delta("stock:s", 1),
                                      expect=(Expect("stock:s", 0, 0), Expect("x", 0, 0))))
            assert outcome.stale == ("stock:s",) and outcome.values == {"stock:s": 1, "x": 0}
        assert _prepared(store) == before
        assert store.apply(new("o1", expect=(Expect("stock:s", 1, 1),))).applied
    finally:
        store.close()


def test_expecting_a_counter_never_written_leaves_no_row(
        url: str, admin: psycopg.Connection[tuple[object, ...]]) -> None:
    store = PostgresStore.from_url(url)

    def rows() -> list[tuple[object, ...]]:
        return admin.execute(f'SELECT key, value FROM "{store.namespace}_counters" '
                             "ORDER BY key").fetchall()

    try:
        assert store.apply(new("o1", Delta("a", 1),
                               expect=(Expect("a", 0, 0), Expect("never", 0, 0)))).applied
        assert rows() == [("a", 1)]
        assert store.apply(new("o2", Delta("a", -1))).applied
        assert store.apply(new("o3", expect=(Expect("a", 0, 0), Expect("b", 0, 0)))).applied
        assert rows() == []  # a counter back at 0 is the same as none
        assert store.apply(new("o4", expect=(Expect("never", 1),))).stale == ("never",)
        assert rows() == []
        assert store.read(["a", "b", "never"]) == {"a": 0, "b": 0, "never": 0}
    finally:
        store.close()


def test_overlapping_code_batches_never_deadlock(url: str) -> None:
    store = PostgresStore.from_url(url)
    codes = [f"C{n:04d}" for n in range(2000)]
    results: list[int] = []
    errors: list[BaseException] = []

    def add(seed: int) -> None:
        mine = random.Random(seed).sample(codes, len(codes))
        try:
            results.append(store.add_codes("b", mine, 1).added)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == [] and sum(results) == len(codes)
    finally:
        store.close()


def test_a_hundred_thousand_codes(url: str) -> None:
    store = PostgresStore.from_url(url)
    try:
        codes = [f"C{n:07d}" for n in range(100_000)]
        added = store.add_codes("big", codes, 1)
        assert (added.added, added.existing, added.conflicts) == (100_000, 0, ())
        again = store.add_codes("big", [*codes[:10], "NEW"], 1)
        assert (again.added, again.existing) == (1, 10)
        clash = store.add_codes("other", ["Z1", codes[5], codes[3]], 2)
        assert clash.conflicts == (codes[3], codes[5]) and clash.added == 0
        assert store.find_codes(["Z1"]) == {}
        assert len(store.find_codes(codes)) == 100_000
    finally:
        store.close()


def test_lapsed_hits_are_swept(url: str, monkeypatch: pytest.MonkeyPatch,
                               admin: psycopg.Connection[tuple[object, ...]]) -> None:
    monkeypatch.setattr(postgres_module, "_SWEEP_EVERY", 3)
    store = PostgresStore.from_url(url)
    try:
        store.hit("fail:a:1", 0.2)
        store.apply(new("o1", Delta("uses:p", 1)))
        time.sleep(0.4)
        store.hit("fail:b:1", 60)
        store.hit("fail:b:1", 60)  # the third hit sweeps
        rows = admin.execute(f'SELECT key FROM "{store.namespace}_counters" ORDER BY key'
                             ).fetchall()
        assert [key for (key,) in rows] == ["fail:b:1", "uses:p"]
        assert store.read(["fail:a:1", "fail:b:1"]) == {"fail:a:1": 0, "fail:b:1": 2}
    finally:
        store.close()


def test_code_throttles_write_only_wrong_codes_and_lapsed_ones_are_swept(
        url: str, monkeypatch: pytest.MonkeyPatch,
        admin: psycopg.Connection[tuple[object, ...]]) -> None:
    monkeypatch.setattr(postgres_module, "_SWEEP_EVERY", 2)
    store = PostgresStore.from_url(url)
    counters, failures = f'"{store.namespace}_counters"', f'"{store.namespace}_failures"'
    try:
        store.add_codes("b", ["GOOD"], 1)
        assert set(store.check_codes(["GOOD"], throttle="fail:a:1", limit=5, ttl=60).found) \
            == {"GOOD"}
        assert admin.execute(f"SELECT count(*) FROM {counters}").fetchone() == (0,)
        store.check_codes(["W1", "W2"], throttle="fail:a:1", limit=5, ttl=0.2)
        assert admin.execute(f"SELECT count(*) FROM {failures}").fetchone() == (2,)
        deadline = time.monotonic() + 30  # the server's clock lapses it: a bounded poll
        while store.read(["fail:a:1"])["fail:a:1"]:
            assert time.monotonic() < deadline, "the throttle never lapsed"
            time.sleep(0.05)
        store.check_codes(["W3"], throttle="fail:b:1", limit=5, ttl=60)  # the second sweeps
        rows = admin.execute(f"SELECT throttle, code FROM {failures}").fetchall()
        assert rows == [("fail:b:1", "W3")]
        keys = admin.execute(f"SELECT key, value FROM {counters}").fetchall()
        assert keys == [("fail:b:1", 1)]
    finally:
        store.close()


def test_checks_and_applies_expecting_the_throttle_never_deadlock(url: str) -> None:
    """Checks hold the throttle's advisory lock and then its count's row; applies that
    expect the count lock only the row: racing, they take turns and both finish."""
    stores = [PostgresStore.from_url(url) for _ in range(4)]
    outcomes: list[bool] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        store = stores[n % len(stores)]
        for m in range(15):
            if n % 2:
                store.check_codes([f"W{n}-{m}"], throttle="fail:c:1", limit=1000, ttl=60)
            else:
                outcome = store.apply(new(f"o{n}-{m}", Delta("uses:p", 1),
                                          expect=(Expect("fail:c:1", 0, 1000),)))
                with lock:
                    outcomes.append(outcome.applied)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert not any(thread.is_alive() for thread in threads)
        assert outcomes == [True] * 60
        assert stores[0].read(["fail:c:1", "uses:p"]) == {"fail:c:1": 60, "uses:p": 60}
    finally:
        for store in stores:
            store.close()


# -- concurrency -------------------------------------------------------------------------------


@pytest.mark.parametrize("expected", [0, 3])
def test_counters_in_any_order_never_deadlock(url: str, expected: int) -> None:
    """Changes naming the same counters in different orders all complete: every
    apply locks its counters, changed and expected, in key order."""
    keys = [f"k{n}" for n in range(6)]
    handles = [PostgresStore.from_url(url) for _ in range(2)]
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        rng = random.Random(worker)
        handle = handles[worker % 2]
        try:
            for n in range(30):
                names = rng.sample(keys, len(keys))
                changed, watched = names[expected:], names[:expected]
                outcome = handle.apply(new(f"w{worker}-{n}", *(Delta(key, 1) for key in changed),
                                           expect=tuple(Expect(key) for key in watched)))
                assert outcome.applied
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(10)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        counts = handles[0].read(keys)
        assert sum(counts.values()) == 10 * 30 * (len(keys) - expected)
        if not expected:
            assert counts == {key: 300 for key in keys}
    finally:
        for handle in handles:
            handle.close()


def _race(url: str, process: int, threads: int, attempts: int, expecting: bool = False
          ) -> int:
    """One process of the races below: its threads' wins. Each change takes a unit of
    a stock limited to 150, or, ``expecting``, adds one to a counter expected below 150."""
    store = PostgresStore.from_url(url)
    wins = [0] * threads

    def run(thread: int) -> None:
        for n in range(attempts):
            order_id = f"p{process}-t{thread}-{n}"
            if expecting:
                outcome = store.apply(new(order_id, Delta("drawn", 1),
                                          expect=(Expect("drawn", 0, 149),)))
                assert outcome.applied or outcome.stale == ("drawn",)
            else:
                outcome = store.apply(new(order_id, Delta("stock:flash", 1, 150),
                                          Delta(f"uses:flash:c:{order_id}", 1, 1)))
            wins[thread] += outcome.applied

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    store.close()
    return sum(wins)


def test_processes_racing_never_pass_a_limit(
        url: str, admin: psycopg.Connection[tuple[object, ...]]) -> None:
    store = PostgresStore.from_url(url)  # creates the tables before the race
    try:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
            wins = list(pool.map(_race, [url, url], [0, 1], [4, 4], [50, 50]))
        assert sum(wins) == 150
        assert store.read(["stock:flash"])["stock:flash"] == 150
        (orders,) = admin.execute(f'SELECT count(*) FROM "{store.namespace}_orders"'
                                  ).fetchone() or (0,)
        assert orders == 150
    finally:
        store.close()


def test_processes_racing_on_an_expectation_apply_exactly_its_range(
        url: str, admin: psycopg.Connection[tuple[object, ...]]) -> None:
    store = PostgresStore.from_url(url)  # creates the tables before the race
    try:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
            wins = list(pool.map(_race, [url, url], [0, 1], [4, 4], [50, 50], [True, True]))
        assert sum(wins) == 150
        assert store.read(["drawn"])["drawn"] == 150
        (orders,) = admin.execute(f'SELECT count(*) FROM "{store.namespace}_orders"'
                                  ).fetchone() or (0,)
        assert orders == 150
    finally:
        store.close()


# -- the server going away ---------------------------------------------------------------------


def _terminate(admin: psycopg.Connection[tuple[object, ...]], name: str) -> int:
    rows = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE application_name = %s", (name,)).fetchall()
    return len(rows)


def test_terminated_connections_are_replaced(
        make_url: Callable[..., str], admin: psycopg.Connection[tuple[object, ...]]) -> None:
    name = f"promokit-{uuid.uuid4().hex[:8]}"
    store = PostgresStore.from_url(make_url(application_name=name, pool=3))
    try:
        assert store.apply(new("o1", Delta("stock:s", 1, 10))).applied
        assert _terminate(admin, name) >= 1
        time.sleep(0.2)
        assert store.read(["stock:s"]) == {"stock:s": 1}  # on a new connection

        assert _terminate(admin, name) >= 1
        time.sleep(0.2)
        moved = store.apply(new("o1", Delta("stock:s", 1, 10), revision=1, status="paid"))
        assert moved.applied and moved.revision == 2
        assert store.read(["stock:s"]) == {"stock:s": 2}

        for call in (lambda: store.hit("fail:c:1", 60), lambda: store.order("o1"),
                     lambda: store.add_codes("b", ["A"], 1), lambda: store.ledger(),
                     lambda: store.check_codes(["W"], throttle="fail:c:2", limit=5, ttl=60)):
            _terminate(admin, name)
            time.sleep(0.1)
            with contextlib.suppress(StoreUnavailable):  # allowed; a psycopg error is not
                call()
        row = store.order("o1")
        assert row is not None and row.revision == 2
    finally:
        store.close()


class _Proxy:
    """A TCP relay to the server that can be cut (a server going away) and
    restarted on the same port."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.start()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Stop listening and drop every relayed connection."""
        if self._listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone does not
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def test_a_server_gone_is_unavailable_and_its_return_recovers(server: str, url: str) -> None:
    port = psycopg.conninfo.conninfo_to_dict(server).get("port") or 5432
    proxy = _Proxy("127.0.0.1", int(str(port)))
    relayed = url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}", 1)
    if relayed == url:
        proxy.cut()
        pytest.skip("the relay test needs a 127.0.0.1:5432 URL")
    store = PostgresStore.from_url(relayed + "&timeout=2")
    try:
        assert store.apply(new("o1", Delta("stock:s", 1, 10))).applied
        proxy.cut()
        for call in (lambda: store.read(["stock:s"]), lambda: store.order("o1"),
                     lambda: store.apply(new("o2", Delta("stock:s", 1, 10))),
                     lambda: store.add_codes("b", ["A"], 1), lambda: store.hit("h", 5),
                     lambda: store.check_codes(["A"], throttle="h", limit=1, ttl=5)):
            with pytest.raises(StoreUnavailable, match="PostgreSQL"):
                call()
        proxy.start()
        assert store.read(["stock:s"]) == {"stock:s": 1}
        assert store.apply(new("o2", Delta("stock:s", 1, 10))).applied
    finally:
        store.close()
        proxy.cut()
