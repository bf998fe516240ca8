"""``member_price`` (會員價): a percent off by the customer's member tier.

Campaign keys: ``percent_by_tier`` = {tier: percent}, e.g.
``{ silver = "5", gold = "10" }``. A customer whose tier is not listed is
reported as ``not_eligible:member_tier``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from promokit import hookimpl
from promokit.kinds import Application, DiscountKind, NoDeal, Outcome, PerLine
from promokit.money import percent_of
from promokit.params import Params
from promokit.text import Text


class MemberPrice(DiscountKind):
    name = "member_price"
    default_stage = "item"
    monotone = True

    def parse(self, params: Params) -> Mapping[str, Decimal]:
        table = params.table("percent_by_tier", required=True)
        if table is None:
            return {}
        tiers = {tier: table.percent(tier) for tier in list(table)}
        table.finish()
        if not tiers:
            table.problem("must list at least one tier")
        return {tier: percent for tier, percent in tiers.items() if percent is not None}

    def precheck(self, params: Mapping[str, Decimal], app: Application) -> NoDeal | None:
        if app.customer.tier not in params:
            listed = app.text.join(sorted(params), "or")
            return NoDeal("not_eligible:member_tier", app.text.gettext(
                "only for members of tier {tiers}", tiers=listed))
        return None

    def compute(self, params: Mapping[str, Decimal], app: Application) -> Outcome:
        percent = params[app.customer.tier or ""]
        amounts = tuple(percent_of(line.net, percent) for line in app.lines)
        if not any(amounts):
            return NoDeal("no_saving", app.text.gettext("the discount rounds to nothing"))
        return PerLine(amounts)

    def describe(self, params: Mapping[str, Decimal], text: Text) -> str:
        """The tiers as the file names them, in its order: ``gold会员95折、platinum会员92折``
        / ``gold members 5% off, platinum members 8% off``."""
        return text.pgettext("list", ", ").join(
            text.gettext("{tier} members {discount}", tier=tier,
                         discount=text.percent_off(percent))
            for tier, percent in params.items())


@hookimpl
def promokit_register_kinds() -> list[DiscountKind]:
    return [MemberPrice()]
