"""Hand-computed pricing scenarios; every expected amount is worked out in the test."""

from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import D, amounts, make_cart

from promokit import Cart, CartError, MemoryStore
from promokit.errors import RefundError
from promokit.stores import counter_keys

MEMBER_AND_CROSS_SHOP = '''
[[campaign]]
id = "d11"
funding = { platform = "0.7", merchant = "0.3" }

[[promotion]]
id = "gold-95"
campaign = "d11"
kind = "member_price"
percent_by_tier = { gold = "5" }
funding = { merchant = "1" }

[[promotion]]
id = "d11-300-50"
campaign = "d11"
kind = "tiered_threshold"
stage = "platform"
tiers = [ { spend = "300", off = "50" }, { spend = "500", off = "100" } ]
'''


def two_shop_cart(**fields: object) -> Cart:
    return make_cart(("l1", "SHOE-1", 2, "199.00", {"shop": "s1"}),
                     ("l2", "SHIRT-1", 1, "129.90", {"shop": "s2"}),
                     customer={"id": "c1", "tier": "gold"}, **fields)


def test_member_price_then_cross_shop_tiers_with_70_30_funding(make_engine):
    # 95折: 398.00 × 5% = 19.90 → 378.10; 129.90 × 5% = 6.495 → 6.50 → 123.40.
    # 跨店 spend after the item stage: 378.10 + 123.40 = 501.50 ≥ 500 → 100.00 off,
    # by net: 100 × 378.10/501.50 = 75.393… → 75.39, 100 × 123.40/501.50 = 24.606… → 24.60,
    # the cent left goes to the larger remainder (.606 > .393): 24.61.
    # Funding 70/30 of 100.00: platform 70.00, merchant 30.00.
    result = make_engine(MEMBER_AND_CROSS_SHOP).evaluate(two_shop_cart())
    assert amounts(result) == {"subtotal": "527.90", "discount_total": "126.40",
                               "shipping_discount": "0.00", "shipping": "0.00",
                               "total": "401.50"}
    l1, l2 = result.lines
    assert [(d.promotion, d.amount) for d in l1.discounts] == [
        ("gold-95", D("19.90")), ("d11-300-50", D("75.39"))]
    assert [(d.promotion, d.amount) for d in l2.discounts] == [
        ("gold-95", D("6.50")), ("d11-300-50", D("24.61"))]
    assert (l1.total, l2.total) == (D("302.71"), D("98.79"))
    cross = result.applied[-1]
    assert (cross.promotion, cross.stage, cross.amount) == ("d11-300-50", "platform", D("100.00"))
    assert cross.funding == (("platform", D("70.00")), ("merchant", D("30.00")))
    assert result.applied[0].funding == (("merchant", D("26.40")),)
    assert result.not_applied == () and result.hints == ()
    assert result.optimal is True


def test_cross_shop_lower_tier_and_hint_to_the_next(make_engine):
    # A silver customer gets no 95折: spend 527.90 ≥ 500 → 100 off. With one shoe
    # (199.00 + 129.90 = 328.90): tier 300 → 50 off; hint: 500 − 328.90 = 171.10 more
    # saves 100 − 50 = 50.00 more; 171.10 ≤ 0.5 × 500, so within reach.
    cart = make_cart(("l1", "SHOE-1", 1, "199.00", {"shop": "s1"}),
                     ("l2", "SHIRT-1", 1, "129.90", {"shop": "s2"}),
                     customer={"id": "c1", "tier": "silver"})
    result = make_engine(MEMBER_AND_CROSS_SHOP).evaluate(cart)
    assert result.total == D("278.90")
    assert result.reason("gold-95") == "not_eligible:member_tier"
    [hint] = result.hints
    assert (hint.promotion, hint.missing, hint.saving) == ("d11-300-50", D("171.10"), D("50.00"))


FLASH = '''
[[promotion]]
id = "flash"
kind = "fixed_price"
price = "99.00"
scope = { skus = ["BLENDER-1"] }
windows = [ { from = "23:00", to = "02:00" } ]
'''


