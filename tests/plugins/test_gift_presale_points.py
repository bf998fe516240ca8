"""The gift (贈品/滿贈), deposit_multiplier (定金膨脹) and points_multiplier (積分翻倍) kinds.

Every expected amount is worked out by hand in the comments.
"""

from __future__ import annotations

import tomllib

import pytest
from campaigns import HEADER
from conftest import D, amounts, make_cart

from promokit import MemoryStore
from promokit.errors import ConfigError
from promokit.loading import parse_campaigns
from promokit.registry import Registry
from promokit.stores import counter_keys
from promokit.text import Text

# -- gift (滿199贈保溫杯) ----------------------------------------------------------------

GIFT_199 = '''
[[promotion]]
id = "gift-199"
kind = "gift"
gift = { sku = "CUP-1", name = "保溫杯", quantity = 1, value = "59.00" }
threshold = "199"
'''


def test_gift_given_at_the_threshold(make_engine):
    # 199.00 ≥ 199.00 (at or above): one 保溫杯 worth 59.00. A gift changes no price:
    # total = subtotal = 199.00, discount_total 0.00.
    result = make_engine(GIFT_199).evaluate(make_cart(("l1", "SHOE-1", 1, "199.00")))
    [gift] = result.gifts
    assert (gift.promotion, gift.sku, gift.name, gift.quantity, gift.value) == (
        "gift-199", "CUP-1", "保溫杯", 1, D("59.00"))
    assert amounts(result) == {"subtotal": "199.00", "discount_total": "0.00",
                               "shipping_discount": "0.00", "shipping": "0.00",
                               "total": "199.00"}
    assert result.not_applied == () and result.hints == ()


def test_gift_below_the_threshold_gives_a_hint_in_english(make_engine):
    # 150.00 < 199.00: no gift. Hint: 199.00 − 150.00 = 49.00 more earns the gift worth
    # 59.00; 49.00 ≤ 0.5 × 199.00 = 99.50, so within reach.
    result = make_engine(GIFT_199).evaluate(make_cart(("l1", "SHOE-1", 1, "150.00")))
    assert result.gifts == ()
    [item] = result.not_applied
    assert (item.reason, item.message) == (
        "below_threshold", "free 保溫杯 from ¥199.00 in eligible items; they come to ¥150.00")
    [hint] = result.hints
    assert (hint.promotion, hint.missing, hint.saving) == ("gift-199", D("49.00"), D("59.00"))
    assert hint.message == "Add ¥49.00 more to get a free 保溫杯"


def test_gift_below_the_threshold_gives_a_hint_in_chinese(make_engine):
    # The same cart as above, in Chinese.
    result = make_engine(GIFT_199).evaluate(make_cart(("l1", "SHOE-1", 1, "150.00")),
                                            lang="zh-CN")
    [item] = result.not_applied
    assert (item.reason, item.message) == ("below_threshold",
                                           "满¥199.00赠保溫杯，参与商品目前¥150.00")
    [hint] = result.hints
    assert (hint.missing, hint.saving) == (D("49.00"), D("59.00"))
    assert hint.message == "再买¥49.00可获赠保溫杯"


def test_gift_hint_out_of_reach_is_not_given(make_engine):
    # 90.00: 109.00 missing > 99.50 (half of 199.00): no hint.
    result = make_engine(GIFT_199).evaluate(make_cart(("l1", "SHOE-1", 1, "90.00")))
    assert result.reason("gift-199") == "below_threshold"
    assert result.hints == ()


def test_gift_threshold_measures_only_its_scope(make_engine):
    # Only apparel counts: 120.00 of shoes; the 300.00 TV is out of scope → 79.00 missing.
    text = GIFT_199 + 'scope = { categories = ["apparel"] }\n'
    cart = make_cart(("l1", "SHOE-1", 1, "120.00", {"category": "apparel/shoes"}),
                     ("l2", "TV-1", 1, "300.00", {"category": "electronics"}))
    result = make_engine(text).evaluate(cart)
    assert result.gifts == ()
    assert [(h.missing, h.saving) for h in result.hints] == [(D("79.00"), D("59.00"))]


