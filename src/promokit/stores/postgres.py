"""``postgresql://`` and ``postgres://``: a store in PostgreSQL (10 or later) through
psycopg 3, for many app servers at once and a ledger that must survive anything.

URL::

    postgresql://[user[:password]@][host][:port][/dbname][?options]

Any URL libpq takes is taken, and its query options (``sslmode``,
``application_name``, ``options``, …) go to libpq unchanged. promokit reads
three of its own and removes them before libpq sees the rest:

- ``namespace`` (default ``promokit``): the prefix of this store's tables, so
  several stores can share one database;
- ``pool`` (default 4): how many connections one store object opens at most
  and keeps; a thread that finds them all busy waits for one;
- ``timeout`` (seconds, default 5): how long connecting may take (whole
  seconds, at least 2, as libpq counts them). Give it or libpq's own
  ``connect_timeout``, not both.

Opening a store connects once, so a server that cannot be reached raises
:class:`~promokit.errors.StoreUnavailable` at once, and a URL libpq cannot read
raises :class:`~promokit.errors.StoreURLError`.

Schema
    Opening creates any missing table (``CREATE … IF NOT EXISTS`` under
    ``pg_advisory_xact_lock``, so stores opened at the same moment do not
    race; when every table is there already, opening takes no lock at all)::

        {ns}_counters   key text PK, value bigint, expires_at float8 (hit counters only)
        {ns}_orders     order_id text PK, revision int, status text,
                        expires_at float8 (indexed where set), body text
        {ns}_ledger     seq bigserial PK, entry_id text UNIQUE, order_id, promotion,
                        at timestamptz (each indexed), body text (LedgerEntry JSON)
        {ns}_journal    stream text, seq bigint, body text, PK (stream, seq)
        {ns}_journal_head  stream text PK, seq bigint (the stream's last seq)
        {ns}_campaigns  version text PK, body text
        {ns}_codes      code text PK, batch text, uses int

    :meth:`PostgresStore.drop` drops the seven tables of its namespace.

Transactions
    :meth:`PostgresStore.apply` is one transaction, in two round trips (libpq's
    pipeline mode sends a batch of statements together), with no stored
    procedure:

    1. ``BEGIN``; the order row, written conditionally: ``INSERT … ON CONFLICT
       DO NOTHING`` for revision 0, else ``UPDATE … WHERE order_id = %s AND
       revision = %s`` (under READ COMMITTED a row a concurrent writer changed
       is checked again, so a stale revision matches no row); then every
       counter in one statement, ``INSERT … SELECT FROM unnest(keys, amounts)
       ORDER BY key ON CONFLICT (key) DO UPDATE SET value = value + amount
       RETURNING key, value``. A change with expectations sends its expected
       counters in that same statement (a variant that also returns whether a
       row is a lapsed hit counter), those no delta changes with an amount of
       0: so they are read, and locked, in the same key order, with no
       statement more (a counter never written gets a row at 0, which locks
       its key).
    2. Python checks each expectation against its counter as it was (a
       delta's: the value returned minus the amount; any other: the value
       returned, or 0 for a lapsed hit counter, as ``read`` says), then each
       delta against its counter. A revision that matched no
       row (the order is then read as it is, one more round trip), a stale
       expectation or a refused delta ends in ``ROLLBACK``; otherwise the
       ledger entries (one ``unnest`` statement), the journal entries (one
       statement) and ``COMMIT`` go together, with, when some expected
       counter no delta changes stands at 0, one ``DELETE`` of those rows (so
       expecting a counter never written leaves no row behind).

    Journal entries are numbered through ``{ns}_journal_head``, one row per
    stream holding its last sequence number: the statement upserts the head of
    each stream it writes (``INSERT … ON CONFLICT (stream) DO UPDATE SET seq =
    seq + count … RETURNING seq``, in stream order) and inserts the entries
    under the numbers it reserved. The head row stays locked until the commit,
    so applies writing one stream take turns: its numbers are dense and in the
    order the changes were applied.

    Every apply locks its order row first, then its counter rows (changed and
    expected alike) in key order, then its journal heads in stream order, so
    two applies never wait on each other in a cycle: no deadlocks, in whatever
    order the deltas and expectations are listed. A counter row stays locked
    from its update to the commit or rollback, so a limit and an expectation
    hold exactly under any number of threads, processes and app servers (an
    expected counter cannot change between its check and the commit; applies
    expecting the same counter take turns, as applies changing it do). The
    commit is the server's (synchronous by default), so a change reported
    ``applied`` survives a crash.

    Connections are in autocommit mode for psycopg and the store writes
    ``BEGIN``, ``COMMIT`` and ``ROLLBACK`` itself: so ``BEGIN`` travels with
    the first statements, a single-statement call (``read``, ``order``,
    ``hit``, …) is one round trip, and the hot statements stay prepared
    (``ROLLBACK`` goes through libpq directly, as psycopg forgets its prepared
    statements whenever it sees a rollback; a refused change, the usual end of
    a flash sale, rolls back).

Connections and errors
    Each store keeps up to ``pool`` connections and lends each to one thread at
    a time. A connection that broke is closed, and the idle ones with it (what
    broke one, a restarted server, broke them all). A call whose pooled
    connection turns out broken runs once more on a new connection: nothing
    was committed unless ``COMMIT`` had been sent (a single ``hit`` lost while
    it ran may count one more). When the connection breaks after ``COMMIT`` was
    sent, the change may or may not have been made:
    :class:`~promokit.errors.StoreUnavailable` says so, and the order's
    revision tells which (retrying the same change is safe: a second run only
    conflicts). Every psycopg error becomes a
    :class:`~promokit.errors.StoreError`; a lost or unreachable server, a
    timeout or a cancelled statement is
    :class:`~promokit.errors.StoreUnavailable`.

Short-lived counters (:meth:`PostgresStore.hit`) are counter rows with an
``expires_at`` taken from the server's clock, so every app server agrees when
one lapses; lapsed ones read 0 and are deleted every thousand hits or so.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import math
import queue
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow
from psycopg.types.numeric import Int8Dumper

from ..errors import StoreError, StoreUnavailable, StoreURLError
from .base import AddedCodes, Change, CodeRow, LedgerEntry, OrderRow, Outcome
from .url import StoreURL, parse_store_url

__all__ = ["PostgresStore"]

_T = TypeVar("_T")
_Connection = psycopg.Connection[TupleRow]

_OWN_OPTIONS = ("namespace", "pool", "timeout")
_DEFAULT_POOL = 4
_DEFAULT_TIMEOUT = 5.0
_SWEEP_EVERY = 1000  # hits between two deletes of lapsed hit counters
_TABLES = ("counters", "orders", "ledger", "journal", "journal_head", "campaigns", "codes")
_INDEXES = ("counters_expires_idx", "orders_expires_idx", "ledger_order_idx",
            "ledger_promo_idx", "ledger_at_idx")

_BEGIN = b"BEGIN"
_COMMIT = b"COMMIT"
_ROLLBACK = b"ROLLBACK"


class _Queries:
    """Every statement of one namespace, composed once (table names quoted as
    identifiers) and kept as bytes, so psycopg's prepared-statement cache keys
    on the same text every time."""

    def __init__(self, namespace: str, conn: _Connection) -> None:
        def table(name: str) -> sql.Identifier:
            return sql.Identifier(f"{namespace}_{name}")

        def index(name: str) -> sql.Identifier:
            return sql.Identifier(f"{namespace}_{name}")

        def q(text: str) -> bytes:
            return sql.SQL(text).format(
                counters=table("counters"), orders=table("orders"), ledger=table("ledger"),
                journal=table("journal"), journal_head=table("journal_head"),
                campaigns=table("campaigns"), codes=table("codes"),
                **{name: index(name) for name in _INDEXES},
            ).as_bytes(conn)

        # Every name fits PostgreSQL's 63 bytes with a namespace of 40 characters.
        self.names = [f"{namespace}_{name}" for name in (*_TABLES, *_INDEXES)]
        self.exists = b"SELECT count(to_regclass(quote_ident(name))) FROM unnest(%s::text[]) name"
        self.lock = b"SELECT pg_advisory_xact_lock(%s)"
        self.create = [q(text) for text in (
            "CREATE TABLE IF NOT EXISTS {counters} (key text PRIMARY KEY, "
            "value bigint NOT NULL, expires_at double precision) WITH (fillfactor = 80)",
            "CREATE INDEX IF NOT EXISTS {counters_expires_idx} ON {counters} (expires_at) "
            "WHERE expires_at IS NOT NULL",
            "CREATE TABLE IF NOT EXISTS {orders} (order_id text PRIMARY KEY, "
            "revision int NOT NULL, status text NOT NULL, expires_at double precision, "
            "body text NOT NULL)",
            "CREATE INDEX IF NOT EXISTS {orders_expires_idx} ON {orders} (expires_at) "
            "WHERE expires_at IS NOT NULL",
            "CREATE TABLE IF NOT EXISTS {ledger} (seq bigserial PRIMARY KEY, "
            "entry_id text NOT NULL UNIQUE, order_id text NOT NULL, "
            "promotion text NOT NULL, at timestamptz NOT NULL, body text NOT NULL)",
            "CREATE INDEX IF NOT EXISTS {ledger_order_idx} ON {ledger} (order_id)",
            "CREATE INDEX IF NOT EXISTS {ledger_promo_idx} ON {ledger} (promotion)",
            "CREATE INDEX IF NOT EXISTS {ledger_at_idx} ON {ledger} (at)",
            "CREATE TABLE IF NOT EXISTS {journal} (stream text NOT NULL, "
            "seq bigint NOT NULL, body text NOT NULL, PRIMARY KEY (stream, seq))",
            "CREATE TABLE IF NOT EXISTS {journal_head} (stream text PRIMARY KEY, "
            "seq bigint NOT NULL)",
            "CREATE TABLE IF NOT EXISTS {campaigns} (version text PRIMARY KEY, "
            "body text NOT NULL)",
            "CREATE TABLE IF NOT EXISTS {codes} (code text PRIMARY KEY, "
            "batch text NOT NULL, uses int NOT NULL)",
        )]
        self.drop = q("DROP TABLE IF EXISTS {counters}, {orders}, {ledger}, {journal}, "
                      "{journal_head}, {campaigns}, {codes}")

        # apply
        self.create_order = q(
            "INSERT INTO {orders} (order_id, revision, status, expires_at, body) "
            "VALUES (%s, 1, %s, %s, %s) ON CONFLICT (order_id) DO NOTHING")
        self.update_order = q(
            "UPDATE {orders} SET revision = revision + 1, status = %s, expires_at = %s, "
            "body = %s WHERE order_id = %s AND revision = %s")
        self.add_counters = q(
            "INSERT INTO {counters} AS c (key, value) "
            "SELECT k, v FROM unnest(%s::text[], %s::bigint[]) AS d(k, v) "
            'ORDER BY k COLLATE "C" '
            "ON CONFLICT (key) DO UPDATE SET value = c.value + EXCLUDED.value "
            "RETURNING key, value")
        # The same, for a change with expectations: its expected counters ride along
        # with an amount of 0 (so they are locked in the same key order), and each row
        # says whether it is a lapsed hit counter (which read() reports as 0).
        self.add_counters_expect = q(
            "INSERT INTO {counters} AS c (key, value) "
            "SELECT k, v FROM unnest(%s::text[], %s::bigint[]) AS d(k, v) "
            'ORDER BY k COLLATE "C" '
            "ON CONFLICT (key) DO UPDATE SET value = c.value + EXCLUDED.value "
            "RETURNING key, value, "
            "(c.expires_at <= extract(epoch FROM now())::float8) IS TRUE")
        self.drop_zero_counters = q(
            "DELETE FROM {counters} WHERE key = ANY(%s::text[]) AND value = 0 "
            "AND expires_at IS NULL")
        self.add_ledger = q(
            "INSERT INTO {ledger} (entry_id, order_id, promotion, at, body) "
            "SELECT e, o, p, a::timestamptz, b FROM unnest(%s::text[], %s::text[], "
            "%s::text[], %s::text[], %s::text[]) WITH ORDINALITY AS u(e, o, p, a, b, n) "
            "ORDER BY n")
        # Reserve each stream's next numbers on its head row (locked, in stream order,
        # until the commit), then insert the entries under them, in the order given.
        self.add_journal = q(
            "WITH e AS (SELECT s, b, n FROM unnest(%s::text[], %s::text[]) "
            "WITH ORDINALITY AS u(s, b, n)), "
            "c AS (SELECT s, count(*) AS k FROM e GROUP BY s), "
            "h AS (INSERT INTO {journal_head} AS head (stream, seq) "
            'SELECT s, k FROM c ORDER BY s COLLATE "C" '
            "ON CONFLICT (stream) DO UPDATE SET seq = head.seq + EXCLUDED.seq "
            "RETURNING stream, seq) "
            "INSERT INTO {journal} (stream, seq, body) "
            "SELECT e.s, h.seq - c.k + row_number() OVER (PARTITION BY e.s ORDER BY e.n), "
            "e.b FROM e JOIN c ON c.s = e.s JOIN h ON h.stream = e.s")

        # reads
        self.read = q(
            "SELECT key, value FROM {counters} WHERE key = ANY(%s::text[]) "
            "AND (expires_at IS NULL OR expires_at > extract(epoch FROM now())::float8)")
        self.order = q(
            "SELECT order_id, revision, status, expires_at, body FROM {orders} "
            "WHERE order_id = %s")
        self.expired = q(
            "SELECT order_id FROM {orders} WHERE expires_at <= %s "
            'ORDER BY expires_at, order_id COLLATE "C" LIMIT %s')
        self.ledger_select = q("SELECT body FROM {ledger}")
        self.journal = q(
            "SELECT seq, body FROM {journal} WHERE stream = %s AND seq > %s "
            "ORDER BY seq LIMIT %s::bigint")

        # campaigns, codes
        self.save_campaigns = q(
            "INSERT INTO {campaigns} (version, body) VALUES (%s, %s) "
            "ON CONFLICT (version) DO NOTHING")
        self.load_campaigns = q("SELECT body FROM {campaigns} WHERE version = %s")
        self.insert_codes = q(
            "INSERT INTO {codes} (code, batch, uses) "
            'SELECT c, %s, %s FROM unnest(%s::text[]) AS c ORDER BY c COLLATE "C" '
            "ON CONFLICT (code) DO NOTHING")
        self.code_conflicts = q(
            "SELECT code FROM {codes} WHERE code = ANY(%s::text[]) AND batch <> %s")
        self.find_codes = q(
            "SELECT code, batch, uses FROM {codes} WHERE code = ANY(%s::text[])")

        # short-lived counters: the server's clock decides when one lapses
        self.hit = q(
            "INSERT INTO {counters} AS c (key, value, expires_at) "
            "VALUES (%s, 1, extract(epoch FROM now())::float8 + %s) "
            "ON CONFLICT (key) DO UPDATE SET "
            "value = CASE WHEN c.expires_at > extract(epoch FROM now())::float8 "
            "THEN c.value + 1 ELSE 1 END, "
            "expires_at = CASE WHEN c.expires_at > extract(epoch FROM now())::float8 "
            "THEN c.expires_at ELSE EXCLUDED.expires_at END "
            "RETURNING value")
        self.sweep = q(
            "DELETE FROM {counters} WHERE expires_at <= extract(epoch FROM now())::float8")


class _Pool:
    """At most ``size`` connections, each lent to one thread at a time.

    The queue holds one token per connection the pool may have: an idle
    connection, or ``None`` where one may be opened. Taking a token waits while
    all ``size`` are lent; a connection given back broken goes back as ``None``.
    """

    def __init__(self, connect: Callable[[], _Connection], size: int, url: str) -> None:
        self._connect = connect
        self._size = size
        self._url = url
        self._tokens: queue.LifoQueue[_Connection | None] = queue.LifoQueue()
        for _ in range(size):
            self._tokens.put(None)
        self.closed = False

    def take(self, *, fresh: bool = False) -> tuple[_Connection, bool]:
        """A connection for this thread alone, and whether it was just opened;
        ``fresh`` always opens a new one."""
        if self.closed:
            raise StoreError(f"the store at {self._url} is closed")
        conn = self._tokens.get()
        if self.closed:
            self._put(conn, discard=True)
            raise StoreError(f"the store at {self._url} is closed")
        if conn is not None and not (fresh or conn.closed):
            return conn, False
        if conn is not None:
            _close_quietly(conn)
        try:
            return self._connect(), True
        except BaseException:
            self._tokens.put(None)
            raise

    def give(self, conn: _Connection) -> None:
        """Take back a lent connection. A broken one is closed, and so is every
        idle one (what broke one, a restart, likely broke them all); one left in
        a transaction is rolled back, or closed if that fails."""
        broken = conn.broken
        discard = conn.closed or self.closed
        if not discard and conn.info.transaction_status != TransactionStatus.IDLE:
            try:
                conn.rollback()
            except psycopg.Error:
                discard = True
        self._put(conn, discard=discard)
        if broken:
            self.discard_idle()

    def _put(self, conn: _Connection | None, *, discard: bool) -> None:
        if conn is not None and discard:
            _close_quietly(conn)
            conn = None
        self._tokens.put(conn)

    def discard_idle(self) -> None:
        """Close every idle connection."""
        taken: list[_Connection | None] = []
        try:
            while len(taken) < self._size:
                taken.append(self._tokens.get_nowait())
        except queue.Empty:
            pass
        for conn in taken:
            self._put(conn, discard=True)

    def close(self) -> None:
        """Close the idle connections now, and lent ones when they come back."""
        self.closed = True
        self.discard_idle()


_PIPELINE = psycopg.Pipeline.is_supported()


def _together(conn: _Connection) -> contextlib.AbstractContextManager[object]:
    """Send the statements of the block together, in one round trip answered when
    the block ends (libpq's pipeline mode); one by one where libpq is older than
    14 and has none. Results are read after the block."""
    if _PIPELINE:
        return conn.pipeline()
    return contextlib.nullcontext()  # pragma: no cover - the psycopg wheels bring libpq 17


def _close_quietly(conn: _Connection) -> None:
    with contextlib.suppress(Exception):  # closing a dead socket
        conn.close()


def _rollback(conn: _Connection) -> None:
    """End the transaction with ``ROLLBACK`` sent through libpq directly: psycopg
    drops every prepared statement of a connection when it sees a rollback (in
    case the transaction had created the objects they name), and a refused
    change, which rolls back, is the common case in a flash sale. These
    transactions create nothing. If the rollback fails the connection is left
    in its transaction or closed, and the pool rolls it back or drops it."""
    with contextlib.suppress(Exception):
        conn.pgconn.exec_(_ROLLBACK)


class _AfterCommit(Exception):
    """The connection failed after ``COMMIT`` was sent: the change may have been made."""

    def __init__(self, error: psycopg.Error) -> None:
        super().__init__(str(error))
        self.error = error


class PostgresStore:
    """A store in PostgreSQL tables named ``{namespace}_…``; see the module docs.

    ``PostgresStore(conninfo, namespace=…, pool=…)`` takes a libpq connection
    string or URL without promokit's options; :meth:`from_url` reads a store URL.
    Both connect once and create any missing table.
    """

    def __init__(self, conninfo: str, *, namespace: str = "promokit",
                 pool: int = _DEFAULT_POOL, url: str | None = None) -> None:
        self.url = url if url is not None else _mask_conninfo(conninfo)
        self.namespace = namespace
        try:
            self._conninfo = make_conninfo(conninfo, fallback_application_name="promokit")
        except psycopg.Error as error:
            raise StoreURLError(f"{self.url}: {_one_line(error)}") from None
        self._pool = _Pool(self._connect, pool, self.url)
        self._hits = itertools.count(1)
        conn, _ = self._pool.take()
        try:
            self._q = _Queries(namespace, conn)
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
        parsed = parse_store_url(url)
        masked = _masked(parsed)
        if parsed.scheme not in ("postgresql", "postgres"):
            raise StoreURLError(f"{masked}: a PostgreSQL store URL starts with "
                                "postgresql:// or postgres://")
        namespace = parsed.namespace()
        pool = _pool_size(parsed, masked)
        timeout = parsed.number("timeout", _DEFAULT_TIMEOUT)
        try:
            params = conninfo_to_dict(_without_own_options(url))
        except psycopg.Error as error:
            raise StoreURLError(f"{masked}: {_one_line(error)}") from None
        if "connect_timeout" not in params:
            params["connect_timeout"] = max(1, math.ceil(timeout))
        elif "timeout" in parsed.options:
            raise StoreURLError(f"{masked}: give timeout or connect_timeout, not both")
        return cls(make_conninfo("", **params), namespace=namespace, pool=pool, url=masked)

    # -- the Store protocol ----------------------------------------------------------------

    def read(self, keys: Sequence[str]) -> dict[str, int]:
        if not keys:
            return {}

        def work(conn: _Connection) -> dict[str, int]:
            rows = conn.execute(self._q.read, (list(keys),), prepare=True).fetchall()
            found = {str(key): int(value) for key, value in rows}
            return {key: found.get(key, 0) for key in keys}

        return self._run(work)

    def apply(self, change: Change) -> Outcome:
        return self._run(lambda conn: self._apply(conn, change))

    def _apply(self, conn: _Connection, change: Change) -> Outcome:
        """One transaction in two round trips; see the module docs."""
        q = self._q
        deltas, expect = change.deltas, change.expect
        amounts = {d.key: d.amount for d in deltas} if expect else {}
        with _together(conn):  # round trip 1 (on leaving): BEGIN, the order row, counters
            conn.execute(_BEGIN, prepare=False)
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
            _rollback(conn)
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
                _rollback(conn)
                return Outcome(applied=False, revision=change.revision, stale=stale,
                               values={**seen, **{d.key: after[d.key] - d.amount
                                                  for d in deltas}})
        elif counters is not None:
            after = {str(key): int(value) for key, value in counters.fetchall()}
        refused = tuple(d.key for d in deltas if d.refuses(after[d.key] - d.amount))
        if refused:
            _rollback(conn)
            return Outcome(applied=False, revision=change.revision, refused=refused,
                           values={**seen, **{d.key: after[d.key] - d.amount
                                              for d in deltas}})
        entries, journal = change.ledger, change.journal
        # The upsert created a row (at 0) for each expected counter never written, to
        # lock it: those at 0 are deleted with the commit, so that expecting a counter
        # leaves no row behind (it reads 0 either way).
        try:
            if entries or journal or zero:
                with _together(conn):
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
                            [r.stream for r in journal], [r.body for r in journal]),
                            prepare=True)
                    conn.execute(_COMMIT, prepare=False)
            else:
                conn.execute(_COMMIT, prepare=False)
        except psycopg.Error as error:
            if isinstance(error, psycopg.OperationalError) or conn.closed:
                raise _AfterCommit(error) from error
            raise
        return Outcome(applied=True, revision=change.revision + 1,
                       values={**seen, **{d.key: after[d.key] for d in deltas}})

    def order(self, order_id: str) -> OrderRow | None:
        def work(conn: _Connection) -> OrderRow | None:
            row = conn.execute(self._q.order, (order_id,), prepare=True).fetchone()
            return _order_row(row) if row is not None else None

        return self._run(work)

    def expired(self, now: float, limit: int = 100) -> list[str]:
        def work(conn: _Connection) -> list[str]:
            rows = conn.execute(self._q.expired, (float(now), max(limit, 0))).fetchall()
            return [str(order_id) for (order_id,) in rows]

        return self._run(work)

    def ledger(self, *, order_id: str | None = None, promotion: str | None = None,
               since: datetime | None = None, until: datetime | None = None
               ) -> list[LedgerEntry]:
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
        query += b" ORDER BY seq"

        def work(conn: _Connection) -> list[LedgerEntry]:
            rows = conn.execute(query, params).fetchall()
            return [LedgerEntry.loads(body) for (body,) in rows]

        return self._run(work)

    def journal(self, stream: str, *, after: int = 0, limit: int | None = None
                ) -> list[tuple[int, str]]:
        bound = None if limit is None else max(limit, 0)  # LIMIT NULL: no limit

        def work(conn: _Connection) -> list[tuple[int, str]]:
            rows = conn.execute(self._q.journal, (stream, after, bound)).fetchall()
            return [(int(seq), str(body)) for seq, body in rows]

        return self._run(work)

    def save_campaigns(self, version: str, body: str) -> None:
        self._run(lambda conn: _execute(conn, self._q.save_campaigns, (version, body)))

    def load_campaigns(self, version: str) -> str | None:
        def work(conn: _Connection) -> str | None:
            row = conn.execute(self._q.load_campaigns, (version,)).fetchone()
            return str(row[0]) if row is not None else None

        return self._run(work)

    def add_codes(self, batch: str, codes: Sequence[str], uses: int) -> AddedCodes:
        unique = list(dict.fromkeys(codes))
        if not unique:
            return AddedCodes(added=0, existing=0)

        def work(conn: _Connection) -> AddedCodes:
            # Insert first, then look for codes of other batches: the insert waits
            # for any concurrent insert of the same code to end, so the check after
            # it (a new snapshot) sees every code taken. The inserts go in sorted
            # order, so two overlapping batches never wait on each other in a cycle.
            with _together(conn):
                conn.execute(_BEGIN, prepare=False)
                inserted = conn.execute(self._q.insert_codes, (batch, uses, unique))
                clashing = conn.execute(self._q.code_conflicts, (unique, batch))
            conflicts = tuple(sorted(str(code) for (code,) in clashing.fetchall()))
            if conflicts:
                _rollback(conn)
                return AddedCodes(added=0, existing=0, conflicts=conflicts)
            try:
                conn.execute(_COMMIT, prepare=False)
            except psycopg.Error as error:
                if isinstance(error, psycopg.OperationalError) or conn.closed:
                    raise _AfterCommit(error) from error
                raise
            return AddedCodes(added=inserted.rowcount, existing=len(unique) - inserted.rowcount)

        return self._run(work)

    def find_codes(self, codes: Sequence[str]) -> dict[str, CodeRow]:
        if not codes:
            return {}

        def work(conn: _Connection) -> dict[str, CodeRow]:
            rows = conn.execute(self._q.find_codes, (list(codes),)).fetchall()
            found = {str(code): CodeRow(str(batch), int(uses)) for code, batch, uses in rows}
            return {code: found[code] for code in codes if code in found}

        return self._run(work)

    def hit(self, key: str, ttl: float) -> int:
        def work(conn: _Connection) -> int:
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
        """Drop this namespace's seven tables, with their rows and indexes."""
        self._run(lambda conn: _execute(conn, self._q.drop))

    # -- connections -------------------------------------------------------------------------

    def _connect(self) -> _Connection:
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

    def _ensure_schema(self, conn: _Connection) -> None:
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

    def _run(self, work: Callable[[_Connection], _T]) -> _T:
        """Run ``work`` on a pooled connection, turning psycopg errors into store errors.

        When the connection turns out broken (and was not just opened) ``work``
        runs once more on a new one: nothing was committed unless it raised
        :class:`_AfterCommit`. (A single statement lost while it ran may have run:
        :meth:`hit` may count one more, the other ones are reads or idempotent.)
        """
        fresh = False
        for attempt in (1, 2):
            conn, opened = self._pool.take(fresh=fresh)
            try:
                return work(conn)
            except _AfterCommit as unsure:
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


def _execute(conn: _Connection, query: bytes, params: Sequence[object] = ()) -> None:
    conn.execute(query, params)


def _order_row(row: TupleRow) -> OrderRow:
    order_id, revision, status, expires_at, body = row
    return OrderRow(order_id=str(order_id), revision=int(revision), status=str(status),
                    expires_at=float(expires_at) if expires_at is not None else None,
                    body=str(body))


def _pool_size(parsed: StoreURL, masked: str) -> int:
    raw = parsed.options.get("pool")
    if raw is None:
        return _DEFAULT_POOL
    if not (raw.isascii() and raw.isdigit()) or int(raw) <= 0:
        raise StoreURLError(f"{masked}: option pool={raw!r} must be a positive whole number")
    return int(raw)


def _without_own_options(url: str) -> str:
    """``url`` without promokit's options; libpq's stay exactly as written."""
    parts = urlsplit(url)
    kept = [piece for piece in parts.query.split("&")
            if piece and unquote(piece.partition("=")[0]) not in _OWN_OPTIONS]
    return urlunsplit(parts._replace(query="&".join(kept)))


def _masked(parsed: StoreURL) -> str:
    """The URL with its password hidden, also one given as ``?password=``."""
    return re.sub(r"([?&]password=)[^&]*", r"\1***", parsed.masked)


def _mask_conninfo(conninfo: str) -> str:
    """A connection string or URL with its password hidden."""
    if "://" in conninfo:
        try:
            return _masked(parse_store_url(conninfo))
        except StoreURLError:
            return "postgresql://(unreadable URL)"
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)", r"\1***", conninfo)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())
