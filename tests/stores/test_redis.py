"""The Redis store beyond the shared contract: URLs, errors, the Cluster key
layout, exact 64-bit counters, large imports, and racing processes.

Uses ``PROMOKIT_REDIS_URL`` (default ``redis://127.0.0.1:6379/15``); each test
gets its own namespace and drops it. Skips when Redis is not reachable, and
fails instead under CI (``CI=true``).
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from urllib.parse import urlsplit

import pytest
from conftest import missing_service
from hypothesis import given, settings
from hypothesis import strategies as st

from promokit import open_store
from promokit.errors import StoreError, StoreUnavailable, StoreURLError
from promokit.stores import Change, CodeRow, Delta, Expect, MemoryStore
from promokit.testing import StoreContract
from promokit.testing.stores import entry

try:
    import redis
    from redis.crc import key_slot

    from promokit.stores.redis import RedisStore
except ImportError:  # pragma: no cover
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("the Redis tests need 'redis' (pip install -e '.[test]')",
                allow_module_level=True)

pytestmark = pytest.mark.redis

REDIS_URL = os.environ.get("PROMOKIT_REDIS_URL", "redis://127.0.0.1:6379/15")
INT64_MAX = 2**63 - 1
KEYS = ["a", "b", "c"]


def _reachable() -> None:
    """Skip (or fail under CI) when the Redis server is not reachable."""
    parts = urlsplit(REDIS_URL)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379),
                                 timeout=2).close()
    except OSError as error:
        missing_service("Redis", f"Redis at {parts.hostname}:{parts.port} is not reachable "
                                 f"({error})")


def _url(namespace: str, **options: str) -> str:
    query = "&".join(f"{key}={value}" for key, value in {"namespace": namespace,
                                                           **options}.items())
    return f"{REDIS_URL}{'&' if '?' in REDIS_URL else '?'}{query}"


def _namespace() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def namespace() -> Iterator[str]:
    """A fresh namespace on the test server, dropped afterwards."""
    _reachable()
    name = _namespace()
    yield name
    store = RedisStore.from_url(_url(name))
    try:
        store.drop()
    finally:
        store.close()


@pytest.fixture
def store(namespace: str) -> Iterator[RedisStore]:
    opened = RedisStore.from_url(_url(namespace))
    yield opened
    opened.close()


@pytest.fixture
def server() -> Iterator[redis.Redis]:
    """A plain client on the test server, to look at the keys."""
    _reachable()
    client = redis.Redis.from_url(REDIS_URL.split("?")[0], decode_responses=True)
    yield client
    client.close()


def new(order_id: str, *deltas: Delta, revision: int = 0, status: str = "reserved",
        expires_at: float | None = None) -> Change:
    return Change(order_id=order_id, revision=revision, status=status, body="{}",
                  expires_at=expires_at, deltas=deltas)


# -- the contract again, through RedisStore.from_url directly ---------------------------


class TestRedisContract(StoreContract):
    @pytest.fixture
    def reopen(self, namespace: str) -> Callable[[], RedisStore]:
        return lambda: RedisStore.from_url(_url(namespace))


# -- URLs and errors ----------------------------------------------------------------------


@pytest.mark.parametrize(("url", "problem"), [
    ("redis://127.0.0.1:6379/0?db=1", "unknown option(s) db"),
    ("redis://127.0.0.1:6379/0?namespace=t&poolsize=3", "unknown option(s) poolsize"),
    ("redis://127.0.0.1:6379/zero", "must be a database number"),
    ("redis://127.0.0.1:6379/1/2", "must be a database number"),
    ("redis://127.0.0.1:6379/-1", "must be a database number"),
    ("redis://127.0.0.1:6379/0?namespace=Shop-1", "namespace 'Shop-1'"),
    ("redis://127.0.0.1:6379/0?namespace=", "namespace ''"),
    ("redis://127.0.0.1:6379/0?namespace=1shop", "namespace '1shop'"),
    ("redis://127.0.0.1:6379/0?timeout=0", "timeout='0' must be a positive number"),
    ("redis://127.0.0.1:6379/0?timeout=-1", "timeout='-1' must be a positive number"),
    ("redis://127.0.0.1:6379/0?timeout=soon", "timeout='soon' must be a positive number"),
    ("redis://127.0.0.1:99999/0", "Port out of range"),
    ("redis://127.0.0.1:port/0", "Port could not be cast"),
    ("redis://127.0.0.1:0/0", "port 0"),
    ("redis:///0", "no host"),
    ("memory://", "not a redis:// or rediss:// URL"),
])
def test_bad_urls_are_refused_with_the_problem_named(url: str, problem: str) -> None:
    with pytest.raises(StoreURLError) as caught:
        RedisStore.from_url(url)
    assert problem in str(caught.value)


def test_a_password_never_shows_in_a_url_error() -> None:
    with pytest.raises(StoreURLError) as caught:
        RedisStore.from_url("redis://shop:hunter2@127.0.0.1:6379/x")
    assert "hunter2" not in str(caught.value) and "shop:***@" in str(caught.value)


@pytest.mark.parametrize("opener", [RedisStore.from_url, open_store])
def test_an_unreachable_server_is_unavailable_at_once(
        opener: Callable[[str], object]) -> None:
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        opener("redis://:secret@127.0.0.1:1/0?timeout=2")
    assert time.monotonic() - started < 2
    message = str(caught.value)
    assert message.startswith("cannot reach Redis at redis://:***@127.0.0.1:1/0")
    assert "secret" not in message


def test_rediss_speaks_tls(namespace: str) -> None:
    """rediss:// opens a TLS session; a plain server never answers the handshake."""
    url = _url(namespace, timeout="0.5").replace("redis://", "rediss://", 1)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="cannot reach Redis at rediss://"):
        RedisStore.from_url(url)
    assert time.monotonic() - started < 2


