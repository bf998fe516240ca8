"""The best-deal search prices independent parts of a cart apart (hand-computed).

Units that share no line, promotion, budget, clash or shipping cannot change
one another's outcome, so the search weighs each part's competing units on
their own: the same answer as weighing every combination, in the sum of the
parts' combinations instead of their product."""

from __future__ import annotations

from collections.abc import Callable

from campaigns import HEADER
from conftest import D, make_cart

from promokit import Engine
from promokit.pricing.search import competing, conflicts, independent

# Three SKUs, each with two rival sales in one group (at most one per line):
# 3 × 3 × 3 = 27 combinations as one search, 3 + 3 + 3 as three.
RIVALS = HEADER + "".join(f'''
[[promotion]]
id = "{sku.lower()}-20"
kind = "percent_off"
percent = "20"
group = "{sku}"
scope = {{ skus = ["{sku}"] }}

[[promotion]]
id = "{sku.lower()}-off"
kind = "amount_off"
amount = "{amount}"
group = "{sku}"
scope = {{ skus = ["{sku}"] }}
''' for sku, amount in (("TEA", "30.00"), ("CUP", "5.00"), ("POT", "50.00")))

CART = (("l1", "TEA", 1, "100.00"), ("l2", "CUP", 2, "40.00"), ("l3", "POT", 1, "199.00"))

CART_WIDE = '''
[[promotion]]
id = "300-30"
kind = "tiered_threshold"
stage = "platform"
tiers = [ { spend = "300", off = "30" } ]
'''


def parts(engine: Engine, cart: object) -> list[list[str]]:
    ctx, _, units, _ = engine.pricer.prepare(make_cart(*CART) if cart is None else cart)
    clashes = conflicts(units)
    contested = competing(ctx, units, clashes)
    by_number = {unit.number: unit.promotion.id for unit in units}
    return [sorted(by_number[n] for n in part)
            for part in independent(units, clashes) if part & contested]


def test_rival_sales_on_separate_lines_are_weighed_apart(
        make_engine: Callable[..., Engine]) -> None:
    engine = make_engine(RIVALS)
    assert parts(engine, make_cart(*CART)) == [
        ["tea-20", "tea-off"], ["cup-20", "cup-off"], ["pot-20", "pot-off"]]
    result = engine.evaluate(make_cart(*CART))
    # TEA 100.00: 20% = 20.00 < 30.00 → tea-off. CUP 2 × 40.00 = 80.00: 20% = 16.00 >
    # 5.00 × 2 = 10.00 → cup-20. POT 199.00: 20% = 39.80 < 50.00 → pot-off.
    # 379.00 − 30.00 − 16.00 − 50.00 = 283.00.
    assert sorted(a.promotion for a in result.applied) == ["cup-20", "pot-off", "tea-off"]
    assert result.total == D("283.00") and result.optimal
    assert {n.promotion: n.reason for n in result.not_applied} == {
        "tea-20": "excluded_by:tea-off", "cup-off": "excluded_by:cup-20",
        "pot-20": "excluded_by:pot-off"}


def test_a_threshold_across_the_lines_joins_them_into_one_part(
        make_engine: Callable[..., Engine]) -> None:
    engine = make_engine(RIVALS + CART_WIDE)
    assert len(parts(engine, make_cart(*CART))) == 1
    result = engine.evaluate(make_cart(*CART))
    # Each line's best alone saves 30.00 + 16.00 + 50.00 = 96.00, leaving 283.00 < 300:
    # no 滿300減30. Keeping 300.00 allows at most 79.00 off the items; the most under
    # that is 20% everywhere, 20.00 + 16.00 + 39.80 = 75.80 (303.20 left), then 30.00:
    # 105.80 in all > 96.00. Total 379.00 − 105.80 = 273.20.
    assert sorted(a.promotion for a in result.applied) == [
        "300-30", "cup-20", "pot-20", "tea-20"]
    assert result.total == D("273.20") and result.optimal
