"""The :class:`SQLiteStore` class: a store in one SQLite file, each write one
``BEGIN IMMEDIATE`` transaction, each thread on its own connection."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import urllib.parse
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from ...errors import StoreError, StoreUnavailable
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
from .connections import (
    Held,
    ThisProcess,
    close_connection,
    release_connection,
    rollback,
    store_error,
    use_wal,
    write_lock,
)
from .queries import TABLES, Queries, chunks, micros
from .url import parse_url

__all__ = ["SQLiteStore"]

_SWEEP_EVERY = 60.0  # seconds between deletions of lapsed hit counters, per handle


class SQLiteStore:
    """A store in one SQLite file, shared by every thread and process of the machine
    that opens it. ``SQLiteStore(url)`` or ``SQLiteStore.from_url(url)`` opens it
    (creating the file and tables if absent); see the module for the URL."""

    def __init__(self, url: str = "sqlite:///promokit.db") -> None:
        if sqlite3.sqlite_version_info < (3, 35, 0):  # pragma: no cover
            raise StoreError(f"the sqlite store needs SQLite 3.35 or later (UPSERT with "
                             f"RETURNING); this Python has {sqlite3.sqlite_version}")
        path, namespace, timeout, synchronous, masked = parse_url(url)
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
        self._sql = Queries(namespace)
        self._setup()

    @classmethod
    def from_url(cls, url: str) -> SQLiteStore:
        """Open the store at a ``sqlite://`` URL (see the module for its forms and
        options); :class:`~promokit.errors.StoreURLError` if the URL is unusable."""
        return cls(url)

    @staticmethod
    def exists(url: str) -> bool:
        """Whether the store at ``url`` has been created (the file holds its
        namespace's tables), without creating the file or the tables."""
        path, namespace, timeout, _, masked = parse_url(url)
        if not os.path.isfile(path):
            return False
        try:
            db = sqlite3.connect(f"file:{urllib.parse.quote(path)}?mode=ro", uri=True,
                                 timeout=timeout)
            try:
                found = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                   "AND name = ?", (f"{namespace}_orders",)).fetchone()
            finally:
                db.close()
        except sqlite3.Error as error:
            raise StoreError(f"cannot read the store at {masked}: {error}") from None
        return found is not None

    def __repr__(self) -> str:
        return f"SQLiteStore({self.url!r})"

    def _setup(self) -> None:
        """Turn WAL on and create the tables (once per handle, not per connection)."""
        try:
            db = self._db()
            use_wal(db, url=self.url, path=self.path, timeout=self._timeout)
            try:
                db.executescript(self._sql.schema)
            except BaseException:
                rollback(db)
                raise
        except (sqlite3.Error, OverflowError) as error:
            self.close()
            raise self._error("open", error) from error
        except BaseException:
            self.close()
            raise

    # -- connections, locks and errors -------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        held: Held | None = getattr(self._local, "held", None)
        if held is not None and held.pid == ThisProcess.pid:
            return held.db
        return self._connect()

    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError(f"{self.url}: the store is closed")
        pid = ThisProcess.pid
        db = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None,
                             check_same_thread=False, cached_statements=256)
        try:
            db.execute(f"PRAGMA synchronous = {self._synchronous}")
        except BaseException:
            db.close()
            raise
        held = Held(db, pid)
        self._connections[id(db)] = (db, pid)
        # Closed when the thread ends (its thread-local goes) or the handle is dropped;
        # a connection inherited through fork() is replaced here and kept unclosed.
        finalizer = weakref.finalize(held, release_connection, self._connections, db, pid)
        finalizer.atexit = False
        self._local.held = held
        return db

    def _lock(self, what: str) -> threading.Lock:
        """Take this process's write lock on the file (then SQLite's, in BEGIN)."""
        lock = write_lock(self.path)
        if not lock.acquire(timeout=self._timeout):
            raise StoreUnavailable(
                f"{self.url}: {what}: another thread of this process held the database's "
                f"write lock for {self._timeout:g} s")
        return lock

    def _error(self, what: str, error: BaseException) -> StoreError:
        """The promokit error for a sqlite3 error raised during ``what``."""
        return store_error(error, url=self.url, what=what, path=self.path,
                           timeout=self._timeout)

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
                rollback(db)
                raise
        except (sqlite3.Error, OverflowError) as error:
            raise self._error(what, error) from error
        finally:
            lock.release()

    # -- the protocol ------------------------------------------------------------------

    def read(self, keys: Sequence[str]) -> dict[str, int]:
        """The value of each key; a key never written (or a lapsed hit counter) reads 0."""
        found: dict[str, tuple[int, float | None]] = {}
        if keys:
            unique = list(dict.fromkeys(keys))
            with self._reading("read counters") as db:
                for chunk in chunks(unique):
                    for name, value, expires_at in db.execute(
                            self._sql.read(len(chunk)), chunk):
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
                rollback(db)
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
            cursor = db.execute(self._sql.create_order, (
                order_id, change.status, change.expires_at, change.body))
        else:
            cursor = db.execute(self._sql.update_order, (
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
            sql = self._sql.add(len(deltas))
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
            db.executemany(self._sql.append, [
                (entry.order_id, entry.promotion, micros(entry.at), entry.dumps())
                for entry in change.ledger])
        journal = [(record.stream, body) for record in change.journal
                   if (body := record.written(values)) is not None]
        if journal:
            db.executemany(self._sql.journal_append, journal)
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
            for chunk in chunks(others):
                for name, value, expires_at in db.execute(self._sql.read(len(chunk)), chunk):
                    found[name] = (value, expires_at)
            now = time.time()
            for key in others:
                value, expires_at = found.get(key, (0, None))
                seen[key] = value if expires_at is None or expires_at > now else 0
        return {e.key: seen[e.key] for e in change.expect}

    def _order(self, db: sqlite3.Connection, order_id: str) -> OrderRow | None:
        row = db.execute(self._sql.order, (order_id,)).fetchone()
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
            return [order_id for (order_id,) in db.execute(self._sql.expired, (now, limit))]

    def ledger(self, *, order_id: str | None = None, promotion: str | None = None,
               since: datetime | None = None, until: datetime | None = None,
               offset: int = 0, limit: int | None = None) -> list[LedgerEntry]:
        """Ledger entries in the order they were written, optionally only one order's,
        one promotion's, or those with ``since <= at < until``; after the first
        ``offset`` of those, at most ``limit`` (``LIMIT ? OFFSET ?`` on ``seq``)."""
        check_page(offset, limit)
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
            params.append(micros(since))
        if until is not None:
            clauses.append("at_us < ?")
            params.append(micros(until))
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        params.extend((-1 if limit is None else limit, offset))  # LIMIT -1: no limit
        with self._reading("read the ledger") as db:
            rows = db.execute(self._sql.ledger(where),
                              params).fetchall()
        return [LedgerEntry.loads(text) for (text,) in rows]

    def journal(self, stream: str, *, after: int = 0, limit: int | None = None
                ) -> list[tuple[int, str]]:
        """Entries of ``stream`` as ``(sequence, body)``, oldest first; only those
        with sequence > ``after``, at most ``limit``."""
        bound = -1 if limit is None else max(limit, 0)  # LIMIT -1: no limit
        with self._reading("read a journal") as db:
            rows = db.execute(self._sql.journal, (stream, after, bound)).fetchall()
        return [(int(seq), str(body)) for seq, body in rows]

    def trim_journal(self, stream: str, *, through: int) -> int:
        """Delete the entries of ``stream`` with sequence <= ``through`` in one ``BEGIN
        IMMEDIATE`` transaction, first keeping the last deleted sequence in
        ``journal_head`` so that later appends never reuse it."""
        check_through(through)
        with self._writing(f"trim journal {stream!r}") as db:
            db.execute(self._sql.journal_keep_head, (stream, through))
            return int(db.execute(self._sql.journal_trim, (stream, through)).rowcount)

    def save_campaigns(self, version: str, body: str) -> None:
        """Keep the canonical JSON of a campaign version (a no-op if kept already)."""
        with self._writing("save campaigns") as db:
            db.execute(self._sql.save_campaigns, (version, body))

    def load_campaigns(self, version: str) -> str | None:
        """The canonical JSON of a kept campaign version, or ``None``."""
        with self._reading("load campaigns") as db:
            row = db.execute(self._sql.load_campaigns, (version,)).fetchone()
        return None if row is None else str(row[0])

    def add_codes(self, batch: str, codes: Sequence[str], uses: int) -> AddedCodes:
        """Register coupon codes of ``batch`` in one transaction, all or nothing: if
        any code belongs to another batch, nothing is added and those are returned."""
        unique = list(dict.fromkeys(codes))
        with self._writing(f"add codes of batch {batch!r}") as db:
            known: dict[str, str] = {}
            for chunk in chunks(unique):
                known.update(db.execute(self._sql.code_batches(len(chunk)), chunk))
            conflicts = tuple(sorted(code for code, owner in known.items() if owner != batch))
            if conflicts:
                return AddedCodes(added=0, existing=0, conflicts=conflicts)
            new = [code for code in unique if code not in known]
            db.executemany(self._sql.add_code, [(code, batch, uses) for code in new])
        return AddedCodes(added=len(new), existing=len(unique) - len(new))

    def find_codes(self, codes: Sequence[str]) -> dict[str, CodeRow]:
        """The registered codes among ``codes``; unknown ones are left out."""
        if not codes:
            return {}
        with self._reading("find codes") as db:
            return self._find_codes(db, codes)

    def _find_codes(self, db: sqlite3.Connection, codes: Sequence[str]) -> dict[str, CodeRow]:
        found: dict[str, CodeRow] = {}
        for chunk in chunks(list(dict.fromkeys(codes))):
            for code, batch, uses in db.execute(self._sql.find_codes(len(chunk)), chunk):
                found[code] = CodeRow(batch, uses)
        return {code: found[code] for code in codes if code in found}

    def check_codes(self, codes: Sequence[str], *, throttle: str, limit: int,
                    ttl: float) -> CheckedCodes:
        """Look codes up and count the wrong ones against ``throttle`` in one ``BEGIN
        IMMEDIATE`` transaction (so checks of one throttle, from any thread or
        process, take turns): the throttle's count is a hit counter row, its codes
        rows of ``{ns}_failures`` with the same expiry."""
        unique = list(dict.fromkeys(codes))
        if not unique:
            return CheckedCodes(failures=self.read([throttle])[throttle])
        now = time.time()
        with self._writing("check codes") as db:
            row = db.execute(self._sql.throttle, (throttle,)).fetchone()
            wrong: set[str] = set()
            if row is not None and (row[1] is None or row[1] > now):
                failures, expires = int(row[0]), now + ttl if row[1] is None else row[1]
                for chunk in chunks(unique):
                    wrong.update(code for (code,) in db.execute(
                        self._sql.wrong(len(chunk)), (throttle, now, *chunk)))
            else:  # none yet, or lapsed: a new window starts with the first wrong code
                failures, expires = 0, now + ttl
            checked = check_in_order(unique, wrong=wrong, failures=failures, limit=limit,
                                     find=lambda batch: self._find_codes(db, batch))
            if checked.counted:
                if now >= self._sweep_at:
                    self._sweep_at = now + _SWEEP_EVERY
                    db.execute(self._sql.sweep, (now,))
                    db.execute(self._sql.sweep_wrong, (now,))
                db.execute(self._sql.forget_wrong, (throttle, now))
                db.execute(self._sql.set_throttle, (throttle, checked.failures, expires))
                db.executemany(self._sql.add_wrong,
                               [(throttle, code, expires) for code in checked.counted])
        return checked

    def hit(self, key: str, ttl: float) -> int:
        """Add one to a short-lived counter and return its new value; a lapsed one
        starts again at 1 with a fresh expiry. Lapsed ones are deleted now and then."""
        now = time.time()
        with self._writing("hit") as db:
            if now >= self._sweep_at:
                self._sweep_at = now + _SWEEP_EVERY
                db.execute(self._sql.sweep, (now,))
                db.execute(self._sql.sweep_wrong, (now,))
            (value,) = db.execute(self._sql.hit, (key, now, ttl)).fetchone()
        return int(value)

    def close(self) -> None:
        """Close this handle's connections (every thread's); later calls raise
        :class:`~promokit.errors.StoreError`. Closing twice is harmless."""
        self._closed = True
        self._local = threading.local()
        for key, (db, pid) in self._connections.copy().items():
            self._connections.pop(key, None)
            close_connection(db, pid)

    # -- for tests and admins -------------------------------------------------------------

    def drop(self) -> None:
        """Delete this namespace's tables and everything in them (other namespaces in
        the file stay). The handle can only be closed afterwards."""
        with self._writing("drop") as db:
            for table in TABLES:
                db.execute(self._sql.drop(table))
