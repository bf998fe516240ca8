"""promokit.testing: the helpers, the fixtures, and the contract checkers run
against every built-in kind and condition and the test plugin's."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs
import promokit_testplugin
import pytest

from promokit import Cart, ConfigError, Engine, MemoryStore
from promokit.conditions import ConditionContext, ConditionType
from promokit.kinds import Application, DiscountKind, NoDeal, Outcome, PerLine, Total
from promokit.params import Params
from promokit.registry import Registry
from promokit.testing import (
    DEFAULT_NOW,
    CartFactory,
    EngineFactory,
    campaigns_from_toml,
    cart,
    check_condition,
    check_kind,
    engine_from_toml,
    is_reason_code,
    registry_with,
)
from promokit.text import Text

BUILTINS = Registry.default(load_entry_points=False)

# -- every built-in kind keeps the contract ------------------------------------------

#: kind → (params table, carts); the first cart of each makes the kind apply.
KIND_CASES: dict[str, tuple[str, list[Cart]]] = {
    "percent_off": ('percent = "5"\nmax_off = "20"\nscope = { categories = ["apparel"] }', [
        cart(("l1", "TEE-1", 3, "19.90", {"category": "apparel/tops"})),
        cart(("l1", "COAT-1", 2, "300.00", {"category": "apparel/coats"}),
             ("l2", "PAN-1", 1, "80.00", {"category": "home"}), shipping="10.00"),
        cart(("l1", "PAN-1", 1, "80.00", {"category": "home"})),
    ]),
    "amount_off": ('amount = "20"\nscope = { skus = ["MUG-1"] }', [
        cart(("l1", "MUG-1", 2, "99.00")),
        cart(("l1", "MUG-1", 3, "15.00"), ("l2", "CUP-1", 1, "30.00")),
        cart(("l1", "CUP-1", 1, "30.00")),
    ]),
    "fixed_price": ('price = "99.00"\nscope = { skus = ["BLENDER-1"] }\n'
                    "limits = { stock = 500, per_order_units = 1 }", [
        cart(("l1", "BLENDER-1", 2, "399.00")),
        cart(("l1", "BLENDER-1", 1, "89.00")),
    ]),
    "member_price": ('percent_by_tier = { gold = "5", platinum = "8" }', [
        cart(("l1", "A", 2, "59.90"), customer={"tier": "gold"}),
        cart(("l1", "A", 1, "0.10"), ("l2", "B", 3, "33.33"), customer={"tier": "platinum"}),
        cart(("l1", "A", 2, "59.90"), customer={"tier": "silver"}),
        cart(("l1", "A", 2, "59.90")),
    ]),
    "order_amount_off": ('amount = "20"\nstage = "platform"', [
        cart(("l1", "A", 1, "100.00", {"shop": "s1"}), ("l2", "B", 1, "50.00", {"shop": "s2"})),
        cart(("l1", "A", 1, "10.00")),
    ]),
    "tiered_threshold": ('tiers = [ { spend = "300", off = "50" }, '
                         '{ spend = "500", off = "100" } ]', [
        cart(("l1", "A", 1, "420.00", {"shop": "s1"})),
        cart(("l1", "A", 2, "260.00", {"shop": "s1"}), ("l2", "B", 1, "299.00", {"shop": "s2"})),
        cart(("l1", "A", 1, "299.00", {"shop": "s1"})),
    ]),
    "free_shipping": ('threshold = "99"', [
        cart(("l1", "A", 1, "120.00"), shipping="10.00"),
        cart(("l1", "A", 1, "60.00"), shipping="10.00"),
        cart(("l1", "A", 1, "120.00")),
    ]),
    "nth_item": ('n = 2\npercent = "50"\nscope = { skus = ["TEE-1", "TEE-2"] }', [
        cart(("l1", "TEE-1", 2, "100.00"), ("l2", "TEE-2", 1, "60.00")),
        cart(("l1", "TEE-1", 1, "100.00"), ("l2", "TEE-2", 1, "60.00")),
        cart(("l1", "TEE-1", 1, "100.00")),
    ]),
    "buy_x_get_y": ('buy = 2\nget = 1\nscope = { categories = ["snacks"] }', [
        cart(("l1", "A", 2, "100.00", {"category": "snacks"}),
             ("l2", "B", 1, "60.00", {"category": "snacks"})),
        cart(("l1", "A", 4, "100.00", {"category": "snacks"}),
             ("l2", "B", 1, "60.00", {"category": "snacks"}),
             ("l3", "C", 2, "30.00", {"category": "snacks"})),
        cart(("l1", "A", 2, "100.00", {"category": "snacks"})),
    ]),
    "bundle_price": ('price = "4599"\n'
                     'components = [ { sku = "PHONE-1" }, { sku = "BUDS-1", quantity = 1 } ]', [
        cart(("l1", "PHONE-1", 2, "3999.00"), ("l2", "BUDS-1", 3, "999.00")),
        cart(("l1", "PHONE-1", 1, "3999.00")),
        cart(("l1", "PHONE-1", 1, "3500.00"), ("l2", "BUDS-1", 1, "999.00")),
    ]),
    "quantity_tiered": ('tiers = [ { quantity = 2, percent = "10" }, '
                        '{ quantity = 3, percent = "20" } ]', [
        cart(("l1", "A", 2, "59.90"), ("l2", "B", 1, "39.90")),
        cart(("l1", "A", 2, "59.90")),
        cart(("l1", "A", 1, "59.90")),
    ]),
    "gift": ('threshold = "199"\n'
             'gift = { sku = "CUP-1", name = "保溫杯", quantity = 1, value = "59" }\n'
             "limits = { stock = 1000 }", [
        cart(("l1", "A", 1, "229.00")),
        cart(("l1", "A", 1, "150.00")),
    ]),
    "deposit_multiplier": ('multiplier = "2"\ncap = "50"', [
        cart(("l1", "TV-1", 1, "599.00", {"deposit_paid": "100.00"})),
        cart(("l1", "TV-1", 1, "120.00", {"deposit_paid": "100.00"}), ("l2", "A", 1, "9.99")),
        cart(("l1", "A", 1, "9.99")),
    ]),
    "points_multiplier": ('points_per_unit = "1"\nmultiplier = 2', [
        cart(("l1", "A", 1, "356.50")),
        cart(("l1", "A", 3, "0.33"), shipping="8.00"),
    ]),
}


@pytest.mark.parametrize("name", sorted(BUILTINS.kinds))
def test_every_builtin_kind_keeps_the_contract(name: str) -> None:
    assert name in KIND_CASES, f"add a contract case for the built-in kind {name!r}"
    params, carts = KIND_CASES[name]
    check_kind(BUILTINS.kinds[name], params, carts)


def test_the_cases_make_each_kind_apply_on_their_first_cart() -> None:
    for name, (params, carts) in KIND_CASES.items():
        engine = engine_from_toml(f'[[promotion]]\nid = "p"\nkind = "{name}"\n{params}')
        assert [a.promotion for a in engine.evaluate(carts[0]).applied] == ["p"], name


def test_a_plugin_kind_keeps_the_contract() -> None:
    round_down = registry_with(promokit_testplugin).kinds["round_down"]
    check_kind(round_down, "", [cart(("l1", "A", 1, "99.90")),
                                cart(("l1", "A", 3, "33.33"), ("l2", "B", 1, "0.02")),
                                cart(("l1", "A", 1, "100.00"))],
               plugins=[promokit_testplugin])
    check_kind(round_down, 'unit = "10"', [cart(("l1", "A", 1, "99.90"))],
               plugins=[promokit_testplugin])


# -- every built-in condition keeps the contract ---------------------------------------

#: condition → (params table, a cart it holds for, a cart it fails for).
CONDITION_CASES: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "member_tier": ('in = ["gold", "platinum"]', {"customer": {"tier": "gold"}},
                    {"customer": {"tier": "silver"}}),
    "new_customer": ("", {"customer": {"orders_count": 0}}, {"customer": {"orders_count": 3}}),
    "dormant": ("days = 90", {"customer": {"last_order_at": "2026-05-01T10:00:00+08:00"}},
                {"customer": {"last_order_at": "2026-11-01T10:00:00+08:00"}}),
    "customer_tag": ('any = ["student"]', {"customer": {"tags": ["student"]}}, {}),
    "region": ('in = ["CN-31"]', {"customer": {"region": "CN-31-01"}},
               {"customer": {"region": "CN-11"}}),
    "channel": ('in = ["app"]', {"channel": "app"}, {"channel": "web"}),
    "birthday": ("within_days = 3", {"customer": {"birthday": "1990-11-13"}},
                 {"customer": {"birthday": "1990-05-01"}}),
    "min_spend": ('amount = "100"', {"lines": [{"id": "l1", "sku": "A", "quantity": 2,
                                                "unit_price": "60.00"}]}, {}),
    "min_quantity": ("quantity = 3", {"lines": [{"id": "l1", "sku": "A", "quantity": 3,
                                                 "unit_price": "20.00"}]}, {}),
}


def _condition_carts(*fields: dict[str, Any]) -> list[Cart]:
    return [cart(("l1", "A", 1, "50.00"), **more) for more in fields]


@pytest.mark.parametrize("name", sorted(BUILTINS.conditions))
def test_every_builtin_condition_keeps_the_contract(name: str) -> None:
    assert name in CONDITION_CASES, f"add a contract case for the built-in condition {name!r}"
    params, holds, fails = CONDITION_CASES[name]
    check_condition(BUILTINS.conditions[name], params, _condition_carts(holds, fails))


def test_a_plugin_condition_keeps_the_contract() -> None:
    weekday = registry_with(promokit_testplugin).conditions["weekday"]
    # DEFAULT_NOW, 2026-11-11, is a Wednesday (3).
    check_condition(weekday, "in = [3]", [cart(("l1", "A", 1, "50.00")),
                                          cart(("l1", "A", 1, "50.00"),
                                               now="2026-11-14T10:00:00+08:00")],
                    plugins=[promokit_testplugin])


# -- what the checkers catch ---------------------------------------------------------


class _Kind(DiscountKind):
    """A well-behaved kind to break one way at a time: 1.00 off each line."""

    name = "one_off"
    default_stage = "item"

    def parse(self, params: Params) -> None:
        return None

    def compute(self, params: None, app: Application) -> Outcome:
        return PerLine([100] * len(app.lines))

    def describe(self, params: None, text: Text) -> str:
        return text.pick("¥1.00 off each line", "每行減¥1.00")


CARTS = [cart(("l1", "A", 1, "50.00"), ("l2", "B", 2, "30.00"))]


def test_a_well_behaved_kind_passes_without_being_registered_by_a_plugin() -> None:
    check_kind(_Kind(), "", CARTS)


def test_a_per_line_outcome_of_the_wrong_length_fails_naming_kind_cart_and_invariant() -> None:
    class TooMany(_Kind):
        def compute(self, params: None, app: Application) -> Outcome:
            return PerLine([100] * (len(app.lines) + 1))

    with pytest.raises(AssertionError, match=r"kind 'one_off', cart\[0\] \(A×1 at 50\.00, "
                                             r"B×2 at 30\.00\), en: compute returned PerLine "
                                             r"with 3 amounts for 2 lines"):
        check_kind(TooMany(), "", CARTS)


def test_an_empty_description_fails() -> None:
    class Mute(_Kind):
        def describe(self, params: None, text: Text) -> str:
            return ""

    with pytest.raises(AssertionError, match=r"kind 'one_off': describe\(params, text\) in en "
                                             r"must be a non-empty string, got ''"):
        check_kind(Mute(), "", CARTS)


def test_a_description_in_one_language_only_fails() -> None:
    class EnglishOnly(_Kind):
        def describe(self, params: None, text: Text) -> str:
            return "" if text.zh else "¥1.00 off"

    with pytest.raises(AssertionError, match=r"describe\(params, text\) in zh-CN"):
        check_kind(EnglishOnly(), "", CARTS)


def test_an_impure_compute_fails() -> None:
    @attrs.define
    class Drifting(_Kind):
        calls: int = 0

        def compute(self, params: None, app: Application) -> Outcome:
            self.calls += 1
            return Total(self.calls)

    with pytest.raises(AssertionError, match="compute is not pure: the same application gave "
                                             r"Total\(amount=1\), then Total\(amount=2\)"):
        check_kind(Drifting(), "", CARTS)


def test_an_unstable_reason_code_fails() -> None:
    class Grumpy(_Kind):
        def compute(self, params: None, app: Application) -> Outcome:
            return NoDeal("too_cheap", "not today")

    with pytest.raises(AssertionError, match="NoDeal reason 'too_cheap', which is not a stable "
                                             "reason code"):
        check_kind(Grumpy(), "", CARTS)


def test_a_no_deal_without_a_message_fails() -> None:
    class Silent(_Kind):
        def precheck(self, params: None, app: Application) -> NoDeal | None:
            return NoDeal("below_threshold", " ")

    with pytest.raises(AssertionError, match=r"precheck returned NoDeal\('below_threshold'\) "
                                             "without a message"):
        check_kind(Silent(), "", CARTS)


def test_a_negative_amount_fails() -> None:
    class Surcharge(_Kind):
        def compute(self, params: None, app: Application) -> Outcome:
            return Total(-100)

    with pytest.raises(AssertionError, match=r"compute returned Total\(amount=-100\); the "
                                             "amount is whole minor units >= 0"):
        check_kind(Surcharge(), "", CARTS)


def test_a_kind_that_raises_fails_with_the_kernels_message() -> None:
    class Broken(_Kind):
        def compute(self, params: None, app: Application) -> Outcome:
            raise ZeroDivisionError("oops")

    with pytest.raises(AssertionError, match=r"the kernel rejected it: kind 'one_off' raised "
                                             "computing promotion 'under-test'"):
        check_kind(Broken(), "", CARTS)


def test_bad_class_attributes_fail() -> None:
    class Nameless(_Kind):
        name = ""

    class Nowhere(_Kind):
        default_stage = "checkout"  # type: ignore[assignment]  # the mistake under test

    with pytest.raises(AssertionError, match="name must be a non-empty string, got ''"):
        check_kind(Nameless(), "", CARTS)
    with pytest.raises(AssertionError, match="default_stage 'checkout' is not one of item, "):
        check_kind(Nowhere(), "", CARTS)


def test_carts_it_never_applies_to_fail_unless_allowed() -> None:
    with pytest.raises(AssertionError, match=r"none of the carts made promotion 'under-test' "
                                             r"apply \(cart\[0\] \(A×1 at 50\.00\): "
                                             "no line in scope\\)"):
        check_kind(_Kind(), 'scope = { skus = ["Z"] }', [cart(("l1", "A", 1, "50.00"))])
    check_kind(_Kind(), 'scope = { skus = ["Z"] }', [cart(("l1", "A", 1, "50.00"))],
               require_applied=False)


def test_params_that_do_not_load_fail_with_the_problems() -> None:
    with pytest.raises(AssertionError, match=r"(?s)kind 'percent_off': the params do not load: "
                                             r".*promotion\[0\]\.percent: must be in"):
        check_kind(BUILTINS.kinds["percent_off"], 'percent = "150"', CARTS)
    with pytest.raises(AssertionError, match="the params set kind = 'amount_off'"):
        check_kind(BUILTINS.kinds["percent_off"], 'kind = "amount_off"', CARTS)
    with pytest.raises(AssertionError, match="no carts to check"):
        check_kind(_Kind(), "", [])


class _Condition(ConditionType):
    name = "big_cart"
    uses_amounts = False

    def parse(self, params: Params) -> int | None:
        return params.integer("lines", minimum=1)

    def check(self, params: int, ctx: ConditionContext) -> bool:
        return len(ctx.lines) >= params

    def describe(self, params: int, text: Text) -> str:
        return text.pick(f"carts of {params} lines or more", f"購物車滿{params}行")


CONDITION_CARTS = [cart(("l1", "A", 1, "50.00"), ("l2", "B", 1, "5.00")),
                   cart(("l1", "A", 1, "50.00"))]


def test_a_well_behaved_condition_passes() -> None:
    check_condition(_Condition(), "lines = 2", CONDITION_CARTS)


def test_a_condition_that_does_not_answer_a_bool_fails() -> None:
    class Vague(_Condition):
        def check(self, params: int, ctx: ConditionContext) -> bool:
            return len(ctx.lines) if len(ctx.lines) >= params else 0  # type: ignore[return-value]

    with pytest.raises(AssertionError, match=r"condition 'big_cart', cart\[0\] .*: check "
                                             "returned 2, not a bool"):
        check_condition(Vague(), "lines = 2", CONDITION_CARTS)


def test_a_condition_without_words_fails() -> None:
    class Mute(_Condition):
        def describe(self, params: int, text: Text) -> str:
            return ""

    class Blank(_Condition):
        def message(self, params: int) -> str:
            return ""

    with pytest.raises(AssertionError, match=r"describe\(params, text\) in en must be a "
                                             "non-empty string"):
        check_condition(Mute(), "lines = 2", CONDITION_CARTS)
    with pytest.raises(AssertionError, match=r"message\(params\) must be a non-empty string"):
        check_condition(Blank(), "lines = 2", CONDITION_CARTS)


def test_a_condition_must_be_seen_holding_and_failing() -> None:
    with pytest.raises(AssertionError, match="give carts for which it holds .* and fails "
                                             r"\(not_eligible:big_cart\)"):
        check_condition(_Condition(), "lines = 2", CONDITION_CARTS[:1])
    check_condition(_Condition(), "lines = 2", CONDITION_CARTS[:1], require_both=False)


def test_reason_codes() -> None:
    assert is_reason_code("below_threshold")
    assert is_reason_code("not_eligible:member_tier")
    assert is_reason_code("excluded_by:d11-300-50")
    assert is_reason_code("guard:no_tobacco")
    assert not is_reason_code("not_eligible:")
    assert not is_reason_code("too_cheap")
    assert not is_reason_code("below_threshold:x")


# -- helpers ---------------------------------------------------------------------------


def test_campaigns_from_toml_adds_the_header_only_when_missing() -> None:
    body = '[[promotion]]\nid = "p"\nkind = "percent_off"\npercent = "10"\n'
    campaigns = campaigns_from_toml(body)
    assert (campaigns.currency.code, str(campaigns.timezone)) == ("CNY", "Asia/Shanghai")
    own = campaigns_from_toml('currency = "JPY"\ntimezone = "Asia/Tokyo"\n' + body)
    assert (own.currency.code, str(own.timezone)) == ("JPY", "Asia/Tokyo")
    assert campaigns_from_toml(body, currency="USD", timezone="UTC").currency.code == "USD"
    with pytest.raises(ConfigError, match="percent"):
        campaigns_from_toml(body.replace('"10"', '"-1"'))


def test_registries_leave_installed_plugins_out_unless_named() -> None:
    assert "round_down" in Registry.default().kinds  # installed in the test environment
    assert "round_down" not in registry_with().kinds
    assert "round_down" in registry_with(promokit_testplugin).kinds
    body = '[[promotion]]\nid = "p"\nkind = "round_down"\n'
    with pytest.raises(ConfigError, match="unknown kind 'round_down'"):
        campaigns_from_toml(body)
    engine = engine_from_toml(body, plugins=[promokit_testplugin])
    assert engine.evaluate(cart(("l1", "A", 1, "99.90"))).total == Decimal("99.00")


def test_engine_from_toml_options() -> None:
    store = MemoryStore()
    registry = registry_with()
    engine = engine_from_toml('[[promotion]]\nid = "p"\nkind = "amount_off"\namount = "1"',
                              store=store, lang="zh-CN", exact_limit=3, registry=registry)
    assert (engine.store, engine.lang, engine.exact_limit, engine.registry) == (
        store, "zh-CN", 3, registry)
    with pytest.raises(ValueError, match="plugins or a registry"):
        engine_from_toml("", plugins=[promokit_testplugin], registry=registry)


def test_cart_lines_fields_and_the_fixed_time() -> None:
    built = cart(("l1", "TEE-1", 2, "59.90", {"category": "apparel/tops", "tags": ["new"]}),
                 ("l2", "MUG-1", 1, Decimal("9.90")), shipping="10.00",
                 customer={"tier": "gold"})
    assert built.now == datetime.fromisoformat(DEFAULT_NOW)
    assert [(line.id, line.sku, line.quantity, line.unit_price) for line in built.lines] == [
        ("l1", "TEE-1", 2, Decimal("59.90")), ("l2", "MUG-1", 1, Decimal("9.90"))]
    assert (built.lines[0].category, built.lines[0].tags) == ("apparel/tops", frozenset({"new"}))
    assert (built.shipping, built.customer.tier, built.currency) == (
        Decimal("10.00"), "gold", "CNY")
    later = datetime.fromisoformat("2026-12-12T20:00:00+08:00")
    assert cart(("l1", "A", 1, "1"), now=later).now == later
    assert cart(("l1", "A", 1, "100"), currency="JPY").lines[0].unit_price == Decimal(100)


def test_importing_the_kit_needs_no_pytest() -> None:
    code = ("import sys; sys.modules['pytest'] = None\n"
            "import promokit.testing as t\n"
            "assert not hasattr(t, 'promokit_engine')\n"
            "print(t.cart(('l1', 'A', 1, '1.00')).lines[0].unit_price)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "1.00\n", "")


# -- the fixtures, registered through the pytest11 entry point ----------------------------


def test_fixtures(promokit_engine: EngineFactory, promokit_cart: CartFactory,
                  promokit_registry: Registry) -> None:
    assert "percent_off" in promokit_registry.kinds
    assert "round_down" not in promokit_registry.kinds
    engine = promokit_engine('[[promotion]]\nid = "r"\nkind = "round_down"',
                             plugins=[promokit_testplugin], lang="zh-CN")
    assert isinstance(engine, Engine)
    result = engine.evaluate(promokit_cart(("l1", "A", 1, "99.90")))
    assert (result.total, result.applied[0].promotion) == (Decimal("99.00"), "r")

