"""The store protocol: the one place promokit keeps state.

A store holds these things, and every backend (memory, SQLite, Redis,
PostgreSQL, or a plugin's) keeps them with the same guarantees:

- **counters**: integers by key (uses, stock, money spent), read by
  ``evaluate`` and changed only through :meth:`Store.apply`;
- **orders**: one row per order id, with a revision, a status, an optional
  expiry and a JSON body the checkout layer owns;
- **the ledger**: append-only :class:`LedgerEntry` records;
- **journals**: append-only streams of text (:class:`JournalEntry`), each
  record numbered 1, 2, 3 … within its stream in the order the changes that
  wrote them were applied (games keep their audit logs there); a stream's
  oldest records can be deleted with :meth:`Store.trim_journal`, which never
  renumbers the rest;
- **coupon codes** and **campaign versions**, written once and looked up;
- **code throttles**: per customer and window, the distinct wrong coupon codes
  tried (:meth:`Store.check_codes` looks codes up and counts the wrong ones in one
  atomic step, so codes cannot be guessed faster than a limit allows).

:meth:`Store.apply` is the single write path for counters, orders, the
ledger and the journals. It is atomic: it checks, in this order, the order's
revision (optimistic concurrency), the change's :class:`Expect` ranges (the
counter values the caller's pricing assumed) and every delta's limit, then
either applies everything or nothing, and its :class:`Outcome` says which
check stopped it: a revision conflict, ``stale`` expectations or ``refused``
deltas. The checkout layer (:mod:`promokit.checkout`) builds
every reservation, commit, release and refund out of it, so a backend has one
hard method to get right, and the shared contract tests (``tests/stores``)
hold each backend to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Protocol, runtime_checkable

import attrs

__all__ = [
    "AddedCodes",
    "Change",
    "CheckedCodes",
    "CodeRow",
    "Delta",
    "Expect",
    "JournalEntry",
    "LedgerEntry",
    "OrderRow",
    "Outcome",
    "Store",
    "StoreBackend",
    "check_page",
    "check_through",
]


@attrs.frozen
class Delta:
    """Add ``amount`` to counter ``key``; with ``limit``, only if the result stays
    at or below it. No delta may take a counter below zero."""

    key: str
    amount: int
    limit: int | None = None

    def refuses(self, value: int) -> bool:
        """Whether applying this delta to a counter at ``value`` is refused."""
        after = value + self.amount
        if after < 0:
            return True
        return self.amount > 0 and self.limit is not None and after > self.limit


@attrs.frozen
class Expect:
    """Apply the change only if counter ``key`` (0 if never written) is at least ``low``
    and, unless ``high`` is None, at most ``high`` — checked atomically, before any delta.

    Both bounds are inclusive. The value checked is the counter as :meth:`Store.read`
    returns it, before the change: a key that a delta of the same change also moves
    is checked as it was before that delta. A caller that priced a cart with assumed
    counter values expects, for each counter the price depended on, the range of
    values for which the price would be the same."""

    key: str
    low: int = 0
    high: int | None = None

    def holds(self, value: int) -> bool:
        """Whether a counter at ``value`` is within the range."""
        return self.low <= value and (self.high is None or value <= self.high)


@attrs.frozen(kw_only=True)
class LedgerEntry:
    """One line of the redemption ledger: a promotion redeemed (``redemption``) in a
    committed order, or given back (``reversal``) by a refund.

    Amounts are Decimal in ``currency``; a reversal's amounts are negative, so a
    sum over the ledger is what was spent."""

    entry_id: str
    order_id: str
    kind: Literal["redemption", "reversal"]
    promotion: str
    campaign: str | None
    customer: str | None
    currency: str
    amount: Decimal
    funding: tuple[tuple[str, Decimal], ...]
    units: int
    at: datetime
    campaign_version: str
    code: str | None = None
    refund_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The entry as JSON-ready data (amounts as strings, time ISO 8601)."""
        return {
            "entry_id": self.entry_id, "order_id": self.order_id, "kind": self.kind,
            "promotion": self.promotion, "campaign": self.campaign,
            "customer": self.customer, "code": self.code, "currency": self.currency,
            "amount": str(self.amount),
            "funding": {party: str(share) for party, share in self.funding},
            "units": self.units, "at": self.at.isoformat(),
            "campaign_version": self.campaign_version, "refund_id": self.refund_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LedgerEntry:
        """Read an entry written by :meth:`to_json`."""
        return cls(
            entry_id=data["entry_id"], order_id=data["order_id"], kind=data["kind"],
            promotion=data["promotion"], campaign=data["campaign"],
            customer=data["customer"], code=data.get("code"), currency=data["currency"],
            amount=Decimal(data["amount"]),
            funding=tuple((party, Decimal(share)) for party, share in data["funding"].items()),
            units=data["units"], at=datetime.fromisoformat(data["at"]),
            campaign_version=data["campaign_version"], refund_id=data.get("refund_id"))

    def dumps(self) -> str:
        """Compact JSON text, as stores keep it."""
        return json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str | bytes) -> LedgerEntry:
        return cls.from_json(json.loads(text))


