"""Checkout: reserve what an order consumes, then commit, release, expire or refund it.

DESIGN §4.9. Every operation is one atomic :meth:`Store.apply
<promokit.stores.Store.apply>` built on the order's stored revision, so it is
all-or-nothing, safe to retry and safe to race::

    order = engine.checkout(cart, "SO-20261111-0001")   # reserved, priced
    engine.commit("SO-20261111-0001")                   # paid: ledger written
    engine.refund("SO-20261111-0001", "RF-1", {"l1": 1})

The life of an order::

    reserved ──commit──▶ committed ──refund (some units)──▶ committed
       │                     └──────refund (the rest)────▶ refunded
       ├──release──▶ released
       └──TTL passes, sweep──▶ expired

A reservation holds its counters (uses, stock, budget, codes) from checkout;
release, expiry and refunds give them back. The same order id never reserves
twice: a repeated ``checkout`` returns the first order (``repeated`` is true).
``commit``, ``release`` and a refund with a known refund id are idempotent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

from .._hooks import Hooks
from ..campaign_set import CampaignSet
from ..cart import Cart
from ..errors import CartError, OrderError, Problem, RefundError, StoreError, StoreUnavailable
from ..events import OrderEvent
from ..inputs import InputLimits, bad_identifier
from ..order import POLICIES, Order, Policy, Refund, Replay, Status
from ..pricing import Known, Priced, Pricer
from ..result import NotApplied, PriceResult
from ..stores import Change, Delta, Expect, OrderRow, Outcome, Store
from ..times import aware, iso_text
from .alerts import alert_entries, alerts
from .ledger import redemptions, reversals
from .outbox import order_entry, quarantined_entry
from .refunds import all_refunded, work_out
from .replay import replay

__all__ = ["DEFAULT_TOLERANCE", "DEFAULT_TTL", "MAX_ATTEMPTS", "Checkout", "SweepReport"]

#: Seconds a reservation lives unless committed.
DEFAULT_TTL = 15 * 60
#: Seconds a cart's ``now`` may differ from the clock at checkout.
DEFAULT_TOLERANCE = 5 * 60
#: Pricing attempts a checkout makes when counters change under it.
MAX_ATTEMPTS = 8
#: Reasons that lapsed reservations could be behind.
_USED_UP = frozenset({"stock_exhausted", "limit_reached", "budget_exhausted", "code_used"})


def _no_foreign_rows(row_id: str) -> bool:
    return False


class Checkout:
    """Orders in ``pricer``'s store, priced by ``pricer``.

    ``hooks`` hears of every change (``promokit_order_event``, ``promokit_alert``);
    ``clock`` gives the time; ``ttl`` is how long a reservation lives unless
    committed (seconds). The store's lapsed rows that are not orders (a game's
    group window, an unpaid deposit) go to ``expire_row``, which says whether it
    changed anything."""

    def __init__(self, pricer: Pricer, *, hooks: Hooks, clock: Callable[[], datetime],
                 ttl: float = DEFAULT_TTL, tolerance: float = DEFAULT_TOLERANCE,
                 expire_row: Callable[[str], bool] = _no_foreign_rows) -> None:
        if not ttl > 0:
            raise ValueError(f"ttl must be a positive number of seconds, not {ttl!r}")
        if not tolerance >= 0:
            raise ValueError(f"tolerance must be seconds >= 0, not {tolerance!r}")
        self.tolerance = tolerance
        """How far (seconds) a cart's ``now`` may be from the clock at checkout."""
        self.pricer = pricer
        self.hooks = hooks
        self.clock = clock
        self.ttl = ttl
        self.expire_row = expire_row
        self.known = Known()
        """Counter values and code rows seen, to price the next checkout with."""
        self._kept_versions: set[str] = set()

    @property
    def store(self) -> Store:
        return self.pricer.store

    # -- checkout ------------------------------------------------------------------

    def checkout(self, cart: Cart | Mapping[str, Any] | str, order_id: str, *,
                 ttl: float | None = None, lang: str | None = None) -> Order:
        """Price ``cart`` and reserve everything it consumes, all or nothing.

        The order is priced at the checkout's clock, never at the cart's ``now``:
        a cart that says another time is refused (:class:`~promokit.errors.CartError`
        at ``now``) unless it is within ``tolerance`` seconds of the clock. If a
        counter ran out since the cart was priced, it is priced again without it
        (``Order.dropped`` says what and why). The same ``order_id`` never
        reserves twice: a repeat returns the first order, and an order id reused
        for another cart is an :class:`~promokit.errors.OrderError`.
        """
        _check_id("order_id", order_id, self.pricer.setup.limits)
        cart = self.pricer.read_cart(cart)
        ttl = self.ttl if ttl is None else ttl
        if not ttl > 0:
            raise ValueError(f"ttl must be a positive number of seconds, not {ttl!r}")
        pricer = self.pricer
        lang = lang or pricer.lang
        cart_hash = _hash(cart.to_json())
        now = self._now()
        self._check_time(cart, now)
        cart = attrs.evolve(cart, now=now)  # what consumes trusts the clock, not the cart
        self._keep_version(pricer.campaigns)
        first: Priced | None = None
        swept = False
        stale = 0
        for _ in range(MAX_ATTEMPTS):
            # Priced with the counters this checkout has seen, not read first: the
            # store checks them as it applies the order, in the same round trip.
            priced = pricer.price(cart, lang=lang, checkout=True, known=self.known)
            if priced.reads.unavailable:
                raise StoreUnavailable(f"cannot check out order {order_id!r}: the store at "
                                       f"{self.store.url} cannot be read")
            if not swept and any(n.reason in _USED_UP for n in priced.result.not_applied):
                swept = True  # lapsed reservations may hold what ran out
                if self.store.expired(self._now().timestamp(), 1):
                    self.sweep()  # another checkout may be sweeping them too:
                    continue      # either way they are being given back, so price again
            first = first or priced
            order = Order(
                order_id=order_id, status="reserved", revision=1, cart=cart,
                result=priced.result, campaign_version=pricer.campaigns.version, lang=lang,
                created_at=now, expires_at=now + timedelta(seconds=ttl),
                holds=priced.deltas, uses=priced.uses, reads=priced.reads.record(),
                dropped=_dropped(first.result, priced.result), cart_hash=cart_hash)
            assert order.expires_at is not None
            # A counter the price depends on exactly that changed under two attempts
            # in a row is busy (other orders take gift stock between every pricing and
            # write): from then on the order is priced with the value the store last
            # answered and written under that counter's limit alone, as a checkout that
            # reads first would be, rather than chasing it until the attempts run out.
            busy = priced.reads.exact_keys if stale >= 2 else frozenset()
            outcome = self._apply(Change(
                order_id=order_id, revision=0, status="reserved", body=order.dumps(),
                expires_at=order.expires_at.timestamp(), deltas=priced.deltas,
                journal=(order_entry("reserved", order, now),
                         *alert_entries(order, 1, 1, pricer.campaigns.currency)),
                expect=tuple(Expect(key, low, high) for key, (low, high)
                             in sorted(priced.reads.expect.items()) if key not in busy)))
            self.known.learn(outcome.values)
            if outcome.stale:
                stale += 1
                if first is priced and not priced.reads.guessed.isdisjoint(outcome.stale):
                    first = None  # a guess, not a price: the next one is the first
                continue  # priced again with the values the store answered
            if outcome.applied:
                self._event("reserved", order, now)
                for alert in alerts(order, outcome.values, pricer.campaigns.currency):
                    self.hooks.alert(alert)
                return order
            if outcome.conflict:
                assert outcome.current is not None
                earlier = Order.loads(outcome.current.body, outcome.current.revision)
                if earlier.cart_hash != cart_hash:
                    raise OrderError(f"order id {order_id!r} was already used for another cart",
                                     order_id=order_id)
                return attrs.evolve(earlier, repeated=True)
            if not swept:
                swept = True
                self.sweep()
        raise StoreError(f"could not reserve order {order_id!r}: the counters it needs kept "
                         f"changing over {MAX_ATTEMPTS} attempts")

    # -- settling --------------------------------------------------------------------

    def commit(self, order_id: str) -> Order:
        """Make a reservation final (the order is paid) and write its redemptions to the
        ledger. Committing a committed order returns it unchanged."""
        while True:
            order = self._load(order_id)
            if order.status in ("committed", "refunded"):
                return order
            if order.status != "reserved":
                raise OrderError(f"order {order_id!r} was {order.status} and cannot be "
                                 "committed; check out again with a new order id",
                                 order_id=order_id)
            now = self._now()
            assert order.expires_at is not None
            if order.expires_at <= now:
                self._expire(order, now)
                raise OrderError(f"the reservation of order {order_id!r} lapsed at "
                                 f"{order.expires_at.isoformat()}; check out again",
                                 order_id=order_id)
            done = attrs.evolve(order, status="committed", revision=order.revision + 1,
                                expires_at=None, committed_at=now)
            ledger = redemptions(done, now, self.pricer.campaigns.currency)
            outcome = self._apply(Change(
                order_id=order_id, revision=order.revision, status="committed",
                body=done.dumps(), ledger=ledger,
                journal=(order_entry("committed", done, now, ledger=ledger),)))
            if outcome.applied:
                self._event("committed", done, now)
                return done

    def release(self, order_id: str) -> Order:
        """Give back everything a reservation holds (the order was cancelled or not
        paid). Releasing a released or expired order returns it unchanged."""
        while True:
            order = self._load(order_id, quarantine=True)
            if order.status in ("released", "expired"):
                return order
            if order.status != "reserved":
                raise OrderError(f"order {order_id!r} is {order.status}; refund it instead "
                                 "of releasing it", order_id=order_id)
            now = self._now()
            done = attrs.evolve(order, status="released", revision=order.revision + 1,
                                expires_at=None, closed_at=now, holds=())
            if self._give_back(order, done, now):
                self._event("released", done, now)
                return done

    def sweep(self, limit: int = 100) -> list[str]:
        """Expire up to ``limit`` lapsed reservations, giving back what they held; the
        ids of the orders it expired. Checkout calls it when a counter refuses;
        a shop may also run it periodically (``promokit sweep``). A record that
        cannot be read is quarantined, never retried (see :meth:`sweep_report`)."""
        return list(self.sweep_report(limit).expired)

    def sweep_report(self, limit: int = 100) -> SweepReport:
        """:meth:`sweep`, saying also which lapsed records could not be read. Such a
        record never stops the others: it is set aside as ``quarantined`` (its
        expiry cleared, so it is not looked at again), what it held is given back
        if its holds can still be read, and observers hear a ``quarantined`` order
        event saying why."""
        now = self._now()
        expired: list[str] = []
        quarantined: list[tuple[str, str]] = []
        for order_id in self.store.expired(now.timestamp(), limit):
            if order_id.startswith("game:"):
                if self.expire_row(order_id):
                    expired.append(order_id)
                continue
            row = self.store.order(order_id)
            if row is None or row.status != "reserved":
                continue
            try:
                order = Order.loads(row.body, row.revision)
            except Exception as error:  # a record that cannot be read: set it aside
                detail = self._quarantine(row, error, now)
                if detail is not None:
                    quarantined.append((order_id, detail))
                continue
            if self._expire(order, now):
                expired.append(order_id)
        return SweepReport(expired=tuple(expired), quarantined=tuple(quarantined))

    def _quarantine(self, row: OrderRow, error: Exception, now: datetime) -> str | None:
        """Set an unreadable record aside, giving back the counters it holds if they
        can be read; what was done, or ``None`` if another process did it first."""
        why = f"unreadable ({type(error).__name__}: {str(error)[:500]})"
        holds = _readable_holds(row.body)
        if holds is None:
            deltas: tuple[Delta, ...] = ()
            detail = (f"{why}; its holds could not be read either, so nothing was given "
                      "back: check the counters by hand")
        else:
            deltas = tuple(Delta(key, -amount) for key, amount in holds if amount)
            detail = f"{why}; gave back " + (", ".join(f"{d.key} {-d.amount}" for d in deltas)
                                             or "nothing")
        body = json.dumps({"quarantined": {"at": now.isoformat(), "detail": detail},
                           "record": row.body}, ensure_ascii=False)
        outcome = self._apply(Change(order_id=row.order_id, revision=row.revision,
                                     status="quarantined", body=body, deltas=deltas,
                                     journal=(quarantined_entry(row.order_id, row.revision + 1,
                                                                now, detail),)))
        if not outcome.applied:
            return None
        self.hooks.order_event(OrderEvent(kind="quarantined", order_id=row.order_id,
                                          customer=None, at=now, promotions=(),
                                          detail=detail))
        return detail

    def _expire(self, order: Order, now: datetime) -> bool:
        done = attrs.evolve(order, status="expired", revision=order.revision + 1,
                            expires_at=None, closed_at=now, holds=())
        if self._give_back(order, done, now):
            self._event("expired", done, now)
            return True
        return False

    def _give_back(self, order: Order, done: Order, now: datetime) -> bool:
        outcome = self._apply(Change(
            order_id=order.order_id, revision=order.revision, status=done.status,
            body=done.dumps(), deltas=tuple(Delta(d.key, -d.amount) for d in order.holds
                                            if d.amount),
            journal=(order_entry(done.status, done, now),)))
        if outcome.refused:
            raise StoreError(f"giving back what order {order.order_id!r} holds was refused "
                             f"for {', '.join(outcome.refused)}: the counters no longer hold it")
        return outcome.applied

    # -- refunds ----------------------------------------------------------------------

    def refund(self, order_id: str, refund_id: str,
               units: Mapping[str, int] | None = None, *,
               policy: Policy = "proportional") -> Refund:
        """Refund ``units`` (line id → units; everything not yet refunded if ``None``)
        of a committed order, and give back to the store what they consumed.

        ``proportional`` pays back the units' allocated net and gives back
        their share of each budget and stock. ``reevaluate`` prices what the
        customer keeps under the same campaign version and counters: what the
        kept items no longer earn is clawed back from the refund (never below
        zero) and gifts no longer earned are reported as owed. Refunding every
        unit pays back exactly what is left of the order's total and gives back
        everything the order holds. A known ``refund_id`` returns the first
        refund; reused with other units it is an
        :class:`~promokit.errors.OrderError`.
        """
        _check_id("refund_id", refund_id, self.pricer.setup.limits)
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}, not {policy!r}")
        while True:
            order = self._load(order_id)
            earlier = order.refund(refund_id)
            if earlier is not None:
                if units is not None and dict(earlier.units) != {
                        k: v for k, v in units.items() if v}:
                    raise OrderError(f"refund id {refund_id!r} of order {order_id!r} was "
                                     "already used for other units", order_id=order_id)
                return earlier
            if order.status != "committed":
                what = {"reserved": "is not committed yet; release it instead",
                        "refunded": "is refunded in full already"}.get(
                            order.status, f"was {order.status}")
                raise OrderError(f"order {order_id!r} {what}", order_id=order_id)
            done_units = order.refunded_units
            if units is None:
                units = {line.id: line.quantity - done_units.get(line.id, 0)
                         for line in order.result.lines}
            units = {line_id: count for line_id, count in units.items() if count != 0}
            try:
                order.result.refund(units, done_units)  # validates, every problem by path
            except RefundError as error:
                raise RefundError(error.problems, order_id=order_id) from None
            if not units:
                raise RefundError([Problem(path="units", message="refunds no unit")],
                                  order_id=order_id)
            now = self._now()
            refund, holds = work_out(self.pricer, order, refund_id, units, policy, now)
            status: Status = "refunded" if all_refunded(order, units) else "committed"
            done = attrs.evolve(order, status=status, revision=order.revision + 1,
                                refunds=(*order.refunds, refund), holds=holds)
            ledger = reversals(done, refund, self.pricer.campaigns.currency)
            outcome = self._apply(Change(
                order_id=order_id, revision=order.revision, status=status, body=done.dumps(),
                deltas=tuple(Delta(key, -amount) for key, amount in refund.given_back),
                ledger=ledger,
                journal=(order_entry("refunded", done, now, refund=refund, ledger=ledger),)))
            if outcome.refused:
                raise StoreError(f"giving back what refund {refund_id!r} of order "
                                 f"{order_id!r} returns was refused for "
                                 f"{', '.join(outcome.refused)}")
            if outcome.applied:
                self._event("refunded", done, now, refund_id=refund_id, amount=refund.amount)
                return refund

    # -- replay and reading ------------------------------------------------------------

    def replay(self, order_id: str) -> Replay:
        """Price a stored order again from its recorded cart, campaign version and
        counters, and compare with what was recorded."""
        return replay(self.pricer, self._load(order_id))

    def order(self, order_id: str) -> Order | None:
        """The stored order, or ``None``; :class:`~promokit.errors.OrderError` if its
        record cannot be read (a quarantined one, or one that a sweep would set
        aside)."""
        row = self.store.order(order_id)
        if row is None:
            return None
        if row.status == "quarantined":
            raise OrderError(f"order {order_id!r} was quarantined: its record could not be "
                             "read", order_id=order_id)
        try:
            return Order.loads(row.body, row.revision)
        except Exception as error:
            raise OrderError(f"order {order_id!r} cannot be read ({type(error).__name__}: "
                             f"{str(error)[:500]})", order_id=order_id) from error

    def _load(self, order_id: str, *, quarantine: bool = False) -> Order:
        """The stored order; with ``quarantine``, a reserved record that cannot be read
        is set aside (what it held given back) before the OrderError."""
        row = self.store.order(order_id) if quarantine else None
        if row is not None and row.status == "reserved":
            try:
                Order.loads(row.body, row.revision)
            except Exception as error:
                detail = self._quarantine(row, error, self._now())
                raise OrderError(f"order {order_id!r} cannot be read; it was quarantined"
                                 + (f": {detail}" if detail else ""),
                                 order_id=order_id) from error
        order = self.order(order_id)
        if order is None:
            raise OrderError(f"no order {order_id!r} in the store at {self.store.url}",
                             order_id=order_id)
        return order

    # -- plumbing --------------------------------------------------------------------------

    def _check_time(self, cart: Cart, now: datetime) -> None:
        """Refuse a cart whose ``now`` is further than ``tolerance`` from ``now``."""
        if cart.now is None:
            return
        said = self.pricer.local(cart.now)
        apart = abs((said - now).total_seconds())
        if apart > self.tolerance:
            raise CartError([Problem(path="now", message=(
                f"{iso_text(said)} is {apart:,.0f} s from the engine's clock "
                f"({iso_text(now)}); checkout prices at the engine's time, so leave now "
                f"out (or within {self.tolerance:,.0f} s of it)"))])

    def _now(self) -> datetime:
        """The clock's time in the campaign set's timezone (a naive clock's is UTC): what
        orders, refunds, the ledger and events are stamped with (:mod:`promokit.times`)."""
        return self.pricer.local(aware(self.clock()))

    def _apply(self, change: Change) -> Outcome:
        try:
            return self.store.apply(change)
        except StoreError:
            raise
        except Exception as error:  # a plugin store that does not wrap its errors
            raise StoreError(f"the store at {self.store.url} failed: {error!r}") from error

    def _keep_version(self, campaigns: CampaignSet) -> None:
        if campaigns.version and campaigns.version not in self._kept_versions:
            if campaigns.canonical:
                self.store.save_campaigns(campaigns.version, campaigns.canonical)
            self._kept_versions.add(campaigns.version)

    def _event(self, kind: Any, order: Order, at: datetime, *, refund_id: str | None = None,
               amount: Decimal | None = None) -> None:
        self.hooks.order_event(OrderEvent(
            kind=kind, order_id=order.order_id, customer=order.cart.customer.id, at=at,
            promotions=tuple(u.promotion for u in order.uses), refund_id=refund_id,
            amount=amount))


