"""Shared fixtures: engines built from campaign text, carts from short specs."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from promokit import Engine
from promokit.registry import Registry
from promokit.testing import cart, engine_from_toml

HEADER = 'currency = "CNY"\ntimezone = "Asia/Shanghai"\n'


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The registry with the built-ins and the installed test plugin."""
    return Registry.default()


@pytest.fixture
def make_engine(registry: Registry) -> Callable[..., Engine]:
    """``make_engine(toml_text, **engine_options)``: :func:`promokit.testing.engine_from_toml`
    with this session's registry (the header CNY, Asia/Shanghai unless the text sets it)."""
    def build(text: str, **options: Any) -> Engine:
        return engine_from_toml(text, registry=registry, **options)
    return build


#: ``make_cart(("l1", "SKU", 2, "59.90", {extra}), **fields)``: the testing kit's ``cart``.
make_cart = cart


def amounts(result: Any) -> dict[str, str]:
    """The headline amounts of a result as strings, for compact assertions."""
    return {key: str(getattr(result, key)) for key in
            ("subtotal", "discount_total", "shipping_discount", "shipping", "total")}


def D(text: str) -> Decimal:  # reads like a literal
    return Decimal(text)
