"""The built-in store backends, declared like any plugin's.

Each backend's module is imported only when a URL of its scheme is opened, so
the client libraries of Redis (``promokit[redis]``) and PostgreSQL
(``promokit[postgres]``) stay optional.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from promokit import hookimpl
from promokit.errors import StoreURLError
from promokit.stores import Store, StoreBackend, parse_store_url


def _backend(url: str, module: str, cls: str, extra: str | None) -> Any:
    """The store class of ``module``, imported only now (its client library is an
    extra)."""
    try:
        backend = importlib.import_module(f"promokit.stores.{module}")
    except ImportError as error:
        if extra is None:
            raise
        raise StoreURLError(
            f"{parse_store_url(url).masked}: the {module} store needs the Python package "
            f"{error.name!r}, which is not installed: pip install 'promokit[{extra}]'"
        ) from error
    return getattr(backend, cls)


def _opener(module: str, cls: str, extra: str | None = None) -> Callable[[str], Store]:
    def open_url(url: str) -> Store:
        store: Store = _backend(url, module, cls, extra).from_url(url)
        return store
    return open_url


def _exists(module: str, cls: str, extra: str | None = None) -> Callable[[str], bool]:
    def exists(url: str) -> bool:
        found: bool = _backend(url, module, cls, extra).exists(url)
        return found
    return exists


@hookimpl
def promokit_register_stores() -> list[StoreBackend]:
    postgres = {"open": _opener("postgres", "PostgresStore", "postgres"),
                "exists": _exists("postgres", "PostgresStore", "postgres")}
    redis = {"open": _opener("redis", "RedisStore", "redis"),
             "exists": _exists("redis", "RedisStore", "redis")}
    return [
        StoreBackend(name="memory", open=_opener("memory", "MemoryStore"),
                     description="this process's memory (tests, demos)"),
        StoreBackend(name="sqlite", open=_opener("sqlite", "SQLiteStore"),
                     exists=_exists("sqlite", "SQLiteStore"),
                     description="a SQLite file in WAL mode; safe across processes"),
        StoreBackend(name="redis", description="Redis, atomic Lua scripts", **redis),
        StoreBackend(name="rediss", description="Redis over TLS", **redis),
        StoreBackend(name="postgresql", **postgres,
                     description="PostgreSQL through psycopg 3, one transaction per change"),
        StoreBackend(name="postgres", description="alias of postgresql://", **postgres),
    ]
