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
        {ns}:journal:<stream>    list     a journal stream's bodies, oldest first
                                          (sequence number = list index + 1)
        {ns}:codes               hash     code -> "<uses>:<batch>"
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
    order is the order of the applies.
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
    new codes.

    No command is retried behind the caller's back. When a reply is lost
    (:class:`~promokit.errors.StoreUnavailable` from ``apply``) the change may
    or may not have been made; read the order: its revision tells which, and
    retrying the same change is safe, since a second run only conflicts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NoReturn, cast
from urllib.parse import unquote, urlsplit

import redis
from redis.backoff import NoBackoff
from redis.commands.core import Script
from redis.exceptions import (
    AuthenticationError,
    AuthorizationError,
    ClusterDownError,
    ReadOnlyError,
    TryAgainError,
)
from redis.retry import Retry

from ..errors import StoreError, StoreUnavailable, StoreURLError
from .base import AddedCodes, Change, CodeRow, Delta, Expect, LedgerEntry, OrderRow, Outcome
from .url import parse_store_url

__all__ = ["RedisStore"]

_BOUND = 2**64  # amounts and limits the script takes, see _bounded()
_CHUNK = 5000  # values per command when a call carries many (MGET, HMGET, LRANGE)

# -- Lua ------------------------------------------------------------------------------
#
# Redis turns integer replies into Lua numbers (doubles, exact only up to 2**53),
# so the apply script never compares counters as numbers it cannot hold exactly:
# it reads them with MGET (bulk strings, exact), and when any of value, amount or
# limit has 16 characters or more it compares them as pairs (hi, lo) with
# value = hi * 10**9 + lo and 0 <= lo < 10**9, where hi and lo are small enough to
# be exact. Writes use INCRBY with the amount as text, which Redis does in 64-bit
# integers. An expectation's bounds are compared the same way. The script returns
# the counters as they were (text); Python adds the amounts with its own integers.