def test_scripts_are_loaded_again_after_a_flush(store: RedisStore,
                                                server: redis.Redis) -> None:
    assert store.apply(new("o1", Delta("uses:p", 1, 2))).applied
    server.script_flush()
    assert store.apply(new("o2", Delta("uses:p", 1, 2))).applied
    assert store.hit("fail:c:1", 5) == 1
    assert store.check_codes(["W"], throttle="fail:c:2", limit=1, ttl=5).counted == ("W",)
    assert store.read(["uses:p"]) == {"uses:p": 2}


def test_a_server_lost_later_is_unavailable(store: RedisStore) -> None:
    store.apply(new("o1", Delta("uses:p", 1)))
    pool = store._redis.connection_pool
    pool.disconnect()
    pool.connection_kwargs["port"] = 1  # as if the server went away
    pool.reset()  # forget the connections made to the real port
    for call in (lambda: store.read(["uses:p"]), lambda: store.apply(new("o2")),
                 lambda: store.order("o1"), lambda: store.ledger(),
                 lambda: store.hit("fail:c:1", 1), lambda: store.add_codes("b", ["A"], 1),
                 lambda: store.check_codes(["A"], throttle="fail:c:1", limit=1, ttl=1)):
        with pytest.raises(StoreUnavailable, match="lost Redis at redis://"):
            call()


def test_a_slow_reply_is_unavailable_within_the_timeout(namespace: str,
                                                         server: redis.Redis) -> None:
    store = RedisStore.from_url(_url(namespace, timeout="0.3"))
    busy = threading.Thread(target=server.eval, args=(
        "local s = redis.call('TIME') while true do local n = redis.call('TIME') "
        "if (n[1] - s[1]) * 1000000 + (n[2] - s[2]) > 1200000 then return 0 end end", 0))
    try:
        busy.start()
        time.sleep(0.1)
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            store.read(["uses:p"])
        assert time.monotonic() - started < 0.9
    finally:
        busy.join()
        store.close()