def test_gift_threshold_is_measured_after_the_item_stage(make_engine):
    # 210.00 − 10% = 189.00 < 199.00, but the gift (59.00) is worth more than 10% off
    # (21.00): the best deal skips the 10% and keeps the gift (DESIGN §4.3).
    text = GIFT_199 + '''
[[promotion]]
id = "pct-10"
kind = "percent_off"
percent = "10"
'''
    result = make_engine(text).evaluate(make_cart(("l1", "SHOE-1", 1, "210.00")))
    assert result.total == D("210.00")
    assert [g.promotion for g in result.gifts] == ["gift-199"]
    assert result.reason("pct-10") == "not_best"


def test_gift_with_min_quantity(make_engine):
    # 滿3件贈: two units → below_threshold (no hint: money alone would not earn it);
    # three units → the gift.
    text = '''
[[promotion]]
id = "gift-3"
kind = "gift"
gift = { sku = "SOCKS-1", name = "襪子", value = "9.90" }
min_quantity = 3
'''
    engine = make_engine(text)
    short = engine.evaluate(make_cart(("l1", "TEE-1", 2, "49.00")), lang="zh-CN")
    [item] = short.not_applied
    assert (item.reason, item.message) == ("below_threshold", "满3件赠襪子，参与商品目前2件")
    assert short.hints == ()
    enough = engine.evaluate(make_cart(("l1", "TEE-1", 3, "49.00")))
    assert [(g.sku, g.quantity, g.value) for g in enough.gifts] == [("SOCKS-1", 1, D("9.90"))]


def test_gift_without_threshold_is_given_with_every_order(make_engine):
    text = '''
[[promotion]]
id = "gift-all"
kind = "gift"
gift = { sku = "BAG-1", name = "環保袋", quantity = 2, value = "5.00" }
'''
    result = make_engine(text).evaluate(make_cart(("l1", "TEE-1", 1, "1.00")))
    assert [(g.sku, g.quantity) for g in result.gifts] == [("BAG-1", 2)]


GIFT_STOCK = GIFT_199.replace("quantity = 1", "quantity = 2") + "limits = { stock = 100 }\n"


def test_gift_stock_exhausted(make_engine):
    store = MemoryStore()
    store.set(counter_keys.stock("gift-199"), 100)  # all 100 handed out
    result = make_engine(GIFT_STOCK, store=store).evaluate(make_cart(("l1", "A", 1, "229.00")))
    assert result.gifts == ()
    assert result.reason("gift-199") == "stock_exhausted"
    assert result.total == D("229.00")


def test_gift_stock_left_1_of_a_gift_of_2_gives_1(make_engine):
    store = MemoryStore()
    engine = make_engine(GIFT_STOCK, store=store)
    cart = make_cart(("l1", "A", 1, "229.00"))
    assert [g.quantity for g in engine.evaluate(cart).gifts] == [2]  # 100 left: the full 2
    store.set(counter_keys.stock("gift-199"), 99)                    # one left: one given
    assert [(g.quantity, g.value) for g in engine.evaluate(cart).gifts] == [(1, D("59.00"))]
    # Below the threshold with one left, the hint promises one gift: saving 59.00, not 118.00.
    [hint] = engine.evaluate(make_cart(("l1", "A", 1, "150.00"))).hints
    assert (hint.missing, hint.saving) == (D("49.00"), D("59.00"))


def test_gift_stock_left_is_shared_across_shops(make_engine):
    # One gift left, two shops each ≥ 199.00: at most one gift in the order.
    store = MemoryStore()
    store.set(counter_keys.stock("gift-199"), 99)
    cart = make_cart(("l1", "A", 1, "229.00", {"shop": "s1"}),
                     ("l2", "B", 1, "229.00", {"shop": "s2"}))
    result = make_engine(GIFT_STOCK, store=store).evaluate(cart)
    assert sum(g.quantity for g in result.gifts) == 1


def test_gift_of_no_stated_value_is_still_given(make_engine):
    text = GIFT_199.replace('value = "59.00"', 'value = "0.00"')
    result = make_engine(text).evaluate(make_cart(("l1", "A", 1, "229.00")))
    assert [(g.sku, g.value) for g in result.gifts] == [("CUP-1", D("0.00"))]


