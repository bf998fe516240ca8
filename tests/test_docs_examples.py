"""The TOML examples in the docs load, and price their carts as the docs say.

Every fenced ```toml block of ``docs/campaigns.md`` and ``docs/semantics.md``
whose first line is ``# example: <name>`` is loaded with the built-in plugins
only (a header with ``currency = "CNY"`` and ``timezone = "Asia/Shanghai"`` is
added when the block sets no currency). A block may then carry any number of
``# cart: <json>`` lines, each followed by a ``# total: <amount>`` line: the
cart is priced under the block's promotions and its ``total`` must be that
amount. So the examples can never go stale.
"""

from __future__ import annotations

import json
import re
import tomllib
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

import promokit
from promokit.loading import parse_campaigns
from promokit.registry import Registry

DOCS = Path(__file__).resolve().parent.parent / "docs"
DOC_FILES = ("campaigns.md", "semantics.md")
HEADER = 'currency = "CNY"\ntimezone = "Asia/Shanghai"\n'
#: The time carts without ``now`` are priced at.
CLOCK = datetime.fromisoformat("2026-11-11T10:00:00+08:00")

_FENCE = re.compile(r"^```toml[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_NAME = re.compile(r"#\s*example:\s*(\S+)\s*$")
_CART = re.compile(r"^#\s*cart:\s*(.+?)\s*$", re.MULTILINE)
_TOTAL = re.compile(r"^#\s*total:\s*(\S+)\s*$", re.MULTILINE)
_HAS_CURRENCY = re.compile(r"^currency\s*=", re.MULTILINE)


@attrs.frozen
class Example:
    doc: str
    name: str
    text: str
    checks: tuple[tuple[str, str], ...]
    """``(cart JSON, expected total)`` pairs, in the order written."""


def _checks(doc: str, name: str, text: str) -> tuple[tuple[str, str], ...]:
    found: list[tuple[int, str, str]] = [
        *((m.start(), "cart", m.group(1)) for m in _CART.finditer(text)),
        *((m.start(), "total", m.group(1)) for m in _TOTAL.finditer(text)),
    ]
    pairs: list[tuple[str, str]] = []
    cart: str | None = None
    for _, what, value in sorted(found):
        if what == "cart":
            assert cart is None, f"{doc} example {name}: a cart without its total"
            cart = value
        else:
            assert cart is not None, f"{doc} example {name}: a total without its cart"
            pairs.append((cart, value))
            cart = None
    assert cart is None, f"{doc} example {name}: a cart without its total"
    return tuple(pairs)


def collect() -> list[Example]:
    examples = []
    for doc in DOC_FILES:
        for block in _FENCE.finditer((DOCS / doc).read_text(encoding="utf-8")):
            text = block.group(1)
            first = text.split("\n", 1)[0]
            named = _NAME.fullmatch(first.strip())
            if named is None:
                continue
            name = named.group(1)
            examples.append(Example(doc=doc, name=name, text=text,
                                    checks=_checks(doc, name, text)))
    return examples


EXAMPLES = collect()


@pytest.fixture(scope="module")
def registry() -> Registry:
    """Built-in plugins only: the docs describe what promokit itself ships."""
    return Registry.default(load_entry_points=False)


def test_examples_are_found() -> None:
    names = [(e.doc, e.name) for e in EXAMPLES]
    assert len(names) == len(set(names)), "example names must be unique per page"
    assert sum(e.doc == "campaigns.md" for e in EXAMPLES) >= 20
    with_cart = [e for e in EXAMPLES if e.doc == "campaigns.md" and e.checks]
    assert len(with_cart) >= 15


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"{e.doc}:{e.name}")
def test_example(example: Example, registry: Registry) -> None:
    text = example.text if _HAS_CURRENCY.search(example.text) else HEADER + example.text
    campaigns = parse_campaigns(tomllib.loads(text), registry, source=example.name)
    engine = promokit.Engine(campaigns, registry=registry, clock=lambda: CLOCK)
    for cart, total in example.checks:
        result = engine.evaluate(json.loads(cart))
        assert result.total == Decimal(total), (
            f"{example.doc} example {example.name}: cart {cart} costs {result.total}, "
            f"the docs say {total}\n{result.to_json_text()}")