_APPLY = """
-- KEYS: order hash, expiry zset, ledger list, then one counter per delta, then
--       one counter per expectation, then one journal list per stream written.
-- ARGV: expected revision, status, expires_at ('' = none), body, order id,
--       number of deltas, number of ledger entries, number of expectations,
--       then amount and limit ('' = none) per delta, then low and high
--       ('' = none) per expectation, then the ledger entries, then per journal
--       list the number of its entries followed by their bodies.
local order, n, m, e = KEYS[1], tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local revision = redis.call('HGET', order, 'revision') or '0'
if revision ~= ARGV[1] then
  if revision == '0' then return {0, '0'} end
  local row = redis.call('HMGET', order, 'status', 'expires_at', 'body')
  return {0, revision, row[1], row[2], row[3]}
end

-- The reply: {state, revision, the counters as they were, ...}; the deltas'
-- counters sit at reply[2 + i], the expected ones at reply[2 + n + j].
local reply = {1, revision}
for first = 4, 3 + n + e, 1000 do
  local got = redis.call('MGET', unpack(KEYS, first, math.min(first + 999, 3 + n + e)))
  for i = 1, #got do reply[#reply + 1] = got[i] or '0' end
end

local B = 1000000000
local function big(s)  -- decimal text -> {hi, lo}, exact for 64-bit integers
  local negative = string.byte(s, 1) == 45
  if negative then s = string.sub(s, 2) end
  local hi, lo = 0, tonumber(s)
  if #s > 9 then
    hi, lo = tonumber(string.sub(s, 1, #s - 9)), tonumber(string.sub(s, #s - 8))
  end
  if not negative then return {hi, lo} end
  if lo > 0 then return {-hi - 1, B - lo} end
  return {-hi, 0}
end
local function less(x, y)
  return x[1] < y[1] or (x[1] == y[1] and x[2] < y[2])
end
local MAX = {9223372036, 854775807}

if e > 0 then  -- the expectations, before any limit
  local stale = {}
  for j = 1, e do
    local v, lo, hi = reply[2 + n + j], ARGV[7 + 2 * n + 2 * j], ARGV[8 + 2 * n + 2 * j]
    if not string.find(v, '^%-?%d+$') then
      return redis.error_reply('counter ' .. KEYS[3 + n + j] .. ' holds a non-integer')
    end
    if #v < 16 and #lo < 16 and #hi < 16 then
      local x = tonumber(v)
      if x < tonumber(lo) or (hi ~= '' and x > tonumber(hi)) then stale[#stale + 1] = j end
    else
      local x = big(v)
      if less(x, big(lo)) or (hi ~= '' and less(big(hi), x)) then
        stale[#stale + 1] = j
      end
    end
  end
  if #stale > 0 then  -- {3, revision, values..., indices of the stale expectations...}
    reply[1] = 3
    for j = 1, #stale do reply[#reply + 1] = stale[j] end
    return reply
  end
end

local refused, overflow = {}, nil
for i = 1, n do
  local v, a, l = reply[2 + i], ARGV[7 + 2 * i], ARGV[8 + 2 * i]
  if not string.find(v, '^%-?%d+$') then
    return redis.error_reply('counter ' .. KEYS[i + 3] .. ' holds a non-integer')
  end
  local up = string.byte(a, 1) ~= 45 and a ~= '0'
  if #v < 16 and #a < 16 and #l < 16 then
    local after = tonumber(v) + tonumber(a)
    if after < 0 or (up and l ~= '' and after > tonumber(l)) then
      refused[#refused + 1] = i
    end
  else
    local x, y = big(v), big(a)
    local after = {x[1] + y[1], x[2] + y[2]}
    if after[2] >= B then after = {after[1] + 1, after[2] - B} end
    if after[1] < 0 or (up and l ~= '' and less(big(l), after)) then
      refused[#refused + 1] = i
    elseif less(MAX, after) then
      overflow = KEYS[i + 3]
    end
  end
end
if #refused > 0 then  -- {2, revision, values..., indices of the refused deltas...}
  reply[1] = 2
  for i = 1, #refused do reply[#reply + 1] = refused[i] end
  return reply
end
if overflow then
  return redis.error_reply('counter ' .. overflow .. ' would pass 2^63-1')
end

for i = 1, n do
  local a = ARGV[7 + 2 * i]
  if a ~= '0' then redis.call('INCRBY', KEYS[i + 3], a) end
end
local new = string.format('%d', tonumber(revision) + 1)
redis.call('HSET', order, 'revision', new, 'status', ARGV[2],
           'expires_at', ARGV[3], 'body', ARGV[4])
if ARGV[3] ~= '' then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[5])
elseif revision ~= '0' then
  redis.call('ZREM', KEYS[2], ARGV[5])
end
local ledger_end = 8 + 2 * n + 2 * e + m
for first = 9 + 2 * n + 2 * e, ledger_end, 1000 do
  redis.call('RPUSH', KEYS[3], unpack(ARGV, first, math.min(first + 999, ledger_end)))
end
local at = ledger_end + 1
for j = 4 + n + e, #KEYS do
  local last = at + tonumber(ARGV[at])
  for first = at + 1, last, 1000 do
    redis.call('RPUSH', KEYS[j], unpack(ARGV, first, math.min(first + 999, last)))
  end
  at = last + 1
end
reply[2] = new
return reply  -- {1, new revision, values...}
"""

# Adding coupon codes, all or nothing, even for imports of 100,000 codes.
#
# Codes are only ever added, never changed or removed, so what a reader saw
# registered stays registered. add_codes therefore works in two steps:
#
# 1. Read-only, in chunks (HMGET, pipelined, no lock, nothing blocks): a code
#    registered to another batch is a conflict and ends the call, with nothing
#    written; codes of the same batch are "existing" for good. What is left are
#    the codes that were not registered when we looked.
# 2. One script with those codes: it looks at them again (another import may have
#    registered some since step 1) and, if none now belongs to another batch,
#    adds every one still missing; otherwise it adds nothing and returns the new
#    conflicts. Redis runs a script alone, so step 2 is atomic, and the codes
#    step 1 let through cannot have changed except by being added.
#
# The write is thus one atomic step and all or nothing: no reader ever sees part
# of an import, and a failure leaves no part behind. The price is that step 2 runs
# in one piece: about 0.1 s per 100,000 new codes, during which Redis serves no one
# else. Chunking the writes instead would let readers see (and customers redeem) a
# half-done import that a later conflict could not take back.
_ADD_CODES = """
-- KEYS: codes hash. ARGV: batch, the value to store, then the codes to add.
local batch, value = ARGV[1], ARGV[2]
local fresh, conflicts, existing = {}, {}, 0
for first = 3, #ARGV, 1000 do
  local last = math.min(first + 999, #ARGV)
  local got = redis.call('HMGET', KEYS[1], unpack(ARGV, first, last))
  for i = 1, #got do
    local code, stored = ARGV[first + i - 1], got[i]
    if not stored then
      fresh[#fresh + 1] = code
    elseif string.sub(stored, (string.find(stored, ':', 1, true) or 0) + 1) == batch then
      existing = existing + 1
    else
      conflicts[#conflicts + 1] = code
    end
  end
end
if #conflicts > 0 then return {0, existing, conflicts} end
for first = 1, #fresh, 500 do
  local pairs = {}
  for i = first, math.min(first + 499, #fresh) do
    pairs[#pairs + 1] = fresh[i]
    pairs[#pairs + 1] = value
  end
  redis.call('HSET', KEYS[1], unpack(pairs))
end
return {#fresh, existing}
"""