@pytest.mark.parametrize(("now_utc", "applies"), [
    ("2026-11-10T14:59:59Z", False),  # 22:59:59 in Shanghai: before the window
    ("2026-11-10T15:00:00Z", True),   # 23:00:00: the start is inclusive
    ("2026-11-10T16:30:00Z", True),   # 00:30 the next day: across midnight
    ("2026-11-10T17:59:59Z", True),   # 01:59:59
    ("2026-11-10T18:00:00Z", False),  # 02:00:00: the end is exclusive
])
def test_flash_window_across_midnight_with_now_in_utc(make_engine, now_utc, applies):
    # 299.00 at the flash price 99.00 saves 200.00 per unit.
    cart = make_cart(("l1", "BLENDER-1", 1, "299.00"), now=now_utc)
    result = make_engine(FLASH).evaluate(cart)
    assert result.total == (D("99.00") if applies else D("299.00"))
    assert result.reason("flash") == (None if applies else "out_of_window")


EVERY_300 = '''
[[promotion]]
id = "every-300"
kind = "tiered_threshold"
every = true
tiers = [ { spend = "300", off = "50" } ]
cap = "150"
'''


@pytest.mark.parametrize(("price", "off", "hint"), [
    ("299.99", "0.00", ("0.01", "50.00")),     # below 300: hint 0.01 more saves 50.00
    ("899.00", "100.00", ("1.00", "50.00")),   # ⌊899/300⌋ = 2 → 100; 900 is 1.00 away
    ("1049.00", "150.00", None),               # 3 × 50 = 150 = the cap: nothing more to win
    ("1299.00", "150.00", None),               # 4 × 50 = 200, capped at 150
])
def test_every_300_off_50_capped_at_150_and_its_hint(make_engine, price, off, hint):
    result = make_engine(EVERY_300).evaluate(make_cart(("l1", "TV-1", 1, price)))
    assert result.discount_total == D(off)
    assert result.total == D(price) - D(off)
    got = [(str(h.missing), str(h.saving)) for h in result.hints]
    assert got == ([hint] if hint else [])
    if off == "0.00":
        assert result.reason("every-300") == "below_threshold"


def test_hint_out_of_reach_is_not_given(make_engine):
    # 100.00 of 300: missing 200.00 > 0.5 × 300 = 150.00 → no hint.
    result = make_engine(EVERY_300).evaluate(make_cart(("l1", "TV-1", 1, "100.00")))
    assert result.hints == ()


EXCLUSIVE_VS_STACKABLE = '''
[[promotion]]
id = "a-10pct"
kind = "percent_off"
percent = "10"
exclusive = true
scope = {{ skus = ["A"] }}

[[promotion]]
id = "all-off"
kind = "amount_off"
amount = "{amount}"

[[promotion]]
id = "b-20pct"
kind = "percent_off"
percent = "20"
scope = {{ skus = ["B"] }}
'''


def test_exclusive_beats_a_stackable_that_saves_less(make_engine):
    # a-10pct on A: 10.00. all-off (3.00 per unit on A and B) touches A too, so it
    # cannot be combined with the exclusive one: 6.00 < 10.00 → excluded.
    # b-20pct touches only B, which the exclusive promotion does not: 50 × 20% = 10.00.
    engine = make_engine(EXCLUSIVE_VS_STACKABLE.format(amount="3"))
    result = engine.evaluate(make_cart(("l1", "A", 1, "100.00"), ("l2", "B", 1, "50.00")))
    assert [a.promotion for a in result.applied] == ["a-10pct", "b-20pct"]
    assert result.total == D("130.00")
    assert result.reason("all-off") == "excluded_by:a-10pct"


def test_stackable_beats_an_exclusive_that_saves_less(make_engine):
    # all-off at 8.00 per unit: 8.00 on A, then on B (50.00 → 42.00) b-20pct takes
    # 42.00 × 20% = 8.40, together 24.40 > a-10pct's 10.00 + b-20pct's 10.00 = 20.00.
    engine = make_engine(EXCLUSIVE_VS_STACKABLE.format(amount="8"))
    result = engine.evaluate(make_cart(("l1", "A", 1, "100.00"), ("l2", "B", 1, "50.00")))
    assert {a.promotion: a.amount for a in result.applied} == {
        "all-off": D("16.00"), "b-20pct": D("8.40")}
    assert result.total == D("125.60")
    assert result.reason("a-10pct") == "excluded_by:all-off"


