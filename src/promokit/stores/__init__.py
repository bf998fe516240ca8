"""Stores: counters, reservations, the ledger, coupon codes, campaign versions.

Open one by URL::

    store = open_store("sqlite:///promokit.db")        # the embedded default
    store = open_store("redis://10.0.0.5:6379/0")       # many app servers
    store = open_store("postgresql://shop@db/shop")     # a durable ledger

``memory://``, ``sqlite://``, ``redis://`` (``rediss://``) and
``postgresql://`` (``postgres://``) are built in; plugins add schemes through
``promokit_register_stores``. :mod:`promokit.stores.base` defines the protocol;
:func:`promokit.open_store` picks the backend registered for a URL's scheme.
"""

from __future__ import annotations

from .absent import NoStore
from .base import (
    AddedCodes,
    Change,
    CheckedCodes,
    CodeRow,
    Delta,
    Expect,
    JournalEntry,
    LedgerEntry,
    OrderRow,
    Outcome,
    Store,
    StoreBackend,
)
from .keys import counter_keys, key_part
from .memory import MemoryStore
from .url import StoreURL, parse_store_url

__all__ = [
    "AddedCodes",
    "Change",
    "CheckedCodes",
    "CodeRow",
    "Delta",
    "Expect",
    "JournalEntry",
    "LedgerEntry",
    "MemoryStore",
    "NoStore",
    "OrderRow",
    "Outcome",
    "Store",
    "StoreBackend",
    "StoreURL",
    "counter_keys",
    "key_part",
    "parse_store_url",
]
