"""A testing kit for plugin authors, and a pytest plugin (``pytest11``).

promokit's own tests use it too. Three parts:

Helpers
    :func:`campaigns_from_toml`, :func:`engine_from_toml`, :func:`cart` and
    :func:`registry_with` build campaigns, engines, carts and registries from a
    few lines. Registries come from the built-ins and the plugins you name,
    with installed entry points switched off, so a test means the same thing on
    every machine. :class:`Clock` is a clock a test sets and moves;
    :class:`Recorder` is a plugin that keeps every order event, alert and game
    event.

Contract checkers
    :func:`check_kind` and :func:`check_condition` price carts through the real
    kernel with your kind or condition and assert what every one must keep: the
    result reconciles to the cent, evaluation is deterministic and pure, the
    reason codes are stable ones, and the customer wording exists in both
    languages. A broken promise fails with an :class:`AssertionError` naming
    the kind, the cart and the invariant.

Fixtures
    Installing promokit registers this module with pytest, so every test
    session gets ``promokit_registry`` (the built-ins), ``promokit_engine`` (a
    factory: ``promokit_engine(toml_text, plugins=[...], **options)``) and
    ``promokit_cart`` (:func:`cart`). Importing the module does not need pytest;
    the fixtures are defined only when pytest is importable.

>>> result = engine_from_toml('''
... [[promotion]]
... id = "ten-off"
... kind = "percent_off"
... percent = "10"
... ''').evaluate(cart(("l1", "A", 2, "50.00")))
>>> str(result.total)
'90.00'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from ..campaign_set import CampaignSet
from ..cart import Cart
from ..engine import Engine
from ..registry import Registry
from ..stores import MemoryStore
from ..stores import Store as CounterStore
from .contracts import (
    PROMOTION_ID,
    check_condition,
    check_kind,
    is_reason_code,
    load_toml,
    registry_for,
    registry_with,
)
from .doubles import Clock, Recorder
from .stores import StoreContract

__all__ = [
    "DEFAULT_NOW",
    "PROMOTION_ID",
    "CartFactory",
    "Clock",
    "EngineFactory",
    "LineSpec",
    "Recorder",
    "StoreContract",
    "campaigns_from_toml",
    "cart",
    "check_condition",
    "check_kind",
    "engine_from_toml",
    "is_reason_code",
    "registry_with",
]

#: The time :func:`cart` prices at unless told otherwise: 11.11 at 10:00, Beijing
#: time. Fixed, so that schedules, windows and birthdays give the same answer on
#: every run; pass ``now=`` for another time.
DEFAULT_NOW = "2026-11-11T10:00:00+08:00"

#: ``(id, sku, quantity, unit_price)`` or ``(id, sku, quantity, unit_price, extra)``,
#: where ``extra`` holds more keys of the line's JSON form (``category``, ``shop``,
#: ``tags``, ``deposit_paid`` …). Prices are strings (``"19.90"``), ints or Decimals.
LineSpec = (tuple[str, str, int, str | int | Decimal]
            | tuple[str, str, int, str | int | Decimal, Mapping[str, Any]])



# -- helpers -----------------------------------------------------------------------


def campaigns_from_toml(text: str, *, plugins: Iterable[object] = (), currency: str = "CNY",
                        timezone: str = "Asia/Shanghai",
                        registry: Registry | None = None) -> CampaignSet:
    """Load campaign-file TOML with the built-ins and ``plugins``.

    ``currency`` and ``timezone`` are the file's header, used when the text does
    not set them. Pass ``registry`` instead of ``plugins`` to use one you built.
    Raises :class:`~promokit.errors.ConfigError` listing every problem.
    """
    return load_toml(text, registry_for(plugins, registry), currency, timezone)


def engine_from_toml(text: str, *, plugins: Iterable[object] = (),
                     store: CounterStore | None = None, lang: str = "en",
                     currency: str = "CNY", timezone: str = "Asia/Shanghai",
                     clock: Callable[[], datetime] | None = None,
                     exact_limit: int | None = None,
                     registry: Registry | None = None, **options: Any) -> Engine:
    """An :class:`~promokit.Engine` for campaign-file TOML (see
    :func:`campaigns_from_toml`), with an empty in-memory store unless ``store``
    is given; other ``options`` go to :class:`~promokit.Engine` (``ttl``,
    ``on_store_error``, ``code_attempts``)."""
    registry = registry_for(plugins, registry)
    if exact_limit is not None:
        options["exact_limit"] = exact_limit
    return Engine(load_toml(text, registry, currency, timezone), registry=registry,
                  store=store if store is not None else MemoryStore(), lang=lang, clock=clock,
                  **options)


def cart(*lines: LineSpec, **fields: Any) -> Cart:
    """A cart from line tuples (:data:`LineSpec`) and top-level fields.

    ``fields`` are keys of the cart's JSON form (``shipping="10.00"``,
    ``customer={"tier": "gold"}``, ``codes=["SAVE10"]``, ``channel="app"``);
    ``currency`` defaults to ``"CNY"`` and ``now`` to :data:`DEFAULT_NOW` (a
    ``datetime`` is accepted too; ``now=None`` leaves it out, as a cart checked
    out at the engine's clock would). Raises :class:`~promokit.errors.CartError`
    listing every problem.

    >>> cart(("l1", "TEE-1", 2, "59.90", {"category": "apparel/tops"})).lines[0].subtotal
    Decimal('119.80')
    """
    data: dict[str, Any] = {"currency": "CNY", "now": DEFAULT_NOW, "lines": []}
    for spec in lines:
        line_id, sku, quantity, unit_price, *extra = spec
        line: dict[str, Any] = {"id": line_id, "sku": sku, "quantity": quantity,
                                "unit_price": unit_price}
        for more in extra:
            line.update(more)
        data["lines"].append(line)
    data.update(fields)
    if isinstance(data["now"], datetime):
        data["now"] = data["now"].isoformat()
    return Cart.from_json(data)


# -- pytest fixtures --------------------------------------------------------------


class EngineFactory(Protocol):
    """The type of the ``promokit_engine`` fixture: :func:`engine_from_toml`."""

    def __call__(self, text: str, *, plugins: Iterable[object] = (),
                 store: CounterStore | None = None, lang: str = "en", currency: str = "CNY",
                 timezone: str = "Asia/Shanghai", clock: Callable[[], datetime] | None = None,
                 exact_limit: int | None = None, registry: Registry | None = None) -> Engine: ...


class CartFactory(Protocol):
    """The type of the ``promokit_cart`` fixture: :func:`cart`."""

    def __call__(self, *lines: LineSpec, **fields: Any) -> Cart: ...


try:
    import pytest
except ImportError:  # the helpers and checkers work without pytest; the fixtures need it
    pass
else:
    @pytest.fixture(scope="session")
    def promokit_registry() -> Registry:
        """The registry of the built-in plugins (installed entry points off)."""
        return registry_with()

    @pytest.fixture
    def promokit_engine() -> EngineFactory:
        """:func:`engine_from_toml`: ``promokit_engine(toml_text, plugins=[...], **options)``."""
        return engine_from_toml

    @pytest.fixture
    def promokit_cart() -> CartFactory:
        """:func:`cart`: ``promokit_cart(("l1", "SKU", 2, "59.90"), shipping="10")``."""
        return cart

