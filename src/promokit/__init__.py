"""promokit: a plugin-based storefront promotion SDK.

The public names are re-exported here; everything else is private or lives in
the documented submodules (docs/architecture.md maps them): for plugin authors
:mod:`promokit.kinds`, :mod:`promokit.conditions`, :mod:`promokit.guards`,
:mod:`promokit.games`, :mod:`promokit.stores`, :mod:`promokit.params` and the
values they exchange.
"""

from ._plugins import BUILTIN_PLUGINS, make_plugin_manager
from .campaign import Promotion
from .campaign_set import CampaignSet
from .cart import Cart, Customer, Line
from .engine import Engine
from .errors import (
    AdapterError,
    CartError,
    ConfigError,
    GameError,
    OrderError,
    PluginError,
    Problem,
    PromokitError,
    StoreError,
    StoreUnavailable,
    StoreURLError,
)
from .hookspecs import hookimpl
from .loading import load_campaigns
from .money import Currency, Money
from .pricing import EXACT_LIMIT
from .registry import Registry, open_store
from .result import PriceResult
from .rules_text import rules_text
from .stores import MemoryStore, Store

__version__ = "0.1.0"

__all__ = [
    "BUILTIN_PLUGINS",
    "EXACT_LIMIT",
    "AdapterError",
    "CampaignSet",
    "Cart",
    "CartError",
    "ConfigError",
    "Currency",
    "Customer",
    "Engine",
    "GameError",
    "Line",
    "MemoryStore",
    "Money",
    "OrderError",
    "PluginError",
    "PriceResult",
    "Problem",
    "PromokitError",
    "Promotion",
    "Registry",
    "Store",
    "StoreError",
    "StoreURLError",
    "StoreUnavailable",
    "__version__",
    "hookimpl",
    "load_campaigns",
    "make_plugin_manager",
    "open_store",
    "rules_text",
]
