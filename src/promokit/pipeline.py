"""Running the stages: each chosen promotion acting, in order, on the nets left.

Everything here is in integer minor units. A :class:`Unit` is one promotion
acting on its lines (one per shop at the shop stage); a :class:`State` is the
priced cart part-way through. ``run_stage`` returns a new state and never
mutates its input, so the best-deal search can branch from any stage.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs
from cachetools import LRUCache

from .allocation import allocate
from .campaign import Condition, Promotion
from .cart import Cart, Line
from .conditions import ConditionContext
from .errors import PluginError
from .kinds import (
    STAGES,
    Application,
    GiftItem,
    Gifts,
    LineView,
    NoDeal,
    Outcome,
    PerLine,
    RewardItem,
    Rewards,
    ShippingOff,
    Total,
    UnitDeal,
)
from .money import Currency
from .stores.keys import counter_keys
from .text import Text


@attrs.define(slots=True, eq=False)
class Unit:
    """One promotion acting on its lines; the unit of choice of the best-deal search."""

    number: int
    promotion: Promotion
    stage_no: int
    lines: tuple[int, ...]
    shop: str | None = None
    unit_cap: int | None = None
    """Units it may discount in this order (per-order limit, stock left)."""
    stock_left: int | None = None
    """Stock left of a kind that counts its own stock (gifts)."""
    budget_pools: tuple[tuple[str, int], ...] = ()
    """``(pool key, money left)`` for the promotion's and its campaign's budgets."""
    standalone: tuple[int, ...] = ()
    """The most it can save on each of its lines (aligned with ``lines``)."""
    ceiling: int = 0
    """The most it can save in any combination, shipping included."""
    shape: str | None = None
    """How it acted alone at list price: ``"spread"`` (one amount spread over two or
    more lines: ``Total``, ``UnitDeal``), ``"per_line"`` (``PerLine``), ``"other"``
    (shipping, gifts, rewards); ``None`` if it did not act then."""
    order_key: tuple[int, str, str] = (0, "", "")
    """Acting order within a stage: higher priority first, then id, then shop."""


@attrs.define(slots=True, eq=False)
class Acted:
    """What one unit did in a state: its discount per line, or why it did not apply."""

    amount: int
    per_line: dict[int, int]
    shipping: int
    no_deal: NoDeal | None
    app: Application | None
    consumed: dict[int, int] = attrs.field(factory=dict)
    """Units a quantity deal took, per line."""
    covered_net: dict[int, int] = attrs.field(factory=dict)
    """The net of those units before the deal, per line."""
    spread: bool = False
    """One amount spread over the lines by net (``Total``, ``UnitDeal``)."""
    gifts: tuple[GiftItem, ...] = ()
    rewards: tuple[RewardItem, ...] = ()

    @property
    def value(self) -> int:
        """What it is worth to the customer: the discount and the gifts' value."""
        return self.amount + sum(gift.value * gift.quantity for gift in self.gifts)


def _skip(no_deal: NoDeal, app: Application | None) -> Acted:
    return Acted(0, {}, 0, no_deal, app)


@attrs.define(slots=True, eq=False)
class State:
    """A cart priced part-way: nets per line, discounts so far, what each unit did."""

    nets: list[int]
    shipping: int
    consumed: list[int]
    """Units of each line taken by quantity deals so far."""
    consumed_net: list[int] = attrs.field(factory=list)
    """The net of those taken units, so the units left keep their own net (a
    quantity deal's discount stays on the units it covered)."""
    saving: int = 0
    """What the promotions so far are worth to the customer (discounts, gifts)."""
    acted: dict[int, Acted] = attrs.field(factory=dict)
    budget_used: dict[str, int] = attrs.field(factory=dict)
    """Money drawn on each budget pool, and own stock (``stock:<promotion>``) handed
    out, by the promotions so far in this order."""

    def copy(self) -> State:
        return State(nets=list(self.nets), shipping=self.shipping, consumed=list(self.consumed),
                     consumed_net=list(self.consumed_net), saving=self.saving,
                     acted=dict(self.acted), budget_used=dict(self.budget_used))


