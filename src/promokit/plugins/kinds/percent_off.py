"""``percent_off`` (打折): a percent off each line in scope.

Campaign keys: ``percent`` ("5" = 5% off = 95折), optional ``max_off`` (a cap
on the promotion's whole discount in the order, spread over its lines by net).
Each line's discount is computed on the whole line and rounded once.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from promokit import hookimpl
from promokit.kinds import Application, DiscountKind, NoDeal, Outcome, PerLine, Total
from promokit.money import percent_of
from promokit.params import Params
from promokit.text import Text


@attrs.frozen
class PercentOffParams:
    percent: Decimal
    max_off: int | None


class PercentOff(DiscountKind):
    name = "percent_off"
    default_stage = "item"
    monotone = True

    def parse(self, params: Params) -> PercentOffParams:
        return PercentOffParams(params.percent("percent") or Decimal(0),
                                params.money("max_off", required=False, positive=True))

    def compute(self, params: PercentOffParams, app: Application) -> Outcome:
        amounts = tuple(percent_of(line.net, params.percent) for line in app.lines)
        if not any(amounts):
            return NoDeal("no_saving", app.text.gettext("the discount rounds to nothing"))
        if params.max_off is not None and sum(amounts) > params.max_off:
            return Total(params.max_off)
        return PerLine(amounts)

    def describe(self, params: PercentOffParams, text: Text) -> str:
        """``9折`` / ``10% off``; with ``max_off``: ``95折，最多减¥100.00`` /
        ``5% off, up to ¥100.00 off``."""
        benefit = text.percent_off(params.percent)
        if params.max_off is None:
            return benefit
        return text.gettext("{discount}, up to {cap} off", discount=benefit,
                            cap=text.amount(params.max_off))


@hookimpl
def promokit_register_kinds() -> list[DiscountKind]:
    return [PercentOff()]
