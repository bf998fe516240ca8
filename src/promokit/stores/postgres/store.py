"""The :class:`PostgresStore` class: a store in PostgreSQL tables, each call one
transaction on a pooled connection, sent in as few round trips as libpq allows."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import math
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import TupleRow
from psycopg.types.numeric import Int8Dumper

from ...errors import StoreError, StoreUnavailable, StoreURLError
from ..base import (
    AddedCodes,
    Change,
    CheckedCodes,
    CodeRow,
    LedgerEntry,
    OrderRow,
    Outcome,
    check_page,
    check_through,
)
from ..throttle import check_in_order
from ..url import parse_store_url
from .pool import Connection, Pool
from .queries import Queries
from .transactions import BEGIN, COMMIT, AfterCommit, rollback, together
from .url import DEFAULT_POOL, mask_conninfo, masked_url, pool_size, without_own_options

__all__ = ["PostgresStore"]

_T = TypeVar("_T")

_DEFAULT_TIMEOUT = 5.0
_SWEEP_EVERY = 1000  # hits (or counted code checks) between two deletes of lapsed ones


class PostgresStore:
    """A store in PostgreSQL tables named ``{namespace}_…``; see the module docs.

    ``PostgresStore(conninfo, namespace=…, pool=…)`` takes a libpq connection
    string or URL without promokit's options; :meth:`from_url` reads a store URL.
    Both connect once and create any missing table.
    """

    def __init__(self, conninfo: str, *, namespace: str = "promokit",
                 pool: int = DEFAULT_POOL, url: str | None = None) -> None:
        self.url = url if url is not None else mask_conninfo(conninfo)
        self.namespace = namespace
        try:
            self._conninfo = make_conninfo(conninfo, fallback_application_name="promokit")
        except psycopg.Error as error:
            raise StoreURLError(f"{self.url}: {_one_line(error)}") from None
        self._pool = Pool(self._connect, pool, self.url)
        self._hits = itertools.count(1)
        self._checks = itertools.count(1)  # checks that counted a wrong code
        conn, _ = self._pool.take()
        try:
            self._q = Queries(namespace, conn)
            self._ensure_schema(conn)
        except BaseException as error:
            self._pool.give(conn)
            self._pool.close()
            if isinstance(error, psycopg.Error):
                raise self._error(error) from error
            raise
        self._pool.give(conn)

    @classmethod
    def from_url(cls, url: str) -> PostgresStore:
        """``postgresql://…`` or ``postgres://…``: libpq's URL with promokit's
        ``namespace``, ``pool`` and ``timeout`` options; connects once."""
        conninfo, namespace, pool, masked = _settings(url)
        return cls(conninfo, namespace=namespace, pool=pool, url=masked)

    @staticmethod
    def exists(url: str) -> bool:
        """Whether the store at ``url`` has been created (its namespace's tables are
        there), without creating it."""
        conninfo, namespace, _, masked = _settings(url)
        try:
            with psycopg.connect(conninfo) as conn:
                row = conn.execute("SELECT to_regclass(%s)", (f"{namespace}_orders",)).fetchone()
        except psycopg.OperationalError as error:
            raise StoreUnavailable(f"cannot reach PostgreSQL at {masked}: "
                                   f"{_one_line(error)}") from None
        except psycopg.Error as error:
            raise StoreError(f"the store at {masked} failed: {_one_line(error)}") from None
        return row is not None and row[0] is not None

    # -- the Store protocol ----------------------------------------------------------------

    def read(self, keys: Sequence[str]) -> dict[str, int]:
        if not keys:
            return {}

        def work(conn: Connection) -> dict[str, int]:
            rows = conn.execute(self._q.read, (list(keys),), prepare=True).fetchall()
            found = {str(key): int(value) for key, value in rows}
            return {key: found.get(key, 0) for key in keys}

        return self._run(work)

    def apply(self, change: Change) -> Outcome:
        return self._run(lambda conn: self._apply(conn, change))

    def _apply(self, conn: Connection, change: Change) -> Outcome:
        """One transaction in two round trips; see the module docs."""
        q = self._q
        deltas, expect = change.deltas, change.expect
        amounts = {d.key: d.amount for d in deltas} if expect else {}
        with together(conn):  # round trip 1 (on leaving): BEGIN, the order row, counters
            conn.execute(BEGIN, prepare=False)
            if change.revision == 0:
                written = conn.execute(q.create_order, (
                    change.order_id, change.status, change.expires_at, change.body),
                    prepare=True)
            else:
                written = conn.execute(q.update_order, (
                    change.status, change.expires_at, change.body, change.order_id,
                    change.revision), prepare=True)
            if expect:  # the expected counters no delta changes ride along, adding 0
                keys = [*amounts, *(e.key for e in expect if e.key not in amounts)]
                counters = conn.execute(q.add_counters_expect, (
                    keys, [amounts.get(key, 0) for key in keys]), prepare=True)
            elif deltas:
                counters = conn.execute(q.add_counters, (
                    [d.key for d in deltas], [d.amount for d in deltas]), prepare=True)
            else:
                counters = None

        # Round trip 2: ROLLBACK, or the ledger and journal entries and COMMIT.
        if written.rowcount != 1:  # the revision did not match: read the order as it is
            row = conn.execute(q.order, (change.order_id,), prepare=True).fetchone()
            rollback(conn)
            current = _order_row(row) if row is not None else None
            return Outcome(applied=False, revision=current.revision if current else 0,
                           current=current)
        after: dict[str, int] = {}
        seen: dict[str, int] = {}  # the expected counters, as they were
        zero: list[str] = []  # those no delta changes that stand at 0
        if expect and counters is not None:
            lapsed: set[str] = set()
            for key, value, gone in counters.fetchall():
                after[str(key)] = int(value)
                if gone:
                    lapsed.add(str(key))
            for e in expect:  # a delta's counter before it, any other as read() sees it
                if e.key in amounts:
                    seen[e.key] = after[e.key] - amounts[e.key]
                elif e.key in lapsed:
                    seen[e.key] = 0
                else:
                    seen[e.key] = after[e.key]
                    if not after[e.key]:
                        zero.append(e.key)
            stale = tuple(sorted(e.key for e in expect if not e.holds(seen[e.key])))
            if stale:
                rollback(conn)
                return Outcome(applied=False, revision=change.revision, stale=stale,
                               values={**seen, **{d.key: after[d.key] - d.amount
                                                  for d in deltas}})
        elif counters is not None:
            after = {str(key): int(value) for key, value in counters.fetchall()}
        refused = tuple(d.key for d in deltas if d.refuses(after[d.key] - d.amount))
        if refused:
            rollback(conn)
            return Outcome(applied=False, revision=change.revision, refused=refused,
                           values={**seen, **{d.key: after[d.key] - d.amount
                                              for d in deltas}})
        entries = change.ledger
        journal = [(record.stream, body) for record in change.journal
                   if (body := record.written(after)) is not None]
        # The upsert created a row (at 0) for each expected counter never written, to
        # lock it: those at 0 are deleted with the commit, so that expecting a counter
        # leaves no row behind (it reads 0 either way).
        try:
            if entries or journal or zero:
                with together(conn):
                    if zero:
                        conn.execute(q.drop_zero_counters, (zero,), prepare=True)
                    if entries:
                        conn.execute(q.add_ledger, (
                            [e.entry_id for e in entries], [e.order_id for e in entries],
                            [e.promotion for e in entries],
                            [e.at.isoformat() for e in entries],
                            [e.dumps() for e in entries]), prepare=True)
                    if journal:
                        conn.execute(q.add_journal, (
                            [stream for stream, _ in journal],
                            [body for _, body in journal]),
                            prepare=True)
                    conn.execute(COMMIT, prepare=False)
            else:
                conn.execute(COMMIT, prepare=False)
        except psycopg.Error as error:
            if isinstance(error, psycopg.OperationalError) or conn.closed:
                raise AfterCommit(error) from error
            raise
        return Outcome(applied=True, revision=change.revision + 1,
                       values={**seen, **{d.key: after[d.key] for d in deltas}})

    def order(self, order_id: str) -> OrderRow | None:
        def work(conn: Connection) -> OrderRow | None:
            row = conn.execute(self._q.order, (order_id,), prepare=True).fetchone()
            return _order_row(row) if row is not None else None

        return self._run(work)

    def expired(self, now: float, limit: int = 100) -> list[str]:
        def work(conn: Connection) -> list[str]:
            rows = conn.execute(self._q.expired, (float(now), max(limit, 0))).fetchall()
            return [str(order_id) for (order_id,) in rows]

        return self._run(work)

    def ledger(self, *, order_id: str | None = None, promotion: str | None = None,
               since: datetime | None = None, until: datetime | None = None,
               offset: int = 0, limit: int | None = None) -> list[LedgerEntry]:
        """Ledger entries in the order they were written (``seq``), filtered; after
        the first ``offset`` of those, at most ``limit`` (``LIMIT … OFFSET …``)."""
        check_page(offset, limit)
        where: list[bytes] = []
        params: list[object] = []
        for clause, value in ((b"order_id = %s", order_id), (b"promotion = %s", promotion),
                              (b"at >= %s", since), (b"at < %s", until)):
            if value is not None:
                where.append(clause)
                params.append(value)
        query = self._q.ledger_select
        if where:
            query += b" WHERE " + b" AND ".join(where)
        query += self._q.ledger_page
        params.extend((limit, offset))  # LIMIT NULL: no limit

        def work(conn: Connection) -> list[LedgerEntry]:
            rows = conn.execute(query, params).fetchall()
            return [LedgerEntry.loads(body) for (body,) in rows]

        return self._run(work)

    def journal(self, stream: str, *, after: int = 0, limit: int | None = None
                ) -> list[tuple[int, str]]:
        bound = None if limit is None else max(limit, 0)  # LIMIT NULL: no limit

        def work(conn: Connection) -> list[tuple[int, str]]:
            rows = conn.execute(self._q.journal, (stream, after, bound)).fetchall()
            return [(int(seq), str(body)) for seq, body in rows]

        return self._run(work)

    def trim_journal(self, stream: str, *, through: int) -> int:
        """One ``DELETE`` (its own transaction); the stream's ``journal_head`` row is
        left alone, so later entries keep counting on from the last sequence."""
        check_through(through)

        def work(conn: Connection) -> int:
            return max(conn.execute(self._q.trim_journal, (stream, through)).rowcount, 0)

        return self._run(work)

    def save_campaigns(self, version: str, body: str) -> None:
        self._run(lambda conn: _execute(conn, self._q.save_campaigns, (version, body)))

    def load_campaigns(self, version: str) -> str | None:
        def work(conn: Connection) -> str | None:
            row = conn.execute(self._q.load_campaigns, (version,)).fetchone()
            return str(row[0]) if row is not None else None

        return self._run(work)

    def add_codes(self, batch: str, codes: Sequence[str], uses: int) -> AddedCodes:
        unique = list(dict.fromkeys(codes))
        if not unique:
            return AddedCodes(added=0, existing=0)

        def work(conn: Connection) -> AddedCodes:
            # Insert first, then look for codes of other batches: the insert waits
            # for any concurrent insert of the same code to end, so the check after
            # it (a new snapshot) sees every code taken. The inserts go in sorted
            # order, so two overlapping batches never wait on each other in a cycle.
            with together(conn):
                conn.execute(BEGIN, prepare=False)
                inserted = conn.execute(self._q.insert_codes, (batch, uses, unique))
                clashing = conn.execute(self._q.code_conflicts, (unique, batch))
            conflicts = tuple(sorted(str(code) for (code,) in clashing.fetchall()))
            if conflicts:
                rollback(conn)
                return AddedCodes(added=0, existing=0, conflicts=conflicts)
            try:
                conn.execute(COMMIT, prepare=False)
            except psycopg.Error as error:
                if isinstance(error, psycopg.OperationalError) or conn.closed:
                    raise AfterCommit(error) from error
                raise
            return AddedCodes(added=inserted.rowcount, existing=len(unique) - inserted.rowcount)

        return self._run(work)

    def find_codes(self, codes: Sequence[str]) -> dict[str, CodeRow]:
        if not codes:
            return {}
        return self._run(lambda conn: self._find_codes(conn, codes))

    def _find_codes(self, conn: Connection, codes: Sequence[str]) -> dict[str, CodeRow]:
        rows = conn.execute(self._q.find_codes, (list(codes),)).fetchall()
        found = {str(code): CodeRow(str(batch), int(uses)) for code, batch, uses in rows}
        return {code: found[code] for code in codes if code in found}

    def check_codes(self, codes: Sequence[str], *, throttle: str, limit: int,
                    ttl: float) -> CheckedCodes:
        """One transaction under ``pg_advisory_xact_lock`` on the throttle (checks
        of one throttle take turns; nothing else waits on that lock): read the
        throttle and which codes it holds, look codes up, then write the wrong ones
        and the count with the ``COMMIT``; usually three round trips."""
        unique = list(dict.fromkeys(codes))
        if not unique:
            return CheckedCodes(failures=self.read([throttle])[throttle])
        digest = hashlib.sha256(f"promokit throttle {self.namespace} {throttle}".encode())
        lock = int.from_bytes(digest.digest()[:8], "big", signed=True)

        def work(conn: Connection) -> CheckedCodes:
            q = self._q
            with together(conn):  # round trip 1: BEGIN, the lock, the throttle
                conn.execute(BEGIN, prepare=False)
                conn.execute(q.lock, (lock,), prepare=True)
                state = conn.execute(q.throttle, (throttle,), prepare=True)
                held = conn.execute(q.wrong, (throttle, unique), prepare=True)
            row = state.fetchone()
            assert row is not None  # the statement always returns one row
            value, expires_at, now = row
            wrong = {str(code) for (code,) in held.fetchall()}
            failures = 0 if value is None else int(value)
            expires = float(expires_at) if expires_at is not None else float(now) + ttl
            checked = check_in_order(unique, wrong=wrong, failures=failures, limit=limit,
                                     find=lambda batch: self._find_codes(conn, batch))
            try:
                if checked.counted:  # the last round trip: the writes and the COMMIT
                    with together(conn):
                        conn.execute(q.set_throttle, (throttle, checked.failures, expires),
                                     prepare=True)
                        conn.execute(q.forget_wrong, (throttle,), prepare=True)
                        conn.execute(q.add_wrong, (throttle, expires, list(checked.counted)),
                                     prepare=True)
                        conn.execute(COMMIT, prepare=False)
                else:
                    conn.execute(COMMIT, prepare=False)
            except psycopg.Error as error:
                if isinstance(error, psycopg.OperationalError) or conn.closed:
                    raise AfterCommit(error) from error
                raise
            return checked

        checked = self._run(work)
        if checked.counted and next(self._checks) % _SWEEP_EVERY == 0:
            with contextlib.suppress(StoreError):  # housekeeping; the next sweep will do
                self._run(lambda conn: _execute(conn, self._q.sweep_wrong))
                self._run(lambda conn: _execute(conn, self._q.sweep))
        return checked

    def hit(self, key: str, ttl: float) -> int:
        def work(conn: Connection) -> int:
            row = conn.execute(self._q.hit, (key, float(ttl)), prepare=True).fetchone()
            if row is None:  # pragma: no cover - RETURNING always returns the row
                raise StoreError(f"PostgreSQL at {self.url} returned no hit count")
            return int(row[0])

        value = self._run(work)
        if next(self._hits) % _SWEEP_EVERY == 0:
            with contextlib.suppress(StoreError):  # housekeeping; the next sweep will do
                self._run(lambda conn: _execute(conn, self._q.sweep))
        return value

    def close(self) -> None:
        self._pool.close()

    # -- administration --------------------------------------------------------------------

    def drop(self) -> None:
        """Drop this namespace's eight tables, with their rows and indexes."""
        self._run(lambda conn: _execute(conn, self._q.drop))

    # -- connections -------------------------------------------------------------------------

    def _connect(self) -> Connection:
        try:
            conn = psycopg.Connection.connect(self._conninfo, autocommit=True)
        except psycopg.Error as error:
            if str(error).startswith("connection is bad: invalid"):
                # libpq refused an option's value before connecting (sslmode=bogus)
                message = _one_line(error).removeprefix("connection is bad: ")
                raise StoreURLError(f"{self.url}: {message}") from None
            raise StoreUnavailable(f"cannot reach PostgreSQL at {self.url}: "
                                   f"{_one_line(error)}") from None
        # Every integer goes as a bigint, so each statement keeps one set of parameter
        # types, and one prepared statement, whatever the sizes of its numbers.
        conn.adapters.register_dumper(int, Int8Dumper)
        return conn

    def _ensure_schema(self, conn: Connection) -> None:
        """Create the missing tables and indexes, once across all processes."""
        q = self._q
        row = conn.execute(q.exists, (q.names,)).fetchone()
        if row is not None and int(row[0]) == len(q.names):
            return  # the usual case: no DDL, no lock
        digest = hashlib.sha256(f"promokit schema {self.namespace}".encode()).digest()
        with conn.transaction():
            conn.execute(b"SET LOCAL client_min_messages = warning")
            conn.execute(q.lock, (int.from_bytes(digest[:8], "big", signed=True),))
            for statement in q.create:
                conn.execute(statement)

    def _run(self, work: Callable[[Connection], _T]) -> _T:
        """Run ``work`` on a pooled connection, turning psycopg errors into store errors.

        When the connection turns out broken (and was not just opened) ``work``
        runs once more on a new one: nothing was committed unless it raised
        :class:`AfterCommit`. (A single statement lost while it ran may have run:
        :meth:`hit` may count one more, the other ones are reads or idempotent.)
        """
        fresh = False
        for attempt in (1, 2):
            conn, opened = self._pool.take(fresh=fresh)
            try:
                return work(conn)
            except AfterCommit as unsure:
                raise StoreUnavailable(
                    f"lost PostgreSQL at {self.url} while committing; the change may "
                    f"or may not have been made: {_one_line(unsure.error)}"
                ) from unsure.error
            except psycopg.Error as error:
                if attempt == 1 and not opened and (conn.broken or conn.closed):
                    fresh = True
                    continue
                raise self._error(error) from error
            finally:
                self._pool.give(conn)
        raise AssertionError("unreachable")  # pragma: no cover

    def _error(self, error: psycopg.Error) -> StoreError:
        """The store error for a psycopg one: a lost server, a timeout or a cancelled
        statement is :class:`StoreUnavailable`; anything else :class:`StoreError`."""
        if isinstance(error, psycopg.errors.TransactionRollback):  # deadlock, serialization
            return StoreError(f"PostgreSQL at {self.url}: {_one_line(error)}")
        if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
            return StoreUnavailable(f"PostgreSQL at {self.url} is unavailable: "
                                    f"{_one_line(error)}")
        return StoreError(f"PostgreSQL at {self.url}: {_one_line(error)}")


