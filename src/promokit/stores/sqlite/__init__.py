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
- ``ns_journal_head (stream, seq)``: per stream, the highest sequence
  :meth:`~SQLiteStore.trim_journal` deleted;
- ``ns_campaigns (version, body)`` and ``ns_codes (code, batch, uses)``;
- ``ns_failures (throttle, code, expires_at)``, primary key ``(throttle, code)``:
  the wrong codes of each code throttle (:meth:`~SQLiteStore.check_codes`), whose
  count is a hit counter in ``ns_counters`` with the same ``expires_at``.

Guarantees: every write is one ``BEGIN IMMEDIATE`` transaction, so it holds
the file's write lock from its first read to its commit, and writes from all
threads and processes on the machine are serialized by SQLite itself.
:meth:`~SQLiteStore.apply` writes the order (the revision check is the
``WHERE`` of that write), adds every delta in one ``UPSERT … RETURNING``,
checks the expected counters (a delta's from the value that statement returns,
less its amount; any other read by one ``SELECT`` in the same transaction,
only when there are such), and rolls everything back if the revision did not
match, an expectation does not hold or a delta is refused.
A journal entry's ``seq`` is its stream's ``MAX(seq) + 1`` (or, if a trim
deleted the last entry, one past the ``ns_journal_head`` row that trim wrote),
read and written in that same transaction: the write lock makes it dense and in
apply order. :meth:`~SQLiteStore.trim_journal` writes that head row and deletes
in one ``BEGIN IMMEDIATE`` transaction.
:meth:`~SQLiteStore.check_codes` reads a throttle, looks the codes up and
writes the wrong ones in one ``BEGIN IMMEDIATE`` transaction too.
Each thread uses its own connection, so reads never wait (WAL readers do not
block on a writer); writes of one process to one file also queue on a Python
lock, so its threads take turns instead of polling in SQLite's sleeping busy
handler, where a thread can starve for half a second. A fork()ed child opens
its own connections. Do not put the file on a network file system (SQLite's
locks do not work there).
"""

from __future__ import annotations

from .store import SQLiteStore

__all__ = ["SQLiteStore"]
