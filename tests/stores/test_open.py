"""Opening stores by URL, and store backends from plugins."""

from __future__ import annotations

import pytest

import promokit
from promokit import PluginError, StoreURLError, open_store
from promokit.registry import Registry
from promokit.stores import MemoryStore, StoreBackend, parse_store_url


class Tagged(MemoryStore):
    """A memory store that remembers the URL it was opened with."""


class CounterBackends:
    @promokit.hookimpl
    def promokit_register_stores(self) -> list[StoreBackend]:
        return [StoreBackend(name="tagged", open=Tagged,
                             description="memory, for the plugin test")]


def test_a_plugin_adds_a_scheme() -> None:
    registry = Registry.default([CounterBackends()], load_entry_points=False)
    store = open_store("tagged://anything", registry=registry)
    assert isinstance(store, Tagged) and store.url == "tagged://anything"
    assert ("store", "tagged") in registry.origins


def test_a_scheme_declared_twice_names_both_plugins() -> None:
    class Clash:
        @promokit.hookimpl
        def promokit_register_stores(self) -> list[StoreBackend]:
            return [StoreBackend(name="sqlite", open=MemoryStore)]

    with pytest.raises(PluginError, match="store 'sqlite' is declared by two plugins"):
        Registry.default([Clash()], load_entry_points=False)


def test_built_in_schemes() -> None:
    registry = Registry.default(load_entry_points=False)
    assert sorted(registry.stores) == ["memory", "postgres", "postgresql", "redis", "rediss",
                                       "sqlite"]
    assert isinstance(open_store("memory://"), MemoryStore)


@pytest.mark.parametrize(("url", "message"), [
    ("", "is not a store URL"),
    ("promokit.db", "is not a store URL"),
    ("mysql://x/y", "no store backend for mysql:// (known: memory://, postgres://, "
                    "postgresql://, redis://, rediss://, sqlite://)"),
    ("memory://host", "takes no host or path"),
    ("memory://?size=1", "unknown option(s) size (known: none)"),
    ("redis://h:99999/0", "Port out of range"),
    ("sqlite:///x.db?namespace=Bad-Name", "namespace 'Bad-Name' must be"),
    ("sqlite:///x.db?timeout=-1", "timeout='-1' must be a positive number"),
    ("sqlite:///x.db?timeout=1&timeout=2", "option 'timeout' given twice"),
])
def test_bad_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(StoreURLError) as caught:
        open_store(url, registry=Registry.default(load_entry_points=False))
    assert message in str(caught.value)


def test_passwords_are_masked() -> None:
    parsed = parse_store_url("redis://:s3cret@10.0.0.5:6379/0?namespace=shop1")
    assert parsed.masked == "redis://:***@10.0.0.5:6379/0?namespace=shop1"
    assert parse_store_url("postgresql://u@h/db?password=s3cret&sslmode=require").masked == (
        "postgresql://u@h/db?password=***&sslmode=require")
    assert parsed.namespace() == "shop1" and parsed.port == 6379
    with pytest.raises(StoreURLError) as caught:
        parse_store_url("redis://u:s3cret@h:bad/0")
    assert "s3cret" not in str(caught.value)