@attrs.frozen
class JournalEntry:
    """One record appended to a journal stream by :meth:`Store.apply`.

    With ``when``, the entry is *conditional*: it is appended only if the counter
    ``when.key`` (one a delta of the same change moves) is, **after** the change,
    within ``when``'s range, and every ``{value}`` in its body is replaced by that
    counter's value after the change. The store decides this inside the same
    atomic write (an alert that a stock crossed a level is written exactly when,
    and only when, the change that crossed it is)."""

    stream: str
    body: str
    when: Expect | None = None

    VALUE = "{value}"
    """Replaced, in a conditional entry's body, by the counter's value after the change."""

    def written(self, after: Mapping[str, int]) -> str | None:
        """The body to append given the counters' values after the change (``None``:
        a conditional entry whose counter is out of range is not appended). For the
        backends written in Python; the Redis script does the same in Lua."""
        if self.when is None:
            return self.body
        value = after[self.when.key]
        if not self.when.holds(value):
            return None
        return self.body.replace(self.VALUE, str(value))


@attrs.frozen(kw_only=True)
class OrderRow:
    """An order as the store keeps it. ``expires_at`` (seconds since the epoch) is
    set while a reservation may lapse; ``body`` belongs to the checkout layer."""

    order_id: str
    revision: int
    status: str
    expires_at: float | None
    body: str


@attrs.frozen(kw_only=True)
class Change:
    """One atomic write: move ``order_id`` from ``revision`` (0: the order must not
    exist yet) to ``revision + 1`` with a new status, expiry and body, apply every
    delta, and append the ledger entries and the journal entries; or, if the
    revision does not match, an expectation does not hold or a delta is refused,
    do nothing.

    ``expect`` lists counters that must be within a range for the change to
    apply (:class:`Expect`); a counter may be expected once, and may also be
    named by a delta (it is checked as it was before the change).

    ``journal`` entries are appended, in the order given, to their streams only
    when the change is applied: never on a revision conflict, a stale
    expectation or a refused delta. A conditional entry (``JournalEntry.when``)
    is appended only if its counter ends within range (see :class:`JournalEntry`).
    Each gets the next sequence number of its stream inside the same atomic
    write, so a stream's order is the order in which changes were applied."""

    order_id: str
    revision: int
    status: str
    body: str
    expires_at: float | None = None
    deltas: tuple[Delta, ...] = ()
    ledger: tuple[LedgerEntry, ...] = ()
    journal: tuple[JournalEntry, ...] = ()
    expect: tuple[Expect, ...] = ()

    def __attrs_post_init__(self) -> None:
        keys = [delta.key for delta in self.deltas]
        if len(set(keys)) != len(keys):
            raise ValueError(f"a change names a counter twice: {sorted(keys)}")
        if self.expect:
            expected = [e.key for e in self.expect]
            if len(set(expected)) != len(expected):
                raise ValueError(f"a change expects a counter twice: {sorted(expected)}")
            for e in self.expect:
                if e.high is not None and e.low > e.high:
                    raise ValueError(f"the expectation on counter {e.key!r} has low "
                                     f"{e.low} above high {e.high}")
        for record in self.journal:
            if record.when is not None and record.when.key not in keys:
                raise ValueError(f"the conditional journal entry of stream {record.stream!r} "
                                 f"watches counter {record.when.key!r}, which no delta of "
                                 "the change moves")
            if record.when is not None and record.when.high is not None \
                    and record.when.low > record.when.high:
                raise ValueError(f"the condition on counter {record.when.key!r} has low "
                                 f"{record.when.low} above high {record.when.high}")


