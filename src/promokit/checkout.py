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
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .allocation import allocate
from .campaign import CampaignSet
from .cart import Cart
from .consumption import Use
from .errors import CartError, OrderError, Problem, StoreError, StoreUnavailable
from .loader import parse_campaigns
from .money import Currency, currency
from .pipeline import Known, StoreReads, unit_shares
from .result import Gift, NotApplied, PriceResult
from .stores import Change, Delta, Expect, LedgerEntry, Outcome, Store, counter_keys

if TYPE_CHECKING:
    from .engine import Engine, Priced

__all__ = [
    "DEFAULT_TTL",
    "Alert",
    "Checkout",
    "Order",
    "OrderEvent",
    "Refund",
    "Replay",
]

#: Seconds a reservation lives unless committed.
DEFAULT_TTL = 15 * 60
#: Pricing attempts a checkout makes when counters change under it.
MAX_ATTEMPTS = 8
#: Warning levels: (name, percent left below which it is crossed).
LEVELS = (("yellow", 50), ("red", 20))

Status = Literal["reserved", "committed", "released", "expired", "refunded"]
Policy = Literal["proportional", "reevaluate"]
POLICIES = ("proportional", "reevaluate")
#: Reasons that lapsed reservations could be behind.
_USED_UP = frozenset({"stock_exhausted", "limit_reached", "budget_exhausted", "code_used"})


@attrs.frozen(kw_only=True)
class Refund:
    """One refund of an order: what it paid back and what it gave back to the store.

    ``amount`` is paid back to the customer. Under ``reevaluate``,
    ``clawback`` is what the proportional refund would have paid on top (a
    threshold the kept items no longer meet) and ``gifts_owed`` the gifts the
    kept items no longer earn."""

    refund_id: str
    units: tuple[tuple[str, int], ...]
    """``(line id, units)`` refunded."""
    policy: Policy
    amount: Decimal
    clawback: Decimal
    gifts_owed: tuple[Gift, ...]
    given_back: tuple[tuple[str, int], ...]
    """``(counter, amount)`` returned to the store."""
    reversals: tuple[tuple[str, Decimal], ...]
    """``(promotion, discount given back)``: the ledger's reversals."""
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "refund_id": self.refund_id, "units": dict(self.units), "policy": self.policy,
            "amount": str(self.amount), "clawback": str(self.clawback),
            "gifts_owed": [{"promotion": g.promotion, "sku": g.sku, "name": g.name,
                            "quantity": g.quantity, "value": str(g.value)}
                           for g in self.gifts_owed],
            "given_back": dict(self.given_back),
            "reversals": {pid: str(amount) for pid, amount in self.reversals},
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Refund:
        return cls(
            refund_id=data["refund_id"], units=tuple(data["units"].items()),
            policy=data["policy"], amount=Decimal(data["amount"]),
            clawback=Decimal(data["clawback"]),
            gifts_owed=tuple(Gift(promotion=g["promotion"], sku=g["sku"], name=g["name"],
                                  quantity=g["quantity"], value=Decimal(g["value"]))
                             for g in data["gifts_owed"]),
            given_back=tuple(data["given_back"].items()),
            reversals=tuple((pid, Decimal(a)) for pid, a in data["reversals"].items()),
            at=datetime.fromisoformat(data["at"]))


