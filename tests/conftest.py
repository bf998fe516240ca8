"""Shared fixtures: engines built from campaign text, carts from short specs."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from promokit import Cart, Engine
from promokit.loader import parse_campaigns
from promokit.registry import Registry

HEADER = 'currency = "CNY"\ntimezone = "Asia/Shanghai"\n'


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The registry with the built-ins and the installed test plugin."""
    return Registry.default()


@pytest.fixture
def make_engine(registry: Registry) -> Callable[..., Engine]:
    """``make_engine(toml_text, **engine_options)``; the header (CNY, Asia/Shanghai)
    is added unless the text sets ``currency`` itself."""
    def build(text: str, **options: Any) -> Engine:
        source = text if "currency =" in text else HEADER + text
        return Engine(parse_campaigns(tomllib.loads(source), registry), registry=registry,
                      **options)
    return build


def make_cart(*lines: tuple[Any, ...], **fields: Any) -> Cart:
    """A cart from ``(id, sku, quantity, unit_price, extra-fields…)`` tuples."""
    data: dict[str, Any] = {"currency": "CNY", "now": "2026-11-11T10:00:00+08:00", "lines": []}
    for spec in lines:
        line_id, sku, quantity, price, *extra = spec
        line = {"id": line_id, "sku": sku, "quantity": quantity, "unit_price": price}
        for more in extra:
            line.update(more)
        data["lines"].append(line)
    data.update(fields)
    return Cart.from_json(data)


def amounts(result: Any) -> dict[str, str]:
    """The headline amounts of a result as strings, for compact assertions."""
    return {key: str(getattr(result, key)) for key in
            ("subtotal", "discount_total", "shipping_discount", "shipping", "total")}


def D(text: str) -> Decimal:  # reads like a literal
    return Decimal(text)
