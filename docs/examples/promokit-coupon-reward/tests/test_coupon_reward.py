"""The example plugin priced through the kernel like a built-in kind."""

from __future__ import annotations

import sys
import tomllib
from decimal import Decimal
from pathlib import Path

from promokit import Cart, Engine
from promokit.loader import parse_campaigns
from promokit.registry import Registry
from promokit.rules_text import rules_text

try:  # installed (pip install ./docs/examples/promokit-coupon-reward)
    import promokit_coupon_reward
except ImportError:  # run from a checkout of promokit
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    import promokit_coupon_reward

CAMPAIGN = '''
currency = "CNY"
timezone = "Asia/Shanghai"

[[promotion]]
id = "pct-5"
kind = "percent_off"
percent = "5"

[[promotion]]
id = "spend-199-get-20"
kind = "coupon_reward"
threshold = "199"
batch = "NEXT-20"
coupon_value = "20"
'''


def engine() -> Engine:
    registry = Registry.default([promokit_coupon_reward], load_entry_points=False)
    return Engine(parse_campaigns(tomllib.loads(CAMPAIGN), registry), registry=registry)


def cart(price: str) -> Cart:
    return Cart.from_json({"currency": "CNY", "now": "2026-11-11T10:00:00+08:00",
                           "lines": [{"id": "l1", "sku": "A", "quantity": 1,
                                      "unit_price": price}]})


def test_the_coupon_is_a_reward_on_the_spend_after_discounts() -> None:
    # 210.00 × 5% = 10.50 → 199.50 ≥ 199: the coupon is earned; the price is 199.50.
    result = engine().evaluate(cart("210.00"))
    assert result.total == Decimal("199.50")
    assert result.to_json()["rewards"] == [
        {"promotion": "spend-199-get-20", "kind": "coupon", "amount": "NEXT-20"}]


def test_below_the_threshold_it_explains_itself_in_both_languages() -> None:
    # 200.00 × 5% = 10.00 → 190.00 < 199; the 95折 saves money and the coupon does not,
    # so the best deal keeps the 95折, and the reward says what is missing: 9.00.
    result = engine().evaluate(cart("200.00"))
    [item] = result.not_applied
    assert (item.promotion, item.reason) == ("spend-199-get-20", "below_threshold")
    assert item.message == "spend ¥9.00 more to earn the coupon"
    chinese = engine().evaluate(cart("200.00"), lang="zh-CN")
    assert chinese.not_applied[0].message == "再買¥9.00可得優惠券"


def test_the_rule_text_describes_it() -> None:
    registry = Registry.default([promokit_coupon_reward], load_entry_points=False)
    campaigns = parse_campaigns(tomllib.loads(CAMPAIGN), registry)
    assert "滿¥199.00返¥20.00優惠券" in rules_text(campaigns, "zh-CN")
    assert "spend ¥199.00 or more and get a ¥20.00 coupon" in rules_text(campaigns, "en")