@attrs.frozen(kw_only=True)
class Order:
    """An order as checkout keeps it in the store."""

    order_id: str
    status: Status
    revision: int
    cart: Cart
    """The cart as priced (with ``now`` filled in when the caller left it out)."""
    result: PriceResult
    campaign_version: str
    lang: str
    created_at: datetime
    expires_at: datetime | None
    """When an uncommitted reservation lapses; ``None`` once settled."""
    committed_at: datetime | None = None
    closed_at: datetime | None = None
    """When it was released or expired."""
    holds: tuple[Delta, ...] = ()
    """The counters the order holds now (refunds give parts back)."""
    uses: tuple[Use, ...] = ()
    reads: StoreReads = attrs.field(factory=StoreReads)
    dropped: tuple[NotApplied, ...] = ()
    """Promotions the first pricing gave that ran out before they could be reserved."""
    refunds: tuple[Refund, ...] = ()
    cart_hash: str = ""
    repeated: bool = attrs.field(default=False, eq=False)
    """This call returned an order an earlier call created (idempotent repeat)."""

    @property
    def refunded_units(self) -> dict[str, int]:
        """Units refunded so far, per line id."""
        done: dict[str, int] = {}
        for refund in self.refunds:
            for line_id, count in refund.units:
                done[line_id] = done.get(line_id, 0) + count
        return done

    @property
    def refunded(self) -> Decimal:
        """Money refunded so far."""
        return sum((r.amount for r in self.refunds), Decimal(0))

    def refund(self, refund_id: str) -> Refund | None:
        """The refund with that id, if any."""
        return next((r for r in self.refunds if r.refund_id == refund_id), None)

    def to_json(self) -> dict[str, Any]:
        def when(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "order_id": self.order_id, "status": self.status,
            "campaign_version": self.campaign_version, "lang": self.lang,
            "cart": self.cart.to_json(), "cart_hash": self.cart_hash,
            "result": self.result.to_json(),
            "created_at": when(self.created_at), "expires_at": when(self.expires_at),
            "committed_at": when(self.committed_at), "closed_at": when(self.closed_at),
            "holds": [[d.key, d.amount, d.limit] for d in self.holds],
            "uses": [{"promotion": u.promotion, "campaign": u.campaign, "amount": u.amount,
                      "units": u.units, "line_units": dict(u.line_units), "code": u.code,
                      "holds": [[d.key, d.amount, d.limit] for d in u.holds]}
                     for u in self.uses],
            "reads": self.reads.to_json(),
            "dropped": [{"promotion": n.promotion, "reason": n.reason, "message": n.message}
                        for n in self.dropped],
            "refunds": [r.to_json() for r in self.refunds],
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str, revision: int) -> Order:
        data = json.loads(text)

        def when(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value is not None else None

        def deltas(rows: Sequence[Sequence[Any]]) -> tuple[Delta, ...]:
            return tuple(Delta(key, amount, limit) for key, amount, limit in rows)

        created = when(data["created_at"])
        assert created is not None
        return cls(
            order_id=data["order_id"], status=data["status"], revision=revision,
            cart=Cart.from_json(data["cart"]), result=PriceResult.from_json(data["result"]),
            campaign_version=data["campaign_version"], lang=data["lang"],
            created_at=created, expires_at=when(data["expires_at"]),
            committed_at=when(data["committed_at"]), closed_at=when(data["closed_at"]),
            holds=deltas(data["holds"]),
            uses=tuple(Use(promotion=u["promotion"], campaign=u["campaign"],
                           amount=u["amount"], units=u["units"],
                           line_units=tuple(u["line_units"].items()), code=u["code"],
                           holds=deltas(u["holds"])) for u in data["uses"]),
            reads=StoreReads.from_json(data["reads"]),
            dropped=tuple(NotApplied(**n) for n in data["dropped"]),
            refunds=tuple(Refund.from_json(r) for r in data["refunds"]),
            cart_hash=data["cart_hash"])


@attrs.frozen(kw_only=True)
class OrderEvent:
    """An order changed state (``promokit_order_event``)."""

    kind: Literal["reserved", "committed", "released", "expired", "refunded"]
    order_id: str
    customer: str | None
    at: datetime
    promotions: tuple[str, ...]
    """The promotions the order holds."""
    refund_id: str | None = None
    amount: Decimal | None = None
    """For ``refunded``: the money paid back."""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "order_id": self.order_id, "customer": self.customer,
                "at": self.at.isoformat(), "promotions": list(self.promotions),
                "refund_id": self.refund_id,
                "amount": str(self.amount) if self.amount is not None else None}


