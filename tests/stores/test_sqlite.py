"""The SQLite store beyond the shared contract: URLs, the file, processes, errors."""

from __future__ import annotations

import gc
import os
import sqlite3
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from datetime import timedelta, timezone
from pathlib import Path

import attrs
import pytest

import promokit
from promokit import open_store
from promokit.errors import StoreError, StoreUnavailable, StoreURLError
from promokit.stores import Delta
from promokit.stores.sqlite import SQLiteStore
from promokit.stores.sqlite import connections as sqlite_store
from promokit.testing.stores import T0, entry, new


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'promokit.db'}"


@pytest.fixture
def store(url: str) -> Iterator[SQLiteStore]:
    opened = SQLiteStore.from_url(url)
    yield opened
    opened.close()


def tables(path: str | Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}


# -- URLs ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("tail", "problem"), [
    ("/promokit.db?pool=5", "unknown option(s) pool"),
    ("/promokit.db?namespace=Shop-1", "namespace 'Shop-1'"),
    ("/promokit.db?timeout=0", "timeout='0' must be a positive number"),
    ("/promokit.db?timeout=soon", "timeout='soon' must be a positive number"),
    ("/promokit.db?synchronous=off", "synchronous='off' must be 'full'"),
    ("/missing/promokit.db", "does not exist"),
    ("", "is a directory"),
    ("/", "is a directory"),
])
def test_bad_urls_name_the_problem(tmp_path: Path, tail: str, problem: str) -> None:
    url = f"sqlite:///{tmp_path}{tail}"
    with pytest.raises(StoreURLError, match=r"^sqlite:") as raised:
        SQLiteStore.from_url(url)
    assert problem in str(raised.value)
    if "missing" in tail:
        assert str(tmp_path / "missing") in str(raised.value)


@pytest.mark.parametrize(("url", "problem"), [
    ("sqlite://db.example.com/promokit.db", "takes no host ('db.example.com')"),
    ("sqlite://user@/promokit.db", "takes no host"),
    ("sqlite://", "no database file"),
    ("sqlite:///", "no database file"),
    ("sqlite:///:memory:", "use memory://"),
    ("redis:///promokit.db", "not a sqlite:// URL"),
])
def test_urls_without_a_file_are_refused(url: str, problem: str) -> None:
    with pytest.raises(StoreURLError) as raised:
        SQLiteStore.from_url(url)
    assert problem in str(raised.value)


def test_a_relative_path_is_from_the_working_directory_at_open(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "data").mkdir()
    monkeypatch.chdir(tmp_path)
    store = SQLiteStore.from_url("sqlite:///data/promo%20kit.db?namespace=shop")
    try:
        assert store.url == "sqlite:///data/promo%20kit.db?namespace=shop"
        assert Path(store.path) == (tmp_path / "data" / "promo kit.db").resolve()
        store.apply(new("o1", Delta("uses:p", 1)))
        monkeypatch.chdir(tmp_path / "data")
        seen: list[int] = []  # a new thread opens its connection on the same file
        thread = threading.Thread(target=lambda: seen.append(store.read(["uses:p"])["uses:p"]))
        thread.start()
        thread.join()
        assert seen == [1]
        assert "shop_orders" in tables(store.path)
    finally:
        store.close()


def test_open_store_uses_this_backend(url: str) -> None:
    store = open_store(url)
    try:
        assert isinstance(store, SQLiteStore) and store.url == url
    finally:
        store.close()


# -- the file ------------------------------------------------------------------------------

def test_the_file_is_in_wal_mode_and_synchronous_follows_the_option(tmp_path: Path) -> None:
    path = tmp_path / "promokit.db"
    durable = SQLiteStore.from_url(f"sqlite:///{path}")
    fast = SQLiteStore.from_url(f"sqlite:///{path}?synchronous=NORMAL&timeout=2.5")
    try:
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert durable._db().execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
        assert fast._db().execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
        assert fast._db().execute("PRAGMA busy_timeout").fetchone() == (2500,)
    finally:
        durable.close()
        fast.close()


def test_namespaces_keep_stores_apart_and_drop_removes_only_its_own(tmp_path: Path) -> None:
    path = tmp_path / "promokit.db"
    shop = SQLiteStore.from_url(f"sqlite:///{path}?namespace=shop")
    other = SQLiteStore.from_url(f"sqlite:///{path}?namespace=other")
    try:
        shop.apply(new("o1", Delta("uses:p", 1), ledger=(entry("o1"),)))
        shop.add_codes("b1", ["AAAA"], 1)
        shop.save_campaigns("v1", "{}")
        assert other.read(["uses:p"]) == {"uses:p": 0} and other.order("o1") is None
        assert {f"shop_{t}" for t in ("counters", "orders", "ledger", "campaigns",
                                      "codes")} <= tables(path)
        shop.drop()
        assert not {name for name in tables(path) if name.startswith("shop_")}
        assert {name for name in tables(path) if name.startswith("other_")}
        other.apply(new("o1", Delta("uses:p", 1)))
        assert other.read(["uses:p"]) == {"uses:p": 1}
    finally:
        shop.close()
        other.close()
    reopened = SQLiteStore.from_url(f"sqlite:///{path}?namespace=shop")  # tables again
    try:
        assert reopened.order("o1") is None and reopened.ledger() == []
    finally:
        reopened.close()


