"""``quantity_tiered`` (滿N件打M折 / 滿N件減Y): quantity tiers over the units in scope.

Campaign keys: ``tiers``, either ``[{ quantity, percent }]`` (滿2件9折、滿3件8折:
``percent = "10"``, ``"20"``) or ``[{ quantity, off }]`` (滿3件減¥50: ``off`` is
money), strictly ascending by ``quantity``; a higher tier must give more, and
the two forms do not mix.

The highest tier the available units in scope reach applies to all of them:
a percent off their net, or ``off`` spread over them by net. Those units are
consumed (no other quantity deal uses them again). Fewer units than the first
tier: ``below_threshold``. No hint is produced: hints are in money, and what
is missing here is units.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from promokit import hookimpl
from promokit.kinds import Application, DiscountKind, NoDeal, Outcome, UnitDeal
from promokit.money import Currency, percent_of
from promokit.params import Params
from promokit.text import Text


@attrs.frozen
class Tier:
    quantity: int
    off: int | None = None
    percent: Decimal | None = None


@attrs.frozen
class QuantityTieredParams:
    tiers: tuple[Tier, ...]
    currency: Currency


class QuantityTiered(DiscountKind):
    name = "quantity_tiered"
    default_stage = "item"
    monotone = True
    quantity_deal = True

    def parse(self, params: Params) -> QuantityTieredParams:
        tiers: list[Tier] = []
        for tp in params.tables("tiers", required=True, non_empty=True) or []:
            quantity = tp.integer("quantity", minimum=1)
            has_off, has_percent = tp.has("off"), tp.has("percent")
            off = percent = None
            if has_off == has_percent:
                tp.problem("give either off (money) or percent, not both" if has_off
                           else "needs off (money) or percent")
            elif has_off:
                off = tp.money("off", positive=True)
            else:
                percent = tp.percent("percent")
            tp.finish()
            if quantity is None or (off is None and percent is None):
                continue
            tier = Tier(quantity=quantity, off=off, percent=percent)
            if tiers:
                previous = tiers[-1]
                if (previous.off is None) != (tier.off is None):
                    tp.problem("mixes off and percent tiers")
                elif tier.quantity <= previous.quantity:
                    tp.problem("quantity must be above the previous tier's "
                               "(tiers overlap or are not in ascending order)", "quantity")
                elif (tier.off or tier.percent or 0) <= (previous.off or previous.percent or 0):
                    tp.problem("must give more than the previous tier")
            tiers.append(tier)
        return QuantityTieredParams(tiers=tuple(tiers), currency=params.currency)

    def compute(self, params: QuantityTieredParams, app: Application) -> Outcome:
        units = app.quantity
        reached = [tier for tier in params.tiers if units >= tier.quantity]
        if not reached:
            first = params.tiers[0].quantity
            return NoDeal("below_threshold", app.text.pick(
                f"needs {first} eligible items; the cart has {units}",
                f"需{first}件參與商品，購物車中有{units}件"))
        tier = reached[-1]
        if tier.off is not None:
            amount = tier.off
        else:
            assert tier.percent is not None
            amount = percent_of(app.net, tier.percent)
        if amount == 0:
            return NoDeal("no_saving", app.text.pick("the discount rounds to nothing",
                                                     "優惠金額捨入後為零"))
        return UnitDeal(amount, [view.quantity for view in app.lines])

    def describe(self, params: QuantityTieredParams, text: Text) -> str:
        parts = []
        for number, tier in enumerate(params.tiers):
            money = None if tier.off is None else text.money(tier.off, params.currency)
            rate = None if tier.percent is None else text.percent_off(tier.percent)
            if text.zh:
                parts.append(f"滿{tier.quantity}件" + (rate or f"減{money}"))
            else:
                items = "item" if tier.quantity == 1 else "items"
                count = f"{tier.quantity} {items}" if number == 0 else str(tier.quantity)
                parts.append(f"{rate or f'{money} off'} {count} or more")
        return text.pick(", ", "、").join(parts)


@hookimpl
def promokit_register_kinds() -> list[DiscountKind]:
    return [QuantityTiered()]