def _execute(conn: Connection, query: bytes, params: Sequence[object] = ()) -> None:
    conn.execute(query, params)


def _order_row(row: TupleRow) -> OrderRow:
    order_id, revision, status, expires_at, body = row
    return OrderRow(order_id=str(order_id), revision=int(revision), status=str(status),
                    expires_at=float(expires_at) if expires_at is not None else None,
                    body=str(body))


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def _settings(url: str) -> tuple[str, str, int, str]:
    """The libpq connection string, namespace, pool size and masked form of a store URL."""
    parsed = parse_store_url(url)
    masked = masked_url(parsed)
    if parsed.scheme not in ("postgresql", "postgres"):
        raise StoreURLError(f"{masked}: a PostgreSQL store URL starts with "
                            "postgresql:// or postgres://")
    namespace = parsed.namespace()
    pool = pool_size(parsed, masked)
    timeout = parsed.number("timeout", _DEFAULT_TIMEOUT)
    try:
        params = conninfo_to_dict(without_own_options(url))
    except psycopg.Error as error:
        raise StoreURLError(f"{masked}: {_one_line(error)}") from None
    if "connect_timeout" not in params:
        params["connect_timeout"] = max(1, math.ceil(timeout))
    elif "timeout" in parsed.options:
        raise StoreURLError(f"{masked}: give timeout or connect_timeout, not both")
    return make_conninfo("", **params), namespace, pool, masked
