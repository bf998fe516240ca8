"""``nth_item`` (第二件半價): every n-th unit in scope at a percent off.

Campaign keys: ``n`` (a whole number, at least 2) and ``percent`` ("50" =
半價, "100" = free). The units in scope are lined up from the dearest to the
cheapest (by their current net; equal units: the earlier line first) and cut
into groups of ``n``: the last unit of each complete group, the cheapest of
its group, gets ``percent`` off. The units of complete groups are consumed
(no other quantity deal uses them again); a leftover unit of an incomplete
group is not. 第二件半價 on 3 units of ¥100: one group of 2 → ¥50.00 off
those 2 units; the third is untouched.

A unit's net is its line's available net spread over the line's units by
largest remainder (the earlier units take the odd cents), taken in order.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from promokit import hookimpl
from promokit.allocation import unit_runs
from promokit.kinds import Application, DiscountKind, NoDeal, Outcome, UnitDeal
from promokit.money import percent_of
from promokit.params import Params
from promokit.text import Text


@attrs.frozen
class NthItemParams:
    n: int
    percent: Decimal


class NthItem(DiscountKind):
    name = "nth_item"
    default_stage = "item"
    monotone = True
    quantity_deal = True

    def parse(self, params: Params) -> NthItemParams:
        return NthItemParams(n=params.integer("n", minimum=2) or 2,
                             percent=params.percent("percent") or Decimal(0))

    def compute(self, params: NthItemParams, app: Application) -> Outcome:
        n = params.n
        # The units dearest first (ties: earlier line, earlier unit), as runs of
        # equal units, so a line of a million units is two runs, not a million.
        runs = sorted((-share, position, first, count)
                      for position, view in enumerate(app.lines)
                      for share, first, count in unit_runs(view.net, view.quantity))
        units = sum(count for *_, count in runs)
        groups = units // n
        if groups == 0:
            return NoDeal("below_threshold", app.text.ngettext(
                "needs {count} eligible item; the cart has {units}",
                "needs {count} eligible items; the cart has {units}", n,
                count=app.text.number(n), units=app.text.number(units)))
        covered = [0] * len(app.lines)
        discounted = 0
        at, end = 0, groups * n
        for negative, position, _, count in runs:
            if at >= end:
                break
            take = min(count, end - at)
            covered[position] += take
            # Every n-th unit (positions n-1, 2n-1 …) is the cheapest of its group.
            discounted += -negative * ((at + take) // n - at // n)
            at += take
        amount = percent_of(discounted, params.percent)
        if amount == 0:
            return NoDeal("no_saving", app.text.gettext("the discount rounds to nothing"))
        return UnitDeal(amount, covered)

    def describe(self, params: NthItemParams, text: Text) -> str:
        """``第2件5折`` / ``the 2nd item 50% off``; ``the 3rd item free``."""
        off = (text.gettext("free") if params.percent == 100
               else text.percent_off(params.percent))
        return text.gettext("the {ordinal} item {discount}", ordinal=text.ordinal(params.n),
                            discount=off)


@hookimpl
def promokit_register_kinds() -> list[DiscountKind]:
    return [NthItem()]