def test_a_file_that_is_not_a_database_gives_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database\n" * 200)
    with pytest.raises(StoreError) as raised:
        SQLiteStore.from_url(f"sqlite:///{path}")
    assert not isinstance(raised.value, StoreURLError)
    assert str(raised.value).startswith(f"sqlite:///{path}: open:")
    assert "is not a SQLite database" in str(raised.value)


def test_the_expiry_query_uses_its_index(store: SQLiteStore) -> None:
    plan = " ".join(str(row) for row in store._db().execute(
        f"EXPLAIN QUERY PLAN {store._sql.expired}", (1.0, 10)))
    assert "promokit_orders_expiry" in plan and "TEMP B-TREE" not in plan


# -- errors --------------------------------------------------------------------------------

def test_a_held_write_lock_times_out_as_unavailable_and_reads_go_on(tmp_path: Path) -> None:
    path = tmp_path / "promokit.db"
    store = SQLiteStore.from_url(f"sqlite:///{path}?timeout=0.2")
    try:
        store.apply(new("o1", Delta("stock:s", 1, 5)))
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process's long write
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match=r"stayed locked for 0\.2 s"):
            store.apply(new("o2", Delta("stock:s", 1, 5)))
        assert time.monotonic() - started < 5
        with pytest.raises(StoreUnavailable, match="add codes"):
            store.add_codes("b1", ["AAAA"], 1)
        assert store.read(["stock:s"]) == {"stock:s": 1}  # WAL: readers never wait
        other.execute("ROLLBACK")
        other.close()
        assert store.apply(new("o2", Delta("stock:s", 1, 5))).applied
    finally:
        store.close()


def test_numbers_sqlite_cannot_hold_are_a_store_error_and_change_nothing(
        store: SQLiteStore) -> None:
    with pytest.raises(StoreError, match="64-bit"):
        store.apply(new("o1", Delta("spent:p", 2**63), ledger=(entry("o1"),)))
    assert store.apply(new("o2", Delta("spent:p", 2**63 - 2))).applied
    with pytest.raises(StoreError, match="64-bit"):  # the sum would overflow
        store.apply(new("o3", Delta("spent:p", 5), Delta("uses:p", 1)))
    assert store.order("o1") is None and store.order("o3") is None
    assert store.read(["spent:p", "uses:p"]) == {"spent:p": 2**63 - 2, "uses:p": 0}
    assert store.ledger() == []
    assert store.apply(new("o4", Delta("uses:p", 1))).applied  # no transaction left open


def test_close_closes_every_thread_connection_and_is_final(store: SQLiteStore) -> None:
    store.read(["k"])
    ready, done = threading.Event(), threading.Event()

    def reader() -> None:
        store.read(["k"])
        ready.set()
        done.wait(5)

    thread = threading.Thread(target=reader)
    thread.start()
    ready.wait(5)
    connections = [db for db, _ in store._connections.values()]
    assert len(connections) == 2
    store.close()
    store.close()
    done.set()
    thread.join()
    for db in connections:
        with pytest.raises(sqlite3.ProgrammingError):
            db.execute("SELECT 1")
    with pytest.raises(StoreError, match="closed"):
        store.read(["k"])
    with pytest.raises(StoreError, match="closed"):
        store.apply(new("o1"))


