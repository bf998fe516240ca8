"""promokit: a plugin-based storefront promotion SDK.

The public names are re-exported here; everything else is private or lives in
the documented submodules (:mod:`promokit.kinds`, :mod:`promokit.conditions`,
:mod:`promokit.guards`, :mod:`promokit.params` for plugin authors).
"""

import pluggy

__version__ = "0.1.0"

#: Marker for hook implementations: ``@promokit.hookimpl``.
hookimpl = pluggy.HookimplMarker("promokit")

from ._plugins import BUILTIN_PLUGINS, make_plugin_manager  # noqa: E402
from .campaign import CampaignSet, Promotion  # noqa: E402
from .cart import Cart, Customer, Line  # noqa: E402
from .engine import Engine  # noqa: E402
from .errors import (  # noqa: E402
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
from .loader import load_campaigns  # noqa: E402
from .money import Currency, Money  # noqa: E402
from .registry import Registry  # noqa: E402
from .result import PriceResult  # noqa: E402
from .rules_text import rules_text  # noqa: E402
from .stacking import EXACT_LIMIT  # noqa: E402
from .stores import MemoryStore, Store, open_store  # noqa: E402

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
