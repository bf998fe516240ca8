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
        """``滿¥300.00減¥50.00、滿¥500.00減¥100.00`` / ``¥50.00 off orders from ¥300.00;
        ¥100.00 off from ¥500.00``; ``每滿¥300.00減¥50.00，最多減¥150.00`` /
        ``¥50.00 off every ¥300.00, up to ¥150.00 off``; ``滿¥500.00打9折`` /
        ``10% off orders from ¥500.00``."""
        parts = []
        for number, tier in enumerate(params.tiers):
            spend = text.amount(tier.at)
            if tier.off is not None:
                off = text.amount(tier.off)
                if params.every:
                    parts.append(text.pick(f"{off} off every {spend}", f"每滿{spend}減{off}"))
                    continue
                benefit = text.pick(f"{off} off", f"減{off}")
            else:
                assert tier.percent is not None
                rate = text.percent_off(tier.percent)
                benefit = text.pick(rate, "免單" if tier.percent == 100 else f"打{rate}")
            if text.zh:
                parts.append(f"滿{spend}{benefit}")
            else:
                parts.append(f"{benefit} {'orders ' if number == 0 else ''}from {spend}")
        described = text.pick("; ", "、").join(parts)
        if params.cap is None:
            return described
        cap = text.amount(params.cap)
        return text.pick(f"{described}, up to {cap} off", f"{described}，最多減{cap}")

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
                return NoDeal("below_threshold", text.pick(
                    f"needs {money.format(first)} {money.code} in eligible items; "
                    f"they come to {money.format(spend)}",
                    f"參與商品需滿{text.money(first, money)}，目前{text.money(spend, money)}"))
            return NoDeal("no_saving", app.text.pick("the discount rounds to nothing",
                                                     "折扣金額不足一分"))
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