def test_a_finished_thread_leaves_no_connection_open(store: SQLiteStore) -> None:
    store.read(["k"])
    threads = [threading.Thread(target=store.hit, args=(f"fail:{n}", 60)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    gc.collect()
    assert len(store._connections) == 1
    assert store.read([f"fail:{n}" for n in range(5)]) == {f"fail:{n}": 1 for n in range(5)}


# -- behaviour the contract does not pin down ----------------------------------------------------

def test_lapsed_hit_counters_are_deleted_now_and_then(store: SQLiteStore) -> None:
    store.hit("fail:a", 0.05)
    store.apply(new("o1", Delta("uses:p", 1)))
    time.sleep(0.1)
    store._sweep_at = 0.0  # the next hit sweeps
    assert store.hit("fail:b", 60) == 1
    names = {name for (name,) in store._db().execute("SELECT name FROM promokit_counters")}
    assert names == {"fail:b", "uses:p"}


def test_lapsed_code_throttles_are_deleted_now_and_then(store: SQLiteStore) -> None:
    store.check_codes(["W1", "W2"], throttle="fail:a:1", limit=5, ttl=0.05)
    deadline = time.monotonic() + 30  # a bounded poll, not a fixed sleep
    while store.read(["fail:a:1"])["fail:a:1"]:
        assert time.monotonic() < deadline, "the throttle never lapsed"
        time.sleep(0.02)
    store._sweep_at = 0.0  # the next check that counts sweeps
    assert store.check_codes(["W3"], throttle="fail:b:1", limit=5, ttl=60).failures == 1
    db = store._db()
    assert db.execute("SELECT name FROM promokit_counters").fetchall() == [("fail:b:1",)]
    assert db.execute("SELECT throttle, code FROM promokit_failures").fetchall() == [
        ("fail:b:1", "W3")]


def test_a_file_of_an_older_version_gets_the_throttle_table(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = SQLiteStore.from_url(f"sqlite:///{path}")
    old._db().execute("DROP TABLE promokit_failures")  # as an older promokit left it
    old.close()
    assert "promokit_failures" not in tables(path)
    store = SQLiteStore.from_url(f"sqlite:///{path}")
    try:
        assert store.check_codes(["W"], throttle="fail:c:1", limit=1, ttl=60).counted == ("W",)
    finally:
        store.close()


def test_the_ledger_filters_to_the_microsecond_in_any_timezone(store: SQLiteStore) -> None:
    tick = timedelta(microseconds=1)
    entries = tuple(attrs.evolve(entry("o1", n), at=T0 + n * tick) for n in range(3))
    store.apply(new("o1", ledger=entries))
    shanghai = timezone(timedelta(hours=8))
    assert store.ledger(since=T0 + tick) == list(entries[1:])
    assert store.ledger(until=T0 + tick) == [entries[0]]
    assert store.ledger(since=(T0 + tick).astimezone(shanghai),
                        until=(T0 + 2 * tick).astimezone(shanghai)) == [entries[1]]


def test_many_keys_and_codes_at_once(store: SQLiteStore) -> None:
    codes = [f"C{n:05d}" for n in range(1_200)]
    store.add_codes("b1", codes[1_100:1_101], 1)
    clash = store.add_codes("b2", codes, 1)
    assert clash.conflicts == ("C01100",) and clash.added == 0
    assert set(store.find_codes(codes)) == {"C01100"}
    added = store.add_codes("b1", codes + codes[:10], 2)
    assert (added.added, added.existing) == (1_199, 1)
    assert len(store.find_codes(codes)) == 1_200
    keys = [f"uses:p:c:{n}" for n in range(1_200)]
    store.apply(new("o1", *(Delta(key, 1) for key in keys[::100])))
    values = store.read(keys)
    assert list(values) == keys and sum(values.values()) == 12


# -- processes ---------------------------------------------------------------------------------

WORKER = """
import sys
from promokit.testing.stores import entry, new
from promokit.stores.base import Delta
from promokit.stores.sqlite import SQLiteStore

url, worker = sys.argv[1], sys.argv[2]
print("ready", flush=True)
sys.stdin.readline()
store = SQLiteStore.from_url(url)  # all open at once: the file is new
won = 0
for n in range(100):
    order_id = f"{worker}-{n}"
    outcome = store.apply(new(order_id, Delta("stock:flash", 1, 150),
                              Delta(f"uses:flash:c:{order_id}", 1, 1),
                              ledger=(entry(order_id),)))
    won += outcome.applied
store.close()
print(won, flush=True)
"""


def test_processes_racing_on_one_file_never_pass_a_limit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'promokit.db'}"
    src = str(Path(promokit.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [src, *filter(None, [os.environ.get("PYTHONPATH")])])}
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, url, f"w{n}"], env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for n in range(3)]
    try:
        for worker in workers:
            assert worker.stdout is not None and worker.stdout.readline() == "ready\n"
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        results = [worker.communicate(timeout=60) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:  # pragma: no cover - only when the test failed
                worker.kill()
    assert [worker.returncode for worker in workers] == [0, 0, 0], [e for _, e in results]
    assert sum(int(out) for out, _ in results) == 150
    store = SQLiteStore.from_url(url)
    try:
        assert store.read(["stock:flash"]) == {"stock:flash": 150}
        db = store._db()
        assert db.execute("SELECT count(*) FROM promokit_orders").fetchone() == (150,)
        assert db.execute("SELECT count(*) FROM promokit_counters WHERE name LIKE 'uses:%'"
                          ).fetchone() == (150,)
        assert len(store.ledger()) == 150
    finally:
        store.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_opens_its_own_connection(store: SQLiteStore) -> None:
    store.apply(new("o1", Delta("stock:s", 1, 5)))
    parent_db = store._db()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() with threads (3.12+)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            ok = store.apply(new("o2", Delta("stock:s", 1, 5))).applied
            # SQLite forbids using or closing what the child inherited: kept aside
            ok = ok and any(db is parent_db for db in sqlite_store._INHERITED)
            ok = ok and [owner for _, owner in store._connections.values()] == [os.getpid()]
            store.close()
        except BaseException:
            ok = False
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.read(["stock:s"]) == {"stock:s": 2}
    assert store.apply(new("o3", Delta("stock:s", 1, 5))).applied
