"""Every hook promokit calls, grouped by lifecycle.

Plugins implement them with :data:`promokit.hookimpl`. An implementation may
accept fewer arguments than the spec lists, so specs can gain parameters
without breaking plugins. Registration hooks return declarations; the kernel
collects them into one :class:`~promokit.registry.Registry` and rejects a name
declared twice, naming both plugins. docs/hooks.md has a section per hook.
"""

from __future__ import annotations

from collections.abc import Sequence

import pluggy

from .cart import Cart
from .channels import ChannelAdapter, ChannelProfile
from .conditions import ConditionType
from .events import Alert, OrderEvent
from .games import GameEvent, GameKind
from .guards import Guard
from .kinds import DiscountKind
from .result import PriceResult
from .sinks import SinkBackend
from .stores import StoreBackend

__all__ = ["hookimpl", "hookspec"]

#: Marks a hook specification below.
hookspec = pluggy.HookspecMarker("promokit")
#: Marks a plugin's hook implementation: ``@promokit.hookimpl`` (re-exported there).
hookimpl = pluggy.HookimplMarker("promokit")

# -- registration ----------------------------------------------------------


@hookspec
def promokit_register_kinds() -> Sequence[DiscountKind]:
    """Declare discount kinds.

    Called once when a :class:`~promokit.registry.Registry` is built. Return
    instances of :class:`~promokit.kinds.DiscountKind` subclasses; ``None`` or
    an empty list declares none. Every implementation's results are collected;
    a kind name declared by two plugins is an error naming both.

    Example::

        @hookimpl
        def promokit_register_kinds():
            return [RoundDown()]
    """


@hookspec
def promokit_register_conditions() -> Sequence[ConditionType]:
    """Declare eligibility conditions (campaign files name them by ``rule``).

    Called once when a registry is built. Return instances of
    :class:`~promokit.conditions.ConditionType` subclasses; ``None`` declares
    none. ``all``, ``any`` and ``not`` are reserved for the kernel.

    Example::

        @hookimpl
        def promokit_register_conditions():
            return [Weekday()]
    """


@hookspec
def promokit_register_guards() -> Sequence[Guard]:
    """Declare guards: vetoes on promotions, reported as ``guard:<name>``.

    Called once when a registry is built. Return instances of
    :class:`~promokit.guards.Guard` subclasses; ``None`` declares none. Every
    registered guard checks every promotion that is otherwise eligible.

    Example::

        @hookimpl
        def promokit_register_guards():
            return [NoTobaccoDiscounts()]
    """


@hookspec
def promokit_register_stores() -> Sequence[StoreBackend]:
    """Declare store backends, each answering to one URL scheme.

    Called once when a registry is built. Return
    :class:`~promokit.stores.StoreBackend` declarations; ``open_store(url)``
    picks the one whose ``name`` is the URL's scheme. A backend's store must
    pass the shared contract tests (``promokit.testing.store_contract``).

    Example::

        @hookimpl
        def promokit_register_stores():
            return [StoreBackend(name="etcd", open=EtcdStore.from_url,
                                 description="etcd v3, transactions")]
    """


@hookspec
def promokit_register_games() -> Sequence[GameKind]:
    """Declare game kinds (``[[game]]`` tables name them by ``kind``).

    Called once when a registry is built. Return instances of
    :class:`~promokit.games.GameKind` subclasses; ``None`` declares none. The
    built-in ``lottery``, ``blind_box``, ``group_buy``, ``bargain`` and
    ``presale`` are plugins of :mod:`promokit.plugins.games` declared this way.

    Example::

        @hookimpl
        def promokit_register_games():
            return [ScratchCard()]
    """


# -- adapters ----------------------------------------------------------------


@hookspec
def promokit_register_adapters() -> Sequence[ChannelAdapter]:
    """Declare channel adapters: a channel's cart payload to a
    :class:`~promokit.cart.Cart`, a result back to the channel's shape, the
    channel's capabilities and its webhook signatures.

    Called once when a registry is built. Return instances of
    :class:`~promokit.channels.ChannelAdapter` subclasses; ``None`` declares none.
    Every implementation's results are collected into ``registry.adapters`` by
    ``name``; a name declared by two plugins is an error naming both. The
    built-in ``web``, ``app``, ``wechat_mini_program``, ``wechat_h5``, ``live``
    and ``offline`` are plugins of :mod:`promokit.adapters`.

    Example::

        @hookimpl
        def promokit_register_adapters():
            return [KioskAdapter()]
    """


