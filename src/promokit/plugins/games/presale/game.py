""":class:`PresaleGame`, a presale bound to a store: reserve, pay, cancel,
price and settle deposits, the sweep, the disclosure and the command line."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from promokit.cart import Customer, Line
from promokit.errors import GameError
from promokit.games import Step
from promokit.stores import OrderRow
from promokit.text import Text

from .deposit import Deposit, Move, Unchanged
from .disclosure import rules
from .rows import DepositRows, check_consistent, check_order_id


class PresaleGame(DepositRows):
    """A presale bound to a store: reserve, pay, cancel, price and settle deposits."""

    # -- the lifecycle --------------------------------------------------------------

    def reserve(self, customer: Customer, order_id: str, quantity: int = 1, *,
                channel: str | None = None) -> Deposit:
        """Put down a deposit for ``quantity`` units (status ``unpaid``), holding them
        until it is paid or lapses. Idempotent per ``order_id``. Refusals:
        ``not_started``/``ended`` (deposit window), ``sold_out``, ``limit_reached``,
        ``bad_quantity``, ``order_reused`` and the customer's own checks."""
        check_order_id(order_id, self.id)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise GameError(f"presale {self.id!r}: quantity must be a whole number of at "
                            f"least 1, not {quantity!r}", reason="bad_quantity", game=self.id)
        self.check_channel(channel)
        self.check_customer(customer, channel=channel)
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
            except Unchanged as same:  # another call created it meanwhile
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
        def act(body: dict[str, Any], now: datetime) -> Move | None:
            if body["status"] == "cancelled" and body.get("cancelled_why") == "timeout":
                raise GameError(f"presale deposit {order_id!r} was not paid by "
                                f"{body['pay_by']} and is cancelled", reason="expired",
                                game=self.id)
            if body["status"] == "cancelled":
                raise GameError(f"presale deposit {order_id!r} was cancelled by the customer",
                                reason="cancelled", game=self.id)
            if body["status"] != "unpaid":
                return None
            move = Move(body)
            move.to("paid", now, "deposit_paid", deposit=self._money(self._whole(body)))
            return move
        return self._deposit(self._touch(order_id, act))

    def cancel(self, order_id: str, customer: Customer | None = None) -> Deposit:
        """The customer cancels an unpaid deposit (status ``cancelled``), giving back
        its units; idempotent. Refusals: ``wrong_state`` (already paid: a paid
        deposit is not refunded), ``not_owner`` (``customer`` given and not the one
        who reserved)."""
        def act(body: dict[str, Any], now: datetime) -> Move | None:
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
        check_order_id(balance_order_id, self.id)
        self._check_balance_order(order_id, balance_order_id)

        def act(body: dict[str, Any], now: datetime) -> Move | None:
            self._balance_check(order_id, balance_order_id)(body, now)
            if body["status"] == "completed":
                return None
            move = Move(body)
            move.body["balance_order_id"] = balance_order_id
            move.to("completed", now, "completed", balance_order_id=balance_order_id)
            return move
        return self._deposit(self._touch(order_id, act))

    def state(self, order_id: str) -> Deposit:
        """The deposit as it stands (applying a lapse that is due). ``not_found`` if
        there is none."""
        return self._deposit(self._touch(order_id, lambda body, now: None))

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
                raise Unchanged(None)
            check_consistent(refused, row_id, self.id)
            move = self._lapse(body, now)
            if move.changed:
                return self._step(move, True)
            timer = self._timer(body)
            if row.expires_at == timer:
                raise Unchanged(body)
            # the windows moved (a later config): wait until the new time
            return Step(status=row.status, body=body, result=False, expires_at=timer)
        try:
            return self.transact(row_id, build)
        except Unchanged:
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

    def _again(self, body: dict[str, Any], customer: str, quantity: int) -> Deposit:
        """A repeated reserve: the same deposit, or ``order_reused``."""
        if body["customer"] != customer or body["quantity"] != quantity:
            raise GameError(f"order {body['order_id']!r} already holds a presale deposit of "
                            f"{body['quantity']} units for another reservation",
                            reason="order_reused", game=self.id)
        return self.state(body["order_id"])


def _argument(args: Mapping[str, str], key: str, game: str) -> str:
    value = args.get(key)
    if not value:
        raise GameError(f"--set {key}=… is required", reason="bad_argument", game=game)
    return value