@attrs.define(kw_only=True, eq=False)
class StoreReads:
    """What one evaluation read from the store, and what it made of the cart's codes.

    Checkout records the counters and codes so ``replay`` can price the order
    again exactly as it was priced."""

    counters: dict[str, int] = attrs.field(factory=dict)
    codes: dict[str, tuple[str, int]] = attrs.field(factory=dict)
    """Canonical code → ``(batch id, uses per code)`` for the codes found."""
    throttle_key: str | None = None
    """The counter of this customer's failed code attempts, if codes were looked up."""
    unavailable: bool = False
    """The store could not be read (``on_store_error="skip"``)."""
    rejected: dict[str, str] = attrs.field(factory=dict)
    """Code as entered → reason, for codes no promotion accepts."""
    chosen: dict[str, str] = attrs.field(factory=dict)
    """Promotion id → the canonical coupon code that unlocks it."""
    guessed: frozenset[str] = frozenset()
    """At checkout, the counters taken from :class:`Known` that it had never seen,
    taken as 0."""
    expect: dict[str, tuple[int, int | None]] = attrs.field(factory=dict)
    """Counter → the values (low, high or ``None``: no bound) for which this cart
    prices exactly as it did: what checkout asks the store to check when it applies."""
    exact_keys: set[str] = attrs.field(factory=set)
    """The counters whose every value prices differently (gift stock, a game's state,
    a budget that may run out): their expectation is the one value."""

    def narrow(self, key: str, low: int, high: int | None) -> None:
        """Record that the pricing holds only while ``key`` is within ``low``…``high``."""
        old_low, old_high = self.expect.get(key, (0, None))
        if old_high is not None:
            high = old_high if high is None else min(high, old_high)
        self.expect[key] = (max(low, old_low), high)

    def exact(self, key: str) -> int:
        """The counter's value, on which the pricing depends exactly."""
        value = self.counters.get(key, 0)
        self.narrow(key, value, value)
        self.exact_keys.add(key)
        return value

    def below(self, key: str, limit: int) -> bool:
        """Whether the counter is below ``limit``, all the pricing asks of it."""
        value = self.counters.get(key, 0)
        if value < limit:
            self.narrow(key, 0, limit - 1)
            return True
        self.narrow(key, limit, None)
        return False

    def to_json(self) -> dict[str, Any]:
        """What a checkout record keeps (the rest is derived again on replay)."""
        return {"counters": dict(sorted(self.counters.items())),
                "codes": {code: list(row) for code, row in sorted(self.codes.items())},
                "throttle_key": self.throttle_key}

    def recorded(self) -> StoreReads:
        """A fresh copy of what a checkout record keeps, to price with again."""
        return StoreReads(counters=dict(self.counters), codes=dict(self.codes),
                          throttle_key=self.throttle_key)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StoreReads:
        return cls(counters=dict(data["counters"]),
                   codes={code: (row[0], row[1]) for code, row in data["codes"].items()},
                   throttle_key=data.get("throttle_key"))


class Known:
    """Counter values and coupon-code rows a checkout has seen (from the store's
    answers to its writes), to price the next cart with instead of reading the
    store first. Every value used is checked by the store when the order is
    applied (:class:`~promokit.stores.Expect`), so a stale one costs a retry,
    never a wrong price. A counter never seen is taken as 0. Thread-safe."""

    def __init__(self, size: int = 100_000) -> None:
        self._counters: LRUCache[str, int] = LRUCache(maxsize=size)
        self._codes: LRUCache[str, tuple[str, int]] = LRUCache(maxsize=size)
        self._lock = threading.Lock()

    def counters(self, keys: Iterable[str]) -> tuple[dict[str, int], frozenset[str]]:
        """The values remembered for ``keys`` (0 if none), and the keys not remembered."""
        with self._lock:
            values = {key: self._counters.get(key) for key in keys}
        return ({key: value or 0 for key, value in values.items()},
                frozenset(key for key, value in values.items() if value is None))

    def codes(self, codes: Iterable[str]) -> dict[str, tuple[str, int]]:
        """``(batch, uses)`` of each of ``codes`` looked up before; the rest are left out."""
        with self._lock:
            return {code: row for code in codes if (row := self._codes.get(code)) is not None}

    def learn(self, counters: Mapping[str, int] | None = None,
              codes: Mapping[str, tuple[str, int]] | None = None) -> None:
        """Remember counter values and code rows (a code's row never changes)."""
        with self._lock:
            self._counters.update(counters or {})
            self._codes.update(codes or {})


