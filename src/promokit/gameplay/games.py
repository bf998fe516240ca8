"""``engine.games``: the campaign set's games, bound to the engine's store."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping

from ..games import Game, GameRuntime, GameSpec
from ..registry import Registry
from .adoption import adopt

__all__ = ["Games"]


class Games(Mapping[str, Game]):
    """Game id → playable :class:`Game`. Binding a game that has started under
    another config applies the change rule: worse for customers → :class:`GameError`
    (reason ``config_worse``), else the new config is adopted; both are
    journalled (``game:<id>:config``)."""

    def __init__(self, specs: tuple[GameSpec, ...], runtime: GameRuntime,
                 registry: Registry) -> None:
        self._specs = {spec.id: spec for spec in specs}
        self._runtime = runtime
        self._registry = registry
        self._bound: dict[str, Game] = {}
        self._lock = threading.Lock()

    def __getitem__(self, game_id: str) -> Game:
        with self._lock:
            game = self._bound.get(game_id)
        if game is not None:
            return game
        spec = self._specs.get(game_id)
        if spec is None:
            known = ", ".join(sorted(self._specs)) or "none"
            raise KeyError(f"no game {game_id!r}; games: {known}")
        game = spec.kind_impl.bind(spec, self._runtime)
        adopt(game, self._registry)
        with self._lock:
            return self._bound.setdefault(game_id, game)

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def specs(self) -> tuple[GameSpec, ...]:
        return tuple(self._specs.values())

    def expire(self, row_id: str) -> bool:
        """Let the game owning ``row_id`` handle its lapsed row (``Engine.sweep``);
        whether it changed anything."""
        game_id = row_id.split(":")[1]
        if game_id not in self._specs:
            return False  # a game no longer in the campaign files: left for its own files
        return bool(self[game_id].expire(row_id))
