"""The change rule of a started game: a new config worse for customers is
refused, one in their favour adopted; both are journalled."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import GameError
from ..games import Game, Step, dumps, shared_changes
from ..loading import parse_game_table
from ..registry import Registry
from ..stores import Change, JournalEntry, OrderRow

__all__ = ["adopt"]


def adopt(game: Game, registry: Registry) -> None:
    """Check ``game``'s config against the one it started with: worse for customers
    → :class:`~promokit.errors.GameError` (reason ``config_worse``), else the new
    config is adopted. Both are journalled (``game:<id>:config``)."""
    body = game.started()
    if body is None or body["config_hash"] == game.spec.config_hash:
        return
    old = parse_game_table(body["config"], registry,
                           currency=game.runtime.currency.code,
                           timezone=game.runtime.timezone)
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


def _journal_only(game: Game, entry: Mapping[str, Any]) -> Change:
    """A change that only appends to the game's config journal (its own row)."""
    row_id = f"game:{game.id}:rejections:{entry['config_hash']}"
    row = game.store.order(row_id)
    return Change(order_id=row_id, revision=row.revision if row else 0, status="logged",
                  body=dumps({"last": entry["at"]}),
                  journal=(JournalEntry(game.stream("config"), dumps(entry)),))
