"""Transactions as :class:`~promokit.stores.postgres.PostgresStore` writes them on
its autocommit connections: ``BEGIN``, ``COMMIT`` and ``ROLLBACK`` sent by the store
itself, statements sent together in libpq's pipeline mode, and the error that leaves
a commit in doubt."""

from __future__ import annotations

import contextlib

import psycopg

from .pool import Connection

__all__ = ["BEGIN", "COMMIT", "AfterCommit", "rollback", "together"]

BEGIN = b"BEGIN"
COMMIT = b"COMMIT"
_ROLLBACK = b"ROLLBACK"

_PIPELINE = psycopg.Pipeline.is_supported()


def together(conn: Connection) -> contextlib.AbstractContextManager[object]:
    """Send the statements of the block together, in one round trip answered when
    the block ends (libpq's pipeline mode); one by one where libpq is older than
    14 and has none. Results are read after the block."""
    if _PIPELINE:
        return conn.pipeline()
    return contextlib.nullcontext()  # pragma: no cover - the psycopg wheels bring libpq 17


def rollback(conn: Connection) -> None:
    """End the transaction with ``ROLLBACK`` sent through libpq directly: psycopg
    drops every prepared statement of a connection when it sees a rollback (in
    case the transaction had created the objects they name), and a refused
    change, which rolls back, is the common case in a flash sale. These
    transactions create nothing. If the rollback fails the connection is left
    in its transaction or closed, and the pool rolls it back or drops it."""
    with contextlib.suppress(Exception):
        conn.pgconn.exec_(_ROLLBACK)


class AfterCommit(Exception):
    """The connection failed after ``COMMIT`` was sent: the change may have been made."""

    def __init__(self, error: psycopg.Error) -> None:
        super().__init__(str(error))
        self.error = error