@attrs.frozen(kw_only=True)
class Alert:
    """A stock or budget crossed a warning level (``promokit_alert``): ``yellow`` below
    50% left, ``red`` below 20% left. ``left`` and ``limit`` are units for stock
    and money (Decimal) for budgets."""

    subject: Literal["stock", "budget"]
    what: str
    """The promotion id, or ``campaign:<id>`` for a campaign budget."""
    key: str
    level: Literal["yellow", "red"]
    left: int | Decimal
    limit: int | Decimal
    order_id: str


@attrs.frozen(kw_only=True)
class Replay:
    """An order priced again from its recorded cart, campaign version and counters."""

    order: Order
    result: PriceResult
    differences: tuple[str, ...]
    """``path: recorded → replayed`` for every value that differs."""

    @property
    def matches(self) -> bool:
        return not self.differences


class Checkout:
    """Orders against ``engine``'s store, priced by ``engine``.

    ``ttl`` is how long a reservation lives unless committed (seconds)."""

    def __init__(self, engine: Engine, *, ttl: float = DEFAULT_TTL) -> None:
        if not ttl > 0:
            raise ValueError(f"ttl must be a positive number of seconds, not {ttl!r}")
        self.engine = engine
        self.ttl = ttl
        self.known = Known()
        """Counter values and code rows seen, to price the next checkout with."""
        self._kept_versions: set[str] = set()

    @property
    def store(self) -> Store:
        return self.engine.store

    # -- checkout ------------------------------------------------------------------

    def checkout(self, cart: Cart | Mapping[str, Any] | str, order_id: str, *,
                 ttl: float | None = None, lang: str | None = None) -> Order:
        """Price ``cart`` and reserve everything it consumes, all or nothing.

        If a counter ran out since the cart was priced, it is priced again
        without it (``Order.dropped`` says what and why). The same ``order_id``
        never reserves twice: a repeat returns the first order, and an order id
        reused for another cart is an :class:`~promokit.errors.OrderError`.
        """
        _check_id("order_id", order_id)
        if not isinstance(cart, Cart):
            cart = Cart.from_json(cart)
        ttl = self.ttl if ttl is None else ttl
        if not ttl > 0:
            raise ValueError(f"ttl must be a positive number of seconds, not {ttl!r}")
        engine = self.engine
        lang = lang or engine.lang
        cart_hash = _hash(cart.to_json())
        now = self._now()
        if cart.now is None:
            cart = attrs.evolve(cart, now=now)
        self._keep_version(engine.campaigns)
        first: Priced | None = None
        swept = False
        stale = 0
        for _ in range(MAX_ATTEMPTS):
            # Priced with the counters this checkout has seen, not read first: the
            # store checks them as it applies the order, in the same round trip.
            priced = engine.price(cart, lang=lang, checkout=True, known=self.known)
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
                result=priced.result, campaign_version=engine.campaigns.version, lang=lang,
                created_at=now, expires_at=now + timedelta(seconds=ttl),
                holds=priced.deltas, uses=priced.uses, reads=priced.reads,
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
                self._alerts(order, outcome.values)
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
            outcome = self._apply(Change(order_id=order_id, revision=order.revision,
                                         status="committed", body=done.dumps(),
                                         ledger=self._redemptions(done, now)))
            if outcome.applied:
                self._event("committed", done, now)
                return done

    def release(self, order_id: str) -> Order:
        """Give back everything a reservation holds (the order was cancelled or not
        paid). Releasing a released or expired order returns it unchanged."""
        while True:
            order = self._load(order_id)
            if order.status in ("released", "expired"):
                return order
            if order.status != "reserved":
                raise OrderError(f"order {order_id!r} is {order.status}; refund it instead "
                                 "of releasing it", order_id=order_id)
            now = self._now()
            done = attrs.evolve(order, status="released", revision=order.revision + 1,
                                expires_at=None, closed_at=now, holds=())
            if self._give_back(order, done):
                self._event("released", done, now)
                return done

    def sweep(self, limit: int = 100) -> list[str]:
        """Expire up to ``limit`` lapsed reservations, giving back what they held; the
        ids of the orders it expired. Checkout calls it when a counter refuses;
        a shop may also run it periodically (``promokit sweep``)."""
        now = self._now()
        expired = []
        for order_id in self.store.expired(now.timestamp(), limit):
            if order_id.startswith("game:"):
                if self.engine.games.expire(order_id):
                    expired.append(order_id)
                continue
            row = self.store.order(order_id)
            if row is None or row.status != "reserved":
                continue
            order = Order.loads(row.body, row.revision)
            if self._expire(order, now):
                expired.append(order_id)
        return expired

    def _expire(self, order: Order, now: datetime) -> bool:
        done = attrs.evolve(order, status="expired", revision=order.revision + 1,
                            expires_at=None, closed_at=now, holds=())
        if self._give_back(order, done):
            self._event("expired", done, now)
            return True
        return False

    def _give_back(self, order: Order, done: Order) -> bool:
        outcome = self._apply(Change(
            order_id=order.order_id, revision=order.revision, status=done.status,
            body=done.dumps(), deltas=tuple(Delta(d.key, -d.amount) for d in order.holds
                                            if d.amount)))
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
        _check_id("refund_id", refund_id)
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
            order.result.refund(units, done_units)  # validates: CartError with paths
            if not units:
                raise CartError([Problem(path="units", message="refunds no unit")])
            now = self._now()
            refund, holds = self._work_out(order, refund_id, units, policy, now)
            status: Status = "refunded" if _all_refunded(order, units) else "committed"
            done = attrs.evolve(order, status=status, revision=order.revision + 1,
                                refunds=(*order.refunds, refund), holds=holds)
            outcome = self._apply(Change(
                order_id=order_id, revision=order.revision, status=status, body=done.dumps(),
                deltas=tuple(Delta(key, -amount) for key, amount in refund.given_back),
                ledger=self._reversals(done, refund)))
            if outcome.refused:
                raise StoreError(f"giving back what refund {refund_id!r} of order "
                                 f"{order_id!r} returns was refused for "
                                 f"{', '.join(outcome.refused)}")
            if outcome.applied:
                self._event("refunded", done, now, refund_id=refund_id, amount=refund.amount)
                return refund

    def _work_out(self, order: Order, refund_id: str, units: Mapping[str, int],
                  policy: Policy, now: datetime) -> tuple[Refund, tuple[Delta, ...]]:
        """The refund and the holds the order keeps after it."""
        money = self.engine.campaigns.currency
        result = order.result
        done = order.refunded_units
        proportional = result.refund(units, done)
        reversed_so_far = _reversed(order)
        final = _all_refunded(order, units)
        holds = {d.key: d for d in order.holds}
        if final:
            back = {key: d.amount for key, d in holds.items() if d.amount}
            reversals = {u.promotion: u.amount - reversed_so_far.get(u.promotion, 0)
                         for u in order.uses}
            amount = money.to_minor(result.total) - money.to_minor(order.refunded)
            refund = Refund(refund_id=refund_id, units=tuple(units.items()), policy=policy,
                            amount=money.to_decimal(max(0, amount)),
                            clawback=money.to_decimal(max(0, money.to_minor(proportional)
                                                          - amount)),
                            gifts_owed=(), given_back=tuple(sorted(back.items())),
                            reversals=_decimals(reversals, money), at=now)
            return refund, ()
        if policy == "proportional":
            reversals, back = self._proportional(order, units, done)
            amount = money.to_minor(proportional)
            gifts_owed: tuple[Gift, ...] = ()
        else:
            reversals, back, amount, gifts_owed = self._reevaluated(order, units, done)
        back = {key: min(amount_back, holds[key].amount) for key, amount_back in back.items()
                if key in holds and amount_back > 0}
        kept = tuple(attrs.evolve(d, amount=d.amount - back.get(d.key, 0))
                     for d in order.holds if d.amount - back.get(d.key, 0))
        refund = Refund(refund_id=refund_id, units=tuple(units.items()), policy=policy,
                        amount=money.to_decimal(amount),
                        clawback=money.to_decimal(max(0, money.to_minor(proportional) - amount)),
                        gifts_owed=gifts_owed, given_back=tuple(sorted(back.items())),
                        reversals=_decimals(reversals, money), at=now)
        return refund, kept

    def _proportional(self, order: Order, units: Mapping[str, int], done: Mapping[str, int]
                      ) -> tuple[dict[str, int], dict[str, int]]:
        """Each promotion's discount on the refunded units, and the stock and budget
        they give back: the units' equal shares, taken in the order
        :meth:`PriceResult.refund` takes them."""
        money = self.engine.campaigns.currency
        lines = {line.id: line for line in order.result.lines}
        reversals: dict[str, int] = {}
        back: dict[str, int] = {}
        for line_id, count in units.items():
            line = lines[line_id]
            start = done.get(line_id, 0)
            for discount in line.discounts:
                shares = unit_shares(money.to_minor(discount.amount), line.quantity)
                reversals[discount.promotion] = reversals.get(discount.promotion, 0) + sum(
                    shares[start:start + count])
        campaign_back: dict[str, int] = {}
        for use in order.uses:
            line_units = dict(use.line_units)
            stock = sum(sum(unit_shares(line_units[line_id], lines[line_id].quantity)[
                done.get(line_id, 0):done.get(line_id, 0) + count])
                for line_id, count in units.items() if line_id in line_units)
            given = reversals.get(use.promotion, 0)
            held = {delta.key for delta in use.holds}
            if stock and counter_keys.stock(use.promotion) in held:
                back[counter_keys.stock(use.promotion)] = stock
            if given and counter_keys.spent(use.promotion) in held:
                back[counter_keys.spent(use.promotion)] = given
            if use.campaign is not None and given:
                campaign_back[use.campaign] = campaign_back.get(use.campaign, 0) + given
        for campaign_id, given in campaign_back.items():
            back[counter_keys.campaign_spent(campaign_id)] = given
        return reversals, back

    def _reevaluated(self, order: Order, units: Mapping[str, int], done: Mapping[str, int]
                     ) -> tuple[dict[str, int], dict[str, int], int, tuple[Gift, ...]]:
        """Price what the customer keeps under the promotions the order had, with the
        counters it saw; return each promotion's discount given back, the counters
        given back, the money refunded and the gifts now owed."""
        money = self.engine.campaigns.currency
        kept_lines = []
        for line in order.cart.lines:
            keep = line.quantity - done.get(line.id, 0) - units.get(line.id, 0)
            if keep:
                kept_lines.append(attrs.evolve(line, quantity=keep))
        kept_cart = attrs.evolve(order.cart, lines=tuple(kept_lines))
        engine = self._engine_for(order, only=frozenset(u.promotion for u in order.uses))
        kept = engine.price(kept_cart, lang=order.lang, checkout=True,
                            reads=order.reads.recorded())
        paid = money.to_minor(order.result.total)
        amount = max(0, paid - money.to_minor(kept.result.total)
                     - money.to_minor(order.refunded))
        kept_uses = {u.promotion: u for u in kept.uses}
        reversed_so_far = _reversed(order)
        reversals = {u.promotion: max(0, u.amount - (kept_uses[u.promotion].amount
                                                     if u.promotion in kept_uses else 0)
                                      - reversed_so_far.get(u.promotion, 0))
                     for u in order.uses}
        now_holds = {d.key: d.amount for d in kept.deltas}
        own_stock = {counter_keys.stock(u.promotion) for u in order.uses if not u.line_units}
        back = {d.key: d.amount - now_holds.get(d.key, 0) for d in order.holds
                if d.key not in own_stock}
        earned: dict[tuple[str, str], int] = {}
        for gift in kept.result.gifts:
            earned[(gift.promotion, gift.sku)] = earned.get((gift.promotion, gift.sku), 0) \
                + gift.quantity
        owed_before: dict[tuple[str, str], int] = {}
        for refund in order.refunds:
            for gift in refund.gifts_owed:
                key = (gift.promotion, gift.sku)
                owed_before[key] = owed_before.get(key, 0) + gift.quantity
        owed = []
        for gift in order.result.gifts:
            key = (gift.promotion, gift.sku)
            missing = gift.quantity - earned.pop(key, 0) - owed_before.get(key, 0)
            if missing > 0:
                owed.append(attrs.evolve(gift, quantity=missing))
        return reversals, back, amount, tuple(owed)

    # -- replay -----------------------------------------------------------------------

    def replay(self, order_id: str) -> Replay:
        """Price a stored order again from its recorded cart, campaign version and
        counters, and compare with what was recorded."""
        order = self._load(order_id)
        engine = self._engine_for(order)
        again = engine.price(order.cart, lang=order.lang, checkout=True,
                             reads=order.reads.recorded())
        differences = tuple(_differences(order.result.to_json(), again.result.to_json(), ""))
        return Replay(order=order, result=again.result, differences=differences)

    def _engine_for(self, order: Order, only: frozenset[str] | None = None) -> Engine:
        """An engine for the campaign version that priced ``order`` (restricted to the
        promotions in ``only``)."""
        engine = self.engine
        if order.campaign_version != engine.campaigns.version:
            body = self.store.load_campaigns(order.campaign_version)
            if body is None:
                raise StoreError(f"the campaign version {order.campaign_version[:12]}… that "
                                 f"priced order {order.order_id!r} is not in the store")
            campaigns = parse_campaigns(json.loads(body), engine.registry,
                                        source=f"stored version {order.campaign_version[:12]}")
            if campaigns.version != order.campaign_version:
                raise StoreError(f"the stored campaign version {order.campaign_version[:12]}… "
                                 "does not hash to its version; the store was altered")
            engine = engine.with_campaigns(campaigns)
        if only is not None:
            campaigns = attrs.evolve(engine.campaigns, version="", promotions=tuple(
                p for p in engine.campaigns.promotions if p.id in only))
            engine = engine.with_campaigns(campaigns)
        return engine

    # -- reading ------------------------------------------------------------------------

    def order(self, order_id: str) -> Order | None:
        """The stored order, or ``None``."""
        row = self.store.order(order_id)
        return Order.loads(row.body, row.revision) if row is not None else None

    def _load(self, order_id: str) -> Order:
        order = self.order(order_id)
        if order is None:
            raise OrderError(f"no order {order_id!r} in the store at {self.store.url}",
                             order_id=order_id)
        return order

    # -- plumbing --------------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self.engine.now()
        return now if now.tzinfo else now.replace(tzinfo=UTC)

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
        self.engine.registry.hooks.order_event(OrderEvent(
            kind=kind, order_id=order.order_id, customer=order.cart.customer.id, at=at,
            promotions=tuple(u.promotion for u in order.uses), refund_id=refund_id,
            amount=amount))

    def _alerts(self, order: Order, values: Mapping[str, int]) -> None:
        money = self.engine.campaigns.currency
        watched: dict[str, tuple[str, str]] = {}  # counter → (subject, what)
        for use in order.uses:
            watched[counter_keys.stock(use.promotion)] = ("stock", use.promotion)
            watched[counter_keys.spent(use.promotion)] = ("budget", use.promotion)
            if use.campaign is not None:
                watched[counter_keys.campaign_spent(use.campaign)] = (
                    "budget", f"campaign:{use.campaign}")
        for delta in order.holds:
            if delta.limit is None or delta.amount <= 0 or delta.key not in values \
                    or delta.key not in watched:
                continue
            subject, what = watched[delta.key]
            after = values[delta.key]
            before = after - delta.amount
            for level, percent in LEVELS:
                if (delta.limit - before) * 100 >= percent * delta.limit \
                        > (delta.limit - after) * 100:
                    left, limit = delta.limit - after, delta.limit
                    self.engine.registry.hooks.alert(Alert(
                        subject=subject, what=what, key=delta.key, level=level,  # type: ignore[arg-type]
                        left=money.to_decimal(left) if subject == "budget" else left,
                        limit=money.to_decimal(limit) if subject == "budget" else limit,
                        order_id=order.order_id))

    def _redemptions(self, order: Order, at: datetime) -> tuple[LedgerEntry, ...]:
        applied = {a.promotion: a for a in order.result.applied}
        money = self.engine.campaigns.currency
        entries = []
        for number, use in enumerate(order.uses):
            item = applied.get(use.promotion)
            entries.append(LedgerEntry(
                entry_id=f"{order.order_id}:r:{number}", order_id=order.order_id,
                kind="redemption", promotion=use.promotion, campaign=use.campaign,
                customer=order.cart.customer.id, currency=order.result.currency,
                amount=money.to_decimal(use.amount),
                funding=item.funding if item is not None else (),
                units=use.units, at=at, campaign_version=order.campaign_version,
                code=use.code))
        return tuple(entries)

    def _reversals(self, order: Order, refund: Refund) -> tuple[LedgerEntry, ...]:
        applied = {a.promotion: a for a in order.result.applied}
        uses = {u.promotion: u for u in order.uses}
        money = self.engine.campaigns.currency
        entries = []
        for number, (promotion, amount) in enumerate(refund.reversals):
            if not amount:
                continue
            item = applied.get(promotion)
            minor = money.to_minor(amount)
            funding: tuple[tuple[str, Decimal], ...] = ()
            if item is not None and item.funding:
                parts = allocate(minor, [money.to_minor(share) for _, share in item.funding]) \
                    if any(share for _, share in item.funding) else [minor]
                funding = tuple((party, -money.to_decimal(part))
                                for (party, _), part in zip(item.funding, parts, strict=False))
            use = uses.get(promotion)
            touched = {line.id for line in order.result.lines
                       if any(d.promotion == promotion for d in line.discounts)}
            entries.append(LedgerEntry(
                entry_id=f"{order.order_id}:{refund.refund_id}:{number}",
                order_id=order.order_id, kind="reversal", promotion=promotion,
                campaign=use.campaign if use else None, customer=order.cart.customer.id,
                currency=order.result.currency, amount=-amount, funding=funding,
                units=sum(count for line_id, count in refund.units if line_id in touched),
                at=refund.at,
                campaign_version=order.campaign_version,
                code=use.code if use else None, refund_id=refund.refund_id))
        return tuple(entries)