TWO_EXCLUSIVE = '''
[[promotion]]
id = "e-10pct"
kind = "percent_off"
percent = "10"
exclusive = true

[[promotion]]
id = "e-15-off"
kind = "amount_off"
amount = "15"
exclusive = true
scope = { skus = ["A"] }
'''


@pytest.mark.parametrize(("b_price", "winner", "loser", "total"), [
    ("100.00", "e-10pct", "e-15-off", "180.00"),  # 10% of 200.00 = 20.00 > 15.00
    ("20.00", "e-15-off", "e-10pct", "105.00"),   # 10% of 120.00 = 12.00 < 15.00
])
def test_best_deal_between_two_exclusive_promotions(make_engine, b_price, winner, loser, total):
    cart = make_cart(("l1", "A", 1, "100.00"), ("l2", "B", 1, b_price))
    result = make_engine(TWO_EXCLUSIVE).evaluate(cart)
    assert [a.promotion for a in result.applied] == [winner]
    assert result.reason(loser) == f"excluded_by:{winner}"
    assert result.total == D(total)


def test_equal_savings_go_to_the_higher_priority_then_the_lower_id(make_engine):
    text = '''
[[promotion]]
id = "b-10"
kind = "amount_off"
amount = "10"
group = "coupon"

[[promotion]]
id = "a-10"
kind = "amount_off"
amount = "10"
group = "coupon"
'''
    cart = make_cart(("l1", "A", 1, "100.00"))
    assert [a.promotion for a in make_engine(text).evaluate(cart).applied] == ["a-10"]
    prioritised = text.replace('id = "b-10"', 'id = "b-10"\npriority = 5')
    assert [a.promotion for a in make_engine(prioritised).evaluate(cart).applied] == ["b-10"]


def test_skipping_an_item_discount_to_reach_a_later_threshold(make_engine):
    # 95折 would take 300.00 to 285.00, below the shop's 滿300減50: 15.00 saved.
    # Skipping it keeps 300.00 and saves 50.00, the better deal for the customer.
    text = '''
[[promotion]]
id = "pct-5"
kind = "percent_off"
percent = "5"

[[promotion]]
id = "shop-300-50"
kind = "tiered_threshold"
tiers = [ { spend = "300", off = "50" } ]
'''
    result = make_engine(text).evaluate(make_cart(("l1", "COAT-1", 1, "300.00")))
    assert [a.promotion for a in result.applied] == ["shop-300-50"]
    assert result.total == D("250.00")
    assert result.reason("pct-5") == "not_best"
    # With more in the cart the 95折 no longer endangers the threshold: both apply.
    # 400.00 → 380.00 (−20.00), 380 ≥ 300 → −50.00: total 330.00.
    result = make_engine(text).evaluate(make_cart(("l1", "COAT-1", 1, "400.00")))
    assert [a.promotion for a in result.applied] == ["pct-5", "shop-300-50"]
    assert result.total == D("330.00")


def test_ten_yuan_off_over_three_ten_yuan_lines(make_engine):
    # 10.00 by net 10:10:10 → 3.333… each; floors 3.33 × 3 = 9.99, the cent left goes to
    # the earliest of the equal remainders: 3.34, 3.33, 3.33.
    text = '''
[[promotion]]
id = "coupon-10"
kind = "order_amount_off"
amount = "10"
'''
    cart = make_cart(("l1", "A", 1, "10.00"), ("l2", "B", 1, "10.00"), ("l3", "C", 1, "10.00"))
    result = make_engine(text).evaluate(cart)
    assert [line.discount for line in result.lines] == [D("3.34"), D("3.33"), D("3.33")]
    assert [line.total for line in result.lines] == [D("6.66"), D("6.67"), D("6.67")]
    assert result.total == D("20.00")


def test_refund_of_one_line_and_of_everything(make_engine):
    # From the member + 跨店 scenario: l1 = 302.71 over 2 units (151.36, 151.35),
    # l2 = 98.79. Shipping 12.00 is paid back with the last units.
    result = make_engine(MEMBER_AND_CROSS_SHOP).evaluate(two_shop_cart(shipping="12.00"))
    assert result.total == D("413.50")
    assert result.refund({"l2": 1}) == D("98.79")
    assert result.refund({"l1": 1}) == D("151.36")
    assert result.refund({"l1": 1}, already_refunded={"l1": 1}) == D("151.35")
    bit_by_bit = (result.refund({"l1": 1}) + result.refund({"l2": 1})
                  + result.refund({"l1": 1}, already_refunded={"l1": 1, "l2": 1}))
    assert bit_by_bit == result.refund({"l1": 2, "l2": 1}) == result.total
    with pytest.raises(RefundError, match=r"units\.l2"):
        result.refund({"l2": 2})
    with pytest.raises(RefundError, match="no such line"):
        result.refund({"zz": 1})


