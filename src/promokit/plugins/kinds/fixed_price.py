"""``fixed_price`` (一口價 / 秒殺價): each unit in scope sold at ``price``.

Campaign keys: ``price`` (per unit). Flash-sale stock is ``limits.stock``:
units beyond the remaining stock are sold at their normal price. A line
already at or below the price is not discounted; if no line is, the promotion
reports ``no_saving``.
"""

from __future__ import annotations

from promokit import hookimpl
from promokit.kinds import Application, DiscountKind, NoDeal, Outcome, PerLine
from promokit.params import Params
from promokit.text import Text


class FixedPrice(DiscountKind):
    name = "fixed_price"
    default_stage = "item"
    monotone = True

    def parse(self, params: Params) -> int:
        return params.money("price") or 0

    def compute(self, params: int, app: Application) -> Outcome:
        amounts = tuple(max(0, line.net - params * line.quantity) for line in app.lines)
        if not any(amounts):
            return NoDeal("no_saving", app.text.gettext(
                "the items already cost no more than the offer price"))
        return PerLine(amounts)

    def describe(self, params: int, text: Text) -> str:
        """``秒杀价¥99.00`` / ``flash price ¥99.00`` (per unit)."""
        return text.gettext("flash price {price}", price=text.amount(params))


@hookimpl
def promokit_register_kinds() -> list[DiscountKind]:
    return [FixedPrice()]
