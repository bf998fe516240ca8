"""``presale`` (預售, 定金膨脹): a deposit now, the balance later, priced by the catalogue.

Campaign keys of a ``[[game]]`` table with ``kind = "presale"``:

- ``sku``: the product sold in presale; optional ``category``, ``brand`` and
  ``shop`` are copied onto the balance line so the catalogue's scopes see it;
- ``presale_price``: the unit price the balance is computed from;
- ``deposit``: money per unit, above zero and at most 20% of ``presale_price``
  (《民法典》第五百八十六條), in every jurisdiction;
- ``deposit_start`` / ``deposit_end``: when deposits are taken (inclusive);
- ``balance_start`` / ``balance_end``: when the balance is paid (inclusive),
  starting at or after ``deposit_end``;
- ``stock``: units that can be put down; ``max_units_per_customer`` (optional);
- ``pay_within_minutes``: an unpaid deposit is cancelled after it (default 30,
  and never later than ``deposit_end``);
- ``promotion``: optional id of a ``deposit_multiplier`` promotion of the same
  files that prices the balance (checked when the game is bound, since a
  kind's load-time check sees only its own table).

The shared ``start``/``end`` keys are refused: the four window times are the
schedule. Each deposit is one store row ``game:<id>:deposit:<order id>``
moving ``unpaid → paid → balance_due → completed``, or to ``cancelled`` (not
paid in time, or by the customer) or ``forfeited`` (balance not paid by
``balance_end``). Stock is the counter ``game:<id>:stock``, a customer's units
``game:<id>:units:<customer>``; every move is journalled in
``game:<id>:deposits``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import attrs

from promokit import hookimpl
from promokit.campaign import Promotion
from promokit.cart import Customer, Line
from promokit.errors import GameError
from promokit.games import ConfigChange, Game, GameKind, GameRuntime, GameSpec
from promokit.games.base import Step, dumps
from promokit.games.changes import compare
from promokit.money import MONEY_CONTEXT, round_half_up
from promokit.params import Params
from promokit.stores.base import Change, Delta, JournalEntry, OrderRow
from promokit.text import Text

__all__ = ["Deposit", "Presale", "PresaleConfig", "PresaleGame", "Terms"]

#: The largest share of the price a deposit may be: 《民法典》第五百八十六條.
DEPOSIT_CAP_SHARE = Decimal("0.2")
_WINDOWS = ("deposit_start", "deposit_end", "balance_start", "balance_end")
_ORDER_ID = re.compile(r"^\S{1,128}$")
_AFTER = timedelta(microseconds=1)


@attrs.frozen(kw_only=True)
class PresaleConfig:
    """A presale's keys, money in minor units. Window times are as written:
    naive ones are in the campaign file's timezone (see :meth:`localized`)."""

    sku: str
    presale_price: int
    deposit: int
    deposit_start: datetime
    deposit_end: datetime
    balance_start: datetime
    balance_end: datetime
    stock: int
    pay_within_minutes: int = 30
    max_units_per_customer: int | None = None
    promotion: str | None = None
    category: str = ""
    brand: str | None = None
    shop: str | None = None

    def localized(self, tz: tzinfo) -> PresaleConfig:
        """The config with naive window times placed in ``tz``."""
        return attrs.evolve(self, deposit_start=_aware(self.deposit_start, tz),
                            deposit_end=_aware(self.deposit_end, tz),
                            balance_start=_aware(self.balance_start, tz),
                            balance_end=_aware(self.balance_end, tz))

    @property
    def deposit_cap(self) -> int:
        """The largest deposit allowed: 20% of the presale price, rounded down."""
        return self.presale_price // 5


@attrs.frozen
class Terms:
    """How the ``deposit_multiplier`` promotion values the deposit (定金膨脹)."""

    promotion: str
    multiplier: Decimal
    cap: int | None
    """The most the expansion takes off one line, in minor units."""

    def worth(self, deposit: int, price: int) -> int:
        """What a one-unit deposit counts as against ``price``."""
        extra = round_half_up(MONEY_CONTEXT.multiply(Decimal(deposit),
                                                     self.multiplier - 1))
        if self.cap is not None:
            extra = min(extra, self.cap)
        return deposit + max(0, min(extra, price - deposit))

    def to_json(self) -> dict[str, Any]:
        return {"promotion": self.promotion, "multiplier": str(self.multiplier),
                "cap": self.cap}