EXCLUSIVE = '''
[[promotion]]
id = "gift-199"
kind = "gift"
gift = { sku = "CUP-1", name = "保溫杯", value = "VALUE" }
threshold = "199"
group = "shop-benefit"

[[promotion]]
id = "coupon-20"
kind = "order_amount_off"
amount = "20"
group = "shop-benefit"
'''


@pytest.mark.parametrize(("value", "winner", "loser", "total"), [
    # The gift is worth 59.00 > 20.00 off: the gift wins, the order stays at 229.00.
    ("59.00", "gift-199", "coupon-20", "229.00"),
    # A gift worth 10.00 < 20.00 off: the coupon wins, 229.00 − 20.00 = 209.00.
    ("10.00", "coupon-20", "gift-199", "209.00"),
])
def test_gift_in_a_group_against_a_discount_best_deal_counts_its_value(
        make_engine, value, winner, loser, total):
    result = make_engine(EXCLUSIVE.replace("VALUE", value)).evaluate(
        make_cart(("l1", "A", 1, "229.00")))
    assert result.total == D(total)
    assert [a.promotion for a in result.applied] == [winner]
    assert result.reason(loser) == f"excluded_by:{winner}"
    assert [g.promotion for g in result.gifts] == (["gift-199"] if winner == "gift-199" else [])


# -- deposit_multiplier (定金膨脹) ---------------------------------------------------------

DEPOSIT = '''
[[promotion]]
id = "deposit-x2"
kind = "deposit_multiplier"
multiplier = "2"
'''


def phone(price: str = "599.00", deposit: str | None = "100.00", **fields: object):
    extra = {"deposit_paid": deposit} if deposit is not None else {}
    return make_cart(("l1", "PHONE-1", 1, price, extra), **fields)


def test_deposit_doubled(make_engine):
    # 定金¥100 counts ¥200: 100 × (2 − 1) = 100.00 off 599.00 → total 499.00 (what the
    # customer pays in all); balance_due = 499.00 − 100.00 = 399.00.
    result = make_engine(DEPOSIT).evaluate(phone())
    assert amounts(result) == {"subtotal": "599.00", "discount_total": "100.00",
                               "shipping_discount": "0.00", "shipping": "0.00",
                               "total": "499.00"}
    assert result.balance_due == D("399.00")
    assert [(d.promotion, d.amount) for d in result.line("l1").discounts] == [
        ("deposit-x2", D("100.00"))]
    assert result.applied[0].stage == "item"


def test_deposit_expansion_capped(make_engine):
    # 100.00 off, capped at 50.00 → total 549.00, balance_due 549.00 − 100.00 = 449.00.
    result = make_engine(DEPOSIT + 'cap = "50"\n').evaluate(phone())
    assert (result.discount_total, result.total, result.balance_due) == (
        D("50.00"), D("549.00"), D("449.00"))


def test_deposit_expansion_rounds_half_up(make_engine):
    # 33.33 × (1.5 − 1) = 16.665 → 16.67; 100.00 − 16.67 = 83.33; balance 83.33 − 33.33 = 50.00.
    text = DEPOSIT.replace('"2"', '"1.5"')
    result = make_engine(text).evaluate(phone("100.00", "33.33"))
    assert (result.discount_total, result.total, result.balance_due) == (
        D("16.67"), D("83.33"), D("50.00"))


def test_deposit_with_a_unit_limit_expands_only_the_covered_units_deposit(make_engine):
    # 2 × 300.00 with 200.00 deposit (100.00 a unit); per_order_units = 1 covers one unit,
    # whose deposit 100.00 counts double: 100.00 off → total 500.00, balance_due 300.00.
    text = DEPOSIT + "limits = { per_order_units = 1 }\n"
    cart = make_cart(("l1", "PHONE-1", 2, "300.00", {"deposit_paid": "200.00"}))
    result = make_engine(text).evaluate(cart)
    assert (result.discount_total, result.total, result.balance_due) == (
        D("100.00"), D("500.00"), D("300.00"))


def test_deposit_only_lines_with_a_deposit(make_engine):
    # l1: 100.00 deposit → 100.00 off 599.00; l2 (no deposit) is not discounted.
    # total 499.00 + 50.00 = 549.00; balance_due 549.00 − 100.00 = 449.00.
    cart = make_cart(("l1", "PHONE-1", 1, "599.00", {"deposit_paid": "100.00"}),
                     ("l2", "CASE-1", 1, "50.00"))
    result = make_engine(DEPOSIT).evaluate(cart)
    assert (result.line("l1").total, result.line("l2").total) == (D("499.00"), D("50.00"))
    assert result.line("l2").discounts == ()
    assert (result.total, result.balance_due) == (D("549.00"), D("449.00"))


