"""Invariants of evaluation, over generated campaigns and carts (hypothesis).

- line allocations add up, nothing is negative, totals reconcile, funding
  shares add up to each adjustment;
- results are deterministic, byte for byte;
- the best deal saves at least as much as every combination the stacking
  rules allow (checked against brute force over all of them).
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promokit import Cart, Engine
from promokit.loading import parse_campaigns
from promokit.pricing.search import _run, conflicts
from promokit.registry import Registry

REGISTRY = Registry.default(load_entry_points=False)
SKUS = ["A", "B", "C", "D"]
SHOPS = ["s1", "s2"]

def _fmt(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


# Shop-like round amounts make carts land near thresholds, where stacking matters.
ROUND = [1000, 2990, 5000, 9900, 10000, 12000, 15000, 19900, 20000, 29900, 30000, 50000]
money = st.one_of(st.sampled_from(ROUND), st.integers(min_value=1, max_value=50000)).map(_fmt)
threshold = st.one_of(st.sampled_from([10000, 20000, 30000, 50000, 100000]),
                      st.integers(100, 100000))


@st.composite
def promotions(draw: st.DrawFn, index: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(["percent_off", "amount_off", "fixed_price", "order_amount_off",
                                 "tiered_threshold", "tiered_every", "free_shipping"]))
    promo: dict[str, Any] = {"id": f"p{index}", "kind": kind}
    if kind == "percent_off":
        promo["percent"] = str(draw(st.sampled_from([5, 10, 20, 50]) | st.integers(1, 50)))
        if draw(st.booleans()):
            promo["max_off"] = draw(money)
    elif kind == "amount_off":
        promo["amount"] = _fmt(draw(st.integers(1, 5000)))
    elif kind == "fixed_price":
        promo["price"] = _fmt(draw(st.integers(0, 20000)))
    elif kind == "order_amount_off":
        promo["amount"] = _fmt(draw(st.integers(1, 10000)))
    elif kind == "tiered_threshold":
        spends = sorted(set(draw(st.lists(threshold, min_size=1, max_size=3))))
        offs = sorted(draw(st.lists(st.integers(1, 100), min_size=len(spends),
                                    max_size=len(spends), unique=True)))
        promo["tiers"] = [{"spend": _fmt(s), "off": _fmt(min(o * 100, s))}
                          for s, o in zip(spends, offs, strict=True)]
        if len({t["off"] for t in promo["tiers"]}) != len(spends):
            promo["tiers"] = promo["tiers"][:1]
    elif kind == "tiered_every":
        promo["kind"] = "tiered_threshold"
        spend = draw(st.one_of(st.sampled_from([10000, 20000, 30000]), st.integers(1000, 50000)))
        promo["tiers"] = [{"spend": _fmt(spend), "off": _fmt(draw(st.integers(1, spend)))}]
        promo["every"] = True
        if draw(st.booleans()):
            promo["cap"] = _fmt(draw(st.integers(1, 30000)))
    else:
        if draw(st.booleans()):
            promo["threshold"] = _fmt(draw(threshold))
    if promo["kind"] in ("tiered_threshold", "order_amount_off"):
        promo["stage"] = draw(st.sampled_from(["shop", "platform"]))
    if draw(st.booleans()):
        promo["scope"] = {"skus": sorted(draw(st.sets(st.sampled_from(SKUS), min_size=1)))}
    if draw(st.integers(0, 4)) == 0:
        promo["exclusive"] = True
    if draw(st.integers(0, 2)) == 0:
        promo["group"] = draw(st.sampled_from(["g1", "g2"]))
    if draw(st.booleans()):
        promo["priority"] = draw(st.integers(0, 3))
    if draw(st.integers(0, 5)) == 0:
        promo["limits"] = {"per_order_units": draw(st.integers(1, 3))}
    return promo


@st.composite
def scenarios(draw: st.DrawFn, max_promotions: int = 6) -> tuple[dict[str, Any], dict[str, Any]]:
    count = draw(st.integers(1, max_promotions))
    campaign = {"currency": "CNY", "timezone": "Asia/Shanghai",
                "promotion": [draw(promotions(i)) for i in range(count)]}
    lines = [{"id": f"l{i}", "sku": draw(st.sampled_from(SKUS)),
              "quantity": draw(st.integers(1, 3)), "unit_price": draw(money),
              "shop": draw(st.sampled_from(SHOPS))}
             for i in range(draw(st.integers(1, 4)))]
    cart = {"currency": "CNY", "now": "2026-11-11T10:00:00+08:00", "lines": lines,
            "shipping": _fmt(draw(st.integers(0, 2000)))}
    return campaign, cart


def build(campaign: dict[str, Any], **options: Any) -> Engine:
    # Round-trip through TOML-equivalent parsing: parse_campaigns takes the dict form.
    return Engine(parse_campaigns(campaign, REGISTRY), registry=REGISTRY, **options)


def cents(value: Decimal) -> int:
    return int(value * 100)


SETTINGS = settings(max_examples=400, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(scenarios())
def test_amounts_reconcile_and_nothing_is_negative(scenario: tuple[dict, dict]) -> None:
    campaign, cart_json = scenario
    result = build(campaign).evaluate(Cart.from_json(cart_json))
    line_discounts = 0
    for line in result.lines:
        assert all(d.amount > 0 for d in line.discounts)
        assert line.total >= 0
        assert line.subtotal - line.discount == line.total
        line_discounts += cents(line.discount)
    assert cents(result.subtotal) == sum(cents(line.subtotal) for line in result.lines)
    assert cents(result.discount_total) == line_discounts + cents(result.shipping_discount)
    assert cents(result.total) == sum(cents(line.total) for line in result.lines) + cents(
        result.shipping)
    assert result.shipping >= 0 and result.total >= 0
    assert cents(result.discount_total) == sum(cents(a.amount) for a in result.applied)
    for applied in result.applied:
        assert sum(share for _, share in applied.funding) == applied.amount
        per_line = sum(d.amount for line in result.lines for d in line.discounts
                       if d.promotion == applied.promotion)
        assert per_line <= applied.amount  # the rest, if any, is shipping
    applied_ids = {a.promotion for a in result.applied}
    assert applied_ids.isdisjoint(n.promotion for n in result.not_applied)


@SETTINGS
@given(scenarios())
def test_results_are_deterministic(scenario: tuple[dict, dict]) -> None:
    campaign, cart_json = scenario
    first = build(campaign).evaluate(Cart.from_json(cart_json)).to_json_text()
    second = build(campaign).evaluate(Cart.from_json(cart_json)).to_json_text()
    assert first == second


def brute_force_best(engine: Engine, cart: Cart) -> int:
    """The most any combination the stacking rules allow saves, trying them all."""
    ctx, start, units, _ = engine.pricer.prepare(cart)
    clashes = conflicts(units)
    best = 0
    numbers = [unit.number for unit in units]
    for size in range(len(numbers) + 1):
        for combo in itertools.combinations(numbers, size):
            chosen = set(combo)
            if any(clashes[n] & chosen for n in chosen):
                continue
            best = max(best, _run(ctx, start, units, chosen).saving)
    return best


@SETTINGS
@given(scenarios(max_promotions=5))
def test_best_deal_equals_brute_force_over_every_allowed_combination(
        scenario: tuple[dict, dict]) -> None:
    campaign, cart_json = scenario
    engine = build(campaign)
    cart = Cart.from_json(cart_json)
    result = engine.evaluate(cart)
    assert result.optimal
    assert cents(result.discount_total) == brute_force_best(engine, cart)


@SETTINGS
@given(scenarios(max_promotions=5))
def test_beyond_the_exact_limit_the_fallback_is_valid_and_says_so(
        scenario: tuple[dict, dict]) -> None:
    campaign, cart_json = scenario
    engine = build(campaign, exact_limit=0)
    cart = Cart.from_json(cart_json)
    result = engine.evaluate(cart)
    assert cents(result.discount_total) <= brute_force_best(engine, cart)
    _, _, units, _ = engine.pricer.prepare(cart)
    from promokit.pricing.search import competing
    ctx = engine.pricer.context(cart)
    contested = competing(ctx, units, conflicts(units))
    assert result.optimal is (not contested)


def test_a_known_hard_case_for_the_fallback_is_reported_not_optimal() -> None:
    campaign = {"currency": "CNY", "promotion": [
        {"id": "pct", "kind": "percent_off", "percent": "5"},
        {"id": "t300", "kind": "tiered_threshold", "tiers": [{"spend": "300", "off": "50"}]},
    ]}
    cart = Cart.from_json({"currency": "CNY", "now": "2026-11-11T10:00:00+08:00", "lines": [
        {"id": "l1", "sku": "A", "quantity": 1, "unit_price": "300.00"}]})
    exact = build(campaign).evaluate(cart)
    assert exact.optimal and exact.discount_total == Decimal("50.00")
    fallback = build(campaign, exact_limit=0).evaluate(cart)
    assert fallback.optimal is False
    assert fallback.discount_total <= exact.discount_total


@SETTINGS
@given(scenarios())
def test_results_round_trip_through_json(scenario: tuple[dict, dict]) -> None:
    from promokit import PriceResult

    campaign, cart_json = scenario
    result = build(campaign).evaluate(Cart.from_json(cart_json))
    assert PriceResult.from_json(result.to_json()) == result
    assert PriceResult.from_json(result.to_json_text()) == result