@attrs.frozen(kw_only=True)
class Context:
    """What does not change during one evaluation."""

    cart: Cart
    lines: tuple[Line, ...]
    unit_prices: tuple[int, ...]
    subtotals: tuple[int, ...]
    currency: Currency
    now: datetime
    floors: tuple[int, ...] = ()
    """Per line, the deposit already paid: no discount takes a line below it."""
    reads: StoreReads = attrs.field(factory=StoreReads)
    replay: bool = False
    """Counters and codes come from ``reads`` (a recorded order), not the store."""
    checkout: bool = False
    """Pricing an order at checkout (per-customer limits need a customer id)."""
    known: Known | None = None
    """Price with these values instead of reading the store's counters."""
    text: Text = attrs.field(factory=Text)
    memo: dict[tuple[object, ...], Acted] = attrs.field(factory=dict, eq=False, repr=False)
    """What each unit did for given inputs, shared by every combination the search tries
    (kinds are pure functions of their application)."""


def failed_condition(conditions: Sequence[Condition], ctx: ConditionContext, *,
                     amounts: bool | None = None) -> Condition | None:
    """The first condition that does not hold, or ``None``.

    ``amounts`` selects the conditions checked: ``False`` only those that do
    not read amounts, ``True`` only those that do, ``None`` all.
    """
    for condition in conditions:
        if amounts is not None and condition.uses_amounts != amounts:
            continue
        failed = _failed(condition, ctx)
        if failed is not None:
            return failed
    return None


def _failed(condition: Condition, ctx: ConditionContext) -> Condition | None:
    if condition.type is not None:
        return None if condition.type.check(condition.params, ctx) else condition
    if condition.rule == "all":
        for child in condition.children:
            failed = _failed(child, ctx)
            if failed is not None:
                return failed
        return None
    holds = any(_failed(child, ctx) is None for child in condition.children)
    if condition.rule == "not":
        holds = not all(_failed(child, ctx) is None for child in condition.children)
    return None if holds else condition


def condition_message(condition: Condition, text: Text) -> str:
    """What a customer reads when ``condition`` fails, in ``text.lang``."""
    if condition.type is not None:
        return condition.type.describe(condition.params, text)
    parts = [condition_message(child, text) for child in condition.children]
    if condition.rule == "any":
        return text.pick("needs one of: " + "; or ".join(parts),
                         "需滿足其一：" + "；或".join(parts))
    if condition.rule == "not":
        return text.pick("not when: " + "; and ".join(parts),
                         "不適用於：" + "；且".join(parts))
    return text.pick("; ", "；").join(parts)


def views(ctx: Context, unit: Unit, state: State, bases: Sequence[int]) -> list[LineView]:
    """The unit's lines as a kind sees them; ``bases`` is what thresholds measure.

    A quantity deal sees only the units no earlier quantity deal took (the
    taken ones are a line's first units), with their share of the line's amounts.
    """
    list_base = unit.promotion.base == "list"
    nets = state.nets
    if not unit.promotion.kind_impl.quantity_deal:
        return [LineView(index=i, line=ctx.lines[i], quantity=ctx.lines[i].quantity,
                         unit_price=ctx.unit_prices[i], subtotal=ctx.subtotals[i], net=nets[i],
                         base=ctx.subtotals[i] if list_base else bases[i],
                         floor=ctx.floors[i] if ctx.floors else 0)
                for i in unit.lines]
    found = []
    for i in unit.lines:
        quantity, taken = ctx.lines[i].quantity, state.consumed[i]
        if taken >= quantity:
            continue
        base = ctx.subtotals[i] if list_base else bases[i]
        found.append(LineView(
            index=i, line=ctx.lines[i], quantity=quantity - taken,
            unit_price=ctx.unit_prices[i], subtotal=ctx.unit_prices[i] * (quantity - taken),
            net=nets[i] - (state.consumed_net[i] if taken else 0),
            base=sum(unit_shares(base, quantity)[taken:]),
            floor=sum(unit_shares(ctx.floors[i], quantity)[taken:]) if ctx.floors else 0))
    return found