def test_promotions_in_one_stage_act_in_priority_order_on_the_net_left(make_engine):
    # DESIGN: 10% then 5% on 9.99: 9.99 → 8.99 → 8.54.
    text = '''
[[promotion]]
id = "p5"
kind = "percent_off"
percent = "5"

[[promotion]]
id = "p10"
kind = "percent_off"
percent = "10"
priority = 10
'''
    result = make_engine(text).evaluate(make_cart(("l1", "A", 1, "9.99")))
    assert [(d.promotion, d.amount) for d in result.lines[0].discounts] == [
        ("p10", D("1.00")), ("p5", D("0.45"))]
    assert result.total == D("8.54")


def test_item_discount_is_rounded_once_on_the_whole_line(make_engine):
    # 59.90 × 5% = 2.995 → 3.00 (half up), on the line of 1; on a line of 3 units:
    # 179.70 × 5% = 8.985 → 8.99 (not 3 × 3.00).
    text = '[[promotion]]\nid = "p"\nkind = "percent_off"\npercent = "5"\n'
    engine = make_engine(text)
    assert engine.evaluate(make_cart(("l1", "A", 1, "59.90"))).discount_total == D("3.00")
    assert engine.evaluate(make_cart(("l1", "A", 3, "59.90"))).discount_total == D("8.99")


def test_shop_threshold_counts_each_shop_apart(make_engine):
    # 滿200減20 at the shop stage: s1 has 150 + 60 = 210 → 20 off; s2 has 190 → nothing,
    # with a hint for s2: 10.00 more saves 20.00.
    text = '''
[[promotion]]
id = "shop-200-20"
kind = "tiered_threshold"
tiers = [ { spend = "200", off = "20" } ]
'''
    cart = make_cart(("l1", "A", 1, "150.00", {"shop": "s1"}),
                     ("l2", "B", 1, "190.00", {"shop": "s2"}),
                     ("l3", "C", 1, "60.00", {"shop": "s1"}))
    result = make_engine(text).evaluate(cart)
    # 20.00 over s1 by net 150:60 → 14.2857… → 14.29, 5.714… → 5.71.
    assert [line.discount for line in result.lines] == [D("14.29"), D("0"), D("5.71")]
    assert [(h.shop, h.missing, h.saving) for h in result.hints] == [
        ("s2", D("10.00"), D("20.00"))]


def test_base_list_measures_the_threshold_before_item_discounts(make_engine):
    # 8折 takes 350.00 to 280.00; a 滿300減30 on the stage base would fail, but with
    # base = "list" it measures 350.00 and applies to the net: 280 − 30 = 250.00.
    text = '''
[[promotion]]
id = "pct-20"
kind = "percent_off"
percent = "20"

[[promotion]]
id = "list-300-30"
kind = "tiered_threshold"
base = "list"
tiers = [ { spend = "300", off = "30" } ]
'''
    result = make_engine(text).evaluate(make_cart(("l1", "A", 1, "350.00")))
    assert result.total == D("250.00")


def test_group_allows_one_promotion_per_line_at_the_item_stage(make_engine):
    # Both in group "daily": 10% on A (10.00) and 12.00 off on every sku (12.00 on A and
    # 12.00 on B). They overlap on A, so only one may apply: 24.00 > 10.00.
    text = '''
[[promotion]]
id = "a-10pct"
kind = "percent_off"
percent = "10"
group = "daily"
scope = { skus = ["A"] }

[[promotion]]
id = "all-12"
kind = "amount_off"
amount = "12"
group = "daily"
'''
    cart = make_cart(("l1", "A", 1, "100.00"), ("l2", "B", 1, "100.00"))
    result = make_engine(text).evaluate(cart)
    assert [a.promotion for a in result.applied] == ["all-12"]
    assert result.reason("a-10pct") == "excluded_by:all-12"
    assert result.total == D("176.00")


