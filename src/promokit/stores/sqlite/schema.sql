-- The tables and indexes of one namespace, created where missing in one
-- transaction each time a store opens the file. SQLiteStore formats this text with
-- the namespace (str.format: so no curly braces in these comments) and runs it
-- with executescript().

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
-- Per stream, the highest sequence trim_journal deleted: appends count on from it
-- even when trimming emptied the stream.
CREATE TABLE IF NOT EXISTS {ns}_journal_head (
    stream TEXT PRIMARY KEY NOT NULL,
    seq INTEGER NOT NULL
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
-- The wrong codes of each code throttle (its count is a hit counter in counters,
-- with the same expires_at).
CREATE TABLE IF NOT EXISTS {ns}_failures (
    throttle TEXT NOT NULL,
    code TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (throttle, code)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS {ns}_failures_expiry ON {ns}_failures (expires_at);
COMMIT;
