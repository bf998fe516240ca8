"""``free_shipping`` (包郵): a discount on the shipping charge.

Campaign keys: optional ``threshold`` (spend in scope, at or above which it
applies), optional ``max_off`` (the most it takes off shipping).
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
    ShippingOff,
)
from promokit.params import Params
from promokit.text import Text


@attrs.frozen
class FreeShippingParams:
    threshold: int | None
    max_off: int | None


class FreeShipping(DiscountKind):
    name = "free_shipping"
    default_stage = "shipping"
    monotone = True

    def parse(self, params: Params) -> FreeShippingParams:
        return FreeShippingParams(params.money("threshold", required=False, positive=True),
                                  params.money("max_off", required=False, positive=True))

    def describe(self, params: FreeShippingParams, text: Text) -> str:
        """``满¥99.00包邮`` / ``free shipping from ¥99.00``; with ``max_off``:
        ``满¥99.00运费最多减¥10.00`` / ``up to ¥10.00 off shipping from ¥99.00``."""
        if params.max_off is None:
            benefit = text.gettext("free shipping")
        else:
            benefit = text.gettext("up to {cap} off shipping", cap=text.amount(params.max_off))
        if params.threshold is None:
            return benefit
        return text.pgettext("shipping", "{discount} from {spend}", discount=benefit,
                             spend=text.amount(params.threshold))

    def _off(self, params: FreeShippingParams, shipping: int) -> int:
        return shipping if params.max_off is None else min(shipping, params.max_off)

    def compute(self, params: FreeShippingParams, app: Application) -> Outcome:
        if params.threshold is not None and app.spend < params.threshold:
            money, text = app.currency, app.text
            return NoDeal("below_threshold", text.gettext(
                "free shipping from {amount} in eligible items",
                amount=text.money(params.threshold, money)))
        if app.shipping == 0:
            return NoDeal("no_saving", app.text.gettext("no shipping is charged"))
        return ShippingOff(self._off(params, app.shipping))

    def threshold_between(self, params: FreeShippingParams, low: int, high: int) -> bool:
        return params.threshold is not None and low < params.threshold <= high

    def hint(self, params: FreeShippingParams, app: Application) -> HintProposal | None:
        if params.threshold is None or app.spend >= params.threshold or app.shipping == 0:
            return None
        return HintProposal(missing=params.threshold - app.spend,
                            saving=self._off(params, app.shipping), target=params.threshold)


@hookimpl
def promokit_register_kinds() -> list[DiscountKind]:
    return [FreeShipping()]
