"""``engine.games``: the games of a campaign set, bound to the engine's store."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import GameError
from ..stores.base import JournalEntry, OrderRow
from .base import Game, GameRuntime, GameSpec, Step, dumps
from .changes import shared_changes

if TYPE_CHECKING:
    from ..registry import Registry

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
        self._adopt(game)
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

    def _adopt(self, game: Game) -> None:
        """Check the config against the one the game started with (see class doc)."""
        from .loader import parse_game_table

        body = game.started()
        if body is None or body["config_hash"] == game.spec.config_hash:
            return
        old = parse_game_table(body["config"], self._registry,
                               currency=self._runtime.currency.code,
                               timezone=self._runtime.timezone)
        changes = [*shared_changes(old, game.spec),
                   *game.spec.kind_impl.changes(old, game.spec)]
        worse = [change for change in changes if change.worse]
        now = game.now().isoformat()
        if worse:
            entry = {"event": "config_rejected", "config_hash": game.spec.config_hash,
                     "from": body["config_hash"], "changes": [str(c) for c in changes],
                     "at": now}
            # the rejection is kept even though nothing else changes
            game.store.apply(_journal_only(game, entry))
            raise GameError(
                f"game {game.id!r} has started; these changes are worse for customers and "
                f"are not allowed: {'; '.join(str(c) for c in worse)}",
                reason="config_worse", game=game.id)
        spec = game.spec

        def build(row: OrderRow | None, stored: dict[str, Any] | None,
                  refused: frozenset[str]) -> Step[None]:
            assert row is not None and stored is not None
            if stored["config_hash"] == spec.config_hash:
                return Step(status=row.status, body=stored, result=None)
            entry = {"event": "config_changed", "config_hash": spec.config_hash,
                     "from": stored["config_hash"], "config": dict(spec.source),
                     "changes": [str(c) for c in changes], "at": now}
            return Step(status=row.status,
                        body={**stored, "config": dict(spec.source),
                              "config_hash": spec.config_hash},
                        result=None,
                        journal=(JournalEntry(game.stream("config"), dumps(entry)),),
                        events=(("config_changed", None,
                                 {"changes": [str(c) for c in changes]}),))
        game.transact(spec.row, build)


def _journal_only(game: Game, entry: Mapping[str, Any]) -> Any:
    """A change that only appends to the game's config journal (its own row)."""
    from ..stores.base import Change

    row_id = f"game:{game.id}:rejections:{entry['config_hash']}"
    row = game.store.order(row_id)
    return Change(order_id=row_id, revision=row.revision if row else 0, status="logged",
                  body=dumps({"last": entry["at"]}),
                  journal=(JournalEntry(game.stream("config"), dumps(entry)),))