@attrs.frozen(kw_only=True)
class Outcome:
    """What :meth:`Store.apply` did. The checks run in this order, and the first
    that fails decides:

    - revision conflict: ``current`` is the order as stored (``None`` if there
      is none), ``revision`` its revision, and nothing changed;
    - stale: ``stale`` names (sorted) every expected counter outside its
      :class:`Expect` range, ``values`` holds every expected counter and every
      delta's counter as it stands, and nothing changed;
    - refused: ``refused`` names the counters whose limit (or zero) stopped it,
      ``values`` holds each delta's counter and each expected counter as it
      stands, and nothing changed;
    - applied: ``applied`` is true, ``revision`` is the new one and ``values``
      holds each delta's counter and each expected counter after the change.
    """

    applied: bool
    revision: int
    refused: tuple[str, ...] = ()
    values: Mapping[str, int] = attrs.field(factory=dict)
    current: OrderRow | None = None
    stale: tuple[str, ...] = ()

    @property
    def conflict(self) -> bool:
        """The order's revision was not the one the change was built on."""
        return not self.applied and not self.refused and not self.stale


@attrs.frozen
class CodeRow:
    """A coupon code as registered: its batch and how many uses each code allows."""

    batch: str
    uses: int


@attrs.frozen
class AddedCodes:
    """What :meth:`Store.add_codes` did: codes added, codes already in the same batch
    (left alone), and codes registered to another batch (if any, nothing was added)."""

    added: int
    existing: int
    conflicts: tuple[str, ...] = ()


