"""``points_multiplier`` (積分翻倍): loyalty points earned on the final net, k times.

Campaign keys:

- ``points_per_unit``: points per one major unit of the currency, a decimal
  above 0 (``"1"``: 1 point per ¥1);
- ``multiplier``: k, a whole number, at least 1.

Points = ⌊net of the lines in scope × ``points_per_unit``⌋ × ``multiplier``,
in exact decimal arithmetic. A reward, not a price change: it runs at the
``shipping`` stage by default, so it sees the line nets after every discount,
and the result lists it under ``rewards`` (``{"kind": "points", "amount": "1336"}``).
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

import attrs

from promokit import hookimpl
from promokit.kinds import Application, DiscountKind, NoDeal, Outcome, RewardItem, Rewards
from promokit.money import MONEY_CONTEXT, Currency
from promokit.params import Params
from promokit.text import Text


@attrs.frozen
class PointsParams:
    multiplier: int
    points_per_unit: Decimal
    currency: Currency
    """The file's currency, for the rule text."""


class PointsMultiplier(DiscountKind):
    name = "points_multiplier"
    default_stage = "shipping"
    benefit = "reward"
    monotone = True

    def parse(self, params: Params) -> PointsParams:
        return PointsParams(
            multiplier=params.integer("multiplier", minimum=1) or 1,
            points_per_unit=params.decimal("points_per_unit", positive=True) or Decimal(1),
            currency=params.currency)

    def points(self, params: PointsParams, net: int, money: Currency) -> int:
        """The points ``net`` (minor units of ``money``) earns."""
        earned = MONEY_CONTEXT.multiply(money.to_decimal(net), params.points_per_unit)
        base = int(earned.to_integral_value(rounding=ROUND_FLOOR, context=MONEY_CONTEXT))
        return base * params.multiplier

    def compute(self, params: PointsParams, app: Application) -> Outcome:
        points = self.points(params, app.net, app.currency)
        if points == 0:
            return NoDeal("no_saving", app.text.gettext("the eligible items earn no points"))
        return Rewards((RewardItem("points", str(points)),))

    def describe(self, params: PointsParams, text: Text) -> str:
        money = params.currency
        one = text.money(money.scale, money)  # "¥1.00": shown as "¥1"
        if money.exponent:
            one = one.removesuffix("." + "0" * money.exponent)
        fill = {"multiplier": text.number(params.multiplier),
                "rate": text.number(params.points_per_unit), "one": one}
        if params.points_per_unit == 1:
            return text.gettext("{multiplier}× points ({rate} point per {one})", **fill)
        return text.gettext("{multiplier}× points ({rate} points per {one})", **fill)


@hookimpl
def promokit_register_kinds() -> list[DiscountKind]:
    return [PointsMultiplier()]
