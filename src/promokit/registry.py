"""One registry of what the plugins declared: kinds, conditions, guards, stores, games,
channel adapters and channel profiles."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

import attrs
import pluggy

from ._hooks import Hooks
from ._plugins import distribution_of, make_plugin_manager
from .channels import ChannelAdapter, ChannelProfile
from .conditions import ConditionType
from .errors import PluginError, StoreURLError
from .games import GameKind
from .guards import Guard
from .kinds import DiscountKind
from .sinks import Sink, SinkBackend
from .stores import Store, StoreBackend, parse_store_url
from .terms import STAGES

__all__ = ["RESERVED_RULES", "Registry", "open_sink", "open_store"]

T = TypeVar("T")

#: Condition names the kernel keeps for its combinators.
RESERVED_RULES = frozenset({"all", "any", "not"})


@attrs.frozen(kw_only=True)
class Registry:
    """Name → implementation for every kind, condition, guard and store backend, and
    who declared it."""

    kinds: Mapping[str, DiscountKind]
    conditions: Mapping[str, ConditionType]
    guards: tuple[Guard, ...]
    stores: Mapping[str, StoreBackend] = attrs.field(factory=dict)
    """URL scheme → backend."""
    games: Mapping[str, GameKind] = attrs.field(factory=dict)
    """Game kind name → :class:`~promokit.games.GameKind`."""
    adapters: Mapping[str, ChannelAdapter] = attrs.field(factory=dict)
    """Adapter name → :class:`~promokit.channels.ChannelAdapter`."""
    profiles: Mapping[str, ChannelProfile] = attrs.field(factory=dict)
    """Channel → its :class:`~promokit.channels.ChannelProfile`."""
    sinks: Mapping[str, SinkBackend] = attrs.field(factory=dict)
    """Sink backend name → :class:`~promokit.sinks.SinkBackend`."""
    origins: Mapping[tuple[str, str], str]
    """``(what, name)`` → plugin name, e.g. ``("kind", "percent_off")``."""
    hooks: Hooks = attrs.field(eq=False, repr=False)

    @classmethod
    def from_plugin_manager(cls, pm: pluggy.PluginManager) -> Registry:
        """Collect every declaration; a name declared twice is a :class:`PluginError`."""
        hooks = Hooks(pm)
        origins: dict[tuple[str, str], str] = {}

        def collect(what: str, items: Iterable[tuple[str, T]]) -> dict[str, T]:
            found: dict[str, T] = {}
            for plugin_name, item in items:
                name = getattr(item, "name", None)
                if not isinstance(name, str) or not name:
                    raise PluginError(f"plugin {plugin_name!r} declared a {what} without a name",
                                      plugin_name=plugin_name)
                if (what, name) in origins:
                    first = origins[(what, name)]
                    raise PluginError(
                        f"{what} {name!r} is declared by two plugins: {_who(pm, first)} "
                        f"and {_who(pm, plugin_name)}; block one of them",
                        plugin_name=plugin_name,
                    )
                if what == "condition" and name in RESERVED_RULES:
                    raise PluginError(f"plugin {plugin_name!r} declared the reserved condition "
                                      f"{name!r}", plugin_name=plugin_name)
                if isinstance(item, DiscountKind) and item.default_stage not in STAGES:
                    raise PluginError(f"kind {name!r} of plugin {plugin_name!r} has an unknown "
                                      f"default_stage {item.default_stage!r}",
                                      plugin_name=plugin_name)
                origins[(what, name)] = plugin_name
                found[name] = item
            return found

        kinds = collect("kind", hooks.kinds())
        conditions = collect("condition", hooks.conditions())
        guards = collect("guard", hooks.guards())
        stores = collect("store", hooks.stores())
        games = collect("game", hooks.games())
        adapters = collect("adapter", hooks.adapters())
        profiles = collect("profile", hooks.channel_profiles())
        sinks = collect("sink", hooks.sinks())
        for scheme in {s for backend in sinks.values() for s in backend.schemes}:
            takers = [name for name, backend in sinks.items() if scheme in backend.schemes]
            if len(takers) > 1:
                who = " and ".join(_who(pm, origins[("sink", name)]) for name in takers)
                raise PluginError(f"sink scheme {scheme}:// is declared by two backends "
                                  f"({', '.join(takers)}) of {who}; block one of them",
                                  plugin_name=origins[("sink", takers[-1])])
        return cls(kinds=kinds, conditions=conditions, guards=tuple(guards.values()),
                   stores=stores, games=games, adapters=adapters, profiles=profiles,
                   sinks=sinks,
                   origins=origins, hooks=hooks)

    @classmethod
    def default(cls, plugins: Iterable[object] = (), *, load_entry_points: bool = True,
                blocked: Iterable[str] = ()) -> Registry:
        """The registry of a fresh :func:`make_plugin_manager`."""
        return cls.from_plugin_manager(make_plugin_manager(
            plugins, load_entry_points=load_entry_points, blocked=blocked))


def _who(pm: pluggy.PluginManager, plugin_name: str) -> str:
    dist = distribution_of(pm, plugin_name)
    return f"{plugin_name!r} ({dist})" if dist else repr(plugin_name)


def open_store(url: str, *, registry: Registry | None = None, create: bool = True) -> Store:
    """Open the store at ``url`` with the backend registered for its scheme (the
    built-ins and plugins of ``registry``, or of a fresh default registry).

    With ``create=False`` only a store that exists already is opened (for what
    reads or settles orders: a mistyped ``sqlite:///promokit.bd`` must not become a
    new, empty store); where there is none, :class:`~promokit.errors.StoreURLError`.

    Raises :class:`~promokit.errors.StoreURLError` for a URL no backend takes (or
    whose client library is not installed) and
    :class:`~promokit.errors.StoreUnavailable` when the server cannot be reached.
    """
    parsed = parse_store_url(url)
    registry = registry if registry is not None else Registry.default()
    backend = registry.stores.get(parsed.scheme)
    if backend is None:
        known = ", ".join(f"{name}://" for name in sorted(registry.stores))
        raise StoreURLError(f"{parsed.masked}: no store backend for {parsed.scheme}:// "
                            f"(known: {known})")
    if not create and backend.exists is not None and not backend.exists(url):
        raise StoreURLError(f"{parsed.masked}: there is no promokit store here (nothing was "
                            "created); check the URL, or check out an order first")
    store: Store = backend.open(url)
    return store


def open_sink(url: str, settings: Mapping[str, str] | None = None, *,
              registry: Registry | None = None) -> Sink:
    """Open a sink for ``url`` with the sink backend that takes its scheme;
    ``settings`` are the sink's options (a webhook's ``secret``). A URL no backend
    takes is a :class:`ValueError` listing the schemes known."""
    registry = registry if registry is not None else Registry.default()
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    for backend in registry.sinks.values():
        if scheme in backend.schemes:
            return backend.opens(url, settings)
    known = ", ".join(sorted(f"{s}://" for b in registry.sinks.values() for s in b.schemes))
    raise ValueError(f"no sink backend for {url!r} (known: {known})")