def check_page(offset: int, limit: int | None) -> None:
    """Refuse a page of :meth:`Store.ledger` that names no entries: ``offset`` must
    be 0 or more and ``limit``, if given, 1 or more (``ValueError`` otherwise)."""
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(f"a ledger offset must be an integer >= 0, not {offset!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                              or limit < 1):
        raise ValueError(f"a ledger limit must be an integer >= 1 or None, not {limit!r}")


def check_through(through: int) -> None:
    """Refuse a :meth:`Store.trim_journal` bound below 0 (``ValueError``)."""
    if isinstance(through, bool) or not isinstance(through, int) or through < 0:
        raise ValueError(f"a journal trim bound must be an integer >= 0, not {through!r}")


def _strings(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


@attrs.frozen(kw_only=True)
class CheckedCodes:
    """What :meth:`Store.check_codes` did with the codes a customer tried, each code
    once, in the order given. Every code is in exactly one of three places:

    - ``found``: looked up and registered (never counted, whatever the throttle);
    - ``throttled``: refused *without* a look-up, because the throttle already held
      ``limit`` wrong codes when it came to the code's turn and the code was not
      one of them;
    - neither: looked up and not registered, a wrong code. ``counted`` lists those
      this check added to the throttle; a wrong code already in it (the customer
      typed it again) is not counted twice.

    ``failures`` is the number of distinct wrong codes in the throttle after the
    check: the value :meth:`Store.read` gives for the throttle's key."""

    found: Mapping[str, CodeRow] = attrs.field(factory=dict)
    throttled: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    counted: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    failures: int = 0


@runtime_checkable
class Store(Protocol):
    """Where counters, orders, the ledger, journals, coupon codes and campaign
    versions live.

    Every method is safe to call from many threads and processes at once (and,
    for the shared backends, from many machines). A backend that cannot reach
    its server raises :class:`~promokit.errors.StoreUnavailable`.
    """

    url: str
    """Where the store is, with any password masked (for messages)."""

    def read(self, keys: Sequence[str]) -> Mapping[str, int]:
        """The value of each key; a key never written reads 0."""
        ...

    def apply(self, change: Change) -> Outcome:
        """Apply ``change`` atomically, all or nothing (see :class:`Change`)."""
        ...

    def order(self, order_id: str) -> OrderRow | None:
        """The order as stored, or ``None``."""
        ...

    def expired(self, now: float, limit: int = 100) -> list[str]:
        """Ids of orders whose ``expires_at`` is at or before ``now``, soonest first."""
        ...

    def ledger(self, *, order_id: str | None = None, promotion: str | None = None,
               since: datetime | None = None, until: datetime | None = None,
               offset: int = 0, limit: int | None = None) -> list[LedgerEntry]:
        """Ledger entries in the order they were written, optionally only one order's,
        one promotion's, or those with ``since <= at < until``; of those, the ones
        after the first ``offset``, at most ``limit`` (all of them if ``None``).

        The ledger is append-only, so with the same filters an offset names the same
        entry on every call: pages of ``offset=0, limit=n``, ``offset=n, limit=n`` …
        concatenate to the whole filtered ledger, and an offset past its end gives
        ``[]``. An ``offset`` below 0 or a ``limit`` below 1 raises ``ValueError``
        (:func:`check_page`)."""
        ...

    def journal(self, stream: str, *, after: int = 0, limit: int | None = None
                ) -> list[tuple[int, str]]:
        """Entries of ``stream`` as ``(sequence, body)``, oldest first: sequence numbers
        are 1, 2, 3 … within a stream, in the order the changes were applied; only
        those with sequence > ``after``, at most ``limit``.

        Entries removed by :meth:`trim_journal` are no longer returned; the others
        keep their sequence numbers."""
        ...

    def trim_journal(self, stream: str, *, through: int) -> int:
        """Delete the entries of ``stream`` with sequence <= ``through``, atomically,
        and return how many were deleted (0 if none were left to delete).

        Trimming never renumbers: later entries keep their sequence numbers, so
        :meth:`journal` with ``after=`` keeps working, and entries appended afterwards
        go on counting up from the stream's last sequence, even when the trim left
        the stream empty. Other streams are untouched. ``through`` below 0 raises
        ``ValueError`` (:func:`check_through`)."""
        ...

    def save_campaigns(self, version: str, body: str) -> None:
        """Keep the canonical JSON of a campaign version (a no-op if kept already)."""
        ...

    def load_campaigns(self, version: str) -> str | None:
        """The canonical JSON of a kept campaign version, or ``None``."""
        ...

    def add_codes(self, batch: str, codes: Sequence[str], uses: int) -> AddedCodes:
        """Register coupon codes of ``batch``, all or nothing."""
        ...

    def find_codes(self, codes: Sequence[str]) -> Mapping[str, CodeRow]:
        """The registered codes among ``codes``; unknown ones are left out. Counts
        nothing: a customer's codes go through :meth:`check_codes`."""
        ...

    def check_codes(self, codes: Sequence[str], *, throttle: str, limit: int,
                    ttl: float) -> CheckedCodes:
        """Look up the coupon codes a customer tried and count the wrong ones against
        the throttle ``throttle``, in one atomic step (see :class:`CheckedCodes`).

        The throttle is a set of distinct wrong codes and a short-lived counter of
        them, both under the key ``throttle`` (one customer's window,
        :meth:`counter_keys.code_failures <promokit.stores.counter_keys.code_failures>`)
        and forgotten together ``ttl`` seconds after the first wrong code created
        them; :meth:`read` of ``throttle`` gives the count (0 once lapsed), so an
        :class:`Expect` can check it. Codes are taken in the order given, each once:

        - a code already in the set is looked up (it may have been registered
          since) and never counted again;
        - any other code, once the set holds ``limit`` codes, is refused as
          ``throttled`` without being looked up;
        - otherwise it is looked up, and if it is not registered it joins the set.

        Atomic across threads, processes and app servers: no other check of the
        same throttle comes between reading the set and writing it, so at most
        ``limit`` distinct wrong codes are ever looked up per throttle and window.
        Found codes are never counted. With no codes it only reads the count and
        writes nothing."""
        ...

    def hit(self, key: str, ttl: float) -> int:
        """Add one to a short-lived counter that the store may forget ``ttl`` seconds
        after it was created, and return its new value (rate limits)."""
        ...

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...


@attrs.frozen(kw_only=True)
class StoreBackend:
    """A store backend as a plugin declares it: the URL scheme it answers to, a
    callable that opens a store for a URL of that scheme, and optionally one that
    says whether a store already lives at a URL."""

    name: str
    """The URL scheme, e.g. ``"redis"``."""
    open: Any
    """``open(url: str) -> Store``; raises :class:`~promokit.errors.StoreURLError` for a
    URL it cannot use and :class:`~promokit.errors.StoreUnavailable` when it cannot
    reach the server."""
    description: str = ""
    exists: Any = None
    """``exists(url: str) -> bool``: whether a store already lives at ``url``, without
    creating one (``open_store(url, create=False)``, for commands that read or settle
    and must not make a new, empty store of a mistyped URL). ``None``: the backend
    cannot tell, and every URL counts as an existing store."""