def application(ctx: Context, unit: Unit, lines: Sequence[LineView], shipping: int,
                stock_used: int = 0) -> Application:
    stock_left = None if unit.stock_left is None else unit.stock_left - stock_used
    return Application(promotion_id=unit.promotion.id, params=unit.promotion.params,
                       lines=tuple(lines), currency=ctx.currency, customer=ctx.cart.customer,
                       channel=ctx.cart.channel, now=ctx.now, shipping=shipping,
                       stock_left=stock_left, text=ctx.text, counters=ctx.reads.counters)


def _stock_key(unit: Unit) -> str:
    return counter_keys.stock(unit.promotion.id)


def _compute(unit: Unit, app: Application) -> Outcome:
    promotion = unit.promotion
    try:
        outcome = promotion.kind_impl.compute(promotion.params, app)
    except Exception as error:
        raise PluginError(f"kind {promotion.kind!r} raised computing promotion "
                          f"{promotion.id!r}: {error!r}", hook="compute") from error
    if not isinstance(outcome, (PerLine, Total, ShippingOff, UnitDeal, Gifts, Rewards, NoDeal)):
        raise PluginError(f"kind {promotion.kind!r} returned {outcome!r} for promotion "
                          f"{promotion.id!r}; expected PerLine, Total, ShippingOff, UnitDeal, "
                          "Gifts, Rewards or NoDeal")
    return outcome


def settle(unit: Unit, outcome: Outcome, lines: Sequence[LineView],
           shipping: int) -> Acted:
    """Turn a kind's proposal into capped per-line amounts, a shipping discount,
    units consumed, gifts or rewards (``app`` is left for the caller to set)."""
    if isinstance(outcome, NoDeal):
        return _skip(outcome, None)
    if isinstance(outcome, Gifts):
        return Acted(0, {}, 0, None, None, gifts=outcome.items)
    if isinstance(outcome, Rewards):
        return Acted(0, {}, 0, None, None, rewards=outcome.items)
    per_line: dict[int, int] = {}
    shipping_off = 0
    consumed: dict[int, int] = {}
    covered_net: dict[int, int] = {}
    if isinstance(outcome, UnitDeal):
        if len(outcome.units) != len(lines):
            raise PluginError(f"kind {unit.promotion.kind!r} returned units for "
                              f"{len(outcome.units)} lines, not {len(lines)}")
        _check_amount(unit, outcome.amount)
        covered = []
        for view, count in zip(lines, outcome.units, strict=True):
            if isinstance(count, bool) or not isinstance(count, int) \
                    or not 0 <= count <= view.quantity:
                raise PluginError(f"kind {unit.promotion.kind!r} covered {count!r} units of "
                                  f"line {view.line.id!r}, which has {view.quantity} to take")
            if count:
                consumed[view.index] = count
                nets_of_units = unit_shares(view.net, view.quantity)[:count]
                covered_net[view.index] = sum(nets_of_units)
                room = sum(nets_of_units) - sum(unit_shares(view.floor, view.quantity)[:count])
                covered.append((view.index, max(0, room)))
        nets = [net for _, net in covered]
        amount = min(outcome.amount, sum(nets))
        for (index, _), share in zip(covered, allocate(amount, nets), strict=True):
            if share:
                per_line[index] = share
    elif isinstance(outcome, PerLine):
        if len(outcome.amounts) != len(lines):
            raise PluginError(f"kind {unit.promotion.kind!r} returned {len(outcome.amounts)} "
                              f"amounts for {len(lines)} lines")
        for view, amount in zip(lines, outcome.amounts, strict=True):
            _check_amount(unit, amount)
            if amount:
                space = max(0, view.net - view.floor)
                per_line[view.index] = per_line.get(view.index, 0) + min(amount, space)
    elif isinstance(outcome, Total):
        _check_amount(unit, outcome.amount)
        nets = [max(0, view.net - view.floor) for view in lines]
        amount = min(outcome.amount, sum(nets))
        for view, share in zip(lines, allocate(amount, nets), strict=True):
            if share:
                per_line[view.index] = per_line.get(view.index, 0) + share
    else:
        _check_amount(unit, outcome.amount)
        shipping_off = min(outcome.amount, shipping)
    amount = sum(per_line.values()) + shipping_off
    return Acted(amount, per_line, shipping_off, None, None, consumed=consumed,
                 covered_net=covered_net, spread=isinstance(outcome, (Total, UnitDeal)))


