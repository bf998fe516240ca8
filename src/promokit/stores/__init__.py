"""Stores: counters, reservations, the ledger, coupon codes, campaign versions.

Open one by URL::

    store = open_store("sqlite:///promokit.db")        # the embedded default
    store = open_store("redis://10.0.0.5:6379/0")       # many app servers
    store = open_store("postgresql://shop@db/shop")     # a durable ledger

``memory://``, ``sqlite://``, ``redis://`` (``rediss://``) and
``postgresql://`` (``postgres://``) are built in; plugins add schemes through
``promokit_register_stores``. :mod:`promokit.stores.base` defines the protocol.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import StoreURLError
from .base import (
    AddedCodes,
    Change,
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
from .keys import counter_keys
from .memory import MemoryStore
from .url import StoreURL, parse_store_url

if TYPE_CHECKING:
    from ..registry import Registry

__all__ = [
    "AddedCodes",
    "Change",
    "CodeRow",
    "Delta",
    "Expect",
    "JournalEntry",
    "LedgerEntry",
    "MemoryStore",
    "OrderRow",
    "Outcome",
    "Store",
    "StoreBackend",
    "StoreURL",
    "counter_keys",
    "open_store",
    "parse_store_url",
]


def open_store(url: str, *, registry: Registry | None = None) -> Store:
    """Open the store at ``url`` with the backend registered for its scheme.

    Raises :class:`~promokit.errors.StoreURLError` for a URL no backend takes (or
    whose client library is not installed) and
    :class:`~promokit.errors.StoreUnavailable` when the server cannot be reached.
    """
    from ..registry import Registry

    parsed = parse_store_url(url)
    registry = registry if registry is not None else Registry.default()
    backend = registry.stores.get(parsed.scheme)
    if backend is None:
        known = ", ".join(f"{name}://" for name in sorted(registry.stores))
        raise StoreURLError(f"{parsed.masked}: no store backend for {parsed.scheme}:// "
                            f"(known: {known})")
    store: Store = backend.open(url)
    return store
