"""``buy_x_get_y`` (買一贈一 / 買X送Y): buy ``buy`` units, ``get`` more at a percent off.

Campaign keys: ``buy`` and ``get`` (whole numbers, at least 1), ``percent``
(default "100": the ``get`` units are free), optional ``get_scope`` (a scope
table: which lines the ``get`` units come from).

Without ``get_scope``: for every ``buy + get`` units in scope, ``get`` units
are discounted, and those are the cheapest units in scope. The deal consumes
the discounted units and, for each group, ``buy`` more units taken from the
cheapest left, so that dearer units stay free for other quantity deals.
買二送一 on 2 × ¥100 + 1 × ¥60: the ¥60 unit is free and all three are consumed.

With ``get_scope``: the ``get`` units are the lines matching ``get_scope``,
the ``buy`` units the other lines the promotion covers (its own ``scope``:
give one, or it covers only the ``get_scope`` lines and nothing can be
bought). ``k = min(buy units // buy, get units // get)`` groups: the ``k ×
get`` cheapest get units are discounted, and the ``k × buy`` cheapest buy
units are consumed with them.

A unit's net is its line's available net spread over the line's units by
largest remainder (the earlier units take the odd cents). The discount is
``percent`` of the nets of the discounted units; the kernel spreads it over
every unit the deal consumes, by net.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from promokit import hookimpl
from promokit.allocation import unit_runs
from promokit.kinds import Application, DiscountKind, NoDeal, Outcome, UnitDeal
from promokit.money import percent_of
from promokit.params import Params
from promokit.terms import Scope
from promokit.text import Text


@attrs.frozen
class BuyXGetYParams:
    buy: int
    get: int
    percent: Decimal
    get_scope: Scope | None


def scope_words(scope: Scope, text: Text) -> str:
    """The SKUs a scope lists, or "selected items"."""
    if scope.skus and attrs.evolve(scope, skus=()) == Scope():
        return "/".join(sorted(scope.skus))
    return text.pick("the selected items", "指定商品")


class BuyXGetY(DiscountKind):
    name = "buy_x_get_y"
    default_stage = "item"
    monotone = True
    quantity_deal = True

    def parse(self, params: Params) -> BuyXGetYParams:
        buy = params.integer("buy", minimum=1) or 1
        get = params.integer("get", minimum=1) or 1
        percent = params.percent("percent", required=False) or Decimal(100)
        get_scope = None
        table = params.table("get_scope")
        if table is not None:
            get_scope = Scope.from_params(table)
            if not get_scope.lists_anything:
                params.problem("must list the items given (skus, categories …)", "get_scope")
        return BuyXGetYParams(buy=buy, get=get, percent=percent, get_scope=get_scope)

    def scopes(self, params: BuyXGetYParams) -> tuple[Scope, ...]:
        return () if params.get_scope is None else (params.get_scope,)

    def compute(self, params: BuyXGetYParams, app: Application) -> Outcome:
        # The units cheapest first (ties: earlier line, earlier unit), as runs of
        # equal units ``(share, line position, first unit, units)``.
        runs = sorted((share, position, first, count)
                      for position, view in enumerate(app.lines)
                      for share, first, count in unit_runs(view.net, view.quantity))
        scope = params.get_scope
        taken = [0] * len(app.lines)
        if scope is None:
            units = sum(run[3] for run in runs)
            groups = units // (params.buy + params.get)
            if groups == 0:
                return NoDeal("below_threshold", app.text.pick(
                    f"needs {params.buy + params.get} eligible items; "
                    f"the cart has {units}",
                    f"需{params.buy + params.get}件參與商品，購物車中有{units}件"))
            # The cheapest units are given; the next ones are those bought for them.
            discounted = _take(runs, groups * params.get, taken)
            _take(_after(runs, groups * params.get), groups * params.buy, taken)
        else:
            gets = {p for p, view in enumerate(app.lines) if scope.matches(view.line)}
            get_runs = [run for run in runs if run[1] in gets]
            buy_runs = [run for run in runs if run[1] not in gets]
            get_units = sum(run[3] for run in get_runs)
            buy_units = sum(run[3] for run in buy_runs)
            groups = min(buy_units // params.buy, get_units // params.get)
            if groups == 0:
                return NoDeal("below_threshold", app.text.pick(
                    f"needs {params.buy} items bought and {params.get} to give; "
                    f"the cart has {buy_units} and {get_units}",
                    f"需購買{params.buy}件並有{params.get}件贈送商品，"
                    f"購物車中分別有{buy_units}件和{get_units}件"))
            discounted = _take(get_runs, groups * params.get, taken)
            _take(buy_runs, groups * params.buy, taken)
        amount = percent_of(discounted, params.percent)
        if amount == 0:
            return NoDeal("no_saving", app.text.pick("the discount rounds to nothing",
                                                     "優惠金額捨入後為零"))
        return UnitDeal(amount, taken)

    def describe(self, params: BuyXGetYParams, text: Text) -> str:
        buy, get, percent = params.buy, params.get, params.percent
        what = None if params.get_scope is None else scope_words(params.get_scope, text)
        if text.zh:
            if percent == 100:
                return f"買{buy}送{get}" + (f"（贈{what}）" if what else "")
            rate = text.percent_off(percent)
            if what:
                return f"買{buy}件，{get}件{what}{rate}"
            return (f"買{buy}件第{buy + 1}件{rate}" if get == 1
                    else f"買{buy}件，另{get}件{rate}")
        off = "free" if percent == 100 else f"at {text.percent_off(percent)}"
        return f"buy {buy}, get {get} of {what} {off}" if what else f"buy {buy}, get {get} {off}"


@hookimpl
def promokit_register_kinds() -> list[DiscountKind]:
    return [BuyXGetY()]


Run = tuple[int, int, int, int]
"""Equal units: ``(share, line position, first unit, units)``."""


def _take(runs: list[Run], units: int, taken: list[int]) -> int:
    """Take the first ``units`` units of ``runs`` (counted into ``taken`` per line);
    the sum of their shares."""
    total = 0
    for share, position, _, count in runs:
        if units <= 0:
            break
        take = min(count, units)
        taken[position] += take
        total += share * take
        units -= take
    return total


def _after(runs: list[Run], units: int) -> list[Run]:
    """``runs`` without their first ``units`` units."""
    left = []
    for share, position, first, count in runs:
        skip = min(count, max(units, 0))
        units -= skip
        if count > skip:
            left.append((share, position, first + skip, count - skip))
    return left