def _check_amount(unit: Unit, amount: object) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise PluginError(f"kind {unit.promotion.kind!r} proposed {amount!r} for promotion "
                          f"{unit.promotion.id!r}; amounts are whole minor units >= 0")


def unit_shares(amount: int, quantity: int) -> list[int]:
    """An amount spread over ``quantity`` units, the earlier units taking odd cents."""
    return allocate(amount, [1] * quantity)


def limited(ctx: Context, unit: Unit, lines: list[LineView], shipping: int) -> list[LineView]:
    """Cut ``lines`` to the units the unit may discount, keeping those that save most
    (ties to the earlier line)."""
    cap = unit.unit_cap
    if cap is None or sum(view.quantity for view in lines) <= cap:
        return lines

    def first_units(view: LineView, count: int) -> LineView:
        return attrs.evolve(
            view, quantity=count, subtotal=ctx.unit_prices[view.index] * count,
            net=sum(unit_shares(view.net, view.quantity)[:count]),
            base=sum(unit_shares(view.base, view.quantity)[:count]))

    def saving_per_unit(view: LineView) -> int:
        one = first_units(view, 1)
        return settle(unit, _compute(unit, application(ctx, unit, [one], shipping)), [one],
                      shipping).value

    if unit.promotion.kind_impl.quantity_deal:
        # One unit alone earns no quantity deal; the dearest units earn the most
        # (the free unit of 買二送一, the half-price second item, a bundle's parts).
        def rank(view: LineView) -> tuple[int, int]:
            return (-unit_shares(view.net, view.quantity)[0], view.index)
    else:
        def rank(view: LineView) -> tuple[int, int]:
            return (-saving_per_unit(view), view.index)
    ranked = lines if len(lines) == 1 else sorted(lines, key=rank)
    taken: dict[int, int] = {}
    left = cap
    for view in ranked:
        if left == 0:
            break
        taken[view.index] = min(view.quantity, left)
        left -= taken[view.index]
    return [view if taken[view.index] == view.quantity else first_units(view, taken[view.index])
            for view in lines if view.index in taken]


def act(ctx: Context, unit: Unit, state: State, bases: Sequence[int]) -> Acted:
    """What ``unit`` does on ``state`` (``bases``: the nets at the stage's start).

    The answer depends only on the nets and bases of the unit's lines, the
    shipping left and the budget its pools have used, so it is computed once
    per evaluation for each distinct set of those.
    """
    key = (unit.number, state.shipping,
           *[state.nets[i] for i in unit.lines], *[bases[i] for i in unit.lines],
           *[state.budget_used.get(pool, 0) for pool, _ in unit.budget_pools],
           state.budget_used.get(_stock_key(unit), 0) if unit.stock_left is not None else 0,
           *([count for i in unit.lines
              for count in (state.consumed[i], state.consumed_net[i])]
             if unit.promotion.kind_impl.quantity_deal else ()))
    acted = ctx.memo.get(key)
    if acted is None:
        acted = ctx.memo[key] = _act(ctx, unit, state, bases)
    return acted


