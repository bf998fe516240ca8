-- The tables and indexes of one namespace, created where missing when a store opens
-- (PostgresStore._ensure_schema, under an advisory lock). Each name in braces, such as
-- {counters}, is the namespace's table or index, quoted as an identifier. Queries
-- reads this file once: it drops the comment lines, splits the rest at each ";" and
-- folds each statement's whitespace into single spaces; the statements are then run
-- one by one, in this order.

CREATE TABLE IF NOT EXISTS {counters} (key text PRIMARY KEY,
    value bigint NOT NULL, expires_at double precision) WITH (fillfactor = 80);
CREATE INDEX IF NOT EXISTS {counters_expires_idx} ON {counters} (expires_at)
    WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS {orders} (order_id text PRIMARY KEY,
    revision int NOT NULL, status text NOT NULL, expires_at double precision,
    body text NOT NULL);
CREATE INDEX IF NOT EXISTS {orders_expires_idx} ON {orders} (expires_at)
    WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS {ledger} (seq bigserial PRIMARY KEY,
    entry_id text NOT NULL UNIQUE, order_id text NOT NULL,
    promotion text NOT NULL, at timestamptz NOT NULL, body text NOT NULL);
CREATE INDEX IF NOT EXISTS {ledger_order_idx} ON {ledger} (order_id);
CREATE INDEX IF NOT EXISTS {ledger_promo_idx} ON {ledger} (promotion);
CREATE INDEX IF NOT EXISTS {ledger_at_idx} ON {ledger} (at);
CREATE TABLE IF NOT EXISTS {journal} (stream text NOT NULL,
    seq bigint NOT NULL, body text NOT NULL, PRIMARY KEY (stream, seq));
CREATE TABLE IF NOT EXISTS {journal_head} (stream text PRIMARY KEY,
    seq bigint NOT NULL);
CREATE TABLE IF NOT EXISTS {campaigns} (version text PRIMARY KEY,
    body text NOT NULL);
CREATE TABLE IF NOT EXISTS {codes} (code text PRIMARY KEY,
    batch text NOT NULL, uses int NOT NULL);
-- The wrong codes of each code throttle; its count is a hit counter in {counters}
-- with the same expires_at.
CREATE TABLE IF NOT EXISTS {failures} (throttle text NOT NULL,
    code text NOT NULL, expires_at double precision NOT NULL,
    PRIMARY KEY (throttle, code));
CREATE INDEX IF NOT EXISTS {failures_expires_idx} ON {failures} (expires_at);