@attrs.frozen(kw_only=True)
class Deposit:
    """One customer's presale deposit as it stands."""

    game: str
    order_id: str
    customer: str
    quantity: int
    status: str
    """``unpaid``, ``paid``, ``balance_due``, ``completed``, ``cancelled`` or ``forfeited``."""
    unit_deposit: Decimal
    deposit: Decimal
    """The whole deposit: ``unit_deposit × quantity``."""
    reserved_at: datetime
    pay_by: datetime
    """The last moment the deposit can be paid (inclusive)."""
    balance_start: datetime
    balance_end: datetime
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancelled_why: str | None = None
    """``timeout`` or ``customer``."""
    balance_due_at: datetime | None = None
    balance_order_id: str | None = None
    completed_at: datetime | None = None
    forfeited_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: money as strings, times ISO 8601."""
        out: dict[str, Any] = {}
        for field in attrs.fields(Deposit):
            value = getattr(self, field.name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = str(value)
            out[field.name] = value
        return out


@attrs.define
class _Move:
    """Changes to a deposit row being put together inside one transaction."""

    body: dict[str, Any]
    deltas: list[Delta] = attrs.field(factory=list)
    events: list[tuple[str, str | None, Mapping[str, Any]]] = attrs.field(factory=list)
    journal: list[dict[str, Any]] = attrs.field(factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.journal)

    def to(self, status: str, now: datetime, event: str, *, stamp: str | None = None,
           **data: Any) -> None:
        """Move to ``status``: stamp it (``<status>_at`` unless ``stamp`` names the
        key), journal it, and tell the customer."""
        at = now.isoformat()
        self.body = {**self.body, "status": status, stamp or f"{status}_at": at}
        facts = {"order_id": self.body["order_id"], "quantity": self.body["quantity"], **data}
        self.journal.append({"event": event, "at": at, "customer": self.body["customer"],
                             **facts})
        self.events.append((event, self.body["customer"], facts))


class _Unchanged(Exception):
    """Raised inside a transaction step that has nothing to write."""

    def __init__(self, body: dict[str, Any] | None) -> None:
        super().__init__("unchanged")
        self.body = body


class PresaleGame(Game):
    """A presale bound to a store: reserve, pay, cancel, price and settle deposits."""

    def __init__(self, spec: GameSpec, runtime: GameRuntime) -> None:
        super().__init__(spec, runtime)
        self.tz = ZoneInfo(runtime.timezone)
        self.cfg: PresaleConfig = spec.config.localized(self.tz)
        self.terms: Terms | None = None
        """The promotion's terms, once :meth:`check_promotion` found them."""
        self._promotion: Promotion | None = None
        self._better_terms = False

    # -- keys --------------------------------------------------------------------

    @property
    def stock_key(self) -> str:
        """The counter of units held by unpaid, paid and settled deposits."""
        return self.row_id("stock")

    def units_key(self, customer: str) -> str:
        """The counter of a customer's units."""
        return self.row_id("units", customer)

    def deposit_row(self, order_id: str) -> str:
        """The row of one deposit."""
        return self.row_id("deposit", order_id)

    # -- the lifecycle --------------------------------------------------------------

    def reserve(self, customer: Customer, order_id: str, quantity: int = 1) -> Deposit:
        """Put down a deposit for ``quantity`` units (status ``unpaid``), holding them
        until it is paid or lapses. Idempotent per ``order_id``. Refusals:
        ``not_started``/``ended`` (deposit window), ``sold_out``, ``limit_reached``,
        ``bad_quantity``, ``order_reused`` and the customer's own checks."""
        _check_order_id(order_id, self.id)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise GameError(f"presale {self.id!r}: quantity must be a whole number of at "
                            f"least 1, not {quantity!r}", reason="bad_quantity", game=self.id)
        self.check_customer(customer)
        assert customer.id is not None
        self._ready()
        existing = self.read(self.deposit_row(order_id))[1]
        if existing is not None:
            return self._again(existing, customer.id, quantity)
        now = self.now()
        self._check_window(now, self.cfg.deposit_start, self.cfg.deposit_end, "deposits")
        cfg = self.cfg
        if quantity > cfg.stock:
            raise GameError(f"presale {self.id!r} has {cfg.stock} units in all; "
                            f"{quantity} asked", reason="sold_out", game=self.id)
        limit = cfg.max_units_per_customer
        if limit is not None and quantity > limit:
            raise GameError(f"presale {self.id!r} allows {limit} units per customer; "
                            f"{quantity} asked", reason="limit_reached", game=self.id)
        self._start()
        swept = False
        while True:
            try:
                body = self.transact(self.deposit_row(order_id),
                                     self._reservation(customer.id, order_id, quantity, now))
            except _Unchanged as same:  # another call created it meanwhile
                assert same.body is not None
                return self._again(same.body, customer.id, quantity)
            except GameError as error:
                # lapsed deposits may hold what ran out: cancel them and try once more
                if swept or error.reason not in ("sold_out", "limit_reached"):
                    raise
                swept = True
                if not self._sweep_lapsed():
                    raise
                continue
            return self._deposit(body)

    def pay(self, order_id: str) -> Deposit:
        """The deposit was paid (status ``paid``); idempotent. Refusals: ``expired``
        (after its payment time: the deposit is cancelled), ``cancelled``."""
        def act(body: dict[str, Any], now: datetime) -> _Move | None:
            if body["status"] == "cancelled" and body.get("cancelled_why") == "timeout":
                raise GameError(f"presale deposit {order_id!r} was not paid by "
                                f"{body['pay_by']} and is cancelled", reason="expired",
                                game=self.id)
            if body["status"] == "cancelled":
                raise GameError(f"presale deposit {order_id!r} was cancelled by the customer",
                                reason="cancelled", game=self.id)
            if body["status"] != "unpaid":
                return None
            move = _Move(body)
            move.to("paid", now, "deposit_paid", deposit=self._money(self._whole(body)))
            return move
        return self._deposit(self._touch(order_id, act))

    def cancel(self, order_id: str, customer: Customer | None = None) -> Deposit:
        """The customer cancels an unpaid deposit (status ``cancelled``), giving back
        its units; idempotent. Refusals: ``wrong_state`` (already paid: a paid
        deposit is not refunded), ``not_owner`` (``customer`` given and not the one
        who reserved)."""
        def act(body: dict[str, Any], now: datetime) -> _Move | None:
            if customer is not None and customer.id != body["customer"]:
                raise GameError(f"presale deposit {order_id!r} is not {customer.id!r}'s",
                                reason="not_owner", game=self.id)
            if body["status"] == "cancelled":
                return None
            if body["status"] != "unpaid":
                raise GameError(f"presale deposit {order_id!r} is {body['status']}: only an "
                                "unpaid deposit can be cancelled; a paid one is not "
                                "refunded", reason="wrong_state", game=self.id)
            return self._cancel(body, now, "customer")
        return self._deposit(self._touch(order_id, act))

    def balance_line(self, order_id: str, line_id: str = "l1") -> Line:
        """The cart line that pays the balance: the sku, the deposit's quantity at the
        presale price, and ``deposit_paid``. Price it with ``engine.evaluate`` or
        ``engine.checkout`` together with the rest of the cart. Refusals:
        ``not_paid``, ``not_started``/``ended`` (balance window), ``wrong_state``."""
        body = self._touch(order_id, self._balance_check(order_id, None))
        cfg, money = self.cfg, self.runtime.currency
        return Line(id=line_id, sku=cfg.sku, quantity=body["quantity"],
                    unit_price=money.to_decimal(cfg.presale_price),
                    deposit_paid=money.to_decimal(self._whole(body)),
                    category=cfg.category, brand=cfg.brand, shop=cfg.shop)

    def settle(self, order_id: str, balance_order_id: str) -> Deposit:
        """The balance was paid in order ``balance_order_id`` (status ``completed``);
        idempotent for the same order. If the engine's store knows that order it
        must be committed (``balance_not_paid``) and carry this deposit
        (``wrong_order``). Refusals as :meth:`balance_line`."""
        _check_order_id(balance_order_id, self.id)
        self._check_balance_order(order_id, balance_order_id)

        def act(body: dict[str, Any], now: datetime) -> _Move | None:
            self._balance_check(order_id, balance_order_id)(body, now)
            if body["status"] == "completed":
                return None
            move = _Move(body)
            move.body["balance_order_id"] = balance_order_id
            move.to("completed", now, "completed", balance_order_id=balance_order_id)
            return move
        return self._deposit(self._touch(order_id, act))

    def state(self, order_id: str) -> Deposit:
        """The deposit as it stands (applying a lapse that is due). ``not_found`` if
        there is none."""
        return self._deposit(self._touch(order_id, lambda body, now: None))

    def stock_left(self) -> int:
        """Units that can still be put down."""
        return max(0, self.cfg.stock - self.store.read([self.stock_key])[self.stock_key])

    def expire(self, row_id: str) -> bool:
        """Sweep hook: cancel an unpaid deposit past its payment time, open the
        balance of a paid one, forfeit one whose balance window closed."""
        prefix = self.deposit_row("")
        if not row_id.startswith(prefix):
            return False
        self._ready()
        now = self.now()

        def build(row: OrderRow | None, body: dict[str, Any] | None,
                  refused: frozenset[str]) -> Step[bool]:
            if row is None or body is None:
                raise _Unchanged(None)
            _consistent(refused, row_id, self.id)
            move = self._lapse(body, now)
            if move.changed:
                return self._step(move, True)
            timer = self._timer(body)
            if row.expires_at == timer:
                raise _Unchanged(body)
            # the windows moved (a later config): wait until the new time
            return Step(status=row.status, body=body, result=False, expires_at=timer)
        try:
            return self.transact(row_id, build)
        except _Unchanged:
            return False

    # -- what every game answers ---------------------------------------------------

    def disclosure(self, lang: str = "zh-CN") -> str:
        """The presale's rules, with the promotion's multiplier and cap."""
        text = Text(lang, currency=self.runtime.currency)
        name = self._promotion.name if self._promotion is not None else None
        return "\n".join(rules(self.spec, self.cfg, text, tz=self.tz, terms=self.terms,
                               promotion_name=name))

    def act(self, action: str, customer: Customer, args: Mapping[str, str]) -> Any:
        """``reserve``, ``pay``, ``cancel``, ``balance``, ``settle``, ``state`` from the
        command line (``--set order_id=…``)."""
        known = {"reserve": {"order_id", "quantity"}, "pay": {"order_id"},
                 "cancel": {"order_id"}, "balance": {"order_id", "line_id"},
                 "settle": {"order_id", "balance_order_id"}, "state": {"order_id"}}
        if action not in known:
            return super().act(action, customer, args)
        extra = sorted(set(args) - known[action])
        if extra:
            raise GameError(f"presale action {action!r} takes {', '.join(sorted(known[action]))}"
                            f"; not {', '.join(extra)}", reason="bad_argument", game=self.id)
        if action == "state" and "order_id" not in args:
            return {"game": self.id, "stock": self.cfg.stock, "stock_left": self.stock_left()}
        order_id = _argument(args, "order_id", self.id)
        if action == "reserve":
            quantity = args.get("quantity", "1")
            if not re.fullmatch(r"[0-9]{1,9}", quantity):
                raise GameError(f"quantity must be a whole number, not {quantity!r}",
                                reason="bad_quantity", game=self.id)
            return self.reserve(customer, order_id, int(quantity)).to_json()
        if action == "pay":
            return self.pay(order_id).to_json()
        if action == "cancel":
            return self.cancel(order_id, customer if customer.id else None).to_json()
        if action == "balance":
            line = self.balance_line(order_id, args.get("line_id", "l1"))
            return line.to_json(self.runtime.currency)
        if action == "settle":
            return self.settle(order_id, _argument(args, "balance_order_id", self.id)).to_json()
        return self.state(order_id).to_json()

    # -- the promotion that prices the balance ---------------------------------------

    def check_promotion(self) -> None:
        """Find the ``promotion`` named in the config among the engine's promotions and
        check it prices this balance; then hold it to the terms the presale started
        with (a lower multiplier or cap is worse for customers: ``config_worse``).
        Other refusals: ``bad_promotion``."""
        engine = self.runtime.engine
        if engine is None:
            return  # bound outside an engine: no promotions to see
        if self.cfg.promotion is not None:
            self._promotion = promotion = self._find_promotion(engine.campaigns.promotions)
            self.terms = Terms(promotion.id, promotion.params.multiplier, promotion.params.cap)
        self._hold_terms()

    def _find_promotion(self, promotions: tuple[Promotion, ...]) -> Promotion:
        cfg, wanted = self.cfg, self.cfg.promotion

        def refuse(why: str) -> GameError:
            return GameError(f"presale {self.id!r}: promotion = {wanted!r} {why}",
                             reason="bad_promotion", game=self.id)
        found = next((p for p in promotions if p.id == wanted), None)
        if found is None:
            ids = sorted(p.id for p in promotions if p.kind == "deposit_multiplier")
            raise refuse("names no promotion of the campaign files (deposit_multiplier "
                         f"promotions: {', '.join(ids) or 'none'})")
        if found.kind != "deposit_multiplier":
            raise refuse(f"is a {found.kind} promotion, not a deposit_multiplier")
        probe = Line(id="l1", sku=cfg.sku, quantity=1,
                     unit_price=self.runtime.currency.to_decimal(cfg.presale_price),
                     category=cfg.category, brand=cfg.brand, shop=cfg.shop)
        if not found.covers(probe):
            raise refuse(f"does not cover sku {cfg.sku!r}, so it would not price the balance")
        start, end = found.schedule.start, found.schedule.end
        if (start is not None and start > cfg.balance_start) or (
                end is not None and end < cfg.balance_end):
            raise refuse(f"does not run through the whole balance window "
                         f"({cfg.balance_start.isoformat()} – {cfg.balance_end.isoformat()})")
        return found

    def _hold_terms(self, *, adopt: bool = False) -> None:
        """Compare the promotion's terms with those the presale started with. Worse:
        journal the rejection and raise ``config_worse``. Better: note it, and with
        ``adopt`` keep the new terms (done at the first operation, so that a config
        the kernel then rejects for another change adopts nothing)."""
        row_id = self.row_id("terms")
        stored = self.read(row_id)[1]
        now_terms = self.terms.to_json() if self.terms is not None else {"promotion": None}
        self._better_terms = False
        if stored is None or stored == now_terms:
            return
        changes = terms_changes(stored, now_terms)
        worse = [change for change in changes if change.worse]
        if not worse and not adopt:
            self._better_terms = True
            return
        entry = {"event": "terms_rejected" if worse else "terms_changed",
                 "from": stored, "to": now_terms, "changes": [str(c) for c in changes],
                 "at": self.now().isoformat()}

        def build(row: OrderRow | None, body: dict[str, Any] | None,
                  refused: frozenset[str]) -> Step[None]:
            assert row is not None and body is not None
            if body != stored:
                raise _Unchanged(body)
            return Step(status="terms", body=body if worse else now_terms, result=None,
                        journal=(JournalEntry(self.stream("config"), dumps(entry)),),
                        events=() if worse else (("config_changed", None,
                                                  {"changes": entry["changes"]}),))
        with contextlib.suppress(_Unchanged):  # another engine adopted it meanwhile
            self.transact(row_id, build)
        if worse:
            raise GameError(
                f"presale {self.id!r} has started; these changes to its promotion are worse "
                f"for customers and are not allowed: {'; '.join(str(c) for c in worse)}",
                reason="config_worse", game=self.id)

    def _ready(self) -> None:
        """Before an operation: keep better promotion terms noted at bind."""
        if self._better_terms:
            self._hold_terms(adopt=True)

    # -- plumbing --------------------------------------------------------------------

    def _start(self) -> None:
        """Start the game (keeping the config it starts with) and the promotion's terms."""
        self.start()
        row_id = self.row_id("terms")
        if self.read(row_id)[1] is None:
            terms = self.terms.to_json() if self.terms is not None else {"promotion": None}
            self.store.apply(Change(order_id=row_id, revision=0, status="terms",
                                    body=dumps(terms)))  # a racing start writes the same

    def _check_window(self, now: datetime, start: datetime, end: datetime, what: str) -> None:
        if now < start:
            raise GameError(f"presale {self.id!r}: {what} open at {start.isoformat()}",
                            reason="not_started", game=self.id)
        if now > end:
            raise GameError(f"presale {self.id!r}: {what} closed at {end.isoformat()}",
                            reason="ended", game=self.id)

    def _reservation(self, customer: str, order_id: str, quantity: int, now: datetime
                     ) -> Callable[[OrderRow | None, dict[str, Any] | None, frozenset[str]],
                                   Step[dict[str, Any]]]:
        cfg = self.cfg

        def build(row: OrderRow | None, body: dict[str, Any] | None,
                  refused: frozenset[str]) -> Step[dict[str, Any]]:
            if body is not None:
                raise _Unchanged(body)
            if self.stock_key in refused:
                raise GameError(f"presale {self.id!r} is sold out: {self.stock_left()} of "
                                f"{cfg.stock} units left, {quantity} asked",
                                reason="sold_out", game=self.id)
            if refused:
                raise GameError(f"customer {customer!r} may put down at most "
                                f"{cfg.max_units_per_customer} units in presale {self.id!r}",
                                reason="limit_reached", game=self.id)
            pay_by = min(now + timedelta(minutes=cfg.pay_within_minutes), cfg.deposit_end)
            move = _Move({"order_id": order_id, "customer": customer, "quantity": quantity,
                          "unit_deposit": cfg.deposit, "pay_by": pay_by.isoformat(),
                          "cancelled_why": None, "balance_order_id": None})
            move.to("unpaid", now, "deposit_reserved", stamp="reserved_at",
                    deposit=self._money(cfg.deposit * quantity), pay_by=pay_by.isoformat())
            move.deltas = [Delta(self.stock_key, quantity, cfg.stock),
                           Delta(self.units_key(customer), quantity,
                                 cfg.max_units_per_customer)]
            return self._step(move, move.body)
        return build

    def _again(self, body: dict[str, Any], customer: str, quantity: int) -> Deposit:
        """A repeated reserve: the same deposit, or ``order_reused``."""
        if body["customer"] != customer or body["quantity"] != quantity:
            raise GameError(f"order {body['order_id']!r} already holds a presale deposit of "
                            f"{body['quantity']} units for another reservation",
                            reason="order_reused", game=self.id)
        return self.state(body["order_id"])

    def _touch(self, order_id: str,
               act: Callable[[dict[str, Any], datetime], _Move | None]) -> dict[str, Any]:
        """Apply what is due on the deposit (a lapse), then ``act`` on it, in one write;
        a refusal of ``act`` after a lapse is raised once the lapse is written."""
        _check_order_id(order_id, self.id)
        self._ready()
        row_id = self.deposit_row(order_id)

        def build(row: OrderRow | None, body: dict[str, Any] | None,
                  refused: frozenset[str]) -> Step[dict[str, Any] | GameError]:
            if body is None:
                raise GameError(f"presale {self.id!r} has no deposit for order {order_id!r}",
                                reason="not_found", game=self.id)
            _consistent(refused, row_id, self.id)
            now = self.now()
            move = self._lapse(body, now)
            try:
                done = act(move.body, now)
            except GameError as error:
                if not move.changed:
                    raise
                return self._step(move, error)
            if done is None:
                if not move.changed:
                    raise _Unchanged(body)
                return self._step(move, move.body)
            done.deltas = [*move.deltas, *done.deltas]
            done.events = [*move.events, *done.events]
            done.journal = [*move.journal, *done.journal]
            return self._step(done, done.body)
        try:
            result = self.transact(row_id, build)
        except _Unchanged as same:
            assert same.body is not None
            return same.body
        if isinstance(result, GameError):
            raise result
        return result

    def _lapse(self, body: dict[str, Any], now: datetime) -> _Move:
        """What time did to a deposit: a payment time passed, a balance window opened
        or closed."""
        move, cfg = _Move(body), self.cfg
        if body["status"] == "unpaid" and now > datetime.fromisoformat(body["pay_by"]):
            move = self._cancel(body, now, "timeout")
        if move.body["status"] == "paid" and now >= cfg.balance_start and now <= cfg.balance_end:
            move.to("balance_due", now, "balance_due",
                    price=self._money(cfg.presale_price * body["quantity"]),
                    deposit=self._money(self._whole(body)),
                    balance_start=cfg.balance_start.isoformat(),
                    balance_end=cfg.balance_end.isoformat())
        if move.body["status"] in ("paid", "balance_due") and now > cfg.balance_end:
            move.to("forfeited", now, "forfeited", deposit=self._money(self._whole(body)),
                    balance_end=cfg.balance_end.isoformat())
        return move

    def _cancel(self, body: dict[str, Any], now: datetime, why: str) -> _Move:
        move = _Move(body)
        move.body["cancelled_why"] = why
        move.to("cancelled", now, "cancelled", why=why)
        quantity = body["quantity"]
        move.deltas = [Delta(self.stock_key, -quantity),
                       Delta(self.units_key(body["customer"]), -quantity)]
        return move

    def _balance_check(self, order_id: str, balance_order_id: str | None
                       ) -> Callable[[dict[str, Any], datetime], _Move | None]:
        """Refuse a balance for a deposit that is not ready for one."""
        def check(body: dict[str, Any], now: datetime) -> _Move | None:
            status = body["status"]
            if status == "completed" and balance_order_id == body["balance_order_id"]:
                return None
            if status == "unpaid":
                raise GameError(f"presale deposit {order_id!r} is not paid yet",
                                reason="not_paid", game=self.id)
            if status == "forfeited":
                raise GameError(f"presale deposit {order_id!r}: the balance window closed at "
                                f"{self.cfg.balance_end.isoformat()}; the deposit is forfeited",
                                reason="ended", game=self.id)
            if status == "paid":
                self._check_window(now, self.cfg.balance_start, self.cfg.balance_end,
                                   "balance payments")
            if status not in ("paid", "balance_due"):
                raise GameError(f"presale deposit {order_id!r} is {status}",
                                reason="wrong_state", game=self.id)
            return None
        return check

    def _check_balance_order(self, order_id: str, balance_order_id: str) -> None:
        engine = self.runtime.engine
        order = engine.order(balance_order_id) if engine is not None else None
        if order is None:
            return
        if order.status != "committed":
            raise GameError(f"balance order {balance_order_id!r} is {order.status}, not "
                            "committed", reason="balance_not_paid", game=self.id)
        body = self.read(self.deposit_row(order_id))[1]
        if body is None:
            return  # settle reports not_found
        paid = self.runtime.currency.to_decimal(self._whole(body))
        if not any(line.sku == self.cfg.sku and line.deposit_paid == paid
                   and line.quantity == body["quantity"] for line in order.cart.lines):
            raise GameError(f"balance order {balance_order_id!r} has no line of "
                            f"{body['quantity']} × {self.cfg.sku} with deposit_paid {paid}",
                            reason="wrong_order", game=self.id)
        if order.cart.customer.id not in (None, body["customer"]):
            raise GameError(f"balance order {balance_order_id!r} is "
                            f"{order.cart.customer.id!r}'s, not {body['customer']!r}'s",
                            reason="wrong_order", game=self.id)

    def _sweep_lapsed(self) -> bool:
        """Cancel this game's unpaid deposits past their payment time; whether any was."""
        prefix, swept = self.deposit_row(""), False
        for row_id in self.store.expired(self.now().timestamp(), 100):
            if row_id.startswith(prefix) and self.expire(row_id):
                swept = True
        return swept

    def _timer(self, body: dict[str, Any]) -> float | None:
        """When the row next needs the sweep (``expires_at``)."""
        status = body["status"]
        if status == "unpaid":
            return (datetime.fromisoformat(body["pay_by"]) + _AFTER).timestamp()
        if status == "paid":
            return self.cfg.balance_start.timestamp()
        if status == "balance_due":
            return (self.cfg.balance_end + _AFTER).timestamp()
        return None

    def _step(self, move: _Move, result: Any) -> Step[Any]:
        totals: dict[str, Delta] = {}
        for delta in move.deltas:  # a lapse's and an action's, for the same counter
            if delta.key in totals:
                delta = Delta(delta.key, totals[delta.key].amount + delta.amount, delta.limit)
            totals[delta.key] = delta
        return Step(status=move.body["status"], body=move.body, result=result,
                    deltas=tuple(d for d in totals.values() if d.amount),
                    journal=tuple(JournalEntry(self.stream("deposits"), dumps(entry))
                                  for entry in move.journal),
                    expires_at=self._timer(move.body), events=tuple(move.events))

    def _whole(self, body: dict[str, Any]) -> int:
        """The deposit's whole amount in minor units."""
        return int(body["unit_deposit"]) * int(body["quantity"])

    def _money(self, minor: int) -> str:
        return self.runtime.currency.format(minor)

    def _deposit(self, body: dict[str, Any]) -> Deposit:
        money = self.runtime.currency

        def at(key: str) -> datetime | None:
            value = body.get(key)
            return datetime.fromisoformat(value) if value else None
        reserved, pay_by = at("reserved_at"), at("pay_by")
        assert reserved is not None and pay_by is not None
        return Deposit(
            game=self.id, order_id=body["order_id"], customer=body["customer"],
            quantity=body["quantity"], status=body["status"],
            unit_deposit=money.to_decimal(body["unit_deposit"]),
            deposit=money.to_decimal(self._whole(body)), reserved_at=reserved, pay_by=pay_by,
            balance_start=self.cfg.balance_start, balance_end=self.cfg.balance_end,
            paid_at=at("paid_at"), cancelled_at=at("cancelled_at"),
            cancelled_why=body.get("cancelled_why"), balance_due_at=at("balance_due_at"),
            balance_order_id=body.get("balance_order_id"), completed_at=at("completed_at"),
            forfeited_at=at("forfeited_at"))


