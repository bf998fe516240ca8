"""The connection pool of :class:`~promokit.stores.postgres.PostgresStore`: at most
a fixed number of psycopg connections, each lent to one thread at a time."""

from __future__ import annotations

import contextlib
import queue
from collections.abc import Callable

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow

from ...errors import StoreError

__all__ = ["Connection", "Pool"]

Connection = psycopg.Connection[TupleRow]
"""A psycopg connection returning rows as tuples, as the store opens them."""


class Pool:
    """At most ``size`` connections, each lent to one thread at a time.

    The queue holds one token per connection the pool may have: an idle
    connection, or ``None`` where one may be opened. Taking a token waits while
    all ``size`` are lent; a connection given back broken goes back as ``None``.
    """

    def __init__(self, connect: Callable[[], Connection], size: int, url: str) -> None:
        self._connect = connect
        self._size = size
        self._url = url
        self._tokens: queue.LifoQueue[Connection | None] = queue.LifoQueue()
        for _ in range(size):
            self._tokens.put(None)
        self.closed = False

    def take(self, *, fresh: bool = False) -> tuple[Connection, bool]:
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

    def give(self, conn: Connection) -> None:
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

    def _put(self, conn: Connection | None, *, discard: bool) -> None:
        if conn is not None and discard:
            _close_quietly(conn)
            conn = None
        self._tokens.put(conn)

    def discard_idle(self) -> None:
        """Close every idle connection."""
        taken: list[Connection | None] = []
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


def _close_quietly(conn: Connection) -> None:
    with contextlib.suppress(Exception):  # closing a dead socket
        conn.close()