def test_free_shipping_above_a_threshold(make_engine):
    text = '''
[[promotion]]
id = "ship-99"
kind = "free_shipping"
threshold = "99"
max_off = "10"
'''
    engine = make_engine(text)
    # 120.00 ≥ 99: shipping 12.00, at most 10.00 off → 2.00 charged; total 122.00.
    result = engine.evaluate(make_cart(("l1", "A", 1, "120.00"), shipping="12.00"))
    assert (result.shipping_discount, result.shipping, result.total) == (
        D("10.00"), D("2.00"), D("122.00"))
    assert result.discount_total == D("10.00")
    # 80.00 < 99: 19.00 more saves 10.00 (19 ≤ 0.5 × 99).
    result = engine.evaluate(make_cart(("l1", "A", 1, "80.00"), shipping="12.00"))
    assert result.reason("ship-99") == "below_threshold"
    assert [(h.missing, h.saving) for h in result.hints] == [(D("19.00"), D("10.00"))]


def test_per_order_units_keeps_the_discount_on_the_units_that_save_most(make_engine):
    # 20% off, at most 2 units per order. Units: A at 50.00 (saves 10.00 each),
    # B at 80.00 (saves 16.00 each, 1 unit), C at 80.00 (saves 16.00 each, 2 units).
    # The two best units: B's (16.00) and the first of C's (16.00; B is the earlier line).
    text = '''
[[promotion]]
id = "pct-20"
kind = "percent_off"
percent = "20"
limits = { per_order_units = 2 }
'''
    cart = make_cart(("l1", "A", 3, "50.00"), ("l2", "B", 1, "80.00"), ("l3", "C", 2, "80.00"))
    result = make_engine(text).evaluate(cart)
    assert [line.discount for line in result.lines] == [D("0"), D("16.00"), D("16.00")]


def test_flash_stock_left_limits_the_units_discounted(make_engine):
    text = '''
[[promotion]]
id = "flash"
kind = "fixed_price"
price = "99.00"
scope = { skus = ["BLENDER-1"] }
limits = { stock = 500, per_customer = 1 }
'''
    store = MemoryStore()
    engine = make_engine(text, store=store)
    cart = make_cart(("l1", "BLENDER-1", 3, "299.00"), customer={"id": "c1"})
    store.set(counter_keys.stock("flash"), 499)  # one unit left: 200.00 off one unit
    assert engine.evaluate(cart).discount_total == D("200.00")
    store.set(counter_keys.stock("flash"), 500)
    assert engine.evaluate(cart).reason("flash") == "stock_exhausted"
    store.set(counter_keys.stock("flash"), 0)
    store.set(counter_keys.customer_uses("flash", "c1"), 1)
    assert engine.evaluate(cart).reason("flash") == "limit_reached"


def test_budgets_and_total_limits_read_from_the_store(make_engine):
    text = '''
[[campaign]]
id = "d11"
budget = "1000.00"

[[promotion]]
id = "coupon"
campaign = "d11"
kind = "order_amount_off"
amount = "50"
budget = "100.00"
limits = { total = 10, per_customer_daily = 1 }
'''
    store = MemoryStore()
    engine = make_engine(text, store=store)
    cart = make_cart(("l1", "A", 1, "200.00"), customer={"id": "c1"})
    assert engine.evaluate(cart).discount_total == D("50.00")
    store.set(counter_keys.spent("coupon"), 6000)  # 40.00 left < 50.00 needed
    assert engine.evaluate(cart).reason("coupon") == "budget_exhausted"
    store.set(counter_keys.spent("coupon"), 0)
    store.set(counter_keys.campaign_spent("d11"), 100000)  # campaign budget spent
    assert engine.evaluate(cart).reason("coupon") == "budget_exhausted"
    store.set(counter_keys.campaign_spent("d11"), 0)
    store.set(counter_keys.uses("coupon"), 10)
    assert engine.evaluate(cart).reason("coupon") == "limit_reached"
    store.set(counter_keys.uses("coupon"), 0)
    day = "2026-11-11"  # the cart's local day in Asia/Shanghai
    store.set(f"uses:coupon:c:c1:d:{day}", 1)
    assert engine.evaluate(cart).reason("coupon") == "limit_reached"