class Presale(GameKind):
    """The ``presale`` game kind (預售, 定金膨脹)."""

    name = "presale"
    actions: ClassVar[Mapping[str, str]] = {
        "reserve": "put down a deposit (--customer, --set order_id=… --set quantity=…)",
        "pay": "the deposit was paid (--set order_id=…)",
        "cancel": "cancel an unpaid deposit (--set order_id=…)",
        "balance": "print the balance cart line as JSON (--set order_id=… [line_id=…])",
        "settle": "the balance was paid (--set order_id=… --set balance_order_id=…)",
        "state": "a deposit as it stands (--set order_id=…), or the stock left",
    }

    def parse(self, params: Params, spec: GameSpec) -> PresaleConfig | None:
        """Read and check every presale key (see the module docstring)."""
        sku = params.string("sku")
        price = params.money("presale_price", positive=True)
        deposit = params.money("deposit", positive=True)
        times = {key: params.datetime(key, None, required=True) for key in _WINDOWS}
        stock = params.integer("stock", minimum=1)
        pay_within = params.integer("pay_within_minutes", required=False, minimum=1,
                                    default=30)
        per_customer = params.integer("max_units_per_customer", required=False, minimum=1)
        promotion = params.string("promotion", required=False)
        category = params.string("category", required=False, default="")
        brand = params.string("brand", required=False)
        shop = params.string("shop", required=False)
        if price is not None and deposit is not None and deposit * 5 > price:
            money = params.currency
            params.problem(f"{money.format(deposit)} is more than 20% of the presale price "
                           f"{money.format(price)}: at most {money.format(price // 5)} "
                           "(《民法典》第五百八十六條: 定金的數額不得超過主合同標的額的百分之二十)",
                           "deposit")
        _check_windows(params, times)
        if (sku is None or price is None or deposit is None or stock is None
                or pay_within is None or any(t is None for t in times.values())):
            return None
        return PresaleConfig(
            sku=sku, presale_price=price, deposit=deposit, stock=stock,
            pay_within_minutes=pay_within, max_units_per_customer=per_customer,
            promotion=promotion, category=category or "", brand=brand, shop=shop,
            **times)  # type: ignore[arg-type]  # None ruled out above

    def check(self, spec: GameSpec, jurisdiction: str, params: Params) -> None:
        """Refuse the shared ``start``/``end``: the windows are the schedule."""
        for key in ("start", "end"):
            if key in spec.source:
                params.problem("a presale runs by deposit_start … balance_end; leave "
                               f"{key} out", key)

    def disclosure(self, spec: GameSpec, text: Text) -> list[str]:
        """The rules from the config alone (the bound game adds the promotion's terms)."""
        return rules(spec, spec.config, text)

    def changes(self, old: GameSpec, new: GameSpec) -> list[ConfigChange]:
        """Higher deposit or price, shorter windows, less stock, less time to pay, a
        lower limit, a lost promotion: worse. (The promotion's multiplier and cap
        are compared when the game is bound: :meth:`PresaleGame.check_promotion`.)"""
        a, b = old.config, new.config
        changes = [
            *compare("sku", a.sku, b.sku, better="same"),
            *compare("presale_price", a.presale_price, b.presale_price, better="lower"),
            *compare("deposit", a.deposit, b.deposit, better="lower"),
            *_when("deposit_start", a.deposit_start, b.deposit_start, better="lower"),
            *_when("deposit_end", a.deposit_end, b.deposit_end, better="higher"),
            *_when("balance_start", a.balance_start, b.balance_start, better="lower"),
            *_when("balance_end", a.balance_end, b.balance_end, better="higher"),
            *compare("stock", a.stock, b.stock, better="higher"),
            *compare("pay_within_minutes", a.pay_within_minutes, b.pay_within_minutes,
                     better="higher"),
            *compare("max_units_per_customer", a.max_units_per_customer,
                     b.max_units_per_customer, better="higher"),
            *compare("category", a.category, b.category, better="neutral"),
            *compare("brand", a.brand, b.brand, better="neutral"),
            *compare("shop", a.shop, b.shop, better="neutral"),
        ]
        if a.promotion != b.promotion:
            lost = a.promotion is not None and b.promotion is None
            changes.append(ConfigChange("promotion", str(a.promotion or "none"),
                                        str(b.promotion or "none"), lost))
        return changes

    def bind(self, spec: GameSpec, runtime: GameRuntime) -> PresaleGame:
        """The playable presale; checks its ``promotion`` (``bad_promotion``,
        ``config_worse``)."""
        game = PresaleGame(spec, runtime)
        game.check_promotion()
        return game


