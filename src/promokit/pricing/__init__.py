"""Pricing: a cart under a campaign set, the best deal for the customer (DESIGN §4).

The :class:`Pricer` wires the steps; each lives in a module named for what it
holds:

- :mod:`.index`: campaigns compiled for look-up by sku, brand, tag, category, shop;
- :mod:`.model`: an evaluation's setup and context, units, states;
- :mod:`.reads` and :mod:`.reading`: what is read from the store, once;
- :mod:`.eligibility`: the checks each candidate passes once, and its units;
- :mod:`.acting`: one unit acting on a state, and a stage run;
- :mod:`.search`: stacking rules and the best-deal search;
- :mod:`.results`: the :class:`~promokit.result.PriceResult`;
- :mod:`.consumption`: what a priced order takes from the store.
"""

from .pricer import Priced, Pricer
from .reads import Known, StoreReads
from .search import EXACT_LIMIT

__all__ = ["EXACT_LIMIT", "Known", "Priced", "Pricer", "StoreReads"]