@attrs.frozen
class SweepReport:
    """What one :meth:`Checkout.sweep_report` did: the orders it expired, and the
    unreadable records it quarantined with what it did about each."""

    expired: tuple[str, ...]
    quarantined: tuple[tuple[str, str], ...] = ()


def _readable_holds(body: str) -> list[tuple[str, int]] | None:
    """The ``(counter, amount)`` an unreadable order record holds, if at least that can
    be read from it; ``None`` otherwise."""
    try:
        rows = json.loads(body)["holds"]
        holds = [(key, amount) for key, amount, _ in rows]
    except Exception:
        return None
    if all(isinstance(key, str) and type(amount) is int for key, amount in holds):
        return holds
    return None


def _check_id(what: str, value: object, limits: InputLimits) -> None:
    """Refuse an order or refund id the store could not keep apart from others: not a
    string, blank, too long, holding control characters, or (an order id) in the
    ``game:`` namespace that games' rows live in."""
    if not isinstance(value, str) or not value.strip():
        raise OrderError(f"{what} must be a non-empty string, not {value!r}",
                         order_id=str(value))
    problem = bad_identifier(value, limits)
    if problem is None and what == "order_id" and value.startswith("game:"):
        problem = "starts with 'game:', which is kept for games' own records"
    if problem is not None:
        raise OrderError(f"{what} {value!r} {problem}", order_id=value)


def _hash(data: Mapping[str, Any]) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _dropped(first: PriceResult, final: PriceResult) -> tuple[NotApplied, ...]:
    applied = {a.promotion for a in final.applied}
    reasons = {n.promotion: n for n in final.not_applied}
    return tuple(reasons[a.promotion] for a in first.applied
                 if a.promotion not in applied and a.promotion in reasons)