# -- rules text -------------------------------------------------------------------------


def rules(spec: GameSpec, cfg: PresaleConfig, text: Text, *, tz: tzinfo | None = None,
          terms: Terms | None = None, promotion_name: str | None = None) -> list[str]:
    """The presale's customer rules, one line each, in ``text.lang``. ``tz`` is the
    file's timezone (else the times' own offsets, or none shown); ``terms`` the
    promotion's, when known."""
    amount, pick = text.amount, text.pick
    price, deposit = amount(cfg.presale_price), amount(cfg.deposit)
    share = MONEY_CONTEXT.divide(Decimal(cfg.deposit * 100), Decimal(cfg.presale_price))
    share = share.quantize(Decimal("0.01"), context=MONEY_CONTEXT).normalize()
    lines = [
        pick(f"{spec.name}: presale of {cfg.sku} at {price} per unit.",
             f"{spec.name}：商品{cfg.sku}預售價{price}/件。"),
        pick(f"Deposit: {deposit} per unit ({text.number(share)}% of the presale price). By "
             "law a deposit may be at most 20% of the price (PRC Civil Code, art. 586): here "
             f"at most {amount(cfg.deposit_cap)}.",
             f"定金：{deposit}/件（預售價的{text.number(share)}%）。依《民法典》第五百八十六條，"
             f"定金不得超過合同金額的20%，本商品定金最多{amount(cfg.deposit_cap)}。"),
    ]
    if terms is not None:
        worth = terms.worth(cfg.deposit, cfg.presale_price)
        times = text.number(terms.multiplier)
        cap = "" if terms.cap is None else pick(
            f", the extra at most {amount(terms.cap)} per order line",
            f"，每個訂單行最多多抵{amount(terms.cap)}")
        lines.append(pick(
            f"When you pay the balance, each unit's deposit of {deposit} counts as "
            f"{amount(worth)} against the price (deposit × {times}{cap}): the balance is "
            f"{amount(cfg.presale_price - worth)} per unit before other offers.",
            f"支付尾款時，每件定金{deposit}可抵{amount(worth)}（定金×{times}{cap}），"
            f"每件尾款{amount(cfg.presale_price - worth)}（未計其他優惠）。"))
    elif cfg.promotion is not None:
        name = promotion_name or cfg.promotion
        lines.append(pick(f"When you pay the balance, the deposit counts against the price "
                          f"as the promotion “{name}” sets out.",
                          f"支付尾款時，定金按活動「{name}」的規則抵扣。"))
    else:
        lines.append(pick(
            f"When you pay the balance the deposit counts at its face value: the balance is "
            f"{amount(cfg.presale_price - cfg.deposit)} per unit before other offers.",
            f"支付尾款時，定金按原額抵扣，每件尾款{amount(cfg.presale_price - cfg.deposit)}"
            "（未計其他優惠）。"))
    minutes = text.number(cfg.pay_within_minutes)
    lines += [
        pick(f"Deposits: {_period(text, cfg.deposit_start, cfg.deposit_end, tz)}. Pay the "
             f"deposit within {minutes} minutes of ordering, and before deposits close, or "
             "the order is cancelled and its units go back on sale. You may cancel an order "
             "before paying its deposit.",
             f"定金支付時間：{_period(text, cfg.deposit_start, cfg.deposit_end, tz)}。"
             f"下單後須在{minutes}分鐘內（且不晚於定金支付截止時間）支付定金，逾時訂單自動取消，"
             "庫存釋放；支付定金前可取消訂單。"),
        pick(f"Balance: {_period(text, cfg.balance_start, cfg.balance_end, tz)}.",
             f"尾款支付時間：{_period(text, cfg.balance_start, cfg.balance_end, tz)}。"),
    ]
    stock = text.number(cfg.stock)
    limit = cfg.max_units_per_customer
    lines.append(pick(
        f"{stock} units only, while stocks last"
        + (f"; up to {text.number(limit)} per customer." if limit is not None else "."),
        f"限量{stock}件，售完即止" + (f"；每人限購{text.number(limit)}件。"
                                   if limit is not None else "。")))
    end = _moment(text, cfg.balance_end, tz)
    lines.append(pick(
        f"A paid deposit is not refunded: if the balance is not paid by {end}, the deposit "
        "is forfeited (PRC Civil Code, art. 587: the party who fails to perform cannot "
        "claim the deposit back; a seller who fails to deliver returns twice the deposit).",
        f"定金支付後不退；未在{end}前支付尾款的，定金不予退還（《民法典》第五百八十七條："
        "給付定金的一方不履行債務的，無權請求返還定金；收受定金的一方不履行債務的，"
        "應當雙倍返還定金）。"))
    if spec.organiser:
        lines.append(pick(f"Organiser: {spec.organiser}.", f"主辦方：{spec.organiser}。"))
    return lines


