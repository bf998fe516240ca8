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

import attrs

from promokit import hookimpl
from promokit.kinds import Application, DiscountKind, NoDeal, Outcome, UnitDeal
from promokit.money import Currency, percent_of
from promokit.params import Params
from promokit.text import Text
from promokit.tiers import Tier, read_tiers


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
        tiers, _ = read_tiers(params, "quantity", unit="count")
        return QuantityTieredParams(tiers=tuple(tiers), currency=params.currency)

    def compute(self, params: QuantityTieredParams, app: Application) -> Outcome:
        units = app.quantity
        reached = [tier for tier in params.tiers if units >= tier.at]
        if not reached:
            first = params.tiers[0].at
            return NoDeal("below_threshold", app.text.ngettext(
                "needs {count} eligible item; the cart has {units}",
                "needs {count} eligible items; the cart has {units}", first,
                count=app.text.number(first), units=app.text.number(units)))
        tier = reached[-1]
        if tier.off is not None:
            amount = tier.off
        else:
            assert tier.percent is not None
            amount = percent_of(app.net, tier.percent)
        if amount == 0:
            return NoDeal("no_saving", app.text.gettext("the discount rounds to nothing"))
        return UnitDeal(amount, [view.quantity for view in app.lines])

    def describe(self, params: QuantityTieredParams, text: Text) -> str:
        """``满2件9折、满3件8折`` / ``10% off 2 items or more, 20% off 3 or more``;
        ``满3件减¥50.00`` / ``¥50.00 off 3 items or more``."""
        parts = []
        for number, tier in enumerate(params.tiers):
            if tier.percent is not None:
                discount = text.percent_off(tier.percent)
            else:
                assert tier.off is not None
                discount = text.gettext("{amount} off",
                                        amount=text.money(tier.off, params.currency))
            count = text.number(tier.at)
            if number == 0:
                parts.append(text.ngettext("{discount} {count} item or more",
                                           "{discount} {count} items or more", tier.at,
                                           discount=discount, count=count))
            else:
                # Translators: a further tier, after "10% off 2 items or more".
                parts.append(text.gettext("{discount} {count} or more", discount=discount,
                                          count=count))
        return text.pgettext("list", ", ").join(parts)


@hookimpl
def promokit_register_kinds() -> list[DiscountKind]:
    return [QuantityTiered()]
