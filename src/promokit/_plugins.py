"""Building a plugin manager: built-ins, entry points, blocking."""

from __future__ import annotations

import importlib
import importlib.metadata
import os
from collections.abc import Iterable

import pluggy

from . import hookspecs
from .errors import PluginError

ENTRY_POINT_GROUP = "promokit"
DISABLE_AUTOLOAD_ENV = "PROMOKIT_DISABLE_PLUGIN_AUTOLOAD"

#: Built-in plugins, registered exactly like third-party ones.
BUILTIN_PLUGINS: tuple[str, ...] = (
    "promokit.adapters.app",
    "promokit.adapters.live",
    "promokit.adapters.offline",
    "promokit.adapters.profiles",
    "promokit.adapters.web",
    "promokit.adapters.wechat",
    "promokit.plugins.conditions",
    "promokit.plugins.games.bargain",
    "promokit.plugins.games.blind_box",
    "promokit.plugins.games.group_buy",
    "promokit.plugins.games.lottery",
    "promokit.plugins.games.presale",
    "promokit.plugins.kinds.amount_off",
    "promokit.plugins.kinds.bundle_price",
    "promokit.plugins.kinds.buy_x_get_y",
    "promokit.plugins.kinds.deposit_multiplier",
    "promokit.plugins.kinds.fixed_price",
    "promokit.plugins.kinds.free_shipping",
    "promokit.plugins.kinds.gift",
    "promokit.plugins.kinds.member_price",
    "promokit.plugins.kinds.nth_item",
    "promokit.plugins.kinds.order_amount_off",
    "promokit.plugins.kinds.percent_off",
    "promokit.plugins.kinds.points_multiplier",
    "promokit.plugins.kinds.quantity_tiered",
    "promokit.plugins.kinds.tiered_threshold",
    "promokit.plugins.sinks.amqp",
    "promokit.plugins.sinks.nats",
    "promokit.plugins.sinks.webhook",
    "promokit.plugins.stores",
)


def make_plugin_manager(
    plugins: Iterable[object] = (),
    *,
    load_entry_points: bool = True,
    blocked: Iterable[str] = (),
) -> pluggy.PluginManager:
    """A plugin manager with promokit's hooks, built-ins and installed plugins.

    ``plugins`` are extra plugin objects (modules or instances) to register.
    Third-party plugins come from the ``promokit`` entry point group unless
    ``load_entry_points`` is false or the environment variable
    ``PROMOKIT_DISABLE_PLUGIN_AUTOLOAD`` is set. ``blocked`` names plugins
    (built-in module names such as ``promokit.plugins.kinds.percent_off``, or
    entry point names) that must not be registered. A hook implementation that
    matches no spec fails here, naming the plugin.
    """
    pm = pluggy.PluginManager("promokit")
    pm.add_hookspecs(hookspecs)
    for name in blocked:
        pm.set_blocked(name)
    for module_name in BUILTIN_PLUGINS:
        if not pm.is_blocked(module_name):
            pm.register(importlib.import_module(module_name), name=module_name)
    if load_entry_points and not os.environ.get(DISABLE_AUTOLOAD_ENV):
        try:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        except Exception as error:
            failing = _failing_entry_point(pm)
            raise PluginError(
                f"plugin {failing!r} of the {ENTRY_POINT_GROUP!r} entry point group failed to "
                f"load: {error!r}; uninstall it or block it by name",
                plugin_name=failing,
            ) from error
    for plugin in plugins:
        pm.register(plugin)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as error:
        raise PluginError(
            f"plugin {error.plugin!r} implements an unknown hook: {error}",
            plugin_name=pm.get_name(error.plugin),
        ) from error
    return pm


def _failing_entry_point(pm: pluggy.PluginManager) -> str | None:
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if pm.get_plugin(entry_point.name) is None and not pm.is_blocked(entry_point.name):
            try:
                entry_point.load()
            except Exception:
                return entry_point.name
    return None


def distribution_of(pm: pluggy.PluginManager, plugin_name: str) -> str | None:
    """The installed distribution a plugin came from, if it came from one."""
    plugin = pm.get_plugin(plugin_name)
    for candidate, dist in pm.list_plugin_distinfo():
        if candidate is plugin:
            return f"{dist.project_name} {dist.version}"
    return None
