"""The built-in store backends, declared like any plugin's.

Each backend's module is imported only when a URL of its scheme is opened, so
the client libraries of Redis (``promokit[redis]``) and PostgreSQL
(``promokit[postgres]``) stay optional.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from promokit import hookimpl
from promokit.errors import StoreURLError
from promokit.stores import Store, StoreBackend, parse_store_url


def _opener(module: str, cls: str, extra: str | None = None) -> Callable[[str], Store]:
    def open_url(url: str) -> Store:
        try:
            backend = importlib.import_module(f"promokit.stores.{module}")
        except ImportError as error:
            if extra is None:
                raise
            raise StoreURLError(
                f"{parse_store_url(url).masked}: the {module} store needs {error.name!r}; "
                f"install it with: pip install 'promokit[{extra}]'") from error
        store: Store = getattr(backend, cls).from_url(url)
        return store
    return open_url


@hookimpl
def promokit_register_stores() -> list[StoreBackend]:
    postgres = _opener("postgres", "PostgresStore", "postgres")
    redis = _opener("redis", "RedisStore", "redis")
    return [
        StoreBackend(name="memory", open=_opener("memory", "MemoryStore"),
                     description="this process's memory (tests, demos)"),
        StoreBackend(name="sqlite", open=_opener("sqlite", "SQLiteStore"),
                     description="a SQLite file in WAL mode; safe across processes"),
        StoreBackend(name="redis", open=redis, description="Redis, atomic Lua scripts"),
        StoreBackend(name="rediss", open=redis, description="Redis over TLS"),
        StoreBackend(name="postgresql", open=postgres,
                     description="PostgreSQL through psycopg 3, one transaction per change"),
        StoreBackend(name="postgres", open=postgres, description="alias of postgresql://"),
    ]
