"""``amount_off`` (直降): money off each unit in scope.

Campaign keys: ``amount`` (per unit). A line never goes below zero.
"""

from __future__ import annotations

from promokit import hookimpl
from promokit.kinds import Application, DiscountKind, Outcome, PerLine
from promokit.params import Params
from promokit.text import Text


class AmountOff(DiscountKind):
    name = "amount_off"
    default_stage = "item"
    monotone = True

    def parse(self, params: Params) -> int:
        return params.money("amount", positive=True) or 0

    def compute(self, params: int, app: Application) -> Outcome:
        return PerLine(min(params * line.quantity, line.net) for line in app.lines)

    def describe(self, params: int, text: Text) -> str:
        """``每件直降¥20.00`` / ``¥20.00 off each item``."""
        return text.gettext("{amount} off each item", amount=text.amount(params))


@hookimpl
def promokit_register_kinds() -> list[DiscountKind]:
    return [AmountOff()]
