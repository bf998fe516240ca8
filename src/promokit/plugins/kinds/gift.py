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
        return NoDeal("below_threshold", text.gettext(
            "free {gift} with {count} or more eligible items; the cart has {units}",
            gift=params.name, count=text.number(params.min_quantity),
            units=text.number(app.quantity)))

    def precheck(self, params: GiftParams, app: Application) -> NoDeal | None:
        # Units in scope do not depend on prices: a cart short of them never qualifies.
        return self._short_of_quantity(params, app)

    def compute(self, params: GiftParams, app: Application) -> Outcome:
        text, money = app.text, app.currency
        if params.threshold is not None and app.spend < params.threshold:
            return NoDeal("below_threshold", text.gettext(
                "free {gift} from {amount} in eligible items; they come to {spend}",
                gift=params.name, amount=text.money(params.threshold, money),
                spend=text.money(app.spend, money)))
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
                            message=app.text.gettext("Add {amount} more to get a free {gift}",
                                                     amount=need, gift=params.name))

    def describe(self, params: GiftParams, text: Text) -> str:
        """``满¥199.00赠保温杯×1（价值¥59.00）`` / ``free 保温杯 ×1 (worth ¥59.00) with
        ¥199.00 or more``."""
        money = params.currency
        needs = []
        if params.threshold is not None:
            needs.append(text.gettext("{amount} or more",
                                      amount=text.money(params.threshold, money)))
        if params.min_quantity is not None:
            needs.append(text.gettext("{count} or more items",
                                      count=text.number(params.min_quantity)))
        fill = {"gift": params.name, "quantity": text.number(params.quantity),
                "worth": text.money(params.value, money)}
        if not needs:
            if params.quantity > 1:
                return text.gettext("free {gift} ×{quantity} (worth {worth} each) with every "
                                    "order", **fill)
            return text.gettext("free {gift} ×{quantity} (worth {worth}) with every order",
                                **fill)
        # Translators: between the things a gift needs ("¥199.00 or more and 2 or more
        # items").
        fill["needs"] = text.pgettext("gift", " and ").join(needs)
        if params.quantity > 1:
            return text.gettext("free {gift} ×{quantity} (worth {worth} each) with {needs}",
                                **fill)
        return text.gettext("free {gift} ×{quantity} (worth {worth}) with {needs}", **fill)


@hookimpl
def promokit_register_kinds() -> list[DiscountKind]:
    return [GiftKind()]