def test_other_redis_errors_are_store_errors_and_change_nothing(
        store: RedisStore, server: redis.Redis, namespace: str) -> None:
    server.set(f"{{{namespace}}}:o:clash", "not a hash")
    with pytest.raises(StoreError, match="WRONGTYPE") as caught:
        store.apply(new("clash", Delta("uses:p", 1)))
    assert not isinstance(caught.value, StoreUnavailable)
    server.set(f"{{{namespace}}}:c:uses:q", "1.5")
    with pytest.raises(StoreError, match="non-integer"):
        store.apply(new("o1", Delta("uses:p", 1), Delta("uses:q", 1)))
    assert store.read(["uses:p"]) == {"uses:p": 0} and store.order("o1") is None


def test_close_is_idempotent(namespace: str) -> None:
    store = RedisStore.from_url(_url(namespace))
    store.close()
    store.close()


def test_the_url_is_masked(namespace: str) -> None:
    store = RedisStore.from_url(_url(namespace))
    try:
        assert store.url == _url(namespace)
    finally:
        store.close()
    parsed = urlsplit(REDIS_URL)
    if parsed.password is None:
        url = _url(namespace).replace("redis://", "redis://:nopass@", 1)
        with pytest.raises(StoreError) as caught:  # the server takes no password
            RedisStore.from_url(url)
        assert "nopass" not in str(caught.value) and ":***@" in str(caught.value)


# -- the key layout -------------------------------------------------------------------------


def test_every_key_carries_the_namespace_tag_and_one_slot(
        store: RedisStore, server: redis.Redis, namespace: str) -> None:
    store.apply(new("o1", Delta("stock:s", 1, 5), Delta("uses:p:c:顧客 {1}", 1, 1),
                    expires_at=time.time() + 60))
    store.apply(new("訂單/2 {x}", Delta("spent:p", 700), expires_at=time.time() + 60))
    store.apply(new("o1", revision=1, status="committed"))
    store.apply(Change(order_id="o3", revision=0, status="committed", body="{}",
                       deltas=(Delta("stock:s", 1, 5),), ledger=(entry("o3"),)))
    store.add_codes("b1", ["AAAA", "BBBB"], 1)
    store.save_campaigns("v1", "{}")
    store.hit("fail:c1:1", 60)
    store.check_codes(["AAAA", "WRONG"], throttle="fail:顧客 {2}:1", limit=5, ttl=60)
    keys = sorted(server.scan_iter(match=f"{{{namespace}}}:*", count=1000))
    tag = f"{{{namespace}}}:"
    assert set(keys) == {
        f"{tag}c:stock:s", f"{tag}c:uses:p:c:顧客 {{1}}", f"{tag}c:spent:p",
        f"{tag}c:fail:c1:1", f"{tag}o:o1", f"{tag}o:訂單/2 {{x}}", f"{tag}o:o3",
        f"{tag}expiry", f"{tag}ledger", f"{tag}codes", f"{tag}campaigns",
        f"{tag}c:fail:顧客 {{2}}:1", f"{tag}f:fail:顧客 {{2}}:1"}
    assert server.smembers(f"{tag}f:fail:顧客 {{2}}:1") == {"WRONG"}
    # the throttle's count and its codes lapse together
    assert abs(server.pttl(f"{tag}c:fail:顧客 {{2}}:1")
               - server.pttl(f"{tag}f:fail:顧客 {{2}}:1")) < 1000
    assert {key_slot(key.encode()) for key in keys} == {key_slot(namespace.encode())}


def test_drop_removes_this_namespace_only(server: redis.Redis) -> None:
    _reachable()
    mine, other = _namespace(), f"{_namespace()}x"
    prefix = mine + "x"  # a namespace that starts like mine
    stores = [RedisStore.from_url(_url(name)) for name in (mine, other, prefix)]
    try:
        for store in stores:
            store.apply(new("o1", Delta("stock:s", 1), expires_at=1.0))
            store.add_codes("b1", ["AAAA"], 1)
            store.hit("fail:c:1", 60)
        stores[0].drop()
        assert list(server.scan_iter(match=f"{{{mine}}}:*")) == []
        assert stores[0].read(["stock:s"]) == {"stock:s": 0}
        for store in stores[1:]:
            assert store.read(["stock:s"]) == {"stock:s": 1}
            assert store.order("o1") is not None and store.expired(2.0) == ["o1"]
    finally:
        for store in stores:
            store.drop()
            store.close()


