"""The :class:`RedisStore` class: a store on a Redis server, each operation one
command, pipeline or Lua script (``apply.lua``, ``add_codes.lua``, ``check_codes.lua``,
``journal.lua``, ``trim_journal.lua``
and ``hit.lua`` beside this module, read once at import)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from importlib.resources import files
from typing import NoReturn, cast
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

from ...errors import StoreError, StoreUnavailable, StoreURLError
from ..base import (
    AddedCodes,
    Change,
    CheckedCodes,
    CodeRow,
    LedgerEntry,
    OrderRow,
    Outcome,
    check_page,
    check_through,
)
from ..url import parse_store_url
from .encoding import BOUND, batch_of, bounded, expected_outcome, expected_range, expiry

__all__ = ["RedisStore"]

_CHUNK = 5000  # values per command when a call carries many (MGET, HMGET, LRANGE)

# The scripts, read once; RedisStore registers them (EVALSHA, loaded again if flushed).
_LUA = files(__package__)
_APPLY = _LUA.joinpath("apply.lua").read_text(encoding="utf-8")
_ADD_CODES = _LUA.joinpath("add_codes.lua").read_text(encoding="utf-8")
_HIT = _LUA.joinpath("hit.lua").read_text(encoding="utf-8")
_CHECK_CODES = _LUA.joinpath("check_codes.lua").read_text(encoding="utf-8")
_JOURNAL = _LUA.joinpath("journal.lua").read_text(encoding="utf-8")
_TRIM_JOURNAL = _LUA.joinpath("trim_journal.lua").read_text(encoding="utf-8")

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
        self._trimmed = f"{tag}jt:"
        self._codes = f"{tag}codes"
        self._failures = f"{tag}f:"
        self._campaigns = f"{tag}campaigns"
        self._apply: Script = client.register_script(_APPLY)
        self._add_codes: Script = client.register_script(_ADD_CODES)
        self._hit: Script = client.register_script(_HIT)
        self._check_codes: Script = client.register_script(_CHECK_CODES)
        self._journal_page: Script = client.register_script(_JOURNAL)
        self._trim_journal: Script = client.register_script(_TRIM_JOURNAL)

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

    @classmethod
    def exists(cls, url: str) -> bool:
        """Whether the store at ``url`` has been created (some key of its namespace
        is there), without writing anything."""
        store = cls.from_url(url)
        try:
            found = store._redis.scan_iter(match=f"{store._prefix}*", count=1000)
            return next(iter(found), None) is not None
        except redis.RedisError as error:
            store._failed(error)
        finally:
            store.close()

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
            if -BOUND <= amount <= BOUND and (limit is None or 0 <= limit <= 2 * BOUND):
                args.append(str(amount))
                args.append("" if limit is None else str(limit))
            else:
                args.extend(bounded(amount, limit))
        for e in expect:
            keys.append(counter + e.key)
            args.extend(expected_range(e.low, e.high))
        args.extend(entry.dumps() for entry in change.ledger)
        streams: dict[str, list[str]] = {}
        positions = {delta.key: i for i, delta in enumerate(deltas, 1)}
        for record in change.journal:
            when = record.when
            # Each entry: its condition ('' = none, else "<delta index> <low> <high|->")
            # and its body; the script appends it only if the delta's counter ends in range.
            condition = "" if when is None else (
                f"{positions[when.key]} {when.low} "
                f"{'-' if when.high is None else when.high}")
            streams.setdefault(record.stream, []).extend((condition, record.body))
        for stream, items in streams.items():
            keys.append(self._journal + stream)
            args.append(str(len(items) // 2))
            args.extend(items)
        try:
            reply = self._apply(keys=keys, args=args)
        except redis.RedisError as error:
            self._failed(error)
        state, revision = reply[0], int(reply[1])
        end = 2 + len(deltas)
        if expect and state:
            return expected_outcome(state, revision, deltas, expect, reply)
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
                               expires_at=expiry(expires_at_text), body=body)
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
                        expires_at=expiry(expires_at), body=body or "")

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
               since: datetime | None = None, until: datetime | None = None,
               offset: int = 0, limit: int | None = None) -> list[LedgerEntry]:
        """Ledger entries in the order they were written, filtered; after the first
        ``offset`` of those, at most ``limit``.

        The ledger is one list, so a page costs differently with and without
        filters. Unfiltered, ``offset`` is a list index: LRANGE reads exactly the
        page (in chunks of 5,000), O(offset + page) on the server and only the page
        over the wire. Filtered, there is no index to seek by: the list is read from
        its head in chunks of 5,000 and each entry decoded and tested, stopping once
        the page is full (or at the end), so a page costs every entry up to its last
        match, however many are skipped: deep pages of a filtered ledger grow
        linearly with the ledger. Use PostgreSQL or SQLite for large filtered
        exports."""
        check_page(offset, limit)
        if order_id is None and promotion is None and since is None and until is None:
            end = None if limit is None else offset + limit  # exclusive
            return [LedgerEntry.loads(text) for text in self._ledger_range(offset, end)]
        found: list[LedgerEntry] = []
        skip = offset
        for text in self._ledger_range(0, None):
            entry = LedgerEntry.loads(text)
            if ((order_id is None or entry.order_id == order_id)
                    and (promotion is None or entry.promotion == promotion)
                    and (since is None or entry.at >= since)
                    and (until is None or entry.at < until)):
                if skip:
                    skip -= 1
                    continue
                found.append(entry)
                if limit is not None and len(found) >= limit:
                    break
        return found

    def _ledger_range(self, first: int, end: int | None) -> Iterator[str]:
        """The ledger list's items from index ``first`` up to ``end`` (exclusive;
        ``None``: to the end), LRANGE by LRANGE in chunks of 5,000; a chunk is only
        read when the one before it is used up."""
        while end is None or first < end:
            size = _CHUNK if end is None else min(_CHUNK, end - first)
            try:
                chunk = cast("list[str]", self._redis.lrange(
                    self._ledger, first, first + size - 1))
            except redis.RedisError as error:
                self._failed(error)
            yield from chunk
            if len(chunk) < size:
                return
            first += size

    # -- journals ---------------------------------------------------------------------------

    def journal(self, stream: str, *, after: int = 0, limit: int | None = None
                ) -> list[tuple[int, str]]:
        """Entries of ``stream`` as ``(sequence, body)``, oldest first; the sequence
        is the stream's trimmed count (``{ns}:jt:<stream>``) + the list index + 1.
        Read in chunks of 5,000, each one script (``journal.lua``) that reads the
        trimmed count and the LRANGE together."""
        first = max(after, 0)  # the sequence after which the next chunk starts
        left = None if limit is None else max(limit, 0)
        keys = [self._journal + stream, self._trimmed + stream]
        found: list[tuple[int, str]] = []
        while left is None or left > 0:
            size = _CHUNK if left is None else min(_CHUNK, left)
            try:
                reply = cast("list[str]", self._journal_page(keys=keys, args=[first, size]))
            except redis.RedisError as error:
                self._failed(error)
            start, chunk = int(reply[0]), reply[1:]
            found.extend(enumerate(chunk, start + 1))
            if len(chunk) < size:
                break
            first = start + len(chunk)
            if left is not None:
                left -= len(chunk)
        return found

    def trim_journal(self, stream: str, *, through: int) -> int:
        """Delete the entries of ``stream`` with sequence <= ``through``: one script
        (``trim_journal.lua``) that ``LTRIM``s the list and adds what it deleted to
        the stream's trimmed count, so no sequence number changes."""
        check_through(through)
        try:
            count = self._trim_journal(keys=[self._journal + stream, self._trimmed + stream],
                                       args=[through])
        except redis.RedisError as error:
            self._failed(error)
        return int(cast("int", count))

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
        """Register coupon codes of ``batch``, all or nothing (see the comment atop
        ``add_codes.lua`` for how a large import stays atomic)."""
        unique = list(dict.fromkeys(codes))
        if not unique:
            return AddedCodes(added=0, existing=0)
        stored = self._hmget(self._codes, unique)
        conflicts = sorted(code for code, value in zip(unique, stored, strict=True)
                           if value is not None and batch_of(value) != batch)
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
                found[code] = _code_row(value)
        return found

    def check_codes(self, codes: Sequence[str], *, throttle: str, limit: int,
                    ttl: float) -> CheckedCodes:
        """Look codes up and count the wrong ones against ``throttle`` in one script
        (``check_codes.lua``, one round trip): the count is the hit counter
        ``{ns}:c:<throttle>``, the wrong codes the set ``{ns}:f:<throttle>``."""
        unique = list(dict.fromkeys(codes))
        if not unique:
            return CheckedCodes(failures=self.read([throttle])[throttle])
        try:
            failures, found, throttled, counted = self._check_codes(
                keys=[self._counter + throttle, self._failures + throttle, self._codes],
                args=[str(limit), max(1, math.ceil(ttl * 1000)), *unique])
        except redis.RedisError as error:
            self._failed(error)
        return CheckedCodes(
            found={unique[int(found[i]) - 1]: _code_row(found[i + 1])
                   for i in range(0, len(found), 2)},
            throttled=[unique[int(i) - 1] for i in throttled],
            counted=[unique[int(i) - 1] for i in counted], failures=int(failures))

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


def _code_row(value: str) -> CodeRow:
    """A code's row from its stored value, ``"<uses>:<batch>"``."""
    uses, _, batch = value.partition(":")
    return CodeRow(batch, int(uses))
