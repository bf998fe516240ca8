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
        {ns}_failures   throttle text, code text, expires_at float8 (indexed),
                        PK (throttle, code): a code throttle's wrong codes

    :meth:`PostgresStore.drop` drops the eight tables of its namespace.

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

Code throttles (:meth:`PostgresStore.check_codes`): a throttle's count is such a
counter row and its wrong codes are rows of ``{ns}_failures`` with the same
``expires_at``. A check is one transaction holding
``pg_advisory_xact_lock`` on a 64-bit hash of the namespace and the throttle's
key, so checks of one customer's throttle take turns (from any app server)
while nothing else waits: it reads the count and which codes are held, looks
codes up, and writes the wrong ones with the new count in the round trip that
commits. A check that finds no wrong code writes nothing. An ``apply`` that
expects the count locks its row, not the advisory lock, so the two never wait
on each other in a cycle.
"""

from __future__ import annotations

from .store import PostgresStore

__all__ = ["PostgresStore"]