def terms_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[ConfigChange]:
    """How the promotion's terms changed (JSON of :meth:`Terms.to_json`)."""
    if before.get("promotion") is None or after.get("promotion") is None:
        if before.get("promotion") == after.get("promotion"):
            return []
        return [ConfigChange("promotion", str(before.get("promotion") or "none"),
                             str(after.get("promotion") or "none"),
                             after.get("promotion") is None)]
    return [
        *compare("promotion", before["promotion"], after["promotion"], better="neutral"),
        *compare("promotion.multiplier", Decimal(before["multiplier"]),
                 Decimal(after["multiplier"]), better="higher"),
        *compare("promotion.cap", before["cap"], after["cap"], better="higher"),
    ]


# -- helpers ------------------------------------------------------------------------


def _aware(moment: datetime, tz: tzinfo) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def _check_windows(params: Params, times: Mapping[str, datetime | None]) -> None:
    """The four window times: written alike (all with or all without an offset) and
    in order."""
    given = {key: value for key, value in times.items() if value is not None}
    if len({value.tzinfo is None for value in given.values()}) > 1:
        params.problem("write the four window times alike: all with an offset or all "
                       "without (then they are in the file's timezone)", "deposit_start")
        return
    pairs = (("deposit_start", "deposit_end", "be after"),
             ("deposit_end", "balance_start", "be at or after"),
             ("balance_start", "balance_end", "be after"))
    for first, second, rule in pairs:
        a, b = given.get(first), given.get(second)
        if a is None or b is None:
            continue
        if b < a or (b == a and rule == "be after"):
            what = "the balance must start once deposits close" if second == "balance_start" \
                else "a window must end after it starts"
            params.problem(f"must {rule} {first} ({a.isoformat()}), got {b.isoformat()}: "
                           f"{what}", second)