@pytest.mark.parametrize(("lang", "message"), [("en", "no deposit was paid"),
                                               ("zh-CN", "未支付定金")])
def test_deposit_without_any_deposit_does_not_apply(make_engine, lang, message):
    result = make_engine(DEPOSIT).evaluate(phone(deposit=None), lang=lang)
    [item] = result.not_applied
    assert (item.reason, item.message) == ("no_saving", message)
    assert (result.total, result.balance_due) == (D("599.00"), D("599.00"))


def test_deposit_expansion_never_takes_a_line_below_its_deposit(make_engine):
    # 50% off first (priority 1): 300.00 → 150.00. 定金¥100 ×3 would take 200.00 off, but
    # the net is 150.00 and 100.00 of it is the deposit already paid: at most
    # 150.00 − 100.00 = 50.00 off → total 100.00, balance_due 100.00 − 100.00 = 0.00.
    # (Capping at the net alone would give total 0.00 and balance_due −100.00.)
    text = DEPOSIT.replace('"2"', '"3"').replace("deposit-x2", "deposit-x3") + '''
[[promotion]]
id = "half"
kind = "percent_off"
percent = "50"
priority = 1
'''
    result = make_engine(text).evaluate(phone("300.00", "100.00"))
    assert [(d.promotion, d.amount) for d in result.line("l1").discounts] == [
        ("half", D("150.00")), ("deposit-x3", D("50.00"))]
    assert (result.total, result.balance_due) == (D("100.00"), D("0.00"))


def test_deposit_expansion_on_a_line_already_at_its_deposit_saves_nothing(make_engine):
    # 50% off 200.00 → 100.00 = the deposit: nothing left to take off → no_saving.
    text = DEPOSIT + '''
[[promotion]]
id = "half"
kind = "percent_off"
percent = "50"
priority = 1
'''
    result = make_engine(text).evaluate(phone("200.00", "100.00"))
    assert result.reason("deposit-x2") == "no_saving"
    assert (result.total, result.balance_due) == (D("100.00"), D("0.00"))


def test_later_discounts_never_make_balance_due_negative(make_engine):
    # 400.00, 定金¥100 ×2 → 100.00 off → 300.00; 滿300減250 → 50.00 < the 100.00 deposit.
    text = DEPOSIT + '''
[[promotion]]
id = "shop-300-250"
kind = "tiered_threshold"
tiers = [ { spend = "300", off = "250" } ]
'''
    result = make_engine(text).evaluate(phone("400.00", "100.00"))
    assert result.line("l1").total >= D("100.00")
    assert result.balance_due >= 0


def test_deposit_result_json(make_engine):
    line = make_engine(DEPOSIT).evaluate(phone()).to_json()
    assert (line["total"], line["balance_due"]) == ("499.00", "399.00")
    assert line["lines"][0]["deposit_paid"] == "100.00"


# -- points_multiplier (積分翻倍) -----------------------------------------------------------

POINTS = '''
[[promotion]]
id = "pct-5"
kind = "percent_off"
percent = "5"

[[promotion]]
id = "shop-300-50"
kind = "tiered_threshold"
tiers = [ { spend = "300", off = "50" } ]

[[promotion]]
id = "points-x2"
kind = "points_multiplier"
multiplier = 2
points_per_unit = "PPU"
'''


def shoes_and_socks():
    return make_cart(("l1", "SHOE-1", 2, "199.00"),
                     ("l2", "SOCKS-1", 1, "29.90", {"tags": ["no-points"]}))


