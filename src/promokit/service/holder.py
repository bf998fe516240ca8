"""The engine a service runs, swapped whole when its campaign files change.

:class:`EngineHolder` keeps one immutable reference to an
:class:`~promokit.Engine` (and the :class:`~.keys.KeyRing`). A request reads the
reference once, at its start, and runs to its end on that engine; a reload
builds a new engine beside it (sharing the store, plugins and compiled-campaign
cache, :meth:`Engine.with_campaigns <promokit.Engine.with_campaigns>`) and
replaces the reference in one assignment. So no request is dropped or sees half
a reload, and one in flight finishes on the old campaigns. A reload that fails
(an invalid file) leaves the running engine in place and says why.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import attrs

from ..engine import Engine
from ..errors import PromokitError
from ..inputs import DEFAULT_LIMITS, InputLimits
from ..loading import load_campaigns
from ..registry import Registry, open_store
from .keys import KeyRing, load_keys

__all__ = ["EngineHolder", "ServiceConfig"]

log = logging.getLogger("promokit.service")


@attrs.frozen(kw_only=True)
class ServiceConfig:
    """What ``promokit serve`` was given."""

    campaigns: tuple[str, ...] = attrs.field(converter=tuple)
    store: str
    keys: str
    watch: bool = True
    """Reload when a campaign file or the keys file changes (besides on SIGHUP)."""
    secret: str | None = None
    """Signs games' share tokens (``$PROMOKIT_SECRET``)."""
    load_entry_points: bool = True
    limits: InputLimits = DEFAULT_LIMITS

    @property
    def watched(self) -> tuple[Path, ...]:
        return tuple(Path(p).resolve() for p in (*self.campaigns, self.keys))


class EngineHolder:
    """The running engine and keys; :meth:`reload` swaps both at once."""

    def __init__(self, config: ServiceConfig, *, registry: Registry | None = None) -> None:
        self.config = config
        self.registry = registry or Registry.default(load_entry_points=config.load_entry_points)
        campaigns = load_campaigns(list(config.campaigns), self.registry, limits=config.limits)
        keys = load_keys(config.keys)
        store = open_store(config.store, registry=self.registry)
        self._reloading = threading.Lock()
        self.reloads = 0
        self._current: tuple[Engine, KeyRing] = (
            Engine(campaigns, registry=self.registry, store=store,
                   secret=config.secret.encode() if config.secret else None,
                   input_limits=config.limits), keys)

    @property
    def engine(self) -> Engine:
        return self._current[0]

    @property
    def keys(self) -> KeyRing:
        return self._current[1]

    def reload(self) -> bool:
        """Load the campaign files and keys again and swap them in; ``False`` (the
        running ones kept) if any is invalid."""
        with self._reloading:
            engine, _ = self._current
            try:
                campaigns = load_campaigns(list(self.config.campaigns), self.registry,
                                           limits=self.config.limits)
                keys = load_keys(self.config.keys)
            except PromokitError as error:
                log.error("reload failed, still serving the previous campaigns: %s", error)
                return False
            fresh = (engine if campaigns.version == engine.campaigns.version
                     else engine.with_campaigns(campaigns))
            self._current = (fresh, keys)  # one assignment: requests see old or new
            self.reloads += 1
            log.info("reloaded campaign version %s", campaigns.version[:12])
            return True

    def close(self) -> None:
        self.engine.store.close()


def watched_names(paths: Sequence[Path]) -> set[str]:
    return {str(path) for path in paths}
