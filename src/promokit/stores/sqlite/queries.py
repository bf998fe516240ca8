"""The SQL of :class:`~promokit.stores.sqlite.SQLiteStore`: its tables (``schema.sql``
beside this module, read once at import) and every statement, formatted with a
namespace once per store, and the encoding of the values they take."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from importlib.resources import files

__all__ = ["TABLES", "Queries", "chunks", "micros"]

_CHUNK = 500  # keys per "IN (…)" query, well under SQLite's bound-parameter limit
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

TABLES = ("counters", "orders", "ledger", "journal", "journal_head", "campaigns", "codes",
          "failures")
"""The tables of a namespace, ``{ns}_<table>``."""

# Statements, formatted with the namespace (and the number of "?" groups) at open.

_SCHEMA = files(__package__).joinpath("schema.sql").read_text(encoding="utf-8")

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
_LEDGER = "SELECT entry FROM {ns}_ledger{where} ORDER BY seq LIMIT ? OFFSET ?"
# Run once per entry (executemany), so each sees the ones before it.
# The next sequence is one past the stream's last entry or, if trim_journal deleted
# that one, past the last sequence it deleted (journal_head), whichever is higher.
_JOURNAL_APPEND = ("INSERT INTO {ns}_journal (stream, seq, body) "
                   "SELECT ?1, MAX(COALESCE(MAX(seq), 0), COALESCE((SELECT seq FROM "
                   "{ns}_journal_head WHERE stream = ?1), 0)) + 1, ?2 FROM {ns}_journal "
                   "WHERE stream = ?1")
# trim_journal, in one transaction: keep the last deleted sequence, then delete.
_JOURNAL_KEEP_HEAD = ("INSERT INTO {ns}_journal_head (stream, seq) "
                      "SELECT ?1, MAX(seq) FROM {ns}_journal WHERE stream = ?1 AND seq <= ?2 "
                      "HAVING MAX(seq) IS NOT NULL "
                      "ON CONFLICT (stream) DO UPDATE SET seq = MAX(seq, excluded.seq)")
_JOURNAL_TRIM = "DELETE FROM {ns}_journal WHERE stream = ? AND seq <= ?"
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
# Code throttles: the count is a hit counter (its row in counters), the wrong codes
# rows of failures with the same expiry.
_THROTTLE = "SELECT value, expires_at FROM {ns}_counters WHERE name = ?"
_WRONG = ("SELECT code FROM {ns}_failures WHERE throttle = ? AND expires_at > ? "
          "AND code IN ({marks})")
_SET_THROTTLE = ("INSERT INTO {ns}_counters (name, value, expires_at) VALUES (?, ?, ?) "
                 "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
                 "expires_at = excluded.expires_at")
_FORGET_WRONG = "DELETE FROM {ns}_failures WHERE throttle = ? AND expires_at <= ?"
_ADD_WRONG = "INSERT INTO {ns}_failures (throttle, code, expires_at) VALUES (?, ?, ?)"
_SWEEP_WRONG = "DELETE FROM {ns}_failures WHERE expires_at <= ?"


class Queries:
    """Every statement of one namespace, formatted once; those taking a number of
    keys are formatted on first use for each number, and kept."""

    def __init__(self, namespace: str) -> None:
        self.namespace = ns = namespace
        self.schema = _SCHEMA.format(ns=ns)
        self.create_order = _CREATE_ORDER.format(ns=ns)
        self.update_order = _UPDATE_ORDER.format(ns=ns)
        self.order = _ORDER.format(ns=ns)
        self.expired = _EXPIRED.format(ns=ns)
        self.append = _APPEND.format(ns=ns)
        self.journal_append = _JOURNAL_APPEND.format(ns=ns)
        self.journal = _JOURNAL.format(ns=ns)
        self.journal_keep_head = _JOURNAL_KEEP_HEAD.format(ns=ns)
        self.journal_trim = _JOURNAL_TRIM.format(ns=ns)
        self.save_campaigns = _SAVE_CAMPAIGNS.format(ns=ns)
        self.load_campaigns = _LOAD_CAMPAIGNS.format(ns=ns)
        self.add_code = _ADD_CODE.format(ns=ns)
        self.hit = _HIT.format(ns=ns)
        self.sweep = _SWEEP.format(ns=ns)
        self.throttle = _THROTTLE.format(ns=ns)
        self.set_throttle = _SET_THROTTLE.format(ns=ns)
        self.forget_wrong = _FORGET_WRONG.format(ns=ns)
        self.add_wrong = _ADD_WRONG.format(ns=ns)
        self.sweep_wrong = _SWEEP_WRONG.format(ns=ns)
        self._add: dict[int, str] = {}
        self._in: dict[tuple[str, int], str] = {}

    def add(self, n: int) -> str:
        """The ``UPSERT … RETURNING`` adding ``n`` deltas to their counters."""
        sql = self._add.get(n)
        if sql is None:
            sql = self._add[n] = _ADD.format(ns=self.namespace,
                                             rows=", ".join(("(?, ?)",) * n))
        return sql

    def read(self, n: int) -> str:
        """The ``SELECT`` of ``n`` counters."""
        return self._with_in(_READ, n)

    def code_batches(self, n: int) -> str:
        """The ``SELECT`` of the batches of ``n`` codes."""
        return self._with_in(_CODE_BATCHES, n)

    def find_codes(self, n: int) -> str:
        """The ``SELECT`` of ``n`` codes' rows."""
        return self._with_in(_FIND_CODES, n)

    def wrong(self, n: int) -> str:
        """The ``SELECT`` of which of ``n`` codes a throttle holds (its wrong codes)."""
        return self._with_in(_WRONG, n)

    def ledger(self, where: str) -> str:
        """The ``SELECT`` of the ledger entries, filtered by ``where`` ('' or a
        ``WHERE`` clause); its last two parameters are the ``LIMIT`` (-1: none) and
        the ``OFFSET``."""
        return _LEDGER.format(ns=self.namespace, where=where)

    def drop(self, table: str) -> str:
        """The ``DROP`` of one of :data:`TABLES`."""
        return f"DROP TABLE IF EXISTS {self.namespace}_{table}"

    def _with_in(self, template: str, n: int) -> str:
        """``template`` with ``n`` parameters in its ``IN (…)``."""
        sql = self._in.get((template, n))
        if sql is None:
            sql = self._in[template, n] = template.format(ns=self.namespace,
                                                          marks=", ".join("?" * n))
        return sql


def chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    """``items`` in slices small enough for one ``IN (…)`` each."""
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def micros(at: datetime) -> int:
    """``at`` in whole microseconds since the epoch (a naive time is local, as
    :meth:`datetime.timestamp` reads it)."""
    if at.tzinfo is None:
        at = at.astimezone()
    return (at - _EPOCH) // _MICROSECOND
