"""promokit-testplugin: a third-party plugin used by promokit's tests.

It is installed into the test environment as its own distribution and found
through the ``promokit`` entry point group, like any plugin a shop installs.
It adds:

- kind ``round_down`` (抹零): takes the cents off the order so it ends in whole
  yuan; keys: ``unit`` (money, default one major unit);
- condition ``weekday``: holds on the listed ISO weekdays; keys: ``in``;
- guard ``no_tobacco``: no promotion may discount a line tagged ``tobacco``.
"""

from __future__ import annotations

import attrs

from promokit import hookimpl
from promokit.campaign import Promotion
from promokit.conditions import ConditionContext, ConditionType
from promokit.guards import Guard
from promokit.kinds import Application, DiscountKind, NoDeal, Outcome, Total
from promokit.params import Params


@attrs.frozen
class RoundDownParams:
    unit: int


class RoundDown(DiscountKind):
    name = "round_down"
    default_stage = "platform"

    def parse(self, params: Params) -> RoundDownParams:
        unit = params.money("unit", required=False, positive=True)
        return RoundDownParams(unit if unit is not None else params.currency.scale)

    def compute(self, params: RoundDownParams, app: Application) -> Outcome:
        cents = app.net % params.unit
        if cents == 0:
            return NoDeal("no_saving", "already a whole amount")
        return Total(cents)


class Weekday(ConditionType):
    name = "weekday"
    uses_amounts = False

    def parse(self, params: Params) -> frozenset[int]:
        days = params.raw("in")
        if not isinstance(days, list) or not days or not all(
                isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 7 for d in days):
            params.problem("must be a non-empty list of ISO weekdays 1-7", "in")
            return frozenset()
        return frozenset(days)

    def check(self, params: frozenset[int], ctx: ConditionContext) -> bool:
        return ctx.now.isoweekday() in params

    def message(self, params: frozenset[int]) -> str:
        return "only on weekdays " + ", ".join(str(d) for d in sorted(params))


class NoTobacco(Guard):
    name = "no_tobacco"

    def check(self, promotion: Promotion, ctx: ConditionContext) -> str | None:
        if any("tobacco" in view.line.tags for view in ctx.lines):
            return "tobacco may not be discounted"
        return None


@hookimpl
def promokit_register_kinds() -> list[DiscountKind]:
    return [RoundDown()]


@hookimpl
def promokit_register_conditions() -> list[ConditionType]:
    return [Weekday()]


@hookimpl
def promokit_register_guards() -> list[Guard]:
    return [NoTobacco()]