def _check_id(what: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise OrderError(f"{what} must be a non-empty string of at most 200 characters, "
                         f"not {value!r}", order_id=str(value))


def _hash(data: Mapping[str, Any]) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _dropped(first: PriceResult, final: PriceResult) -> tuple[NotApplied, ...]:
    applied = {a.promotion for a in final.applied}
    reasons = {n.promotion: n for n in final.not_applied}
    return tuple(reasons[a.promotion] for a in first.applied
                 if a.promotion not in applied and a.promotion in reasons)


def _all_refunded(order: Order, units: Mapping[str, int]) -> bool:
    done = order.refunded_units
    return all(done.get(line.id, 0) + units.get(line.id, 0) >= line.quantity
               for line in order.result.lines)


def _reversed(order: Order) -> dict[str, int]:
    money = currency(order.result.currency)
    total: dict[str, int] = {}
    for refund in order.refunds:
        for promotion, amount in refund.reversals:
            total[promotion] = total.get(promotion, 0) + money.to_minor(amount)
    return total


def _decimals(amounts: Mapping[str, int], money: Currency) -> tuple[tuple[str, Decimal], ...]:
    return tuple((pid, money.to_decimal(amount)) for pid, amount in amounts.items() if amount)


def _differences(recorded: Any, replayed: Any, path: str) -> Iterator[str]:
    if isinstance(recorded, dict) and isinstance(replayed, dict):
        for key in sorted(set(recorded) | set(replayed)):
            yield from _differences(recorded.get(key), replayed.get(key),
                                    f"{path}.{key}" if path else key)
    elif isinstance(recorded, list) and isinstance(replayed, list) \
            and len(recorded) == len(replayed):
        for index, (a, b) in enumerate(zip(recorded, replayed, strict=True)):
            yield from _differences(a, b, f"{path}[{index}]")
    elif recorded != replayed:
        yield f"{path}: {json.dumps(recorded, ensure_ascii=False)} → " \
              f"{json.dumps(replayed, ensure_ascii=False)}"
