"""``deposit_multiplier`` (定金膨脹): a presale deposit counts k times against the price.

Campaign keys:

- ``multiplier``: k, a decimal above 1 (``"2"``: 定金¥100抵¥200);
- ``cap``: optional; the most the deposit's expansion takes off one line.

A line's ``deposit_paid`` D was paid earlier; counting it as D × k against the
price takes D × (k − 1) off the line (DESIGN §4.6), rounded half-up to the
minor unit and capped by ``cap``. The deposit itself stays part of ``total``
(what the customer pays in all) and the kernel's ``balance_due`` is ``total``
minus the deposits, so the expansion never takes a line below its deposit: it
is at most the line's net minus its deposit, and ``balance_due`` never goes
negative through it. Lines without a deposit are not discounted.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from promokit import hookimpl
from promokit.allocation import unit_share_sum
from promokit.kinds import Application, DiscountKind, LineView, NoDeal, Outcome, PerLine
from promokit.money import MONEY_CONTEXT, Currency, round_half_up
from promokit.params import Params
from promokit.text import Text


@attrs.frozen
class DepositParams:
    multiplier: Decimal
    cap: int | None
    currency: Currency
    """The file's currency, for the rule text."""


class DepositMultiplier(DiscountKind):
    name = "deposit_multiplier"
    default_stage = "item"
    monotone = True

    def parse(self, params: Params) -> DepositParams:
        multiplier = params.decimal("multiplier")
        if multiplier is not None and multiplier <= 1:
            params.problem(f"must be more than 1 (\"2\": the deposit counts double), "
                           f"got {params.raw('multiplier')}", "multiplier")
        return DepositParams(multiplier=multiplier or Decimal(2),
                             cap=params.money("cap", required=False, positive=True),
                             currency=params.currency)

    def _deposit(self, view: LineView, app: Application) -> int:
        """The deposit paid on the units covered (all of the line's, unless a unit
        limit leaves fewer; those are the line's first units)."""
        paid = view.line.deposit_paid
        if paid is None:
            return 0
        deposit = app.currency.parse(paid)
        quantity = view.line.quantity
        if view.quantity >= quantity:
            return deposit
        return unit_share_sum(deposit, quantity, 0, view.quantity)

    def _no_deposit(self, app: Application) -> NoDeal | None:
        if any(view.line.deposit_paid is not None and view.line.deposit_paid > 0
               for view in app.lines):
            return None
        return NoDeal("no_saving", app.text.gettext("no deposit was paid"))

    def precheck(self, params: DepositParams, app: Application) -> NoDeal | None:
        return self._no_deposit(app)

    def compute(self, params: DepositParams, app: Application) -> Outcome:
        no_deposit = self._no_deposit(app)
        if no_deposit is not None:
            return no_deposit
        extra = MONEY_CONTEXT.subtract(params.multiplier, Decimal(1))
        amounts = []
        for view in app.lines:
            deposit = self._deposit(view, app)
            off = round_half_up(MONEY_CONTEXT.multiply(Decimal(deposit), extra))
            if params.cap is not None:
                off = min(off, params.cap)
            amounts.append(max(0, min(off, view.net - deposit)))
        return PerLine(amounts)

    def describe(self, params: DepositParams, text: Text) -> str:
        """``定金翻2倍抵扣，最多抵¥300.00`` / ``your deposit counts 2× against the price
        (up to ¥300.00 off)``."""
        times = text.number(params.multiplier)
        if params.cap is None:
            return text.gettext("your deposit counts {times}× against the price", times=times)
        return text.gettext("your deposit counts {times}× against the price (up to {cap} off)",
                            times=times, cap=text.money(params.cap, params.currency))


@hookimpl
def promokit_register_kinds() -> list[DiscountKind]:
    return [DepositMultiplier()]
