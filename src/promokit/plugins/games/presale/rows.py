"""The base of :class:`PresaleGame`: keys, stock, the promotion's terms held
to the start, and the deposit rows' plumbing."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from promokit.campaign import Promotion
from promokit.cart import Line
from promokit.errors import GameError
from promokit.games import Game, GameRuntime, GameSpec, Step, dumps
from promokit.stores import Change, Delta, JournalEntry, OrderRow

from .config import PresaleConfig
from .deposit import Deposit, Move, Unchanged
from .terms import Terms, terms_changes

_ORDER_ID = re.compile(r"^\S{1,128}$")
_AFTER = timedelta(microseconds=1)


class DepositRows(Game):
    """What :class:`PresaleGame`'s operations stand on: its keys and stock, the
    promotion terms it holds to, and the plumbing of its deposit rows (one write
    per move, lapses, sweep timers)."""

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

    def stock_left(self) -> int:
        """Units that can still be put down."""
        return max(0, self.cfg.stock - self.store.read([self.stock_key])[self.stock_key])

    # -- the promotion that prices the balance ---------------------------------------

    def check_promotion(self) -> None:
        """Find the ``promotion`` named in the config among the engine's promotions and
        check it prices this balance; then hold it to the terms the presale started
        with (a lower multiplier or cap is worse for customers: ``config_worse``).
        Other refusals: ``bad_promotion``."""
        promotions = self.runtime.promotions
        if promotions is None:
            return  # bound outside an engine: no promotions to see
        if self.cfg.promotion is not None:
            self._promotion = promotion = self._find_promotion(tuple(promotions.values()))
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
                raise Unchanged(body)
            return Step(status="terms", body=body if worse else now_terms, result=None,
                        journal=(JournalEntry(self.stream("config"), dumps(entry)),),
                        events=() if worse else (("config_changed", None,
                                                  {"changes": entry["changes"]}),))
        with contextlib.suppress(Unchanged):  # another engine adopted it meanwhile
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
                raise Unchanged(body)
            if self.stock_key in refused:
                raise GameError(f"presale {self.id!r} is sold out: {self.stock_left()} of "
                                f"{cfg.stock} units left, {quantity} asked",
                                reason="sold_out", game=self.id)
            if refused:
                raise GameError(f"customer {customer!r} may put down at most "
                                f"{cfg.max_units_per_customer} units in presale {self.id!r}",
                                reason="limit_reached", game=self.id)
            pay_by = min(now + timedelta(minutes=cfg.pay_within_minutes), cfg.deposit_end)
            move = Move({"order_id": order_id, "customer": customer, "quantity": quantity,
                          "unit_deposit": cfg.deposit, "pay_by": pay_by.isoformat(),
                          "cancelled_why": None, "balance_order_id": None})
            move.to("unpaid", now, "deposit_reserved", stamp="reserved_at",
                    deposit=self._money(cfg.deposit * quantity), pay_by=pay_by.isoformat())
            move.deltas = [Delta(self.stock_key, quantity, cfg.stock),
                           Delta(self.units_key(customer), quantity,
                                 cfg.max_units_per_customer)]
            return self._step(move, move.body)
        return build

    def _touch(self, order_id: str,
               act: Callable[[dict[str, Any], datetime], Move | None]) -> dict[str, Any]:
        """Apply what is due on the deposit (a lapse), then ``act`` on it, in one write;
        a refusal of ``act`` after a lapse is raised once the lapse is written."""
        check_order_id(order_id, self.id)
        self._ready()
        row_id = self.deposit_row(order_id)

        def build(row: OrderRow | None, body: dict[str, Any] | None,
                  refused: frozenset[str]) -> Step[dict[str, Any] | GameError]:
            if body is None:
                raise GameError(f"presale {self.id!r} has no deposit for order {order_id!r}",
                                reason="not_found", game=self.id)
            check_consistent(refused, row_id, self.id)
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
                    raise Unchanged(body)
                return self._step(move, move.body)
            done.deltas = [*move.deltas, *done.deltas]
            done.events = [*move.events, *done.events]
            done.journal = [*move.journal, *done.journal]
            return self._step(done, done.body)
        try:
            result = self.transact(row_id, build)
        except Unchanged as same:
            assert same.body is not None
            return same.body
        if isinstance(result, GameError):
            raise result
        return result

    def _lapse(self, body: dict[str, Any], now: datetime) -> Move:
        """What time did to a deposit: a payment time passed, a balance window opened
        or closed."""
        move, cfg = Move(body), self.cfg
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

    def _cancel(self, body: dict[str, Any], now: datetime, why: str) -> Move:
        move = Move(body)
        move.body["cancelled_why"] = why
        move.to("cancelled", now, "cancelled", why=why)
        quantity = body["quantity"]
        move.deltas = [Delta(self.stock_key, -quantity),
                       Delta(self.units_key(body["customer"]), -quantity)]
        return move

    def _balance_check(self, order_id: str, balance_order_id: str | None
                       ) -> Callable[[dict[str, Any], datetime], Move | None]:
        """Refuse a balance for a deposit that is not ready for one."""
        def check(body: dict[str, Any], now: datetime) -> Move | None:
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
        orders = self.runtime.orders
        order = orders.order(balance_order_id) if orders is not None else None
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

    def _step(self, move: Move, result: Any) -> Step[Any]:
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


def check_order_id(order_id: str, game: str) -> None:
    if not isinstance(order_id, str) or not _ORDER_ID.match(order_id):
        raise GameError(f"an order id is 1 to 128 characters without spaces, not "
                        f"{order_id!r}", reason="bad_order_id", game=game)


def check_consistent(refused: frozenset[str], row_id: str, game: str) -> None:
    """Giving units back was refused: the counters no longer hold them."""
    if refused:
        raise GameError(f"giving back what {row_id!r} holds was refused for "
                        f"{', '.join(sorted(refused))}: the counters no longer hold it",
                        reason="store_inconsistent", game=game)