# -- counters: exact to 2**63 - 1 ------------------------------------------------------------


def test_counters_past_2_to_the_53_stay_exact(store: RedisStore) -> None:
    edge = 2**53 + 1  # the first integer a double cannot hold
    assert store.apply(new("o1", Delta("spent:c", edge, edge))).applied
    refused = store.apply(new("o2", Delta("spent:c", 1, edge)))
    assert refused.refused == ("spent:c",) and refused.values == {"spent:c": edge}
    assert store.apply(new("o3", Delta("spent:c", 1, edge + 1))).values == {
        "spent:c": edge + 1}
    assert store.apply(new("o4", Delta("spent:c", -(edge + 2)))).refused == ("spent:c",)
    assert store.apply(new("o5", Delta("spent:c", INT64_MAX - edge - 1, INT64_MAX))).applied
    assert store.read(["spent:c"]) == {"spent:c": INT64_MAX}
    assert store.apply(new("o6", Delta("spent:c", 1, INT64_MAX))).refused == ("spent:c",)


def test_passing_the_64_bit_range_is_an_error_that_writes_nothing(store: RedisStore) -> None:
    store.apply(new("o1", Delta("spent:c", INT64_MAX - 1)))
    with pytest.raises(StoreError, match="would pass 2\\^63-1"):
        store.apply(new("o2", Delta("uses:p", 1), Delta("spent:c", 2)))
    assert store.read(["uses:p", "spent:c"]) == {"uses:p": 0, "spent:c": INT64_MAX - 1}
    assert store.order("o2") is None


_EDGES = [0, 1, 2**53 - 1, 2**53, 2**53 + 1, 10**17, 2**62, INT64_MAX - 1, INT64_MAX,
          2**63, 2**64 - 1, 2**64, 2**64 + 1, 2**65, 2**65 + 1, 10**30]
_amounts = st.one_of(st.integers(-3, 3), st.sampled_from(_EDGES),
                     st.sampled_from(_EDGES).map(lambda n: -n),
                     st.integers(-(2**70), 2**70))
_limits = st.one_of(st.none(), st.integers(-2, 3), st.sampled_from(_EDGES),
                    st.integers(-(2**70), 2**70))
_changes = st.lists(st.lists(st.tuples(st.sampled_from("abc"), _amounts, _limits),
                             min_size=1, max_size=3, unique_by=lambda d: d[0]),
                    min_size=1, max_size=8)


def test_expectations_past_2_to_the_53_stay_exact(store: RedisStore) -> None:
    def stale(n: int, low: int, high: int | None, value: int) -> tuple[str, ...]:
        outcome = store.apply(Change(order_id=f"e{n}", revision=0, status="x", body="{}",
                                     expect=(Expect("k", low, high),)))
        assert outcome.values == {"k": value}
        return outcome.stale

    edge = 2**53 + 1  # the first integer a double cannot hold
    store.apply(new("o0", Delta("k", edge)))
    assert stale(1, edge, edge, edge) == ()
    assert stale(2, edge + 1, None, edge) == ("k",)
    assert stale(3, 0, edge - 1, edge) == ("k",)
    assert stale(4, -(2**70), 2**70, edge) == ()
    assert stale(5, 2**64, None, edge) == ("k",)
    assert stale(6, -(2**70), -(2**64), edge) == ("k",)
    assert stale(7, INT64_MAX, None, edge) == ("k",)
    store.apply(new("o1", Delta("k", INT64_MAX - edge)))
    assert stale(8, INT64_MAX, INT64_MAX, INT64_MAX) == ()
    assert stale(9, INT64_MAX, 2**64, INT64_MAX) == ()
    assert stale(10, 0, INT64_MAX - 1, INT64_MAX) == ("k",)


_expects = st.lists(st.tuples(st.sampled_from("abc"), _amounts, _limits),
                    max_size=3, unique_by=lambda e: e[0])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_changes.map(lambda c: c[0]), _expects), min_size=1, max_size=8))