# 95折: 398.00 × 5% = 19.90 → 378.10; 29.90 × 5% = 1.495 → 1.50 → 28.40; sum 406.50.
# 滿300減50 by net: 5000 × 37810/40650 = 4650.67, 5000 × 2840/40650 = 349.32; floors 4650 + 349
# = 4999, the cent left to the larger remainder (.67): l1 46.51, l2 3.49.
# Nets: l1 378.10 − 46.51 = 331.59, l2 28.40 − 3.49 = 24.91; total 356.50.
@pytest.mark.parametrize(("ppu", "scope", "points"), [
    ("1", "", "712"),                                       # ⌊356.50 × 1⌋ = 356, × 2 = 712
    ("0.5", "", "356"),                                     # ⌊178.25⌋ = 178, × 2 = 356
    ("1", 'scope = { exclude_tags = ["no-points"] }', "662"),  # ⌊331.59⌋ = 331, × 2 = 662
])
def test_points_on_the_final_net(make_engine, ppu, scope, points):
    result = make_engine(POINTS.replace("PPU", ppu) + scope + "\n").evaluate(shoes_and_socks())
    assert (result.line("l1").total, result.line("l2").total) == (D("331.59"), D("24.91"))
    assert result.total == D("356.50")  # points change no price
    [reward] = result.rewards
    assert (reward.promotion, reward.kind, reward.amount) == ("points-x2", "points", points)


def test_points_round_to_nothing(make_engine):
    # ⌊0.50 × 1⌋ = 0 points → no_saving.
    text = POINTS.replace("PPU", "1").split("[[promotion]]\nid = \"points-x2\"")[1]
    result = make_engine('[[promotion]]\nid = "points-x2"' + text).evaluate(
        make_cart(("l1", "GUM-1", 1, "0.50")), lang="zh-CN")
    assert result.rewards == ()
    [item] = result.not_applied
    assert (item.reason, item.message) == ("no_saving", "参与商品不足以获得积分")


def test_one_of_two_points_promotions_in_a_group_applies(make_engine):
    # Two 積分 promotions in one group: at most one per order, but one of them.
    text = """
[[promotion]]
id = "points-x2"
kind = "points_multiplier"
multiplier = 2
points_per_unit = "1"
group = "loyalty"

[[promotion]]
id = "points-x3"
kind = "points_multiplier"
multiplier = 3
points_per_unit = "1"
group = "loyalty"
"""
    result = make_engine(text).evaluate(make_cart(("l1", "TEE-1", 1, "100.00")))
    assert len(result.rewards) == 1


# -- the result's JSON --------------------------------------------------------------------

def test_gifts_and_rewards_in_the_result_json(make_engine):
    # The gift measures the shop stage's base, 406.50 after 95折: ≥ 199.00 → given. A gift
    # changes no net, so the points are as above: 712.
    engine = make_engine(POINTS.replace("PPU", "1") + GIFT_199)
    data = engine.evaluate(shoes_and_socks()).to_json()
    assert data["gifts"] == [{"promotion": "gift-199", "sku": "CUP-1", "name": "保溫杯",
                              "quantity": 1, "value": "59.00"}]
    assert data["rewards"] == [{"promotion": "points-x2", "kind": "points", "amount": "712"}]
    assert data["total"] == "356.50"


# -- bad parameters, by path ----------------------------------------------------------------

def problems_of(text: str, registry: Registry) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        parse_campaigns(tomllib.loads(HEADER + text), registry)
    return [(problem.path, problem.message) for problem in caught.value.problems]


GIFT_KIND = '[[promotion]]\nid = "g"\nkind = "gift"\n'
DEPOSIT_KIND = '[[promotion]]\nid = "d"\nkind = "deposit_multiplier"\n'
POINTS_KIND = '[[promotion]]\nid = "p"\nkind = "points_multiplier"\n'