@hookspec
def promokit_register_channel_profiles() -> Sequence[ChannelProfile]:
    """Declare channel profiles: what a channel forbids (discount kinds, games,
    features), each restriction with a key a campaign file can lift
    (``[channels.<name>] allow = ["<key>"]``).

    Called once when a registry is built. Return
    :class:`~promokit.channels.ChannelProfile` values; ``None`` declares none. A
    profile governs the channel of its ``name``; two profiles for one channel are
    an error naming both plugins. Pricing reports a forbidden promotion as
    ``channel_forbidden``, games refuse the operation, ``promokit validate``
    warns.

    Example::

        @hookimpl
        def promokit_register_channel_profiles():
            return [ChannelProfile(name="kiosk", title="mall kiosk rules", restrictions=[
                Restriction(key="games", label="games", games={"lottery", "blind_box"})])]
    """


# -- events ------------------------------------------------------------------


@hookspec
def promokit_register_sinks() -> Sequence[SinkBackend]:
    """Declare sink backends: where the dispatcher delivers outbox events.

    Called once when a registry is built. Return
    :class:`~promokit.sinks.SinkBackend` declarations, each naming the URL
    schemes it opens; ``open_sink(url)`` picks the one whose schemes hold the
    URL's scheme, and ``promokit dispatch --sink NAME=URL`` uses it. A sink's
    ``deliver(event)`` returns once the :class:`~promokit.events.OutboxEvent`
    is delivered and raises :class:`~promokit.errors.DeliveryError` to give up
    on it (a dead letter). ``None`` declares none; a scheme declared twice is
    an error naming both plugins. The built-in ``webhook`` backend takes
    ``http`` and ``https``.

    Example::

        @hookimpl
        def promokit_register_sinks():
            return [SinkBackend(name="kafka", schemes=("kafka",),
                                open=lambda url, settings: KafkaSink(url, **settings))]
    """


# -- evaluation --------------------------------------------------------------


@hookspec
def promokit_evaluated(cart: Cart, result: PriceResult) -> None:
    """Observe every evaluation after it completes (metrics, tracing, audit).

    Called by ``Engine.evaluate`` with the input cart and the frozen result,
    in every plugin that implements it; return values are ignored. It must not
    change anything the result depends on. An exception raised here
    propagates as :class:`~promokit.errors.PluginError` naming the plugin.

    Example::

        @hookimpl
        def promokit_evaluated(cart, result):
            metrics.observe("discount", result.discount_total)
    """


# -- checkout ----------------------------------------------------------------


@hookspec
def promokit_order_event(event: OrderEvent) -> None:
    """Observe every change of an order's state: ``reserved``, ``committed``,
    ``released``, ``expired``, ``refunded`` and ``quarantined`` (a stored record
    that could not be read was set aside; ``event.detail`` says why).

    Called once per change, after the store applied it (a retried, idempotent
    call that changes nothing sends nothing). ``event`` is a frozen
    :class:`~promokit.events.OrderEvent` with the order id, the customer, the
    promotions involved and, for refunds, the refund id and amount. Return
    values are ignored; an exception propagates as
    :class:`~promokit.errors.PluginError` after the change was applied.

    Example::

        @hookimpl
        def promokit_order_event(event):
            if event.kind == "refunded":
                queue.publish("promo.refund", event.to_json())
    """


@hookspec
def promokit_alert(alert: Alert) -> None:
    """Observe a promotion's stock or a budget crossing a warning level: ``yellow``
    below 50% left, ``red`` below 20% left.

    Called once per crossing, by the checkout whose reservation crossed it (a
    release that lifts it back and a later reservation that crosses again
    alert again). ``alert`` is a frozen :class:`~promokit.events.Alert`
    naming the counter, the level, what is left and the limit.

    Example::

        @hookimpl
        def promokit_alert(alert):
            if alert.level == "red":
                pager.send(f"{alert.subject} {alert.what}: {alert.left} of {alert.limit} left")
    """


# -- games -------------------------------------------------------------------


@hookspec
def promokit_game_event(event: GameEvent) -> None:
    """Observe what happens in a game, to notify customers: ``opened``,
    ``joined``, ``full``, ``expired``, ``refunded``, ``helped``,
    ``floor_reached``, ``drawn``, ``won``, ``started``, ``revealed``,
    ``config_changed``, ``deposit_paid``, ``cancelled``, ``balance_due`` …

    Called once per change, after the store applied it (a retried call that
    changes nothing sends nothing). Games never send messages themselves.
    ``event`` is a frozen :class:`~promokit.games.GameEvent` with the game, the
    customer concerned and event data (the prize, the group, the cut). Return
    values are ignored; an exception propagates as
    :class:`~promokit.errors.PluginError` after the change was applied.

    Example::

        @hookimpl
        def promokit_game_event(event):
            if event.event == "full":
                for member in event.data["members"]:
                    sms.send(member, "拼團成功，商家將盡快發貨")
    """
