"""The SQL of :class:`~promokit.stores.postgres.PostgresStore`: its tables
(``schema.sql`` beside this module, read once at import) and every statement of a
namespace, composed once per store."""

from __future__ import annotations

from importlib.resources import files

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

__all__ = ["Queries"]

_TABLES = ("counters", "orders", "ledger", "journal", "journal_head", "campaigns", "codes",
           "failures")
_INDEXES = ("counters_expires_idx", "orders_expires_idx", "ledger_order_idx",
            "ledger_promo_idx", "ledger_at_idx", "failures_expires_idx")


def _statements(text: str) -> tuple[str, ...]:
    """The statements of an SQL file: its ``--`` comment lines dropped, the rest
    split at each ``;``, each statement's whitespace folded into single spaces."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return tuple(" ".join(statement.split())
                 for statement in "\n".join(lines).split(";") if statement.strip())


_CREATE = _statements(files(__package__).joinpath("schema.sql").read_text(encoding="utf-8"))


class Queries:
    """Every statement of one namespace, composed once (table names quoted as
    identifiers) and kept as bytes, so psycopg's prepared-statement cache keys
    on the same text every time."""

    def __init__(self, namespace: str, conn: psycopg.Connection[TupleRow]) -> None:
        def table(name: str) -> sql.Identifier:
            return sql.Identifier(f"{namespace}_{name}")

        def index(name: str) -> sql.Identifier:
            return sql.Identifier(f"{namespace}_{name}")

        def q(text: str) -> bytes:
            return sql.SQL(text).format(
                counters=table("counters"), orders=table("orders"), ledger=table("ledger"),
                journal=table("journal"), journal_head=table("journal_head"),
                campaigns=table("campaigns"), codes=table("codes"),
                failures=table("failures"),
                **{name: index(name) for name in _INDEXES},
            ).as_bytes(conn)

        # Every name fits PostgreSQL's 63 bytes with a namespace of 40 characters.
        self.names = [f"{namespace}_{name}" for name in (*_TABLES, *_INDEXES)]
        self.exists = b"SELECT count(to_regclass(quote_ident(name))) FROM unnest(%s::text[]) name"
        self.lock = b"SELECT pg_advisory_xact_lock(%s)"
        self.create = [q(text) for text in _CREATE]
        self.drop = q("DROP TABLE IF EXISTS {counters}, {orders}, {ledger}, {journal}, "
                      "{journal_head}, {campaigns}, {codes}, {failures}")

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
        # appended after the filters: the page, in the order of writing
        self.ledger_page = b" ORDER BY seq LIMIT %s::bigint OFFSET %s::bigint"
        self.journal = q(
            "SELECT seq, body FROM {journal} WHERE stream = %s AND seq > %s "
            "ORDER BY seq LIMIT %s::bigint")
        # The head row stays: appends keep counting on from it after any trim.
        self.trim_journal = q("DELETE FROM {journal} WHERE stream = %s AND seq <= %s")

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

        # code throttles (check_codes), each under a transaction-level advisory lock:
        # the count is a hit counter row, the wrong codes rows of {failures} with the
        # same expiry. The first statement always returns one row: the count and its
        # expiry if the throttle is live, and the server's clock.
        self.throttle = q(
            "SELECT c.value, c.expires_at, t.now FROM "
            "(SELECT extract(epoch FROM now())::float8 AS now) t "
            "LEFT JOIN {counters} c ON c.key = %s "
            "AND (c.expires_at IS NULL OR c.expires_at > t.now)")
        self.wrong = q(
            "SELECT code FROM {failures} WHERE throttle = %s AND code = ANY(%s::text[]) "
            "AND expires_at > extract(epoch FROM now())::float8")
        self.set_throttle = q(
            "INSERT INTO {counters} AS c (key, value, expires_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, "
            "expires_at = EXCLUDED.expires_at")
        self.forget_wrong = q(
            "DELETE FROM {failures} WHERE throttle = %s "
            "AND expires_at <= extract(epoch FROM now())::float8")
        self.add_wrong = q(
            "INSERT INTO {failures} (throttle, code, expires_at) "
            "SELECT %s, c, %s FROM unnest(%s::text[]) AS c")
        self.sweep_wrong = q(
            "DELETE FROM {failures} WHERE expires_at <= extract(epoch FROM now())::float8")

