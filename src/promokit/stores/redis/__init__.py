"""``redis://`` and ``rediss://``: a store on a Redis server (6.0 or later), for
many app servers at once.

URL::

    redis://[[user]:password@]host[:port][/db][?namespace=promokit&timeout=5]
    rediss://…                              (the same over TLS)

``namespace`` (default ``promokit``) keeps one store's keys apart from
another's on the same server; ``timeout`` (seconds, default 5) bounds
connecting and every reply. Opening the store pings the server, so a server
that cannot be reached raises :class:`~promokit.errors.StoreUnavailable` at
once.

Key layout
    Every key starts with the namespace in braces, a Redis Cluster *hash
    tag*, so all of a store's keys hash to one slot::

        {ns}:c:<counter key>     string   a counter, or a short-lived hit counter
        {ns}:o:<order id>        hash     revision, status, expires_at ('' = none), body
        {ns}:expiry              zset     order id, scored by expires_at
        {ns}:ledger              list     LedgerEntry.dumps() JSON text, oldest first
                                          (an unfiltered page is one LRANGE; a
                                          filtered one scans from the head)
        {ns}:journal:<stream>    list     a journal stream's bodies, oldest first
                                          (sequence number = trimmed count +
                                          list index + 1)
        {ns}:jt:<stream>         string   how many entries trim_journal deleted
                                          from the head of that stream's list
        {ns}:codes               hash     code -> "<uses>:<batch>"
        {ns}:f:<throttle>        set      a code throttle's wrong codes (its count is
                                          the hit counter {ns}:c:<throttle>; both
                                          lapse together)
        {ns}:campaigns           hash     campaign version -> canonical JSON

    On Redis Cluster a namespace therefore lives on one node (and its
    replicas): a shop that outgrows one node shards by namespace, e.g. one
    namespace per region or per tenant. The scripts name every key they touch
    in ``KEYS``, as Cluster requires, and never touch two namespaces. (The
    store connects to one server, a primary or a proxy in front of a Cluster;
    it does not follow ``MOVED`` redirections itself.)

Guarantees
    :meth:`RedisStore.apply` is one Lua script (``EVALSHA``, one round trip):
    Redis runs it alone, so the revision check, the expectations (the
    expected counters are read by the same ``MGET`` as the deltas' counters),
    the limit checks and every write happen as one step that no other client
    can interleave with. The script checks everything before it writes
    anything, so a conflicting, stale or refused change writes nothing.
    Journal entries are pushed (``RPUSH``) by the same script, so a stream's
    order is the order of the applies. :meth:`RedisStore.trim_journal` is one
    script too (``LTRIM`` and ``INCRBY`` of the stream's trimmed count), and
    :meth:`RedisStore.journal` reads the count and the list in one script, so a
    trim never renumbers an entry, not even for a reader in the middle of it.
    Counters are 64-bit integers (``INCRBY``); the script compares them
    exactly, not as Lua doubles, so budgets in minor units up to 9.2 * 10**18
    are safe. A change that would push a counter past 2**63 - 1 without a
    limit stopping it is an error (:class:`~promokit.errors.StoreError`) and
    writes nothing.

    Durability is the server's: with ``appendonly yes`` and ``appendfsync
    everysec`` a crash loses at most about a second of changes, and replication
    is asynchronous, so a failover can lose the last changes a primary
    acknowledged (and with them some uses counted against a limit). Ask for
    PostgreSQL when the ledger must survive anything.

    :meth:`RedisStore.add_codes` is all or nothing too; it writes a large
    import in one script, which holds the server for about 0.1 s per 100,000
    new codes. :meth:`RedisStore.check_codes` is one script as well: it reads
    the customer's throttle, looks the codes up and adds the wrong ones, so
    racing guesses cannot pass the throttle's limit.

    No command is retried behind the caller's back. When a reply is lost
    (:class:`~promokit.errors.StoreUnavailable` from ``apply``) the change may
    or may not have been made; read the order: its revision tells which, and
    retrying the same change is safe, since a second run only conflicts.
"""

from __future__ import annotations

from .store import RedisStore

__all__ = ["RedisStore"]
