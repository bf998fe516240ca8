"""Every hook is documented (a docs section headed by its signature, with an
example) and exercised by a test; the public surface is pinned."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import promokit
from promokit import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS = sorted(name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)
               if name.startswith("promokit_"))


def test_there_are_hooks() -> None:
    assert HOOKS == ["promokit_alert", "promokit_evaluated", "promokit_game_event",
                     "promokit_order_event", "promokit_register_adapters",
                     "promokit_register_channel_profiles", "promokit_register_conditions",
                     "promokit_register_games", "promokit_register_guards",
                     "promokit_register_kinds", "promokit_register_sinks",
                     "promokit_register_stores"]


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_docstring_with_an_example(hook: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert "Called" in doc and "Example::" in doc


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_docs_section_headed_by_its_signature(hook: str) -> None:
    docs = (ROOT / "docs" / "hooks.md").read_text(encoding="utf-8")
    section = re.search(rf"^### `{hook}\((.*?)\).*?`\n(.*?)(?=^##|\Z)", docs, re.M | re.S)
    assert section, f"docs/hooks.md has no section headed `{hook}(…)`"
    params = list(inspect.signature(getattr(hookspecs, hook)).parameters)
    for name in params:
        assert name in section.group(1), f"{hook}: parameter {name} missing from the heading"
    assert "```python" in section.group(2), f"{hook}: the docs section has no example"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_exercised_by_a_test(hook: str) -> None:
    # The tests' own plugins, and the testing kit's Recorder that they plug in.
    tests = [p for p in (ROOT / "tests").rglob("*.py") if p.name != "test_hookspecs.py"]
    tests.append(ROOT / "src" / "promokit" / "testing" / "doubles.py")
    assert any(f"def {hook}(" in p.read_text(encoding="utf-8") for p in tests), (
        f"no test implements {hook}")


def test_public_names_are_pinned() -> None:
    # The order is ruff's (RUF022: constants, classes, then functions).
    assert promokit.__all__ == [
        "BUILTIN_PLUGINS", "EXACT_LIMIT", "AdapterError", "CampaignSet", "Cart", "CartError",
        "ConfigError", "Currency", "Customer", "Engine", "GameError", "Line", "MemoryStore",
        "Money", "OrderError", "PluginError", "PriceResult", "Problem", "PromokitError",
        "Promotion", "Registry", "Store", "StoreError", "StoreURLError", "StoreUnavailable",
        "__version__", "hookimpl", "load_campaigns", "make_plugin_manager", "open_store",
        "rules_text"
    ]
    for name in promokit.__all__:
        assert hasattr(promokit, name)


def test_every_error_is_a_promokit_error() -> None:
    for name in ("AdapterError", "CartError", "ConfigError", "GameError", "OrderError",
                 "PluginError", "StoreError", "StoreURLError", "StoreUnavailable"):
        assert issubclass(getattr(promokit, name), promokit.PromokitError)