def test_codes_missing_used_and_invalid(make_engine):
    text = '''
[[promotion]]
id = "vip-code"
kind = "order_amount_off"
amount = "20"
codes = ["D11-VIP"]
'''
    engine = make_engine(text)
    result = engine.evaluate(make_cart(("l1", "A", 1, "100.00")))
    assert result.reason("vip-code") == "code_missing"
    result = engine.evaluate(make_cart(("l1", "A", 1, "100.00"), codes=["D11-VIP"]))
    assert result.total == D("80.00") and result.rejected_codes == ()
    result = engine.evaluate(make_cart(("l1", "A", 1, "100.00"), codes=["D11-VIQ"]))
    assert [(c.code, c.reason) for c in result.rejected_codes] == [("D11-VIQ", "code_invalid")]
    assert result.reason("vip-code") == "code_missing"


def test_schedule_channel_and_currency_reasons(make_engine):
    text = '''
[[promotion]]
id = "later"
kind = "percent_off"
percent = "5"
start = "2026-11-12T00:00:00"

[[promotion]]
id = "over"
kind = "percent_off"
percent = "5"
end = "2026-11-10T23:59:59"

[[promotion]]
id = "app-only"
kind = "percent_off"
percent = "5"
channels = ["app"]
'''
    engine = make_engine(text)
    result = engine.evaluate(make_cart(("l1", "A", 1, "100.00"), channel="web"))
    assert {n.promotion: n.reason for n in result.not_applied} == {
        "later": "not_started", "over": "ended", "app-only": "channel"}
    usd = Cart.from_json({"currency": "USD", "now": "2026-11-11T10:00:00+08:00",
                          "lines": [{"id": "l1", "sku": "A", "quantity": 1,
                                     "unit_price": "100.00"}]})
    result = engine.evaluate(usd)
    assert {n.reason for n in result.not_applied} == {"currency"}
    assert result.total == D("100.00")


def test_no_lines_in_scope_after_exclusions(make_engine):
    text = '''
[[promotion]]
id = "apparel"
kind = "percent_off"
percent = "10"
scope = { categories = ["apparel"], exclude_tags = ["no-promo"] }
'''
    cart = make_cart(("l1", "A", 1, "100.00", {"category": "apparel/shoes", "tags": ["no-promo"]}),
                     ("l2", "B", 1, "100.00", {"category": "apparelx"}))
    result = make_engine(text).evaluate(cart)
    assert result.reason("apparel") == "no_lines_in_scope"
    cart = make_cart(("l1", "A", 1, "100.00", {"category": "apparel/shoes"}))
    assert make_engine(text).evaluate(cart).total == D("90.00")


def test_min_spend_condition_is_measured_at_the_stage_base(make_engine):
    # A shop-stage coupon for orders from 300.00: 8折 takes 350.00 to 280.00 before
    # the shop stage, so the two cannot both apply; 20% (70.00) beats 30.00.
    text = '''
[[promotion]]
id = "pct-20"
kind = "percent_off"
percent = "20"

[[promotion]]
id = "coupon-30"
kind = "order_amount_off"
amount = "30"
conditions = [ { rule = "min_spend", amount = "300" } ]
'''
    result = make_engine(text).evaluate(make_cart(("l1", "A", 1, "350.00")))
    assert result.total == D("280.00")
    assert result.reason("coupon-30") == "not_eligible:min_spend"


def test_conditions_combinators(make_engine):
    text = '''
[[promotion]]
id = "p"
kind = "percent_off"
percent = "10"
conditions = [ { rule = "any", of = [ { rule = "member_tier", in = ["gold"] },
                                      { rule = "customer_tag", any = ["student"] } ] },
               { rule = "not", of = [ { rule = "region", in = ["CN-54"] } ] } ]
'''
    engine = make_engine(text)

    def reason(customer: dict[str, object]) -> str | None:
        return engine.evaluate(make_cart(("l1", "A", 1, "100.00"),
                                         customer=customer)).reason("p")

    assert reason({"tier": "gold", "region": "CN-31"}) is None
    assert reason({"tags": ["student"]}) is None
    assert reason({"tier": "silver"}) == "not_eligible:any"
    assert reason({"tier": "gold", "region": "CN-54"}) == "not_eligible:not"