def test_counters_and_expectations_decide_as_the_memory_store_does(
        changes: list[tuple[list[tuple[str, int, int | None]],
                            list[tuple[str, int, int | None]]]]) -> None:
    """Every amount, limit and bound Python can hold is decided as memory:// decides it;
    where memory:// would keep a counter past 2**63 - 1, Redis raises instead."""
    _reachable()
    memory = MemoryStore()
    store = RedisStore.from_url(_url(_namespace()))
    try:
        for n, (deltas, expects) in enumerate(changes):
            expect = tuple(Expect(key, min(low, high), max(low, high))
                           if high is not None else Expect(key, low)
                           for key, low, high in expects)
            change = Change(order_id=f"o{n}", revision=0, status="x", body="{}",
                            deltas=tuple(Delta(key, amount, limit)
                                         for key, amount, limit in deltas), expect=expect)
            before = memory.read(KEYS)
            stale = any(not e.holds(before[e.key]) for e in expect)
            refused = any(d.refuses(before[d.key]) for d in change.deltas)
            if not stale and not refused and any(before[d.key] + d.amount > INT64_MAX
                                                 for d in change.deltas):
                with pytest.raises(StoreError, match="would pass"):
                    store.apply(change)
            else:
                assert store.apply(change) == memory.apply(change)
            assert store.read(KEYS) == memory.read(KEYS)
    finally:
        store.drop()
        store.close()


def test_many_counters_and_ledger_entries_in_one_change(store: RedisStore) -> None:
    deltas = tuple(Delta(f"uses:p{n}", 1, 1) for n in range(2500))
    ledger = tuple(entry("o1", n) for n in range(5001))
    change = Change(order_id="o1", revision=0, status="committed", body="{}",
                    deltas=deltas, ledger=ledger)
    outcome = store.apply(change)
    assert outcome.applied and set(outcome.values.values()) == {1}
    assert store.ledger() == list(ledger)
    assert store.ledger(order_id="o1")[-1] == ledger[-1]
    keys = [d.key for d in deltas]
    assert set(store.read(keys).values()) == {1}
    again = store.apply(Change(order_id="o2", revision=0, status="x", body="{}",
                               deltas=deltas))
    assert again.refused == tuple(keys)


# -- orders, expiry, hits, codes ---------------------------------------------------------------


def test_expired_orders_of_one_moment_come_by_id(store: RedisStore) -> None:
    for order_id in ("b", "c", "a"):
        store.apply(new(order_id, expires_at=100.5))
    store.apply(new("z", expires_at=99.0))
    assert store.expired(100.5) == ["z", "a", "b", "c"]
    assert store.expired(100.4) == ["z"]
    assert store.expired(100.5, limit=0) == []


def test_a_revision_conflict_returns_the_stored_order(store: RedisStore) -> None:
    store.apply(new("o1", expires_at=1234.5))
    outcome = store.apply(new("o1"))
    assert outcome.conflict and outcome.current is not None
    assert (outcome.current.revision, outcome.current.expires_at) == (1, 1234.5)
    store.apply(new("o1", revision=1, status="committed"))
    row = store.order("o1")
    assert row is not None and row.expires_at is None and store.expired(2000.0) == []


def test_a_hit_counter_lives_ttl_seconds(store: RedisStore, server: redis.Redis,
                                         namespace: str) -> None:
    assert store.hit("fail:c1:7", 30) == 1
    assert store.hit("fail:c1:7", 30) == 2
    ttl = server.pttl(f"{{{namespace}}}:c:fail:c1:7")
    assert 29_000 < ttl <= 30_000


def test_a_large_import_is_all_or_nothing(store: RedisStore) -> None:
    codes = [f"C{n:06d}" for n in range(12_000)]
    first = store.add_codes("b1", codes[:7000], 2)
    assert (first.added, first.existing) == (7000, 0)
    more = store.add_codes("b1", codes, 2)
    assert (more.added, more.existing, more.conflicts) == (5000, 7000, ())
    assert store.find_codes([codes[-1], "NOPE"]) == {codes[-1]: CodeRow("b1", 2)}
    fresh = [f"D{n:06d}" for n in range(11_000)]
    clash = store.add_codes("b2", [*fresh, codes[11_999], codes[3]], 1)
    assert clash.added == 0 and clash.conflicts == (codes[3], codes[11_999])
    assert store.find_codes(fresh) == {}
    found = store.find_codes(codes)
    assert len(found) == 12_000 and {row.batch for row in found.values()} == {"b1"}