def _when(path: str, before: datetime, after: datetime, *, better: str) -> list[ConfigChange]:
    """Compare two window times (a naive and an aware one cannot be ordered: any
    change of that kind is taken as worse)."""
    if (before.tzinfo is None) != (after.tzinfo is None):
        return [ConfigChange(path, before.isoformat(), after.isoformat(), True)]
    return compare(path, before, after, better=better)


def _period(text: Text, start: datetime, end: datetime, tz: tzinfo | None) -> str:
    zone = tz or start.tzinfo
    if zone is not None:
        period = text.period(_aware(start, zone), _aware(end, zone), zone)
        assert period is not None
        return period
    return text.pick(f"{text.datetime(start)} – {text.datetime(end)} (local time)",
                     f"{text.datetime(start)} 至 {text.datetime(end)}（當地時間）")


def _moment(text: Text, moment: datetime, tz: tzinfo | None) -> str:
    zone = tz or moment.tzinfo
    if zone is None:
        return text.pick(f"{text.datetime(moment)} (local time)",
                         f"{text.datetime(moment)}（當地時間）")
    local = _aware(moment, zone).astimezone(zone)
    return text.pick(f"{text.datetime(local)} ({text.timezone(zone, short=True)})",
                     f"{text.datetime(local)}（{text.timezone(zone, short=True)}）")


def _check_order_id(order_id: str, game: str) -> None:
    if not isinstance(order_id, str) or not _ORDER_ID.match(order_id):
        raise GameError(f"an order id is 1 to 128 characters without spaces, not "
                        f"{order_id!r}", reason="bad_order_id", game=game)


def _argument(args: Mapping[str, str], key: str, game: str) -> str:
    value = args.get(key)
    if not value:
        raise GameError(f"--set {key}=… is required", reason="bad_argument", game=game)
    return value


def _consistent(refused: frozenset[str], row_id: str, game: str) -> None:
    """Giving units back was refused: the counters no longer hold them."""
    if refused:
        raise GameError(f"giving back what {row_id!r} holds was refused for "
                        f"{', '.join(sorted(refused))}: the counters no longer hold it",
                        reason="store_inconsistent", game=game)


@hookimpl
def promokit_register_games() -> list[GameKind]:
    return [Presale()]
