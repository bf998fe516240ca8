"""``sqlite://``: every store structure in one SQLite file, in WAL mode.

``sqlite:///relative/path.db`` (from the working directory at open) or
``sqlite:////absolute/path.db``; options ``namespace`` (table prefix, default
``promokit``), ``timeout`` (seconds a write waits for the file's write lock,
default 30) and ``synchronous`` (``full``, the default: a commit is on disk
when :meth:`SQLiteStore.apply` returns; or ``normal``: faster, and a power cut
may lose the last commits but never corrupts the file). The path is
percent-decoded (``%20``, ``%23``). The file is created if absent; its
directory must exist.

Layout, for namespace ``ns``:

- ``ns_counters (name, value, expires_at)``: counters; ``expires_at`` is NULL
  for counters changed by :meth:`~SQLiteStore.apply` and set for the
  short-lived ones of :meth:`~SQLiteStore.hit`, which read 0 once lapsed and
  are deleted now and then;
- ``ns_orders (order_id, revision, status, expires_at, body)``, with a partial
  index on ``(expires_at, order_id)`` for :meth:`~SQLiteStore.expired`;
- ``ns_ledger (seq, order_id, promotion, at_us, entry)``: ``entry`` is
  :meth:`LedgerEntry.dumps`, ``seq`` keeps the order of writing, ``at_us`` (the
  entry's time in microseconds since the epoch, exact) and the ids are indexed
  for the filters;
- ``ns_journal (stream, seq, body)``, primary key ``(stream, seq)``: journal
  entries, ``seq`` counting 1, 2, 3 … within each stream;
- ``ns_campaigns (version, body)`` and ``ns_codes (code, batch, uses)``.

Guarantees: every write is one ``BEGIN IMMEDIATE`` transaction, so it holds
the file's write lock from its first read to its commit, and writes from all
threads and processes on the machine are serialized by SQLite itself.
:meth:`~SQLiteStore.apply` writes the order (the revision check is the
``WHERE`` of that write), adds every delta in one ``UPSERT … RETURNING``,
checks the expected counters (a delta's from the value that statement returns,
less its amount; any other read by one ``SELECT`` in the same transaction,
only when there are such), and rolls everything back if the revision did not
match, an expectation does not hold or a delta is refused.
A journal entry's ``seq`` is its stream's ``MAX(seq) + 1``, read and written
in that same transaction: the write lock makes it dense and in apply order.
Each thread uses its own connection, so reads never wait (WAL readers do not
block on a writer); writes of one process to one file also queue on a Python
lock, so its threads take turns instead of polling in SQLite's sleeping busy
handler, where a thread can starve for half a second. A fork()ed child opens
its own connections. Do not put the file on a network file system (SQLite's
locks do not work there).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit

from ..errors import StoreError, StoreUnavailable, StoreURLError
from .base import AddedCodes, Change, CodeRow, LedgerEntry, OrderRow, Outcome
from .url import parse_store_url

__all__ = ["SQLiteStore"]

_OPTIONS = ("namespace", "timeout", "synchronous")
_SYNCHRONOUS = {"full": "FULL", "normal": "NORMAL"}
_CHUNK = 500  # keys per "IN (…)" query, well under SQLite's bound-parameter limit
_SWEEP_EVERY = 60.0  # seconds between deletions of lapsed hit counters, per handle
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

# Statements, formatted with the namespace (and the number of "?" groups) at open.

_SCHEMA = """
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS {ns}_counters (
    name TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL,
    expires_at REAL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS {ns}_counters_expiry
    ON {ns}_counters (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS {ns}_orders (
    order_id TEXT PRIMARY KEY NOT NULL,
    revision INTEGER NOT NULL,
    status TEXT NOT NULL,
    expires_at REAL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS {ns}_orders_expiry
    ON {ns}_orders (expires_at, order_id) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS {ns}_ledger (
    seq INTEGER PRIMARY KEY,
    order_id TEXT NOT NULL,
    promotion TEXT NOT NULL,
    at_us INTEGER NOT NULL,
    entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS {ns}_ledger_order ON {ns}_ledger (order_id);
CREATE INDEX IF NOT EXISTS {ns}_ledger_promotion ON {ns}_ledger (promotion);
CREATE INDEX IF NOT EXISTS {ns}_ledger_at ON {ns}_ledger (at_us);
CREATE TABLE IF NOT EXISTS {ns}_journal (
    stream TEXT NOT NULL,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (stream, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS {ns}_campaigns (
    version TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS {ns}_codes (
    code TEXT PRIMARY KEY NOT NULL,
    batch TEXT NOT NULL,
    uses INTEGER NOT NULL
) WITHOUT ROWID;
COMMIT;
"""
_TABLES = ("counters", "orders", "ledger", "journal", "campaigns", "codes")

_READ = "SELECT name, value, expires_at FROM {ns}_counters WHERE name IN ({marks})"
_ADD = ("INSERT INTO {ns}_counters (name, value) VALUES {rows} "
        "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value "
        "RETURNING name, value")
_CREATE_ORDER = ("INSERT INTO {ns}_orders (order_id, revision, status, expires_at, body) "
                 "VALUES (?, 1, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING")
_UPDATE_ORDER = ("UPDATE {ns}_orders SET revision = revision + 1, status = ?, "
                 "expires_at = ?, body = ? WHERE order_id = ? AND revision = ?")
_ORDER = "SELECT revision, status, expires_at, body FROM {ns}_orders WHERE order_id = ?"
_EXPIRED = ("SELECT order_id FROM {ns}_orders WHERE expires_at IS NOT NULL "
            "AND expires_at <= ? ORDER BY expires_at, order_id LIMIT ?")
_APPEND = "INSERT INTO {ns}_ledger (order_id, promotion, at_us, entry) VALUES (?, ?, ?, ?)"
_LEDGER = "SELECT entry FROM {ns}_ledger{where} ORDER BY seq"
# Run once per entry (executemany), so each sees the ones before it.
_JOURNAL_APPEND = ("INSERT INTO {ns}_journal (stream, seq, body) "
                   "SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2 FROM {ns}_journal "
                   "WHERE stream = ?1")
_JOURNAL = ("SELECT seq, body FROM {ns}_journal WHERE stream = ? AND seq > ? "
            "ORDER BY seq LIMIT ?")
_SAVE_CAMPAIGNS = ("INSERT INTO {ns}_campaigns (version, body) VALUES (?, ?) "
                   "ON CONFLICT (version) DO NOTHING")
_LOAD_CAMPAIGNS = "SELECT body FROM {ns}_campaigns WHERE version = ?"
_CODE_BATCHES = "SELECT code, batch FROM {ns}_codes WHERE code IN ({marks})"
_FIND_CODES = "SELECT code, batch, uses FROM {ns}_codes WHERE code IN ({marks})"
_ADD_CODE = "INSERT INTO {ns}_codes (code, batch, uses) VALUES (?, ?, ?)"
_HIT = ("INSERT INTO {ns}_counters (name, value, expires_at) VALUES (?1, 1, ?2 + ?3) "
        "ON CONFLICT (name) DO UPDATE SET "
        "value = CASE WHEN expires_at <= ?2 THEN 1 ELSE value + 1 END, "
        "expires_at = CASE WHEN expires_at <= ?2 THEN ?2 + ?3 ELSE expires_at END "
        "RETURNING value")
_SWEEP = "DELETE FROM {ns}_counters WHERE expires_at IS NOT NULL AND expires_at <= ?"

# SQLite result codes (the low byte of an extended code) that mean the file cannot
# be used now rather than that the store is broken.
_UNAVAILABLE = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED,
                          sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR})


# -- process-wide state: the write lock of each file, and fork safety --------------

class _Process:
    pid = os.getpid()


#: One lock per database file, shared by every handle of this process on that file.
_WRITE_LOCKS: dict[str, threading.Lock] = {}
#: Connections a forked child inherited: SQLite forbids using or closing them there,
#: so they are kept (never closed) instead of being closed by the garbage collector.
_INHERITED: list[sqlite3.Connection] = []


def _after_fork_in_child() -> None:
    _Process.pid = os.getpid()
    _WRITE_LOCKS.clear()  # a lock held by a parent thread would never be released


os.register_at_fork(after_in_child=_after_fork_in_child)


def _write_lock(path: str) -> threading.Lock:
    lock = _WRITE_LOCKS.get(path)
    if lock is None:
        lock = _WRITE_LOCKS.setdefault(path, threading.Lock())
    return lock


def _close(db: sqlite3.Connection, pid: int) -> None:
    if pid != _Process.pid:
        _INHERITED.append(db)
        return
    with suppress(sqlite3.Error):  # close only fails on a broken handle
        db.close()


def _release(connections: dict[int, tuple[sqlite3.Connection, int]],
             db: sqlite3.Connection, pid: int) -> None:
    """Close a thread's connection once the thread (or the handle) is gone."""
    connections.pop(id(db), None)
    _close(db, pid)


class _Held:
    """A thread's connection and the process that opened it."""

    __slots__ = ("__weakref__", "db", "pid")

    def __init__(self, db: sqlite3.Connection, pid: int) -> None:
        self.db = db
        self.pid = pid


def _rollback(db: sqlite3.Connection) -> None:
    if db.in_transaction:
        with suppress(sqlite3.Error):  # the error being raised says more
            db.execute("ROLLBACK")


def _micros(at: datetime) -> int:
    """``at`` in whole microseconds since the epoch (a naive time is local, as
    :meth:`datetime.timestamp` reads it)."""
    if at.tzinfo is None:
        at = at.astimezone()
    return (at - _EPOCH) // _MICROSECOND


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


class SQLiteStore:
    """A store in one SQLite file, shared by every thread and process of the machine
    that opens it. ``SQLiteStore(url)`` or ``SQLiteStore.from_url(url)`` opens it
    (creating the file and tables if absent); see the module for the URL."""

    def __init__(self, url: str = "sqlite:///promokit.db") -> None:
        if sqlite3.sqlite_version_info < (3, 35, 0):  # pragma: no cover
            raise StoreError(f"the sqlite store needs SQLite 3.35 or later (UPSERT with "
                             f"RETURNING); this Python has {sqlite3.sqlite_version}")
        path, namespace, timeout, synchronous, masked = _parse(url)
        self.url = masked
        self.path = path
        """The database file, absolute."""
        self.namespace = namespace
        """The prefix of this store's tables."""
        self._timeout = timeout
        self._synchronous = synchronous
        self._local = threading.local()
        self._connections: dict[int, tuple[sqlite3.Connection, int]] = {}
        self._closed = False
        self._sweep_at = 0.0
        ns = namespace
        self._sql_schema = _SCHEMA.format(ns=ns)
        self._sql_create_order = _CREATE_ORDER.format(ns=ns)
        self._sql_update_order = _UPDATE_ORDER.format(ns=ns)
        self._sql_order = _ORDER.format(ns=ns)
        self._sql_expired = _EXPIRED.format(ns=ns)
        self._sql_append = _APPEND.format(ns=ns)
        self._sql_journal_append = _JOURNAL_APPEND.format(ns=ns)
        self._sql_journal = _JOURNAL.format(ns=ns)
        self._sql_save_campaigns = _SAVE_CAMPAIGNS.format(ns=ns)
        self._sql_load_campaigns = _LOAD_CAMPAIGNS.format(ns=ns)
        self._sql_add_code = _ADD_CODE.format(ns=ns)
        self._sql_hit = _HIT.format(ns=ns)
        self._sql_sweep = _SWEEP.format(ns=ns)
        self._sql_add: dict[int, str] = {}
        self._sql_in: dict[tuple[str, int], str] = {}
        self._setup()

    @classmethod
    def from_url(cls, url: str) -> SQLiteStore:
        """Open the store at a ``sqlite://`` URL (see the module for its forms and
        options); :class:`~promokit.errors.StoreURLError` if the URL is unusable."""
        return cls(url)

    def __repr__(self) -> str:
        return f"SQLiteStore({self.url!r})"

    def _setup(self) -> None:
        """Turn WAL on and create the tables (once per handle, not per connection)."""
        try:
            db = self._db()
            self._use_wal(db)
            try:
                db.executescript(self._sql_schema)
            except BaseException:
                _rollback(db)
                raise
        except (sqlite3.Error, OverflowError) as error:
            self.close()
            raise self._error("open", error) from error
        except BaseException:
            self.close()
            raise

    def _use_wal(self, db: sqlite3.Connection) -> None:
        """Switch the file to WAL. While another process switches a new file, SQLite
        answers SQLITE_BUSY at once (no busy handler here), so retry until ``timeout``."""
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                break
            except sqlite3.OperationalError as error:
                code = getattr(error, "sqlite_errorcode", 0) & 0xFF
                if code != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                    raise
                time.sleep(0.005)
        if str(mode).lower() != "wal":
            raise StoreError(f"{self.url}: SQLite refused WAL mode for {self.path} "
                             f"(journal_mode is {mode!r})")

    # -- connections, locks and errors -------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        held: _Held | None = getattr(self._local, "held", None)
        if held is not None and held.pid == _Process.pid:
            return held.db
        return self._connect()

    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError(f"{self.url}: the store is closed")
        pid = _Process.pid
        db = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None,
                             check_same_thread=False, cached_statements=256)
        try:
            db.execute(f"PRAGMA synchronous = {self._synchronous}")
        except BaseException:
            db.close()
            raise
        held = _Held(db, pid)
        self._connections[id(db)] = (db, pid)
        # Closed when the thread ends (its thread-local goes) or the handle is dropped;
        # a connection inherited through fork() is replaced here and kept unclosed.
        finalizer = weakref.finalize(held, _release, self._connections, db, pid)
        finalizer.atexit = False
        self._local.held = held
        return db

    def _lock(self, what: str) -> threading.Lock:
        """Take this process's write lock on the file (then SQLite's, in BEGIN)."""
        lock = _write_lock(self.path)
        if not lock.acquire(timeout=self._timeout):
            raise StoreUnavailable(
                f"{self.url}: {what}: another thread of this process held the database's "
                f"write lock for {self._timeout:g} s")
        return lock

    def _error(self, what: str, error: BaseException) -> StoreError:
        """The promokit error for a sqlite3 error raised during ``what``."""
        if isinstance(error, StoreError):
            return error
        if isinstance(error, OverflowError):
            return StoreError(f"{self.url}: {what}: a number outside SQLite's 64-bit "
                              f"integer range ({error})")
        code = getattr(error, "sqlite_errorcode", None)
        primary = code & 0xFF if isinstance(code, int) else None
        if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return StoreUnavailable(
                f"{self.url}: {what}: the database stayed locked for {self._timeout:g} s "
                f"(another process holds a long write; raise ?timeout= if that is "
                f"expected) ({error})")
        if primary == sqlite3.SQLITE_NOTADB:
            return StoreError(f"{self.url}: {what}: {self.path} is not a SQLite database "
                              f"({error})")
        if primary in _UNAVAILABLE:
            return StoreUnavailable(f"{self.url}: {what}: cannot use {self.path} ({error})")
        return StoreError(f"{self.url}: {what} failed: {error}")

    @contextmanager
    def _reading(self, what: str) -> Iterator[sqlite3.Connection]:
        """This thread's connection, outside any transaction; errors mapped."""
        try:
            yield self._db()
        except (sqlite3.Error, OverflowError) as error:
            raise self._error(what, error) from error

    @contextmanager
    def _writing(self, what: str) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction, committed if the block ends normally
        and rolled back if it raises; errors mapped."""
        lock = self._lock(what)
        try:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                _rollback(db)
                raise
        except (sqlite3.Error, OverflowError) as error:
            raise self._error(what, error) from error
        finally:
            lock.release()

    def _in(self, template: str, n: int) -> str:
        """``template`` with ``n`` parameters in its ``IN (…)``."""
        sql = self._sql_in.get((template, n))
        if sql is None:
            sql = self._sql_in[template, n] = template.format(ns=self.namespace,
                                                              marks=_marks(n))
        return sql

    # -- the protocol ------------------------------------------------------------------

    def read(self, keys: Sequence[str]) -> dict[str, int]:
        """The value of each key; a key never written (or a lapsed hit counter) reads 0."""
        found: dict[str, tuple[int, float | None]] = {}
        if keys:
            unique = list(dict.fromkeys(keys))
            with self._reading("read counters") as db:
                for chunk in _chunks(unique):
                    for name, value, expires_at in db.execute(
                            self._in(_READ, len(chunk)), chunk):
                        found[name] = (value, expires_at)
        now = time.time()
        values: dict[str, int] = {}
        for key in keys:
            value, expires_at = found.get(key, (0, None))
            values[key] = value if expires_at is None or expires_at > now else 0
        return values

    def apply(self, change: Change) -> Outcome:
        """Apply ``change`` atomically in one ``BEGIN IMMEDIATE`` transaction: write
        the order (only at the expected revision), add the deltas, check the
        expectations and then the limits, append the ledger and the journal; or roll
        back and report the conflict, the stale expectations or the refused counters."""
        lock = self._lock("apply")
        try:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                outcome = self._apply(db, change)
            except BaseException:
                _rollback(db)
                raise
        except (sqlite3.Error, OverflowError) as error:
            raise self._error(f"apply to order {change.order_id!r}", error) from error
        finally:
            lock.release()
        return outcome

    def _apply(self, db: sqlite3.Connection, change: Change) -> Outcome:
        """The statements of :meth:`apply`, inside its transaction; ends it."""
        order_id = change.order_id
        if change.revision == 0:
            cursor = db.execute(self._sql_create_order, (
                order_id, change.status, change.expires_at, change.body))
        else:
            cursor = db.execute(self._sql_update_order, (
                change.status, change.expires_at, change.body, order_id, change.revision))
        if cursor.rowcount != 1:
            current = self._order(db, order_id)
            db.execute("ROLLBACK")
            return Outcome(applied=False, revision=current.revision if current else 0,
                           current=current)
        deltas = change.deltas
        values: dict[str, int] = {}
        refused: list[str] = []
        if deltas:
            sql = self._sql_add.get(len(deltas))
            if sql is None:
                sql = self._sql_add[len(deltas)] = _ADD.format(
                    ns=self.namespace, rows=", ".join(("(?, ?)",) * len(deltas)))
            params: list[str | int] = []
            for delta in deltas:
                params += (delta.key, delta.amount)
            after: dict[str, int] = dict(db.execute(sql, params).fetchall())
            for delta in deltas:
                value = after[delta.key]
                if type(value) is not int:  # SQLite turns an overflowing sum into REAL
                    raise OverflowError(f"counter {delta.key!r} would pass 2**63 - 1")
                values[delta.key] = value
                if delta.refuses(value - delta.amount):
                    refused.append(delta.key)
        if change.expect:
            # Checked before the limits (the deltas are rolled back either way): a
            # delta's counter as it was before it, any other as read() would see it.
            seen = self._expected(db, change, values)
            stale = tuple(sorted(e.key for e in change.expect if not e.holds(seen[e.key])))
            if stale or refused:
                db.execute("ROLLBACK")
                before = {d.key: values[d.key] - d.amount for d in deltas}
                return Outcome(applied=False, revision=change.revision, stale=stale,
                               refused=() if stale else tuple(refused),
                               values={**seen, **before})
            for key, value in seen.items():
                values.setdefault(key, value)
        elif refused:
            db.execute("ROLLBACK")
            return Outcome(applied=False, revision=change.revision,
                           refused=tuple(refused),
                           values={d.key: values[d.key] - d.amount for d in deltas})
        if change.ledger:
            db.executemany(self._sql_append, [
                (entry.order_id, entry.promotion, _micros(entry.at), entry.dumps())
                for entry in change.ledger])
        if change.journal:
            db.executemany(self._sql_journal_append, [
                (record.stream, record.body) for record in change.journal])
        db.execute("COMMIT")
        return Outcome(applied=True, revision=change.revision + 1, values=values)

    def _expected(self, db: sqlite3.Connection, change: Change,
                  after: dict[str, int]) -> dict[str, int]:
        """Each expected counter's value before ``change``: a delta's from ``after``
        (its value after the delta), the others read in the transaction."""
        amounts = {d.key: d.amount for d in change.deltas}
        seen = {key: after[key] - amounts[key] for key in amounts}
        others = [e.key for e in change.expect if e.key not in amounts]
        if others:
            found: dict[str, tuple[int, float | None]] = {}
            for chunk in _chunks(others):
                for name, value, expires_at in db.execute(self._in(_READ, len(chunk)), chunk):
                    found[name] = (value, expires_at)
            now = time.time()
            for key in others:
                value, expires_at = found.get(key, (0, None))
                seen[key] = value if expires_at is None or expires_at > now else 0
        return {e.key: seen[e.key] for e in change.expect}

    def _order(self, db: sqlite3.Connection, order_id: str) -> OrderRow | None:
        row = db.execute(self._sql_order, (order_id,)).fetchone()
        if row is None:
            return None
        revision, status, expires_at, body = row
        return OrderRow(order_id=order_id, revision=revision, status=status,
                        expires_at=expires_at, body=body)

    def order(self, order_id: str) -> OrderRow | None:
        """The order as stored, or ``None``."""
        with self._reading("read an order") as db:
            return self._order(db, order_id)

    def expired(self, now: float, limit: int = 100) -> list[str]:
        """Ids of orders whose ``expires_at`` is at or before ``now``, soonest first
        (ties by order id); uses the partial index on ``expires_at``."""
        with self._reading("list expired orders") as db:
            return [order_id for (order_id,) in db.execute(self._sql_expired, (now, limit))]

    def ledger(self, *, order_id: str | None = None, promotion: str | None = None,
               since: datetime | None = None, until: datetime | None = None
               ) -> list[LedgerEntry]:
        """Ledger entries in the order they were written, optionally only one order's,
        one promotion's, or those with ``since <= at < until``."""
        clauses: list[str] = []
        params: list[str | int] = []
        if order_id is not None:
            clauses.append("order_id = ?")
            params.append(order_id)
        if promotion is not None:
            clauses.append("promotion = ?")
            params.append(promotion)
        if since is not None:
            clauses.append("at_us >= ?")
            params.append(_micros(since))
        if until is not None:
            clauses.append("at_us < ?")
            params.append(_micros(until))
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        with self._reading("read the ledger") as db:
            rows = db.execute(_LEDGER.format(ns=self.namespace, where=where),
                              params).fetchall()
        return [LedgerEntry.loads(text) for (text,) in rows]

    def journal(self, stream: str, *, after: int = 0, limit: int | None = None
                ) -> list[tuple[int, str]]:
        """Entries of ``stream`` as ``(sequence, body)``, oldest first; only those
        with sequence > ``after``, at most ``limit``."""
        bound = -1 if limit is None else max(limit, 0)  # LIMIT -1: no limit
        with self._reading("read a journal") as db:
            rows = db.execute(self._sql_journal, (stream, after, bound)).fetchall()
        return [(int(seq), str(body)) for seq, body in rows]

    def save_campaigns(self, version: str, body: str) -> None:
        """Keep the canonical JSON of a campaign version (a no-op if kept already)."""
        with self._writing("save campaigns") as db:
            db.execute(self._sql_save_campaigns, (version, body))

    def load_campaigns(self, version: str) -> str | None:
        """The canonical JSON of a kept campaign version, or ``None``."""
        with self._reading("load campaigns") as db:
            row = db.execute(self._sql_load_campaigns, (version,)).fetchone()
        return None if row is None else str(row[0])

    def add_codes(self, batch: str, codes: Sequence[str], uses: int) -> AddedCodes:
        """Register coupon codes of ``batch`` in one transaction, all or nothing: if
        any code belongs to another batch, nothing is added and those are returned."""
        unique = list(dict.fromkeys(codes))
        with self._writing(f"add codes of batch {batch!r}") as db:
            known: dict[str, str] = {}
            for chunk in _chunks(unique):
                known.update(db.execute(self._in(_CODE_BATCHES, len(chunk)), chunk))
            conflicts = tuple(sorted(code for code, owner in known.items() if owner != batch))
            if conflicts:
                return AddedCodes(added=0, existing=0, conflicts=conflicts)
            new = [code for code in unique if code not in known]
            db.executemany(self._sql_add_code, [(code, batch, uses) for code in new])
        return AddedCodes(added=len(new), existing=len(unique) - len(new))

    def find_codes(self, codes: Sequence[str]) -> dict[str, CodeRow]:
        """The registered codes among ``codes``; unknown ones are left out."""
        found: dict[str, CodeRow] = {}
        if codes:
            with self._reading("find codes") as db:
                for chunk in _chunks(list(dict.fromkeys(codes))):
                    for code, batch, uses in db.execute(self._in(_FIND_CODES, len(chunk)),
                                                        chunk):
                        found[code] = CodeRow(batch, uses)
        return {code: found[code] for code in codes if code in found}

    def hit(self, key: str, ttl: float) -> int:
        """Add one to a short-lived counter and return its new value; a lapsed one
        starts again at 1 with a fresh expiry. Lapsed ones are deleted now and then."""
        now = time.time()
        with self._writing("hit") as db:
            if now >= self._sweep_at:
                self._sweep_at = now + _SWEEP_EVERY
                db.execute(self._sql_sweep, (now,))
            (value,) = db.execute(self._sql_hit, (key, now, ttl)).fetchone()
        return int(value)

    def close(self) -> None:
        """Close this handle's connections (every thread's); later calls raise
        :class:`~promokit.errors.StoreError`. Closing twice is harmless."""
        self._closed = True
        self._local = threading.local()
        for key, (db, pid) in self._connections.copy().items():
            self._connections.pop(key, None)
            _close(db, pid)

    # -- for tests and admins -------------------------------------------------------------

    def drop(self) -> None:
        """Delete this namespace's tables and everything in them (other namespaces in
        the file stay). The handle can only be closed afterwards."""
        with self._writing("drop") as db:
            for table in _TABLES:
                db.execute(f"DROP TABLE IF EXISTS {self.namespace}_{table}")


def _parse(url: str) -> tuple[str, str, float, str, str]:
    """The file (absolute), namespace, timeout, synchronous mode and masked URL of a
    ``sqlite://`` URL, or :class:`StoreURLError`."""
    parsed = parse_store_url(url)
    masked = parsed.masked
    forms = "use sqlite:///relative/path.db or sqlite:////absolute/path.db"
    if parsed.scheme != "sqlite":
        raise StoreURLError(f"{masked}: not a sqlite:// URL")
    parsed.only(*_OPTIONS)
    netloc = urlsplit(url).netloc
    if netloc:
        raise StoreURLError(f"{masked}: a sqlite URL takes no host ({netloc!r}); {forms}")
    namespace = parsed.namespace()
    timeout = parsed.number("timeout", 30.0)
    raw = parsed.options.get("synchronous", "full")
    synchronous = _SYNCHRONOUS.get(raw.lower())
    if synchronous is None:
        raise StoreURLError(f"{masked}: option synchronous={raw!r} must be 'full' "
                            "(durable, the default) or 'normal'")
    name = unquote(parsed.path[1:] if parsed.path.startswith("/") else parsed.path)
    if not name:
        raise StoreURLError(f"{masked}: no database file; {forms}")
    if name == ":memory:" or name.startswith("file:"):
        raise StoreURLError(f"{masked}: give a file path ({forms}); for a store in "
                            "memory use memory://")
    path = os.path.realpath(os.path.abspath(name))
    if name.endswith(("/", os.sep)) or os.path.isdir(path):
        raise StoreURLError(f"{masked}: {path!r} is a directory, not a database file")
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise StoreURLError(f"{masked}: directory {directory!r} does not exist "
                            "(create it first)")
    return path, namespace, timeout, synchronous, masked
