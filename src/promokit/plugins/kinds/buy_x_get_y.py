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
from promokit.allocation import allocate
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
        # Every unit as (net, line position, place in the line): sorted, cheapest first.
        units = sorted((net, position, seq)
                       for position, view in enumerate(app.lines)
                       for seq, net in enumerate(allocate(view.net, [1] * view.quantity)))
        scope = params.get_scope
        if scope is None:
            get_units = buy_units = units
            groups = len(units) // (params.buy + params.get)
            if groups == 0:
                return NoDeal("below_threshold", app.text.pick(
                    f"needs {params.buy + params.get} eligible items; "
                    f"the cart has {len(units)}",
                    f"需{params.buy + params.get}件參與商品，購物車中有{len(units)}件"))
        else:
            gets = {p for p, view in enumerate(app.lines) if scope.matches(view.line)}
            get_units = [unit for unit in units if unit[1] in gets]
            buy_units = [unit for unit in units if unit[1] not in gets]
            groups = min(len(buy_units) // params.buy, len(get_units) // params.get)
            if groups == 0:
                return NoDeal("below_threshold", app.text.pick(
                    f"needs {params.buy} items bought and {params.get} to give; "
                    f"the cart has {len(buy_units)} and {len(get_units)}",
                    f"需購買{params.buy}件並有{params.get}件贈送商品，"
                    f"購物車中分別有{len(buy_units)}件和{len(get_units)}件"))
        discounted = get_units[:groups * params.get]
        chosen = set(discounted)
        paid = [unit for unit in buy_units if unit not in chosen][:groups * params.buy]
        taken = [0] * len(app.lines)
        for _, position, _ in (*discounted, *paid):
            taken[position] += 1
        amount = percent_of(sum(net for net, _, _ in discounted), params.percent)
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
