"""Opening stores by URL, store backends from plugins, and the keys stores share."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import promokit
from promokit import Engine, PluginError, StoreError, StoreURLError, open_store
from promokit.registry import Registry
from promokit.stores import (
    Change,
    MemoryStore,
    NoStore,
    Store,
    StoreBackend,
    counter_keys,
    key_part,
    parse_store_url,
)
from promokit.testing import cart, engine_from_toml


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


# -- opening only a store that exists (issue 13, fault 5) -----------------------------------


@pytest.mark.parametrize("store_url", [
    "sqlite",
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("postgres", marks=pytest.mark.postgres),
], indirect=True)
def test_create_false_opens_only_a_store_that_exists(store_url: str) -> None:
    with pytest.raises(StoreURLError, match="there is no promokit store here"):
        open_store(store_url, create=False)
    store = open_store(store_url)
    assert store.apply(Change(order_id="o1", revision=0, status="reserved", body="{}")).applied
    store.close()
    again = open_store(store_url, create=False)
    assert again.order("o1") is not None
    again.close()


def test_a_missing_sqlite_file_is_not_created_by_a_look(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'typo.db'}"
    with pytest.raises(StoreURLError, match="nothing was created"):
        open_store(url, create=False)
    assert not (tmp_path / "typo.db").exists()


def test_an_engine_without_a_store_prices_but_refuses_to_write() -> None:
    engine = engine_from_toml('[[promotion]]\nid = "p"\nkind = "amount_off"\namount = "1"\n'
                              '[[game]]\nid = "g"\nkind = "lottery"\nname = "g"\n'
                              'prizes = [ { id = "t", name = "t", kind = "none", weight = 1, '
                              'fallback = true }, { id = "p", name = "p", kind = "points", '
                              'value = "1.00", weight = 1, stock = 1 } ]\n', store=NoStore())
    assert engine.evaluate(cart(("l1", "A", 1, "10.00"))).total == Decimal("9.00")
    with pytest.raises(StoreError, match="this engine has no store"):
        engine.checkout(cart(("l1", "A", 1, "10.00"), now=None), "SO-1")
    with pytest.raises(StoreError, match="this engine has no store"):
        engine.games["g"].open()
    assert Engine(engine.campaigns).store.url == "none (no store given)"


def test_no_store_refuses_to_trim_a_journal() -> None:
    with pytest.raises(StoreError, match="this engine has no store"):
        NoStore().trim_journal("outbox", through=1)
    assert isinstance(NoStore(), Store)


def test_keys_escape_their_parts_so_no_id_names_another_key() -> None:
    day = date(2026, 11, 11)
    assert key_part("alice:d:2026-11-11") == "alice%3Ad%3A2026-11-11"
    assert key_part("100%:x") == "100%25%3Ax"
    assert counter_keys.customer_uses("flash", "alice:d:2026-11-11") \
        != counter_keys.customer_daily_uses("flash", "alice", day)
    assert counter_keys.customer_uses("flash", "alice%3Ad%3A2026-11-11") \
        != counter_keys.customer_uses("flash", "alice:d:2026-11-11")
    assert counter_keys.stock("campaign:d11") != counter_keys.stock("campaign") + ":d11"