def test_an_import_racing_another_adds_nothing(store: RedisStore,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A code registered by another batch between the chunked check and the write is
    caught by the script's own look, and nothing of the import is added."""
    seen = store._hmget

    def stale(key: str, fields: list[str]) -> list[str | None]:
        stored = seen(key, fields)
        other = RedisStore.from_url(_url(store.namespace))
        try:
            other.add_codes("rival", ["X2"], 1)
        finally:
            other.close()
        return stored

    monkeypatch.setattr(store, "_hmget", stale)
    outcome = store.add_codes("b1", ["X1", "X2", "X3"], 1)
    assert (outcome.added, outcome.existing, outcome.conflicts) == (0, 0, ("X2",))
    monkeypatch.undo()
    assert set(store.find_codes(["X1", "X2", "X3"])) == {"X2"}


def test_codes_and_batches_may_hold_any_text(store: RedisStore) -> None:
    store.add_codes("雙11:第1批", ["滿300減50", "A:B"], 3)
    found = store.find_codes(["滿300減50", "A:B"])
    assert {(row.batch, row.uses) for row in found.values()} == {("雙11:第1批", 3)}
    assert store.add_codes("雙11", ["A:B"], 3).conflicts == ("A:B",)


# -- racing processes ----------------------------------------------------------------------------


def _race(url: str, worker: int, threads: int, attempts: int,
          expecting: bool = False) -> list[str]:
    """Apply ``threads`` x ``attempts`` changes from this process: one-unit
    reservations of a stock of 150, or, ``expecting``, changes that each expect
    ``drawn`` below 150 and add one to it."""
    store = RedisStore.from_url(url)
    won: list[str] = []
    lock = threading.Lock()

    def run(thread: int) -> None:
        for n in range(attempts):
            order_id = f"p{worker}-t{thread}-{n}"
            if expecting:
                change = Change(order_id=order_id, revision=0, status="drawn", body="{}",
                                deltas=(Delta("drawn", 1),),
                                expect=(Expect("drawn", 0, 149),))
            else:
                change = Change(order_id=order_id, revision=0, status="reserved", body="{}",
                                deltas=(Delta("stock:flash", 1, 150),
                                        Delta(f"uses:flash:c:{order_id}", 1, 1)))
            outcome = store.apply(change)
            if outcome.applied:
                with lock:
                    won.append(order_id)
            elif expecting:
                assert outcome.stale == ("drawn",)

    pool = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    store.close()
    return won


def test_processes_and_threads_racing_never_pass_a_limit(store: RedisStore,
                                                         namespace: str) -> None:
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=spawn) as pool:
        runs = [pool.submit(_race, _url(namespace), worker, 4, 50) for worker in range(2)]
        won = [order_id for run in runs for order_id in run.result(timeout=120)]
    assert len(won) == 150 and len(set(won)) == 150
    assert store.read(["stock:flash"]) == {"stock:flash": 150}
    assert all(store.order(order_id) is not None for order_id in won)
    stored = [key for key in store._redis.scan_iter(match=f"{{{namespace}}}:o:*")]
    assert len(stored) == 150


def test_processes_and_threads_racing_on_an_expectation_apply_exactly_its_range(
        store: RedisStore, namespace: str) -> None:
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=spawn) as pool:
        runs = [pool.submit(_race, _url(namespace), worker, 4, 50, True)
                for worker in range(2)]
        won = [order_id for run in runs for order_id in run.result(timeout=120)]
    assert len(won) == 150 and len(set(won)) == 150
    assert store.read(["drawn"]) == {"drawn": 150}
    stored = [key for key in store._redis.scan_iter(match=f"{{{namespace}}}:o:*")]
    assert len(stored) == 150
