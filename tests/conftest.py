"""Shared fixtures: engines built from campaign text, carts from short specs."""

from __future__ import annotations

import os
import re
import socket
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import pytest

from promokit import Engine, open_store
from promokit.registry import Registry
from promokit.stores import MemoryStore, Store
from promokit.testing import cart, engine_from_toml


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


def demo_steps(out: str) -> dict[str, str]:
    """The demo's output cut at its step headings: ``"1"`` → the text of step 1 …"""
    steps: dict[str, str] = {}
    current = None
    for line in out.splitlines():
        heading = re.match(r"(\d+[ab]?)\. ", line)
        if heading:
            current = heading[1]
        elif line.startswith(("Checkout on the store", "Games on the same store",
                              "Try your own")):
            current = None
        if current is not None:
            steps[current] = steps.get(current, "") + line + "\n"
    return steps


# -- stores: a fresh store of every backend, on the real servers ----------------
#
# Redis and PostgreSQL tests use PROMOKIT_REDIS_URL and PROMOKIT_POSTGRES_URL (defaults:
# the local servers). Each test gets its own namespace and drops it afterwards. Where a
# server is not reachable the tests skip, saying why; under CI (CI=true), or when
# PROMOKIT_REQUIRE_STORES=1 (tox's redis and postgres envs), they fail.

REDIS_URL = os.environ.get("PROMOKIT_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_URL = os.environ.get("PROMOKIT_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")



def _unreachable(what: str, url: str, module: str) -> None:
    """Skip (or fail under CI) when ``url``'s server or client library is missing."""
    why = None
    try:
        __import__(module)
    except ImportError:
        why = f"{what} tests need {module!r} (pip install -e '.[test]')"
    if why is None:
        parts = urlsplit(url)
        try:
            socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0),
                                     timeout=2).close()
        except OSError as error:
            why = f"{what} at {parts.hostname}:{parts.port} is not reachable ({error})"
    if why is not None:
        missing_service(what, why)


def missing_service(what: str, why: str) -> NoReturn:
    """Skip the test for ``why``, or fail it where the store tests must run (CI=true,
    PROMOKIT_REQUIRE_STORES=1)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why}; CI must run the {what} tests", pytrace=False)
    if os.environ.get("PROMOKIT_REQUIRE_STORES") == "1":
        pytest.fail(f"{why}; PROMOKIT_REQUIRE_STORES=1 asks for the {what} tests",
                    pytrace=False)
    pytest.skip(why)


def with_namespace(url: str, namespace: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}namespace={namespace}"


@pytest.fixture
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of a fresh, empty store of the backend named by the test's parameter."""
    backend = request.param if hasattr(request, "param") else "memory"
    namespace = f"t{uuid.uuid4().hex[:12]}"
    if backend == "memory":
        yield "memory://"
    elif backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'promokit.db'}"
    elif backend == "redis":
        _unreachable("Redis", REDIS_URL, "redis")
        url = with_namespace(REDIS_URL, namespace)
        yield url
        _drop(url)
    elif backend == "postgres":
        _unreachable("PostgreSQL", POSTGRES_URL, "psycopg")
        url = with_namespace(POSTGRES_URL, namespace)
        yield url
        _drop(url)
    else:  # pragma: no cover
        raise ValueError(backend)


def _drop(url: str) -> None:
    store = open_store(url)
    try:
        store.drop()  # type: ignore[attr-defined]
    finally:
        store.close()


def backends(*names: str) -> pytest.MarkDecorator:
    """Run a test once per backend in ``names`` (it takes ``store_url``, ``store`` or
    ``reopen``), the Redis and PostgreSQL runs marked ``redis`` and ``postgres``."""
    marks = {"redis": pytest.mark.redis, "postgres": pytest.mark.postgres}
    return pytest.mark.parametrize("store_url", [
        pytest.param(name, marks=marks[name]) if name in marks else name for name in names
    ], indirect=True)


#: Every backend, the in-process memory store included.
EVERY_BACKEND = backends("memory", "sqlite", "redis", "postgres")
#: The backends processes can share (SQLite in WAL mode, Redis, PostgreSQL): a memory
#: store lives in one process.
SHARED_BACKENDS = backends("sqlite", "redis", "postgres")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A fresh store (memory:// stores are shared through ``reopen``)."""
    opened = open_store(store_url)
    yield opened
    opened.close()


@pytest.fixture
def reopen(store_url: str, store: Store) -> Callable[[], Store]:
    """Open another handle on ``store``, as another app server would."""
    if isinstance(store, MemoryStore):
        return lambda: store
    return lambda: open_store(store_url)