def test_jpy_has_no_minor_unit(make_engine):
    text = 'currency = "JPY"\ntimezone = "Asia/Tokyo"\n' \
           '[[promotion]]\nid = "p"\nkind = "percent_off"\npercent = "5"\n'
    cart = Cart.from_json({"currency": "JPY", "now": "2026-11-11T10:00:00+09:00",
                           "lines": [{"id": "l1", "sku": "A", "quantity": 1,
                                      "unit_price": "1990"}]})
    result = make_engine(text).evaluate(cart)
    # 1990 × 5% = 99.5 → 100 yen.
    assert result.to_json()["total"] == "1890"


def test_result_json_is_deterministic_and_in_contract_shape(make_engine):
    engine = make_engine(MEMBER_AND_CROSS_SHOP)
    first = engine.evaluate(two_shop_cart()).to_json_text()
    assert first == engine.evaluate(two_shop_cart()).to_json_text()
    data = engine.evaluate(two_shop_cart()).to_json()
    assert list(data) == ["currency", "subtotal", "discount_total", "shipping_discount",
                          "shipping", "total", "balance_due", "lines", "applied",
                          "not_applied", "hints", "rewards", "gifts", "optimal"]
    assert data["applied"][1]["funding"] == {"platform": "70.00", "merchant": "30.00"}


def test_deposit_counts_toward_balance_due(make_engine):
    text = '[[promotion]]\nid = "p"\nkind = "amount_off"\namount = "10"\n'
    cart = make_cart(("l1", "A", 1, "100.00", {"deposit_paid": "20.00"}))
    result = make_engine(text).evaluate(cart)
    assert (result.total, result.balance_due) == (D("90.00"), D("70.00"))


def test_evaluate_accepts_json_and_rejects_bad_carts(make_engine):
    engine = make_engine('[[promotion]]\nid = "p"\nkind = "amount_off"\namount = "1"\n')
    cart = make_cart(("l1", "A", 1, "10.00"))
    assert engine.evaluate(cart.to_json()).total == engine.evaluate(cart).total == D("9.00")
    with pytest.raises(CartError, match=r"lines\[0\]\.quantity"):
        engine.evaluate({"currency": "CNY", "lines": [
            {"id": "l1", "sku": "A", "quantity": 0, "unit_price": "1.00"}]})


def test_engine_never_writes_to_the_store(make_engine):
    class ReadOnly(MemoryStore):
        reads = 0

        def read(self, keys):  # type: ignore[no-untyped-def]
            ReadOnly.reads += 1
            return super().read(keys)

        def add(self, key: str, amount: int = 1) -> int:
            raise AssertionError("evaluate wrote to the store")

        set = add  # type: ignore[assignment]

    engine = make_engine(FLASH.replace("windows", "limits = { stock = 5 }\n#"),
                         store=ReadOnly())
    engine.evaluate(make_cart(("l1", "BLENDER-1", 1, "299.00")))
    assert ReadOnly.reads == 1  # one batched read per evaluation


def test_money_never_goes_negative(make_engine):
    text = '''
[[promotion]]
id = "big"
kind = "amount_off"
amount = "500"

[[promotion]]
id = "coupon"
kind = "order_amount_off"
amount = "1000"
'''
    result = make_engine(text).evaluate(make_cart(("l1", "A", 2, "99.00")))
    assert result.total == Decimal("0.00")
    assert all(line.total >= 0 for line in result.lines)


def test_with_campaigns_reuses_the_compiled_index_of_an_unchanged_version(make_engine):
    engine = make_engine('[[promotion]]\nid = "p"\nkind = "amount_off"\namount = "1"\n')
    same = engine.with_campaigns(engine.campaigns)
    assert same.pricer.setup.compiled is engine.pricer.setup.compiled
    assert same.store is engine.store and same.registry is engine.registry


def test_a_threshold_that_adds_nothing_reports_its_own_reason_not_not_best(make_engine):
    # The flash price takes 399.00 to 99.00; 跨店滿300 then is below its threshold, and
    # 滿99包郵 (a later threshold) makes both earlier promotions "competing". Whichever
    # combination wins, the 滿減 that saves nothing is reported as below_threshold.
    text = FLASH.replace('windows = [ { from = "23:00", to = "02:00" } ]', "") + '''
[[promotion]]
id = "cross-300"
kind = "tiered_threshold"
stage = "platform"
tiers = [ { spend = "300", off = "50" } ]

[[promotion]]
id = "ship-99"
kind = "free_shipping"
threshold = "99"
'''
    cart = make_cart(("l1", "BLENDER-1", 1, "399.00"), shipping="10.00")
    result = make_engine(text).evaluate(cart)
    # 399 − 300 = 99.00; shipping free at 99 (at or above): total 99.00.
    assert result.total == D("99.00")
    assert result.reason("cross-300") == "below_threshold"