@pytest.mark.parametrize(("text", "path", "message"), [
    (DEPOSIT_KIND + 'multiplier = "1"\n', "promotion[0].multiplier", "must be more than 1"),
    (DEPOSIT_KIND + 'multiplier = "0.5"\n', "promotion[0].multiplier", "got 0.5"),
    (DEPOSIT_KIND + 'multiplier = 2.0\n', "promotion[0].multiplier",
     'must be a string such as "0.5", not 2.0'),
    (DEPOSIT_KIND + 'cap = "100"\n', "promotion[0].multiplier", "is required"),
    (DEPOSIT_KIND + 'multiplier = "2"\ncap = "-50"\n', "promotion[0].cap", "'-50' is negative"),
    (DEPOSIT_KIND + 'multiplier = "2"\ncap = "0"\n', "promotion[0].cap", "must be > 0"),
    (GIFT_KIND + 'gift = { name = "保溫杯", value = "59.00" }\n', "promotion[0].gift.sku",
     "is required"),
    (GIFT_KIND + 'gift = { sku = "CUP-1", name = "保溫杯", value = 59.0 }\n',
     "promotion[0].gift.value", 'must be a string such as "199.00", not float'),
    (GIFT_KIND + 'gift = { sku = "CUP-1", name = "保溫杯", value = "-1" }\n',
     "promotion[0].gift.value", "is negative"),
    (GIFT_KIND + 'gift = { sku = "CUP-1", name = "保溫杯", value = "5", quantity = 0 }\n',
     "promotion[0].gift.quantity", "must be at least 1, got 0"),
    (GIFT_KIND + 'gift = { sku = "CUP-1", name = "保溫杯", value = "5", colour = "red" }\n',
     "promotion[0].gift.colour", "unknown key"),
    (GIFT_KIND + 'threshold = "199"\n', "promotion[0].gift", "is required"),
    (GIFT_KIND + 'gift = { sku = "CUP-1", name = "保溫杯", value = "5" }\nthreshold = "0"\n',
     "promotion[0].threshold", "must be > 0"),
    (GIFT_KIND + 'gift = { sku = "CUP-1", name = "保溫杯", value = "5" }\nmin_quantity = 0\n',
     "promotion[0].min_quantity", "must be at least 1, got 0"),
    (POINTS_KIND + 'multiplier = 2\npoints_per_unit = "0"\n', "promotion[0].points_per_unit",
     "must be > 0, got 0"),
    (POINTS_KIND + 'multiplier = 0\npoints_per_unit = "1"\n', "promotion[0].multiplier",
     "must be at least 1, got 0"),
    (POINTS_KIND + 'multiplier = "2x"\npoints_per_unit = "1"\n', "promotion[0].multiplier",
     "must be a whole number"),
], ids=["multiplier 1", "multiplier below 1", "multiplier float", "multiplier missing",
        "cap negative", "cap 0", "gift without sku", "gift value float", "gift value negative",
        "gift quantity 0", "gift unknown key", "gift missing", "threshold 0", "min_quantity 0",
        "points_per_unit 0", "points multiplier 0", "points multiplier text"])
def test_bad_params_are_reported_by_path(registry, text, path, message):
    problems = problems_of(text, registry)
    assert [p for p, _ in problems] == [path]
    assert message in problems[0][1]


# -- rule text --------------------------------------------------------------------------

def describe(registry: Registry, text: str, lang: str) -> str:
    [promotion] = parse_campaigns(tomllib.loads(HEADER + text), registry).promotions
    return promotion.kind_impl.describe(promotion.params, Text(lang))


@pytest.mark.parametrize(("text", "zh", "en"), [
    (GIFT_199, "满¥199.00赠保溫杯×1（价值¥59.00）",
     "free 保溫杯 ×1 (worth ¥59.00) with ¥199.00 or more"),
    (GIFT_199.replace('threshold = "199"', ""), "赠保溫杯×1（价值¥59.00）",
     "free 保溫杯 ×1 (worth ¥59.00) with every order"),
    (GIFT_199.replace("quantity = 1", "quantity = 2").replace('threshold = "199"',
                                                             "min_quantity = 3"),
     "满3件赠保溫杯×2（每件价值¥59.00）",
     "free 保溫杯 ×2 (worth ¥59.00 each) with 3 or more items"),
    (DEPOSIT + 'cap = "150"\n', "定金翻2倍抵扣，最多抵¥150.00",
     "your deposit counts 2× against the price (up to ¥150.00 off)"),
    (DEPOSIT.replace('"2"', '"1.5"'), "定金翻1.5倍抵扣",
     "your deposit counts 1.5× against the price"),
    (POINTS_KIND + 'multiplier = 2\npoints_per_unit = "1"\n', "积分2倍（每¥1得1分）",
     "2× points (1 point per ¥1)"),
    (POINTS_KIND + 'multiplier = 3\npoints_per_unit = "0.5"\n', "积分3倍（每¥1得0.5分）",
     "3× points (0.5 points per ¥1)"),
])
def test_describe_in_both_languages(registry, text, zh, en):
    assert describe(registry, text, "zh-CN") == zh
    assert describe(registry, text, "en") == en
