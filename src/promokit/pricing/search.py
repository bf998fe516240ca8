"""Stacking rules and the best-deal search (DESIGN §4.2–4.3).

The search weighs every combination of units the stacking rules allow, but
only over the units whose inclusion can matter:

- a unit in conflict with another (``exclusive`` overlapping lines; the same
  ``group`` on a line at the item stage, in a shop at the shop stage, in the
  order at the platform and shipping stages) is *competing*;
- so is a unit acting before a later unit whose outcome could step down when
  earlier discounts lower the spend it measures (a 滿減 tier within reach of
  being lost, a ``min_spend`` condition, any kind not declared ``monotone``),
  and units sharing a budget that cannot pay for all of them.

Every other unit is always applied: with monotone kinds, a discount that
conflicts with nothing and cannot push a later threshold below its tier never
makes the order dearer. Units that share no line, promotion, budget, clash or
shipping cannot change one another's outcome, so the cart splits into
independent parts and each part's competing units are weighed on their own.
Within a part the search is exhaustive (depth-first, stage by stage, skipping
combinations the rules forbid, trying the combinations with the highest
ceilings first and stopping at the first that cannot reach the best found) up
to :data:`EXACT_LIMIT` competing units; beyond that it falls back to a greedy
choice improved by single swaps, and the result says ``optimal: false``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ..terms import STAGES
from .acting import run_stage
from .model import Context, State, Unit

__all__ = ["EXACT_LIMIT", "Choice", "competing", "conflicts", "independent", "search"]

#: Competing units up to which the best-deal search is exhaustive.
EXACT_LIMIT = 12


class Choice:
    """The outcome of the search: the final state, the units chosen, exactness."""

    __slots__ = ("chosen", "clashes", "optimal", "state")

    def __init__(self, state: State, chosen: frozenset[int], clashes: dict[int, set[int]],
                 optimal: bool) -> None:
        self.state = state
        self.chosen = chosen
        self.clashes = clashes
        self.optimal = optimal


def conflicts(units: Sequence[Unit]) -> dict[int, set[int]]:
    """Unit number → numbers of the units it may not be combined with."""
    found: dict[int, set[int]] = {unit.number: set() for unit in units}
    for position, first in enumerate(units):
        a = first.promotion
        first_lines = set(first.lines)
        for second in units[position + 1:]:
            b = second.promotion
            if first.stage_no != second.stage_no or a.id == b.id:
                continue
            overlap = not first_lines.isdisjoint(second.lines)
            clash = (a.exclusive or b.exclusive) and overlap
            if not clash and a.group is not None and a.group == b.group:
                stage = STAGES[first.stage_no]
                clash = (overlap if stage == "item"
                         else first.shop == second.shop if stage == "shop" else True)
            if clash:
                found[first.number].add(second.number)
                found[second.number].add(first.number)
    return found


def _acts_before(first: Unit, second: Unit) -> bool:
    return (first.stage_no, first.order_key) < (second.stage_no, second.order_key)


def competing(ctx: Context, units: Sequence[Unit],
              clashes: dict[int, set[int]]) -> frozenset[int]:
    """The units whose inclusion the search must weigh."""
    found = {number for number, others in clashes.items() if others}
    # Quantity deals sharing a line compete for its units.
    deals = [unit for unit in units if unit.promotion.kind_impl.quantity_deal]
    for position, first in enumerate(deals):
        for second in deals[position + 1:]:
            if not set(first.lines).isdisjoint(second.lines):
                found.update((first.number, second.number))
    # Budgets that cannot pay every unit drawing on them.
    demand: dict[str, int] = {}
    left: dict[str, int] = {}
    members: dict[str, list[int]] = {}
    for unit in units:
        for pool, money_left in unit.budget_pools:
            demand[pool] = demand.get(pool, 0) + unit.ceiling
            left[pool] = money_left
            members.setdefault(pool, []).append(unit.number)
    for pool, wanted in demand.items():
        if wanted > left[pool] and len(members[pool]) > 1:
            found.update(members[pool])
    # A spread moves net between its lines when an earlier discount lowers one of
    # them (a bundle's price stays put, so the other lines' shares grow). A later
    # promotion that treats those lines unevenly (per line, or a spread over only
    # some of them) can then take back more than the earlier discount gave, or a
    # cent of rounding. So the discounts before such a spread are weighed too; so
    # too before a quantity deal whose shape is unknown (one sharing its lines with
    # another deal is not tried alone).
    for spread in units:
        unknown_deal = spread.shape is None and spread.promotion.kind_impl.quantity_deal
        if spread.shape != "spread" and not unknown_deal:  # a shared deal may spread
            continue
        spread_lines = set(spread.lines)
        if any(unit.promotion.kind_impl.monotone and _acts_before(spread, unit)
               and not spread_lines.isdisjoint(unit.lines)
               and (unit.shape in ("per_line", None)
                    or (unit.shape == "spread" and not spread_lines <= set(unit.lines)))
               for unit in units):
            found.update(unit.number for unit in units
                         if _acts_before(unit, spread)
                         and not set(unit.lines).isdisjoint(spread.lines))
    # Earlier discounts that could cost a later promotion its tier.
    for later in units:
        promotion = later.promotion
        monotone = promotion.kind_impl.monotone
        earlier = [unit for unit in units
                   if (unit.stage_no < later.stage_no
                       or (not monotone and _acts_before(unit, later)))
                   and not set(unit.lines).isdisjoint(later.lines)]
        if earlier and _sensitive(ctx, later, earlier):
            found.update(unit.number for unit in earlier)
    return frozenset(found)


def _sensitive(ctx: Context, later: Unit, earlier: Sequence[Unit]) -> bool:
    promotion = later.promotion
    kind = promotion.kind_impl
    if not kind.monotone or later.unit_cap is not None:
        return True
    if promotion.base == "list":
        return False
    lowered = dict.fromkeys(later.lines, 0)
    for unit in earlier:
        for index, saving in zip(unit.lines, unit.standalone, strict=True):
            if index in lowered:
                lowered[index] += saving
    high = sum(ctx.subtotals[index] for index in later.lines)
    low = high - sum(min(ctx.subtotals[index], cut) for index, cut in lowered.items())
    if kind.threshold_between(promotion.params, low, high):
        return True
    return any(condition.threshold_between(low, high) for condition in promotion.conditions)


def _subsets(choices: Sequence[Unit], clashes: dict[int, set[int]]) -> Iterator[list[Unit]]:
    """Every combination of ``choices`` with no two in conflict, the empty one first."""
    def walk(start: int, taken: list[Unit], barred: set[int]) -> Iterator[list[Unit]]:
        yield taken
        for position in range(start, len(choices)):
            unit = choices[position]
            if unit.number not in barred:
                yield from walk(position + 1, [*taken, unit], barred | clashes[unit.number])

    return walk(0, [], set())


def _applied_key(units_by_number: dict[int, Unit], state: State) -> tuple[tuple[int, str], ...]:
    applied = {units_by_number[number].promotion.id: units_by_number[number].promotion.priority
               for number, acted in state.acted.items() if acted.no_deal is None}
    return tuple(sorted((-priority, pid) for pid, priority in applied.items()))


def _better(units_by_number: dict[int, Unit], new: State, old: State | None) -> bool:
    """More saving wins. On a tie: the combination that applies everything the
    other does and more (rewards earn nothing in the saving); else the one led
    by higher priority, then lower promotion id; then the one in which more
    promotions were tried (so one that adds nothing is reported with
    its own reason, such as ``below_threshold``, rather than ``not_best``)."""
    if old is None or new.saving != old.saving:
        return old is None or new.saving > old.saving
    new_key, old_key = _applied_key(units_by_number, new), _applied_key(units_by_number, old)
    if new_key != old_key:
        if set(new_key) > set(old_key):
            return True  # everything the other gives and more (a reward, a gift)
        if set(old_key) > set(new_key):
            return False
        return new_key < old_key
    return len(new.acted) > len(old.acted)


def _run(ctx: Context, start: State, units: Sequence[Unit], included: set[int]) -> State:
    """``start`` after the ``included`` units, stage by stage in acting order."""
    acting = sorted((u for u in units if u.number in included),
                    key=lambda u: (u.stage_no, u.order_key))
    state = start
    for stage in sorted({u.stage_no for u in acting}):
        state = run_stage(ctx, state, [u for u in acting if u.stage_no == stage])
    return state


def search(ctx: Context, start: State, units: Sequence[Unit], *,
           exact_limit: int = EXACT_LIMIT) -> Choice:
    """The combination of units that saves the customer most."""
    clashes = conflicts(units)
    contested = competing(ctx, units, clashes)
    by_number = {unit.number: unit for unit in units}
    always = {unit.number for unit in units if unit.number not in contested}
    if not contested:  # nothing to weigh: every unit acts
        return Choice(_run(ctx, start, units, always), frozenset(always), clashes,
                      optimal=True)
    parts = [part for part in independent(units, clashes) if part & contested]
    if any(len(part & contested) > exact_limit for part in parts):
        return _greedy(ctx, start, units, clashes, contested, always, by_number)
    if len(parts) == 1:
        state, chosen = _exact(ctx, start, units, clashes, contested, by_number)
        return Choice(state, chosen, clashes, optimal=True)
    # Parts that share no line, budget, stock or shipping are priced apart: what a
    # part saves does not depend on what the others chose.
    included = set(always)
    for part in parts:
        _, found = _exact(ctx, start, [by_number[n] for n in sorted(part)], clashes,
                          contested & part, by_number)
        included |= found
    return Choice(_run(ctx, start, units, included), frozenset(included), clashes,
                  optimal=True)


def independent(units: Sequence[Unit], clashes: dict[int, set[int]]) -> list[frozenset[int]]:
    """The units in groups that cannot change one another's outcome: two units are in
    one group if they share a line, a promotion (its stock, limits), a budget or a
    clash, or if both may take shipping (the shipping stage, or a unit whose outcome
    could not be seen alone and is not a quantity deal)."""
    parent = {unit.number: unit.number for unit in units}

    def root(number: int) -> int:
        while parent[number] != number:
            parent[number] = parent[parent[number]]
            number = parent[number]
        return number

    def join(first: int, second: int) -> None:
        parent[root(first)] = root(second)

    owner: dict[object, int] = {}
    for unit in units:
        shares: list[object] = [("line", i) for i in unit.lines]
        shares.append(("promotion", unit.promotion.id))
        shares.extend(("pool", pool) for pool, _ in unit.budget_pools)
        if (STAGES[unit.stage_no] == "shipping" or unit.shape == "other"
                or (unit.shape is None and not unit.promotion.kind_impl.quantity_deal)):
            shares.append("shipping")
        for share in shares:
            if share in owner:
                join(unit.number, owner[share])
            else:
                owner[share] = unit.number
        for other in clashes[unit.number]:
            join(unit.number, other)
    groups: dict[int, set[int]] = {}
    for unit in units:
        groups.setdefault(root(unit.number), set()).add(unit.number)
    return [frozenset(group) for _, group in sorted(groups.items())]


def _exact(ctx: Context, start: State, units: Sequence[Unit], clashes: dict[int, set[int]],
           contested: frozenset[int], by_number: dict[int, Unit]
           ) -> tuple[State, frozenset[int]]:
    """The best combination of ``units`` by branch and bound over the contested ones."""
    always = {unit.number for unit in units if unit.number not in contested}
    per_stage: list[tuple[list[Unit], list[Unit]]] = []
    for stage in range(len(STAGES)):
        in_stage = [unit for unit in units if unit.stage_no == stage]
        per_stage.append(([u for u in in_stage if u.number in always],
                          sorted((u for u in in_stage if u.number in contested),
                                 key=lambda u: u.order_key)))
    # Branch and bound: what the stages from s on can add at most.
    still = [sum(u.ceiling for u in units if u.stage_no >= stage)
             for stage in range(len(STAGES) + 1)]
    best: list[tuple[State, frozenset[int]]] = []

    def walk(stage: int, state: State, chosen: frozenset[int]) -> None:
        if best and state.saving + still[stage] < best[0][0].saving:
            return  # cannot reach the best found (equal savings go on, for ties)
        if stage == len(STAGES):
            if not best or _better(by_number, state, best[0][0]):
                best[:] = [(state, chosen)]
            return
        fixed, choices = per_stage[stage]
        if not fixed and not choices:
            walk(stage + 1, state, chosen)
            return
        # The combinations that may save most first, so the bound bites early: once
        # a combination's ceilings cannot reach the best found, no later one can.
        fixed_ceiling = state.saving + sum(u.ceiling for u in fixed) + still[stage + 1]
        for ceiling, subset in sorted(((sum(u.ceiling for u in taken), taken)
                                       for taken in _subsets(choices, clashes)),
                                      key=lambda pair: -pair[0]):
            if best and fixed_ceiling + ceiling < best[0][0].saving:
                break
            acting = sorted([*fixed, *subset], key=lambda u: u.order_key)
            walk(stage + 1, run_stage(ctx, state, acting),
                 chosen | {unit.number for unit in subset})

    walk(0, start, frozenset(always))
    return best[0]


def _greedy(ctx: Context, start: State, units: Sequence[Unit], clashes: dict[int, set[int]],
            contested: frozenset[int], always: set[int], by_number: dict[int, Unit]) -> Choice:
    ranked = sorted((by_number[n] for n in contested),
                    key=lambda u: (-u.ceiling, u.stage_no, u.order_key))
    included = set(always)
    for unit in ranked:
        if not clashes[unit.number] & included:
            included.add(unit.number)
    best = _run(ctx, start, units, included)
    for unit in ranked:  # one pass of single changes, kept when they save more
        if unit.number in included:
            trial = included - {unit.number}
        elif not clashes[unit.number] & included:
            trial = included | {unit.number}
        else:
            continue
        state = _run(ctx, start, units, trial)
        if _better(by_number, state, best):
            best, included = state, trial
    return Choice(best, frozenset(included), clashes, optimal=False)