def test_combinator_messages_say_what_would_qualify(make_engine):
    text = '''
[[promotion]]
id = "p"
kind = "percent_off"
percent = "10"
conditions = [ { rule = "any", of = [ { rule = "member_tier", in = ["gold"] },
                                      { rule = "min_spend", amount = "200" } ] } ]
'''
    result = make_engine(text).evaluate(make_cart(("l1", "A", 1, "100.00"),
                                                  customer={"tier": "silver"}))
    [item] = result.not_applied
    assert item.reason == "not_eligible:any"
    assert item.message == ("needs one of: only for members of tier gold; "
                            "or spend at least ¥200.00 on eligible items")


@pytest.mark.parametrize("bad", ["not json", "[]", '{"currency": "CNY"}'])
def test_reading_back_something_that_is_not_a_result_is_a_clear_error(bad):
    from promokit import PriceResult

    with pytest.raises(CartError, match="not a priced result"):
        PriceResult.from_json(bad)


def test_messages_and_hints_in_chinese(make_engine):
    engine = make_engine(MEMBER_AND_CROSS_SHOP)
    cart = make_cart(("l1", "SHOE-1", 1, "199.00", {"shop": "s1"}),
                     ("l2", "SHIRT-1", 1, "129.90", {"shop": "s2"}),
                     customer={"id": "c1", "tier": "silver"}, codes=["NOPE"])
    result = engine.evaluate(cart, lang="zh-CN")
    # Same hint as in English: 171.10 more saves 50.00.
    [hint] = result.hints
    assert hint.message == "再买¥171.10可减¥50.00"
    assert [c.message for c in result.rejected_codes] == ["优惠码无效"]
    english = engine.evaluate(cart)
    assert english.hints[0].message == "Add ¥171.10 more to save ¥50.00"
    assert english.total == result.total


def test_an_unknown_language_is_a_clear_error(make_engine):
    engine = make_engine(EVERY_300)
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        engine.evaluate(make_cart(("l1", "TV-1", 1, "100.00")), lang="fr")


def test_built_in_kinds_explain_themselves_in_chinese(make_engine):
    # 100.00 of 每滿300: below the threshold; free shipping from 99 is met.
    result = make_engine(EVERY_300).evaluate(make_cart(("l1", "TV-1", 1, "100.00")),
                                             lang="zh-CN")
    assert result.not_applied[0].message == "参与商品需满¥300.00，目前¥100.00"


def test_the_index_names_the_lines_each_candidate_may_touch(make_engine):
    engine = make_engine('''
[[promotion]]
id = "tea"
kind = "percent_off"
percent = "10"
scope = { categories = ["tea"], brands = ["OOLONG-CO"] }

[[promotion]]
id = "bundle"
kind = "bundle_price"
price = "50.00"
components = [ { scope = { skus = ["CUP"] }, quantity = 1 },
               { scope = { skus = ["POT"] }, quantity = 1 } ]

[[promotion]]
id = "everything"
kind = "amount_off"
amount = "1"

[[promotion]]
id = "coded"
kind = "amount_off"
amount = "2"
codes = ["VIP"]
scope = { skus = ["NOWHERE"] }
''')
    cart = make_cart(("l1", "CUP", 1, "20.00"),
                     ("l2", "LEAF", 1, "80.00", {"category": "tea/green"}),
                     ("l3", "POT", 1, "60.00"), codes=["VIP"])
    found = {p.id: lines for p, lines in engine.pricer.setup.compiled.candidates(cart)}
    # tea is indexed by brand (the more selective dimension) and no line has the brand.
    assert found == {"bundle": (0, 2), "everything": (0, 1, 2), "coded": (0, 1, 2)}
    result = engine.evaluate(cart)
    # CUP 20.00 + POT 60.00 = 80.00 → bundle 50.00 (30.00 off); 1.00 off each line.
    assert result.total == D("127.00")
