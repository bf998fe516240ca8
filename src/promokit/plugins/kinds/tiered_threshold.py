"""``tiered_threshold`` (滿減, 每滿減, 滿X元打Y折, 跨店滿減 at stage ``platform``).

Campaign keys:

- ``tiers``: ``[{ spend, off }]`` (滿300減50、滿500減100) or ``[{ spend, percent }]``
  (滿500打9折: ``percent = "10"``), strictly ascending by ``spend``; a higher
  tier must give more;
- ``every``: ``true`` for 每滿X減Y (one ``{ spend, off }`` tier, repeated);
- ``cap``: the most the promotion takes off in one application.

Spend is measured at the stage's base (after earlier stages) unless
``base = "list"``. At the shop stage each shop's lines are measured apart.
"""

from __future__ import annotations

import attrs

from promokit import hookimpl
from promokit.kinds import (
    Application,
    DiscountKind,
    HintProposal,
    NoDeal,
    Outcome,
    Total,
)
from promokit.money import percent_of
from promokit.params import Params
from promokit.text import Text
from promokit.tiers import Tier, read_tiers


@attrs.frozen
class TieredParams:
    tiers: tuple[Tier, ...]
    every: bool
    cap: int | None


class TieredThreshold(DiscountKind):
    name = "tiered_threshold"
    default_stage = "shop"
    monotone = True

    def parse(self, params: Params) -> TieredParams:
        every = params.boolean("every")
        cap = params.money("cap", required=False, positive=True)
        tiers, count = read_tiers(params, "spend", unit="money")
        if every and count != 1:
            params.problem("every = true takes exactly one tier", "tiers")
        elif every and tiers and tiers[0].off is None:
            params.problem("every = true takes an off amount, not a percent", "tiers")
        return TieredParams(tiers=tuple(tiers), every=every, cap=cap)

    def describe(self, params: TieredParams, text: Text) -> str:
        """``满¥300.00减¥50.00、满¥500.00减¥100.00`` / ``¥50.00 off orders from ¥300.00;
        ¥100.00 off from ¥500.00``; ``每满¥300.00减¥50.00，最多减¥150.00`` /
        ``¥50.00 off every ¥300.00, up to ¥150.00 off``; ``满¥500.00打9折`` /
        ``10% off orders from ¥500.00``."""
        parts = [self._tier(params, number, tier, text)
                 for number, tier in enumerate(params.tiers)]
        # Translators: between the tiers of a spend threshold.
        described = text.pgettext("tiers", "; ").join(parts)
        if params.cap is None:
            return described
        return text.gettext("{discount}, up to {cap} off", discount=described,
                            cap=text.amount(params.cap))

    @staticmethod
    def _tier(params: TieredParams, number: int, tier: Tier, text: Text) -> str:
        """One tier: the first says what it is measured on (``orders from``)."""
        spend = text.amount(tier.at)
        first = number == 0
        if tier.off is not None:
            amount = text.amount(tier.off)
            if params.every:
                return text.gettext("{amount} off every {spend}", amount=amount, spend=spend)
            if first:
                return text.gettext("{amount} off orders from {spend}", amount=amount,
                                    spend=spend)
            return text.gettext("{amount} off from {spend}", amount=amount, spend=spend)
        assert tier.percent is not None
        discount = text.percent_off(tier.percent)
        if tier.percent == 100 and first:
            # Translators: a tier that takes the whole order off; {discount} is "100% off",
            # which a translation may leave out (满¥500.00免单).
            return text.pgettext("100%", "{discount} orders from {spend}", discount=discount,
                                 spend=spend)
        if tier.percent == 100:
            # Translators: a further tier that takes the whole order off; {discount} is
            # "100% off", which a translation may leave out (满¥800.00免单).
            return text.pgettext("100%", "{discount} from {spend}", discount=discount,
                                 spend=spend)
        if first:
            return text.gettext("{discount} orders from {spend}", discount=discount, spend=spend)
        return text.gettext("{discount} from {spend}", discount=discount, spend=spend)

    # -- the discount as a function of spend ---------------------------------

    def _tier_index(self, params: TieredParams, spend: int) -> int:
        """Index of the highest tier reached, -1 if none."""
        reached = -1
        for index, tier in enumerate(params.tiers):
            if spend >= tier.at:
                reached = index
        return reached

    def _off(self, params: TieredParams, spend: int, net: int) -> int:
        index = self._tier_index(params, spend)
        if index < 0:
            return 0
        tier = params.tiers[index]
        if params.every:
            assert tier.off is not None
            off = spend // tier.at * tier.off
        elif tier.off is not None:
            off = tier.off
        else:
            assert tier.percent is not None
            off = percent_of(net, tier.percent)
        return off if params.cap is None else min(off, params.cap)

    def compute(self, params: TieredParams, app: Application) -> Outcome:
        spend = app.spend
        off = self._off(params, spend, app.net)
        if off == 0:
            first = params.tiers[0].at
            if spend < first:
                money, text = app.currency, app.text
                return NoDeal("below_threshold", text.gettext(
                    "needs {amount} in eligible items; they come to {spend}",
                    amount=text.money(first, money), spend=text.money(spend, money)))
            return NoDeal("no_saving", app.text.gettext("the discount rounds to nothing"))
        return Total(off)

    def threshold_between(self, params: TieredParams, low: int, high: int) -> bool:
        if params.every:
            return self._off(params, low, low) != self._off(params, high, high)
        return self._tier_index(params, low) != self._tier_index(params, high)

    def hint(self, params: TieredParams, app: Application) -> HintProposal | None:
        spend, net = app.spend, app.net
        current = self._off(params, spend, net)
        if params.cap is not None and current >= params.cap:
            return None
        if params.every:
            step = params.tiers[0].at
            target = (spend // step + 1) * step
        else:
            index = self._tier_index(params, spend)
            if index + 1 >= len(params.tiers):
                return None
            target = params.tiers[index + 1].at
        missing = target - spend
        saving = self._off(params, target, net + missing) - current
        if saving <= 0:
            return None
        return HintProposal(missing=missing, saving=saving, target=target)


@hookimpl
def promokit_register_kinds() -> list[DiscountKind]:
    return [TieredThreshold()]
