"""``gift`` (贈品 / 滿贈): a gift line added to the order when a condition holds.

Campaign keys:

- ``gift``: ``{ sku, name, quantity, value }``: the gift's sku and name, how many
  are given (a whole number, at least 1, default 1) and what one is worth
  (money, at least 0; the best-deal search counts ``value × quantity`` as saved,
  although it is no price change);
- ``threshold``: optional; spend in scope, at or above which the gift is given
  (滿199贈), measured at the stage's base unless ``base = "list"``;
- ``min_quantity``: optional; units in scope, at or above which it is given.

Gift stock is ``limits.stock``, counted in gifts (``stock_counts = "own"``): the
gift goes out while any is left, fewer of it than ``quantity`` when fewer are
left. At the shop stage (the default) each shop's lines are measured apart.
"""

from __future__ import annotations

import attrs

from promokit import hookimpl
from promokit.kinds import (
    Application,
    DiscountKind,
    GiftItem,
    Gifts,
    HintProposal,
    NoDeal,
    Outcome,
)
from promokit.money import Currency
from promokit.params import Params
from promokit.text import Text


@attrs.frozen
class GiftParams:
    sku: str
    name: str
    quantity: int
    value: int
    """Per unit, minor units."""
    threshold: int | None
    min_quantity: int | None
    currency: Currency
    """The file's currency, for the rule text."""


class GiftKind(DiscountKind):
    name = "gift"
    default_stage = "shop"
    benefit = "gift"
    monotone = True
    stock_counts = "own"

    def parse(self, params: Params) -> GiftParams:
        sku = name = None
        quantity: int | None = 1
        value: int | None = 0
        table = params.table("gift", required=True)
        if table is not None:
            sku = table.string("sku")
            name = table.string("name")
            quantity = table.integer("quantity", required=False, minimum=1, default=1)
            value = table.money("value")
            table.finish()
        return GiftParams(sku=sku or "", name=name or "", quantity=quantity or 1,
                          value=value or 0,
                          threshold=params.money("threshold", required=False, positive=True),
                          min_quantity=params.integer("min_quantity", required=False,
                                                      minimum=1),
                          currency=params.currency)

    # -- what is given ------------------------------------------------------------

    def _given(self, params: GiftParams, stock_left: int | None) -> int:
        """Gifts handed over: ``quantity``, or what is left of the stock if less."""
        return params.quantity if stock_left is None else min(params.quantity, stock_left)

    def _short_of_quantity(self, params: GiftParams, app: Application) -> NoDeal | None:
        if params.min_quantity is None or app.quantity >= params.min_quantity:
            return None
        text = app.text
        return NoDeal("below_threshold", text.pick(
            f"free {params.name} with {params.min_quantity} or more eligible items; "
            f"the cart has {app.quantity}",
            f"滿{params.min_quantity}件贈{params.name}，參與商品目前{app.quantity}件"))

    def precheck(self, params: GiftParams, app: Application) -> NoDeal | None:
        # Units in scope do not depend on prices: a cart short of them never qualifies.
        return self._short_of_quantity(params, app)

    def compute(self, params: GiftParams, app: Application) -> Outcome:
        text, money = app.text, app.currency
        if params.threshold is not None and app.spend < params.threshold:
            return NoDeal("below_threshold", text.pick(
                f"free {params.name} from {text.money(params.threshold, money)} in eligible "
                f"items; they come to {text.money(app.spend, money)}",
                f"滿{text.money(params.threshold, money)}贈{params.name}，"
                f"參與商品目前{text.money(app.spend, money)}"))
        short = self._short_of_quantity(params, app)
        if short is not None:
            return short
        given = self._given(params, app.stock_left)
        return Gifts((GiftItem(params.sku, params.name, given, params.value),))

    def threshold_between(self, params: GiftParams, low: int, high: int) -> bool:
        return params.threshold is not None and low < params.threshold <= high

    def hint(self, params: GiftParams, app: Application) -> HintProposal | None:
        if params.threshold is None or app.spend >= params.threshold:
            return None
        if params.min_quantity is not None and app.quantity < params.min_quantity:
            return None  # more money alone would not earn it
        missing = params.threshold - app.spend
        need = app.text.money(missing, app.currency)
        return HintProposal(missing=missing,
                            saving=params.value * self._given(params, app.stock_left),
                            target=params.threshold,
                            message=app.text.pick(f"Add {need} more to get a free {params.name}",
                                                  f"再買{need}可獲贈{params.name}"))

    def describe(self, params: GiftParams, text: Text) -> str:
        money = params.currency
        worth = text.money(params.value, money)
        each_en, each_zh = (" each", "每件") if params.quantity > 1 else ("", "")
        needs_zh = []
        needs_en = []
        if params.threshold is not None:
            needs_zh.append(f"滿{text.money(params.threshold, money)}")
            needs_en.append(f"{text.money(params.threshold, money)} or more")
        if params.min_quantity is not None:
            needs_zh.append(f"滿{params.min_quantity}件")
            needs_en.append(f"{params.min_quantity} or more items")
        return text.pick(
            f"free {params.name} ×{params.quantity} (worth {worth}{each_en}) with "
            + (" and ".join(needs_en) if needs_en else "every order"),
            "且".join(needs_zh) + f"贈{params.name}×{params.quantity}（{each_zh}價值{worth}）")


@hookimpl
def promokit_register_kinds() -> list[DiscountKind]:
    return [GiftKind()]