_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
"""

_DB = re.compile(r"/?(?:([0-9]+)/?)?")


class RedisStore:
    """A store on a Redis server; open it with :meth:`from_url`.

    One instance holds a pool of connections and is safe to share between
    threads; each process opens its own.
    """

    def __init__(self, client: redis.Redis, *, namespace: str, url: str) -> None:
        self.url = url
        self.namespace = namespace
        self._redis = client
        self._prefix = tag = f"{{{namespace}}}:"
        self._counter = f"{tag}c:"
        self._order = f"{tag}o:"
        self._expiry = f"{tag}expiry"
        self._ledger = f"{tag}ledger"
        self._journal = f"{tag}journal:"
        self._codes = f"{tag}codes"
        self._campaigns = f"{tag}campaigns"
        self._apply: Script = client.register_script(_APPLY)
        self._add_codes: Script = client.register_script(_ADD_CODES)
        self._hit: Script = client.register_script(_HIT)

    @classmethod
    def from_url(cls, url: str) -> RedisStore:
        """Open ``redis://[[user]:password@]host[:port][/db][?namespace=…&timeout=…]``
        (``rediss://`` for TLS) and ping the server.

        Raises :class:`~promokit.errors.StoreURLError` for a URL it cannot use and
        :class:`~promokit.errors.StoreUnavailable` when the server does not answer
        within ``timeout`` seconds.
        """
        parsed = parse_store_url(url)
        masked = parsed.masked
        if parsed.scheme not in ("redis", "rediss"):
            raise StoreURLError(f"{masked}: not a redis:// or rediss:// URL")
        parsed.only("namespace", "timeout")
        namespace = parsed.namespace()
        timeout = parsed.number("timeout", 5.0)
        if not parsed.host:
            raise StoreURLError(f"{masked}: no host; use e.g. redis://127.0.0.1:6379/0")
        if parsed.port == 0:
            raise StoreURLError(f"{masked}: port 0 is not a port")
        match = _DB.fullmatch(parsed.path)
        if match is None:
            raise StoreURLError(f"{masked}: the path {parsed.path!r} must be a database "
                                "number, e.g. /0")
        parts = urlsplit(url)
        client = redis.Redis(
            host=parsed.host, port=parsed.port or 6379, db=int(match.group(1) or 0),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            ssl=parsed.scheme == "rediss",
            socket_timeout=timeout, socket_connect_timeout=timeout,
            decode_responses=True, retry=Retry(NoBackoff(), 0), protocol=2)
        try:
            client.ping()
        except redis.RedisError as error:
            client.connection_pool.disconnect()
            if isinstance(error, redis.ConnectionError | redis.TimeoutError) \
                    and not isinstance(error, AuthenticationError | AuthorizationError):
                raise StoreUnavailable(f"cannot reach Redis at {masked}: {error}") from error
            raise StoreError(f"Redis at {masked} refused the connection: {error}") from error
        return cls(client, namespace=namespace, url=masked)

    def _failed(self, error: redis.RedisError) -> NoReturn:
        """Raise ``error`` as a StoreUnavailable (the server is down, lost, loading,
        read-only after a failover, busy) or a StoreError (anything else)."""
        transient = (
            isinstance(error, redis.ConnectionError | redis.TimeoutError | ReadOnlyError
                       | ClusterDownError | TryAgainError)
            and not isinstance(error, AuthenticationError | AuthorizationError)
        ) or str(error).startswith("BUSY")
        if transient:
            raise StoreUnavailable(f"lost Redis at {self.url}: {error}") from error
        raise StoreError(f"Redis at {self.url}: {error}") from error

    # -- counters -------------------------------------------------------------------------

    def read(self, keys: Sequence[str]) -> dict[str, int]:
        """The value of each key (one MGET); a key never written, or a hit counter
        that has lapsed, reads 0."""
        if not keys:
            return {}
        prefix = self._counter
        try:
            if len(keys) <= _CHUNK:
                got = cast("list[str | None]", self._redis.mget([prefix + k for k in keys]))
            else:
                pipe = self._redis.pipeline(transaction=False)
                for first in range(0, len(keys), _CHUNK):
                    pipe.mget([prefix + k for k in keys[first:first + _CHUNK]])
                got = [value for chunk in pipe.execute() for value in chunk]
        except redis.RedisError as error:
            self._failed(error)
        return {key: int(value) if value is not None else 0
                for key, value in zip(keys, got, strict=True)}

    def apply(self, change: Change) -> Outcome:
        """Apply ``change`` atomically in one script call (one round trip)."""
        expires_at = change.expires_at
        if expires_at is None:
            expires = ""
        elif math.isnan(expires_at):
            raise StoreError(f"order {change.order_id!r}: expires_at is NaN")
        else:
            expires = repr(float(expires_at))
        deltas, expect = change.deltas, change.expect
        counter = self._counter
        keys = [self._order + change.order_id, self._expiry, self._ledger]
        args = [str(change.revision), change.status, expires, change.body, change.order_id,
                str(len(deltas)), str(len(change.ledger)), str(len(expect))]
        for delta in deltas:
            keys.append(counter + delta.key)
            amount, limit = delta.amount, delta.limit
            if -_BOUND <= amount <= _BOUND and (limit is None or 0 <= limit <= 2 * _BOUND):
                args.append(str(amount))
                args.append("" if limit is None else str(limit))
            else:
                args.extend(_bounded(amount, limit))
        for e in expect:
            keys.append(counter + e.key)
            args.extend(_range(e.low, e.high))
        args.extend(entry.dumps() for entry in change.ledger)
        streams: dict[str, list[str]] = {}
        for record in change.journal:
            streams.setdefault(record.stream, []).append(record.body)
        for stream, bodies in streams.items():
            keys.append(self._journal + stream)
            args.append(str(len(bodies)))
            args.extend(bodies)
        try:
            reply = self._apply(keys=keys, args=args)
        except redis.RedisError as error:
            self._failed(error)
        state, revision = reply[0], int(reply[1])
        end = 2 + len(deltas)
        if expect and state:
            return _expected_outcome(state, revision, deltas, expect, reply)
        if state == 1:
            return Outcome(applied=True, revision=revision, values={
                delta.key: int(value) + delta.amount
                for delta, value in zip(deltas, reply[2:end], strict=True)})
        if state == 2:
            return Outcome(applied=False, revision=revision,
                           refused=tuple(deltas[i - 1].key for i in reply[end:]),
                           values={delta.key: int(value)
                                   for delta, value in zip(deltas, reply[2:end], strict=True)})
        current = None
        if revision:
            status, expires_at_text, body = reply[2:]
            current = OrderRow(order_id=change.order_id, revision=revision, status=status,
                               expires_at=_expiry(expires_at_text), body=body)
        return Outcome(applied=False, revision=revision, current=current)

    # -- orders and expiry ------------------------------------------------------------------

    def order(self, order_id: str) -> OrderRow | None:
        """The order as stored (one HMGET), or ``None``."""
        try:
            revision, status, expires_at, body = cast("list[str | None]", self._redis.hmget(
                self._order + order_id, ["revision", "status", "expires_at", "body"]))
        except redis.RedisError as error:
            self._failed(error)
        if revision is None:
            return None
        return OrderRow(order_id=order_id, revision=int(revision), status=status or "",
                        expires_at=_expiry(expires_at), body=body or "")

    def expired(self, now: float, limit: int = 100) -> list[str]:
        """Ids of orders whose ``expires_at`` is at or before ``now``, soonest first
        (ties by order id)."""
        if limit <= 0:
            return []
        try:
            return cast("list[str]", self._redis.zrangebyscore(
                self._expiry, "-inf", repr(float(now)), start=0, num=limit))
        except redis.RedisError as error:
            self._failed(error)

    # -- ledger -------------------------------------------------------------------------------

    def ledger(self, *, order_id: str | None = None, promotion: str | None = None,
               since: datetime | None = None, until: datetime | None = None
               ) -> list[LedgerEntry]:
        """Ledger entries in the order they were written, filtered (the whole list is
        read, in chunks of 5,000)."""
        found: list[LedgerEntry] = []
        first = 0
        while True:
            try:
                chunk = cast("list[str]", self._redis.lrange(
                    self._ledger, first, first + _CHUNK - 1))
            except redis.RedisError as error:
                self._failed(error)
            for text in chunk:
                entry = LedgerEntry.loads(text)
                if ((order_id is None or entry.order_id == order_id)
                        and (promotion is None or entry.promotion == promotion)
                        and (since is None or entry.at >= since)
                        and (until is None or entry.at < until)):
                    found.append(entry)
            if len(chunk) < _CHUNK:
                return found
            first += _CHUNK

    # -- journals ---------------------------------------------------------------------------

    def journal(self, stream: str, *, after: int = 0, limit: int | None = None
                ) -> list[tuple[int, str]]:
        """Entries of ``stream`` as ``(sequence, body)``, oldest first; the sequence
        is the list index + 1 (LRANGE, in chunks of 5,000)."""
        first = max(after, 0)
        end = None if limit is None else first + max(limit, 0)  # exclusive
        key = self._journal + stream
        found: list[tuple[int, str]] = []
        while end is None or first < end:
            size = _CHUNK if end is None else min(_CHUNK, end - first)
            try:
                chunk = cast("list[str]", self._redis.lrange(key, first, first + size - 1))
            except redis.RedisError as error:
                self._failed(error)
            found.extend(enumerate(chunk, first + 1))
            if len(chunk) < size:
                break
            first += size
        return found

    # -- campaign versions, coupon codes --------------------------------------------------

    def save_campaigns(self, version: str, body: str) -> None:
        """Keep a campaign version's JSON (HSETNX: the first body kept stays)."""
        try:
            self._redis.hsetnx(self._campaigns, version, body)
        except redis.RedisError as error:
            self._failed(error)

    def load_campaigns(self, version: str) -> str | None:
        """The JSON of a kept campaign version, or ``None``."""
        try:
            return cast("str | None", self._redis.hget(self._campaigns, version))
        except redis.RedisError as error:
            self._failed(error)

    def add_codes(self, batch: str, codes: Sequence[str], uses: int) -> AddedCodes:
        """Register coupon codes of ``batch``, all or nothing (see the comment on
        ``_ADD_CODES`` for how a large import stays atomic)."""
        unique = list(dict.fromkeys(codes))
        if not unique:
            return AddedCodes(added=0, existing=0)
        stored = self._hmget(self._codes, unique)
        conflicts = sorted(code for code, value in zip(unique, stored, strict=True)
                           if value is not None and _batch(value) != batch)
        if conflicts:
            return AddedCodes(added=0, existing=0, conflicts=tuple(conflicts))
        missing = [code for code, value in zip(unique, stored, strict=True) if value is None]
        if not missing:
            return AddedCodes(added=0, existing=len(unique))
        try:
            reply = self._add_codes(keys=[self._codes],
                                    args=[batch, f"{uses}:{batch}", *missing])
        except redis.RedisError as error:
            self._failed(error)
        if len(reply) > 2:
            return AddedCodes(added=0, existing=0, conflicts=tuple(sorted(reply[2])))
        added = int(reply[0])
        return AddedCodes(added=added, existing=len(unique) - added)

    def find_codes(self, codes: Sequence[str]) -> dict[str, CodeRow]:
        """The registered codes among ``codes`` (HMGET); unknown ones are left out."""
        if not codes:
            return {}
        found: dict[str, CodeRow] = {}
        for code, value in zip(codes, self._hmget(self._codes, codes), strict=True):
            if value is not None:
                uses, _, batch = value.partition(":")
                found[code] = CodeRow(batch, int(uses))
        return found

    def _hmget(self, key: str, fields: Sequence[str]) -> list[str | None]:
        """HMGET ``fields`` of ``key``, in chunks of 5,000 sent in one round trip."""
        try:
            if len(fields) <= _CHUNK:
                return cast("list[str | None]", self._redis.hmget(key, list(fields)))
            pipe = self._redis.pipeline(transaction=False)
            for first in range(0, len(fields), _CHUNK):
                pipe.hmget(key, list(fields[first:first + _CHUNK]))
            return [value for chunk in pipe.execute() for value in chunk]
        except redis.RedisError as error:
            self._failed(error)

    # -- short-lived counters ---------------------------------------------------------------

    def hit(self, key: str, ttl: float) -> int:
        """Add one to a counter that Redis deletes ``ttl`` seconds after the first hit
        created it (INCR, and PEXPIRE when new, in one script); return its value."""
        try:
            return int(self._hit(keys=[self._counter + key],
                                 args=[max(1, math.ceil(ttl * 1000))]))
        except redis.RedisError as error:
            self._failed(error)

    # -- housekeeping -----------------------------------------------------------------------

    def close(self) -> None:
        """Disconnect the pool's connections (idempotent)."""
        self._redis.connection_pool.disconnect()

    def drop(self) -> None:
        """Delete every key of this store's namespace (SCAN ``{ns}:*`` and UNLINK),
        leaving other namespaces alone. For tests and tearing a store down."""
        try:
            batch: list[str] = []
            for key in self._redis.scan_iter(match=f"{self._prefix}*", count=1000):
                batch.append(key)
                if len(batch) >= 500:
                    self._redis.unlink(*batch)
                    batch.clear()
            if batch:
                self._redis.unlink(*batch)
        except redis.RedisError as error:
            self._failed(error)


def _bounded(amount: int, limit: int | None) -> tuple[str, str]:
    """An amount and limit (as text) that the apply script decides as it would
    ``amount`` and ``limit``, within the range where its arithmetic is exact.

    A counter holds -2**63 <= v < 2**63, so: an amount below -2**64 takes any
    counter below zero, as -2**64 does; an amount above 2**64 passes 2**63 - 1 (an
    error unless the limit refuses it), as 2**64 does, and the limit moves down by
    the same difference so that ``v + amount > limit`` keeps its answer; a negative
    limit refuses any increase, as -1 does; and a limit above 2**65 refuses no
    amount the script is given, as no limit does.
    """
    if amount > _BOUND:
        if limit is not None:
            limit -= amount - _BOUND
        amount = _BOUND
    amount = max(amount, -_BOUND)
    if limit is None or limit > 2 * _BOUND:
        return str(amount), ""
    return str(amount), str(max(limit, -1))


def _range(low: int, high: int | None) -> tuple[str, str]:
    """An expectation's bounds (as text) that the apply script decides as it would
    ``low`` and ``high``, within the range where its arithmetic is exact: a counter
    holds -2**63 <= v < 2**63, so a bound past either end acts as the end does."""
    low = min(max(low, -(2**63)), 2**63)
    if high is None or high >= 2**63 - 1:
        return str(low), ""
    return str(low), str(max(high, -(2**63) - 1))


def _expected_outcome(state: int, revision: int, deltas: Sequence[Delta],
                      expect: Sequence[Expect], reply: list[Any]) -> Outcome:
    """The outcome of an applied (1), refused (2) or stale (3) change that expected
    counters: ``reply`` is {state, revision, the deltas' counters before, the
    expected counters, indices of the refused deltas or the stale expectations}."""
    end = 2 + len(deltas)
    values = {e.key: int(value)
              for e, value in zip(expect, reply[end:end + len(expect)], strict=True)}
    for delta, value in zip(deltas, reply[2:end], strict=True):
        values[delta.key] = int(value) + delta.amount if state == 1 else int(value)
    indices = reply[end + len(expect):]
    if state == 1:
        return Outcome(applied=True, revision=revision, values=values)
    if state == 2:
        return Outcome(applied=False, revision=revision, values=values,
                       refused=tuple(deltas[i - 1].key for i in indices))
    return Outcome(applied=False, revision=revision, values=values,
                   stale=tuple(sorted(expect[j - 1].key for j in indices)))


def _expiry(text: str | None) -> float | None:
    return float(text) if text else None


def _batch(value: str) -> str:
    return value.partition(":")[2]
