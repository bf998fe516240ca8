"""SQLite connections across threads and processes: the write lock of each database
file, shared by every store handle of this process; fork safety (a fork()ed child
never uses or closes a connection its parent opened); WAL mode; and what SQLite's
errors mean for a store."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import suppress

from ...errors import StoreError, StoreUnavailable

__all__ = ["Held", "ThisProcess", "close_connection", "release_connection", "rollback",
           "store_error", "use_wal", "write_lock"]

# SQLite result codes (the low byte of an extended code) that mean the file cannot
# be used now rather than that the store is broken.
_UNAVAILABLE = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED,
                          sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR})


class ThisProcess:
    """The id of this process, updated in a fork()ed child."""

    pid = os.getpid()


#: One lock per database file, shared by every handle of this process on that file.
_WRITE_LOCKS: dict[str, threading.Lock] = {}
#: Connections a forked child inherited: SQLite forbids using or closing them there,
#: so they are kept (never closed) instead of being closed by the garbage collector.
_INHERITED: list[sqlite3.Connection] = []


def _after_fork_in_child() -> None:
    ThisProcess.pid = os.getpid()
    _WRITE_LOCKS.clear()  # a lock held by a parent thread would never be released


os.register_at_fork(after_in_child=_after_fork_in_child)


def write_lock(path: str) -> threading.Lock:
    """This process's write lock on the database file at ``path``."""
    lock = _WRITE_LOCKS.get(path)
    if lock is None:
        lock = _WRITE_LOCKS.setdefault(path, threading.Lock())
    return lock


def close_connection(db: sqlite3.Connection, pid: int) -> None:
    """Close ``db``, opened by process ``pid``; in a fork()ed child, keep it unclosed."""
    if pid != ThisProcess.pid:
        _INHERITED.append(db)
        return
    with suppress(sqlite3.Error):  # close only fails on a broken handle
        db.close()


def release_connection(connections: dict[int, tuple[sqlite3.Connection, int]],
                       db: sqlite3.Connection, pid: int) -> None:
    """Close a thread's connection once the thread (or the handle) is gone."""
    connections.pop(id(db), None)
    close_connection(db, pid)


class Held:
    """A thread's connection and the process that opened it."""

    __slots__ = ("__weakref__", "db", "pid")

    def __init__(self, db: sqlite3.Connection, pid: int) -> None:
        self.db = db
        self.pid = pid


def rollback(db: sqlite3.Connection) -> None:
    """Roll back ``db``'s transaction, if it is in one, keeping quiet on failure."""
    if db.in_transaction:
        with suppress(sqlite3.Error):  # the error being raised says more
            db.execute("ROLLBACK")


def use_wal(db: sqlite3.Connection, *, url: str, path: str, timeout: float) -> None:
    """Switch the file to WAL. While another process switches a new file, SQLite
    answers SQLITE_BUSY at once (no busy handler here), so retry until ``timeout``."""
    deadline = time.monotonic() + timeout
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
        raise StoreError(f"{url}: SQLite refused WAL mode for {path} "
                         f"(journal_mode is {mode!r})")


def store_error(error: BaseException, *, url: str, what: str, path: str,
                timeout: float) -> StoreError:
    """The promokit error for a sqlite3 error raised during ``what`` on the store at
    ``url`` (the file ``path``, opened with ``timeout``)."""
    if isinstance(error, StoreError):
        return error
    if isinstance(error, OverflowError):
        return StoreError(f"{url}: {what}: a number outside SQLite's 64-bit "
                          f"integer range ({error})")
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StoreUnavailable(
            f"{url}: {what}: the database stayed locked for {timeout:g} s "
            f"(another process holds a long write; raise ?timeout= if that is "
            f"expected) ({error})")
    if primary == sqlite3.SQLITE_NOTADB:
        return StoreError(f"{url}: {what}: {path} is not a SQLite database "
                          f"({error})")
    if primary in _UNAVAILABLE:
        return StoreUnavailable(f"{url}: {what}: cannot use {path} ({error})")
    return StoreError(f"{url}: {what} failed: {error}")
