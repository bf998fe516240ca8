"""滿額返券 (spend-and-get-a-coupon): a worked example of a third-party kind.

A customer who spends ``threshold`` or more on the lines in scope earns a
coupon from batch ``batch`` for a later order. It changes no price, so it
returns a :class:`~promokit.kinds.Rewards` outcome; the kernel lists it under
``rewards`` in the result, explains it when it does not apply, and renders its
``describe`` in the rule text, exactly as for a built-in kind.

Campaign keys::

    [[promotion]]
    id = "spend-199-get-20"
    kind = "coupon_reward"
    stage = "platform"        # measured after item and shop discounts
    threshold = "199"         # money: spend in scope, at or above
    batch = "NEXT-20"         # the coupon batch the shop issues from
    coupon_value = "20"       # shown to customers: what the coupon is worth

Install it (``pip install ./docs/examples/promokit-coupon-reward``) and promokit
finds it through the ``promokit`` entry point group.

Its words are English messages translated by its own gettext catalog,
``locale/<locale>/LC_MESSAGES/promokit_coupon_reward.po`` (compiled to ``.mo``,
shipped in the wheel), which :meth:`~promokit.text.Text.with_catalog` puts in front
of promokit's; a language without a catalog reads them in English. After changing a
message, from this folder::

    pybabel extract -F babel.cfg -c Translators: --no-location --sort-output \
        -o src/promokit_coupon_reward/locale/promokit_coupon_reward.pot . \
    && pybabel update -i src/promokit_coupon_reward/locale/promokit_coupon_reward.pot \
        -d src/promokit_coupon_reward/locale -D promokit_coupon_reward \
    && pybabel compile -d src/promokit_coupon_reward/locale -D promokit_coupon_reward
"""

from __future__ import annotations

from pathlib import Path

import attrs

from promokit import hookimpl
from promokit.kinds import Application, DiscountKind, NoDeal, Outcome, RewardItem, Rewards
from promokit.money import Currency
from promokit.params import Params
from promokit.text import Text

__all__ = ["DOMAIN", "LOCALE_DIR", "CouponReward", "promokit_register_kinds"]

#: This plugin's gettext domain and catalogs.
DOMAIN = "promokit_coupon_reward"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def words(text: Text) -> Text:
    """``text`` also translating this plugin's messages."""
    return text.with_catalog(DOMAIN, LOCALE_DIR)


@attrs.frozen
class CouponRewardParams:
    threshold: int
    batch: str
    coupon_value: int
    currency: Currency


class CouponReward(DiscountKind):
    """滿¥199返¥20券: a coupon for the next order once the spend is reached."""

    name = "coupon_reward"
    default_stage = "platform"
    benefit = "reward"
    monotone = True  # it never saves money, and never more when the spend drops

    def parse(self, params: Params) -> CouponRewardParams:
        return CouponRewardParams(
            threshold=params.money("threshold", positive=True) or 0,
            batch=params.string("batch") or "",
            coupon_value=params.money("coupon_value", positive=True) or 0,
            currency=params.currency,
        )

    def compute(self, params: CouponRewardParams, app: Application) -> Outcome:
        if app.spend < params.threshold:
            text = words(app.text)
            return NoDeal("below_threshold", text.gettext(
                "spend {amount} more to earn the coupon",
                amount=text.money(params.threshold - app.spend, app.currency)))
        return Rewards((RewardItem(kind="coupon", amount=params.batch),))

    def threshold_between(self, params: CouponRewardParams, low: int, high: int) -> bool:
        return low < params.threshold <= high

    def describe(self, params: CouponRewardParams, text: Text) -> str:
        """``满¥199.00返¥20.00优惠券（下单后发放）`` / ``spend ¥199.00 or more and get a
        ¥20.00 coupon for your next order``."""
        text = words(text)
        return text.gettext("spend {spend} or more and get a {value} coupon for your next order",
                            spend=text.money(params.threshold, params.currency),
                            value=text.money(params.coupon_value, params.currency))


@hookimpl
def promokit_register_kinds() -> list[DiscountKind]:
    return [CouponReward()]
