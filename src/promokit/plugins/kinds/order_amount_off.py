"""``order_amount_off`` (無門檻券): money off the lines in scope together.

Campaign keys: ``amount``. Spread over the lines by net; never more than
their net.
"""

from __future__ import annotations

from promokit import hookimpl
from promokit.kinds import Application, DiscountKind, Outcome, Total
from promokit.params import Params
from promokit.text import Text


class OrderAmountOff(DiscountKind):
    name = "order_amount_off"
    default_stage = "shop"
    monotone = True

    def parse(self, params: Params) -> int:
        return params.money("amount", positive=True) or 0

    def compute(self, params: int, app: Application) -> Outcome:
        return Total(min(params, app.net))

    def describe(self, params: int, text: Text) -> str:
        """``无门槛减¥20.00`` / ``¥20.00 off, no minimum``."""
        return text.gettext("{amount} off, no minimum", amount=text.amount(params))


@hookimpl
def promokit_register_kinds() -> list[DiscountKind]:
    return [OrderAmountOff()]
