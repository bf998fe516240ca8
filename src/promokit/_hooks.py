"""The typed facade over ``pm.hook``: the only module that calls hooks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

import pluggy

from .cart import Cart
from .channels import ChannelAdapter, ChannelProfile
from .conditions import ConditionType
from .errors import PluginError
from .events import Alert, OrderEvent
from .games import GameEvent, GameKind
from .guards import Guard
from .kinds import DiscountKind
from .result import PriceResult
from .sinks import SinkBackend
from .stores import StoreBackend

T = TypeVar("T")


class Hooks:
    """Typed calls into a plugin manager's hooks, errors naming the plugin."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm

    def _declarations(self, hook_name: str, expected: type[T]) -> Iterator[tuple[str, T]]:
        caller = getattr(self.pm.hook, hook_name)
        for impl in reversed(caller.get_hookimpls()):  # registration order
            try:
                declared = impl.function()
            except Exception as error:
                raise PluginError(
                    f"plugin {impl.plugin_name!r} raised in {hook_name}: {error}",
                    plugin_name=impl.plugin_name, hook=hook_name,
                ) from error
            for item in declared or ():
                if not isinstance(item, expected):
                    raise PluginError(
                        f"plugin {impl.plugin_name!r} returned {item!r} from {hook_name}; "
                        f"expected {expected.__name__} instances",
                        plugin_name=impl.plugin_name, hook=hook_name,
                    )
                yield impl.plugin_name, item

    def kinds(self) -> Iterator[tuple[str, DiscountKind]]:
        """``(plugin name, kind)`` for every declared discount kind."""
        return self._declarations("promokit_register_kinds", DiscountKind)

    def conditions(self) -> Iterator[tuple[str, ConditionType]]:
        """``(plugin name, condition)`` for every declared condition."""
        return self._declarations("promokit_register_conditions", ConditionType)

    def guards(self) -> Iterator[tuple[str, Guard]]:
        """``(plugin name, guard)`` for every declared guard."""
        return self._declarations("promokit_register_guards", Guard)

    def stores(self) -> Iterator[tuple[str, StoreBackend]]:
        """``(plugin name, backend)`` for every declared store backend."""
        return self._declarations("promokit_register_stores", StoreBackend)

    def games(self) -> Iterator[tuple[str, GameKind]]:
        """``(plugin name, game kind)`` for every declared game kind."""
        return self._declarations("promokit_register_games", GameKind)

    def adapters(self) -> Iterator[tuple[str, ChannelAdapter]]:
        """``(plugin name, adapter)`` for every declared channel adapter."""
        return self._declarations("promokit_register_adapters", ChannelAdapter)

    def channel_profiles(self) -> Iterator[tuple[str, ChannelProfile]]:
        """``(plugin name, profile)`` for every declared channel profile."""
        return self._declarations("promokit_register_channel_profiles", ChannelProfile)

    def sinks(self) -> Iterator[tuple[str, SinkBackend]]:
        """``(plugin name, backend)`` for every declared sink backend."""
        return self._declarations("promokit_register_sinks", SinkBackend)

    def game_event(self, event: GameEvent) -> None:
        """Tell observers something happened in a game."""
        self._notify("promokit_game_event", event=event)

    def evaluated(self, cart: Cart, result: PriceResult) -> None:
        """Tell observers an evaluation finished."""
        self._notify("promokit_evaluated", cart=cart, result=result)

    def order_event(self, event: OrderEvent) -> None:
        """Tell observers an order was reserved, committed, released, expired or
        refunded."""
        self._notify("promokit_order_event", event=event)

    def alert(self, alert: Alert) -> None:
        """Tell observers a stock or budget crossed a warning level."""
        self._notify("promokit_alert", alert=alert)

    def _notify(self, hook_name: str, **arguments: Any) -> None:
        caller = getattr(self.pm.hook, hook_name)
        for impl in caller.get_hookimpls():
            kwargs = {name: arguments[name] for name in impl.argnames}
            try:
                impl.function(**kwargs)
            except Exception as error:
                raise PluginError(
                    f"plugin {impl.plugin_name!r} raised in {hook_name}: {error}",
                    plugin_name=impl.plugin_name, hook=hook_name,
                ) from error
