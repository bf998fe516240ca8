"""The example plugin priced through the kernel like a built-in kind."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

from promokit import Cart, Engine
from promokit.rules_text import rules_text
from promokit.testing import campaigns_from_toml, check_kind, engine_from_toml
from promokit.testing import cart as make_cart

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
    return engine_from_toml(CAMPAIGN, plugins=[promokit_coupon_reward])


def cart(price: str) -> Cart:
    return make_cart(("l1", "A", 1, price))


def test_the_coupon_is_a_reward_on_the_spend_after_discounts() -> None:
    # 210.00 × 5% = 10.50 → 199.50 ≥ 199: the coupon is earned; the price is 199.50.
    result = engine().evaluate(cart("210.00"))
    assert result.total == Decimal("199.50")
    assert result.to_json()["rewards"] == [
        {"promotion": "spend-199-get-20", "kind": "coupon", "amount": "NEXT-20"}]


def test_below_the_threshold_it_explains_itself_in_every_language() -> None:
    # 200.00 × 5% = 10.00 → 190.00 < 199; the 95折 saves money and the coupon does not,
    # so the best deal keeps the 95折, and the reward says what is missing: 9.00.
    result = engine().evaluate(cart("200.00"))
    [item] = result.not_applied
    assert (item.promotion, item.reason) == ("spend-199-get-20", "below_threshold")
    assert item.message == "spend ¥9.00 more to earn the coupon"
    chinese = engine().evaluate(cart("200.00"), lang="zh-CN")
    assert chinese.not_applied[0].message == "再买¥9.00可得优惠券"
    taiwan = engine().evaluate(cart("200.00"), lang="zh-TW")
    assert taiwan.not_applied[0].message == "再買¥9.00可得優惠券"


def test_the_rule_text_describes_it() -> None:
    campaigns = campaigns_from_toml(CAMPAIGN, plugins=[promokit_coupon_reward])
    assert "满¥199.00返¥20.00优惠券" in rules_text(campaigns, "zh-CN")
    assert "滿¥199.00送¥20.00折價券" in rules_text(campaigns, "zh-TW")
    # promokit's own words around it come from promokit's catalog
    assert "- 优惠：满¥199.00返¥20.00优惠券（下单后发放）" in rules_text(campaigns, "zh-CN")
    assert "spend ¥199.00 or more and get a ¥20.00 coupon" in rules_text(campaigns, "en")


def test_it_keeps_the_contract_of_every_kind() -> None:
    # Reconciles to the cent, deterministic and pure, stable reason codes, words in
    # both languages; the first cart earns the coupon, the others do not.
    check_kind(promokit_coupon_reward.CouponReward(),
               'threshold = "199"\nbatch = "NEXT-20"\ncoupon_value = "20"',
               [make_cart(("l1", "A", 1, "210.00")),
                make_cart(("l1", "A", 2, "99.50"), ("l2", "B", 1, "0.01"), shipping="8.00"),
                make_cart(("l1", "A", 1, "198.99"))],
               plugins=[promokit_coupon_reward])


def test_its_catalogs_are_compiled_from_its_po_files() -> None:
    """The .mo files are shipped: each says what its .po says."""
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    folders = sorted(promokit_coupon_reward.LOCALE_DIR.glob("*/LC_MESSAGES"))
    assert [folder.parent.name for folder in folders] == ["zh_Hans_CN", "zh_Hant_HK",
                                                          "zh_Hant_TW"]
    for folder in folders:
        po_path = folder / f"{promokit_coupon_reward.DOMAIN}.po"
        with po_path.open("rb") as po, po_path.with_suffix(".mo").open("rb") as mo:
            wanted = {m.id: m.string for m in read_po(po) if m.id and not m.fuzzy}
            compiled = {m.id: m.string for m in read_mo(mo) if m.id}
        assert compiled == wanted and all(wanted.values())