def _act(ctx: Context, unit: Unit, state: State, bases: Sequence[int]) -> Acted:
    lines = views(ctx, unit, state, bases)
    promotion = unit.promotion
    if not lines:
        return _skip(NoDeal("no_lines_in_scope", ctx.text.pick(
            "its items are all taken by other quantity deals",
            "參與商品已被其他件數優惠使用")), None)
    if any(condition.uses_amounts for condition in promotion.conditions):
        condition_ctx = ConditionContext(customer=ctx.cart.customer, channel=ctx.cart.channel,
                                         now=ctx.now, currency=ctx.currency, lines=tuple(lines))
        failed = failed_condition(promotion.conditions, condition_ctx, amounts=True)
        if failed is not None:
            return _skip(NoDeal(f"not_eligible:{failed.rule}",
                                condition_message(failed, ctx.text)), None)
    lines = limited(ctx, unit, lines, state.shipping)
    stock_used = state.budget_used.get(_stock_key(unit), 0)
    if unit.stock_left is not None and unit.stock_left - stock_used <= 0:
        return _skip(NoDeal("stock_exhausted", ctx.text.reason("stock_exhausted")), None)
    app = application(ctx, unit, lines, state.shipping, stock_used)
    acted = settle(unit, _compute(unit, app), lines, state.shipping)
    acted.app = app
    if acted.no_deal is not None:
        return acted
    if acted.value == 0 and not acted.rewards and not acted.gifts:
        return _skip(NoDeal("no_saving", ctx.text.reason("no_saving")), app)
    room = min((left - state.budget_used.get(pool, 0) for pool, left in unit.budget_pools),
               default=None)
    if room is not None and acted.amount > room:
        if not promotion.partial_budget or room <= 0:
            return _skip(NoDeal("budget_exhausted", ctx.text.reason("budget_exhausted")), app)
        acted = _capped(acted, room)
        acted.app = app
    return acted


def _capped(acted: Acted, room: int) -> Acted:
    """``acted`` cut down to ``room`` (what is left of its budget), each line and the
    shipping keeping its share by largest remainder."""
    indexes = sorted(acted.per_line)
    shares = allocate(room, [acted.per_line[i] for i in indexes] + [acted.shipping])
    per_line = {i: share for i, share in zip(indexes, shares, strict=False) if share}
    return Acted(room, per_line, shares[-1], None, None, consumed=acted.consumed,
                 covered_net=acted.covered_net, spread=acted.spread, gifts=acted.gifts,
                 rewards=acted.rewards)


def run_stage(ctx: Context, state: State, units: Sequence[Unit]) -> State:
    """Apply ``units`` (already in acting order) to a copy of ``state``."""
    new = state.copy()
    bases = tuple(state.nets)
    for unit in units:
        acted = act(ctx, unit, new, bases)
        new.acted[unit.number] = acted
        if acted.no_deal is None:
            for index, amount in acted.per_line.items():
                before = new.nets[index]
                new.nets[index] -= amount
                if index not in acted.consumed and new.consumed_net[index] and before:
                    # A discount on the whole line: the taken units keep their share.
                    new.consumed_net[index] = (new.consumed_net[index] * new.nets[index]
                                               // before)
            for index, count in acted.consumed.items():
                new.consumed[index] += count
                new.consumed_net[index] += acted.covered_net[index] - acted.per_line.get(index, 0)
            new.shipping -= acted.shipping
            new.saving += acted.value
            for pool, _ in unit.budget_pools:
                new.budget_used[pool] = new.budget_used.get(pool, 0) + acted.amount
            if unit.stock_left is not None and acted.gifts:
                key = _stock_key(unit)
                new.budget_used[key] = new.budget_used.get(key, 0) + sum(
                    gift.quantity for gift in acted.gifts)
    return new


STAGE_NUMBERS = {stage: number for number, stage in enumerate(STAGES)}


def stage_no(promotion: Promotion) -> int:
    return STAGE_NUMBERS[promotion.stage]

