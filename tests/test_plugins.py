"""The plugin manager: built-ins, entry points, blocking, clashes, hook errors."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from typing import Any

import pytest
from conftest import make_cart

from promokit import Engine, PluginError, hookimpl, make_plugin_manager
from promokit._plugins import BUILTIN_PLUGINS, DISABLE_AUTOLOAD_ENV
from promokit.errors import ConfigError
from promokit.kinds import Application, DiscountKind, PerLine
from promokit.loading import parse_campaigns
from promokit.params import Params
from promokit.registry import Registry

THIRD_PARTY = '''
currency = "CNY"
timezone = "Asia/Shanghai"

[[promotion]]
id = "pct-3"
kind = "percent_off"
percent = "3"

[[promotion]]
id = "round"
kind = "round_down"
conditions = [ { rule = "weekday", in = [3] } ]
'''


def test_third_party_kind_and_condition_found_through_the_entry_point() -> None:
    registry = Registry.default()
    assert registry.origins[("kind", "round_down")] == "testplugin"
    assert registry.origins[("condition", "weekday")] == "testplugin"
    engine = Engine(parse_campaigns(tomllib.loads(THIRD_PARTY), registry), registry=registry)
    # 2026-11-11 is a Wednesday (ISO weekday 3). 3% of 123.45 = 3.7035 → 3.70 → 119.75;
    # round_down at the platform stage takes the 0.75 off: 119.00.
    result = engine.evaluate(make_cart(("l1", "A", 1, "123.45")))
    assert [(a.promotion, a.amount) for a in result.applied] == [
        ("pct-3", Decimal("3.70")), ("round", Decimal("0.75"))]
    assert result.total == Decimal("119.00")
    thursday = make_cart(("l1", "A", 1, "123.45"), now="2026-11-12T10:00:00+08:00")
    assert engine.evaluate(thursday).reason("round") == "not_eligible:weekday"


def test_third_party_guard_blocks_with_its_name() -> None:
    registry = Registry.default()
    engine = Engine(parse_campaigns(tomllib.loads(THIRD_PARTY), registry), registry=registry)
    cart = make_cart(("l1", "CIG-1", 1, "30.00", {"tags": ["tobacco"]}))
    result = engine.evaluate(cart)
    assert result.reason("pct-3") == "guard:no_tobacco"
    assert result.total == Decimal("30.00")


def test_blocked_plugins_are_not_registered() -> None:
    registry = Registry.default(blocked=["testplugin", "promokit.plugins.kinds.percent_off"])
    assert "round_down" not in registry.kinds and "percent_off" not in registry.kinds
    assert "amount_off" in registry.kinds
    with pytest.raises(ConfigError) as caught:
        parse_campaigns(tomllib.loads(THIRD_PARTY), registry)
    messages = [str(p) for p in caught.value.problems]
    assert any(m.startswith("promotion[0].kind: unknown kind 'percent_off'") for m in messages)
    assert any(m.startswith("promotion[1].kind: unknown kind 'round_down'") for m in messages)


def test_entry_points_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "round_down" not in Registry.default(load_entry_points=False).kinds
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")
    assert "round_down" not in Registry.default().kinds


def test_built_ins_are_registered_like_plugins() -> None:
    pm = make_plugin_manager(load_entry_points=False)
    assert [name for name in BUILTIN_PLUGINS if pm.get_plugin(name) is None] == []


class DuplicatePercentOff(DiscountKind):
    name = "percent_off"

    def parse(self, params: Params) -> None:
        return None


class Clash:
    @hookimpl
    def promokit_register_kinds(self) -> list[DiscountKind]:
        return [DuplicatePercentOff()]


def test_a_kind_declared_twice_names_both_plugins() -> None:
    pm = make_plugin_manager([Clash()], load_entry_points=False)
    with pytest.raises(PluginError) as caught:
        Registry.from_plugin_manager(pm)
    assert "'percent_off' is declared by two plugins" in str(caught.value)
    assert "promokit.plugins.kinds.percent_off" in str(caught.value)
    assert caught.value.plugin_name is not None


def test_a_misspelt_hook_fails_at_start_up() -> None:
    class Typo:
        @hookimpl
        def promokit_register_kind(self) -> list[DiscountKind]:
            return []

    with pytest.raises(PluginError, match="promokit_register_kind"):
        make_plugin_manager([Typo()], load_entry_points=False)


def test_an_exception_in_a_registration_hook_names_the_plugin_and_hook() -> None:
    class Broken:
        @hookimpl
        def promokit_register_conditions(self) -> list[Any]:
            raise RuntimeError("boom")

    pm = make_plugin_manager([Broken()], load_entry_points=False)
    with pytest.raises(PluginError) as caught:
        Registry.from_plugin_manager(pm)
    assert caught.value.hook == "promokit_register_conditions"
    assert "boom" in str(caught.value)


def test_a_registration_hook_returning_the_wrong_type_is_refused() -> None:
    class Wrong:
        @hookimpl
        def promokit_register_guards(self) -> list[Any]:
            return ["not a guard"]

    with pytest.raises(PluginError, match="expected Guard instances"):
        Registry.from_plugin_manager(make_plugin_manager([Wrong()], load_entry_points=False))


class Negative(DiscountKind):
    name = "negative"

    def parse(self, params: Params) -> None:
        return None

    def compute(self, params: None, app: Application) -> PerLine:
        return PerLine(-100 for _ in app.lines)


class Declares:
    @hookimpl
    def promokit_register_kinds(self) -> list[DiscountKind]:
        return [Negative()]


def test_a_kind_proposing_a_negative_amount_is_a_plugin_error() -> None:
    registry = Registry.default([Declares()], load_entry_points=False)
    text = 'currency = "CNY"\n[[promotion]]\nid = "n"\nkind = "negative"\n'
    engine = Engine(parse_campaigns(tomllib.loads(text), registry), registry=registry)
    with pytest.raises(PluginError, match="proposed -100"):
        engine.evaluate(make_cart(("l1", "A", 1, "10.00")))


def test_evaluated_hook_sees_every_result() -> None:
    seen: list[Any] = []

    class Observer:
        @hookimpl
        def promokit_evaluated(self, result: Any) -> None:  # fewer args than the spec
            seen.append(result.total)

    registry = Registry.default([Observer()], load_entry_points=False)
    text = 'currency = "CNY"\n[[promotion]]\nid = "p"\nkind = "amount_off"\namount = "1"\n'
    engine = Engine(parse_campaigns(tomllib.loads(text), registry), registry=registry)
    engine.evaluate(make_cart(("l1", "A", 1, "10.00")))
    assert seen == [Decimal("9.00")]


def test_evaluated_hook_errors_name_the_plugin() -> None:
    class Failing:
        @hookimpl
        def promokit_evaluated(self) -> None:
            raise ValueError("metrics down")

    registry = Registry.default([Failing()], load_entry_points=False)
    text = 'currency = "CNY"\n[[promotion]]\nid = "p"\nkind = "amount_off"\namount = "1"\n'
    engine = Engine(parse_campaigns(tomllib.loads(text), registry), registry=registry)
    with pytest.raises(PluginError) as caught:
        engine.evaluate(make_cart(("l1", "A", 1, "10.00")))
    assert caught.value.hook == "promokit_evaluated"


def test_a_plugin_that_fails_to_import_is_a_plugin_error_naming_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata as metadata

    broken = metadata.EntryPoint(name="broken", value="promokit_no_such_module",
                                 group="promokit")
    real = metadata.entry_points

    def entry_points(**params: Any) -> Any:
        found = real(**params)
        if params.get("group") == "promokit":
            return metadata.EntryPoints([*found, broken])
        return found

    def load_setuptools_entrypoints(self: Any, group: str, name: str | None = None) -> int:
        broken.load()  # what pluggy does for each entry point of the group
        return 0

    monkeypatch.setattr(metadata, "entry_points", entry_points)
    monkeypatch.setattr("pluggy.PluginManager.load_setuptools_entrypoints",
                        load_setuptools_entrypoints)
    with pytest.raises(PluginError) as caught:
        make_plugin_manager()
    assert caught.value.plugin_name == "broken"
    assert "block it by name" in str(caught.value)
