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
    return text.gettext("the selected items")


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
                needs = params.buy + params.get
                return NoDeal("below_threshold", app.text.ngettext(
                    "needs {count} eligible item; the cart has {units}",
                    "needs {count} eligible items; the cart has {units}", needs,
                    count=app.text.number(needs), units=app.text.number(units)))
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
                text = app.text
                return NoDeal("below_threshold", text.gettext(
                    "needs {buy} items bought and {get} to give; the cart has {buy_units} "
                    "and {get_units}", buy=text.number(params.buy), get=text.number(params.get),
                    buy_units=text.number(buy_units), get_units=text.number(get_units)))
            discounted = _take(get_runs, groups * params.get, taken)
            _take(buy_runs, groups * params.buy, taken)
        amount = percent_of(discounted, params.percent)
        if amount == 0:
            return NoDeal("no_saving", app.text.gettext("the discount rounds to nothing"))
        return UnitDeal(amount, taken)

    def describe(self, params: BuyXGetYParams, text: Text) -> str:
        """``买2送1`` / ``buy 2, get 1 free``; ``买2件第3件8折`` / ``buy 2, get 1 at 20%
        off``; ``买2送1（赠SOCK-1）`` / ``buy 2, get 1 of SOCK-1 free``."""
        buy, get, percent = text.number(params.buy), text.number(params.get), params.percent
        what = None if params.get_scope is None else scope_words(params.get_scope, text)
        if percent == 100:
            if what:
                return text.gettext("buy {buy}, get {get} of {items} free", buy=buy, get=get,
                                    items=what)
            return text.gettext("buy {buy}, get {get} free", buy=buy, get=get)
        rate = text.percent_off(percent)
        if what:
            return text.gettext("buy {buy}, get {get} of {items} at {discount}", buy=buy,
                                get=get, items=what, discount=rate)
        if params.get == 1:
            # Translators: {next} is the number of the discounted item (buy + 1), for
            # languages that name it: 买2件第3件8折.
            return text.gettext("buy {buy}, get 1 at {discount}", buy=buy, discount=rate,
                                next=text.number(params.buy + 1))
        return text.gettext("buy {buy}, get {get} at {discount}", buy=buy, get=get,
                            discount=rate)


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
