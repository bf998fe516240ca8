"""One unit acting on a state, and a stage run.

A kind proposes (:func:`compute`); :func:`settle` turns the proposal into
capped per-line amounts, a shipping discount, units consumed, gifts or
rewards; :func:`act` does both for a unit on a state (memoised per evaluation);
:func:`run_stage` applies a stage's units in acting order to a copy of a state.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from ..allocation import allocate, unit_share_sum
from ..conditions import ConditionContext, condition_message, failed_condition
from ..errors import PluginError
from ..kinds import (
    Application,
    Gifts,
    LineView,
    NoDeal,
    Outcome,
    PerLine,
    Rewards,
    ShippingOff,
    Total,
    UnitDeal,
)
from ..stores import counter_keys
from .model import Acted, Context, State, Unit, skip

__all__ = ["act", "application", "compute", "limited", "run_stage", "settle", "views"]


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
            base=unit_share_sum(base, quantity, taken),
            floor=unit_share_sum(ctx.floors[i], quantity, taken) if ctx.floors else 0))
    return found


def application(ctx: Context, unit: Unit, lines: Sequence[LineView], shipping: int,
                stock_used: int = 0) -> Application:
    """What the unit's kind is handed: its lines as it sees them, and the cart around."""
    stock_left = None if unit.stock_left is None else unit.stock_left - stock_used
    return Application(promotion_id=unit.promotion.id, params=unit.promotion.params,
                       lines=tuple(lines), currency=ctx.currency, customer=ctx.cart.customer,
                       channel=ctx.cart.channel, now=ctx.now, shipping=shipping,
                       stock_left=stock_left, text=ctx.text, counters=ctx.reads.counters)


def _stock_key(unit: Unit) -> str:
    return counter_keys.stock(unit.promotion.id)


def compute(unit: Unit, app: Application) -> Outcome:
    """The kind's proposal, checked to be one it may make."""
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
        return skip(outcome, None)
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
                nets_of_units = unit_share_sum(view.net, view.quantity, 0, count)
                covered_net[view.index] = nets_of_units
                room = nets_of_units - unit_share_sum(view.floor, view.quantity, 0, count)
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


def limited(ctx: Context, unit: Unit, lines: list[LineView], shipping: int) -> list[LineView]:
    """Cut ``lines`` to the units the unit may discount, keeping those that save most
    (ties to the earlier line)."""
    cap = unit.unit_cap
    if cap is None or sum(view.quantity for view in lines) <= cap:
        return lines

    def first_units(view: LineView, count: int) -> LineView:
        return attrs.evolve(
            view, quantity=count, subtotal=ctx.unit_prices[view.index] * count,
            net=unit_share_sum(view.net, view.quantity, 0, count),
            base=unit_share_sum(view.base, view.quantity, 0, count))

    def saving_per_unit(view: LineView) -> int:
        one = first_units(view, 1)
        return settle(unit, compute(unit, application(ctx, unit, [one], shipping)), [one],
                      shipping).value

    if unit.promotion.kind_impl.quantity_deal:
        # One unit alone earns no quantity deal; the dearest units earn the most
        # (the free unit of 買二送一, the half-price second item, a bundle's parts).
        def rank(view: LineView) -> tuple[int, int]:
            return (-unit_share_sum(view.net, view.quantity, 0, 1), view.index)
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
        return skip(NoDeal("no_lines_in_scope", ctx.text.gettext(
            "its items are all taken by other quantity deals")), None)
    if any(condition.uses_amounts for condition in promotion.conditions):
        condition_ctx = ConditionContext(customer=ctx.cart.customer, channel=ctx.cart.channel,
                                         now=ctx.now, currency=ctx.currency, lines=tuple(lines))
        failed = failed_condition(promotion.conditions, condition_ctx, amounts=True)
        if failed is not None:
            return skip(NoDeal(f"not_eligible:{failed.rule}",
                                condition_message(failed, ctx.text)), None)
    lines = limited(ctx, unit, lines, state.shipping)
    stock_used = state.budget_used.get(_stock_key(unit), 0)
    if unit.stock_left is not None and unit.stock_left - stock_used <= 0:
        return skip(NoDeal("stock_exhausted", ctx.text.reason("stock_exhausted")), None)
    app = application(ctx, unit, lines, state.shipping, stock_used)
    acted = settle(unit, compute(unit, app), lines, state.shipping)
    acted.app = app
    if acted.no_deal is not None:
        return acted
    if acted.value == 0 and not acted.rewards and not acted.gifts:
        return skip(NoDeal("no_saving", ctx.text.reason("no_saving")), app)
    room = min((left - state.budget_used.get(pool, 0) for pool, left in unit.budget_pools),
               default=None)
    if room is not None and acted.amount > room:
        if not promotion.partial_budget or room <= 0:
            return skip(NoDeal("budget_exhausted", ctx.text.reason("budget_exhausted")), app)
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
