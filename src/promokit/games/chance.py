"""What the games of chance (lotteries, blind boxes) share: draws bound to the
config's canonical hash and chained in the game's log, and a reveal that stops
every later draw in the same atomic write and publishes the final count and the
chain's head (docs/games.md, "Auditable randomness")."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..errors import GameError
from ..stores import Change, Delta, JournalEntry
from .audit import DrawLog, chain_tail, chained, hash_config
from .base import MAX_ATTEMPTS, Game, GameRuntime, GameSpec, dumps

__all__ = ["ChanceGame"]


class ChanceGame(Game):
    """A game whose draws a customer cannot predict and an outsider can verify.

    A kind subclasses it and says how its reveal closes the draws
    (:meth:`closing`), how many draws there were (:meth:`total_draws`,
    :meth:`final_draws`); every draw it journals to ``stream("draws")`` carries
    ``prev``, the hash of the entry before it (:func:`~promokit.games.audit.chain_tail`).
    """

    def __init__(self, spec: GameSpec, runtime: GameRuntime) -> None:
        super().__init__(spec, runtime)
        self._audit_hash: str | None = None

    @property
    def audit_hash(self) -> str:
        """SHA-256 of the config's canonical JSON: the ``config_hash`` draws are bound to."""
        if self._audit_hash is None:
            self._audit_hash = hash_config(self.spec.source)
        return self._audit_hash

    def closing(self) -> Delta:
        """The counter change, in the reveal's atomic write, that refuses every later
        draw on any app server."""
        raise NotImplementedError

    def final_draws(self, values: Mapping[str, int]) -> int:
        """The final draw count, from the counters the reveal's write answered with."""
        raise NotImplementedError

    def total_draws(self) -> int:
        """Draws in the whole game so far (the final count once revealed)."""
        raise NotImplementedError

    def reveal(self) -> str:
        """End the game's chance and publish the server seed; idempotent. The
        ``revealed`` event also publishes the draw count and the chain's head, which
        a verifier holds the log against (:meth:`published`)."""
        self.start()
        for _ in range(MAX_ATTEMPTS):
            row = self.store.order(self.spec.row)
            assert row is not None
            body = json.loads(row.body)
            if body["status"] == "revealed":
                return str(body["seed"])
            at = self.now().isoformat()
            body = {**body, "status": "revealed", "revealed_at": at}
            outcome = self.store.apply(Change(
                order_id=self.spec.row, revision=row.revision, status="revealed",
                body=dumps(body), deltas=(self.closing(),),
                journal=(JournalEntry(self.stream("config"), dumps(
                    {"event": "revealed", "seed": body["seed"], "at": at})),
                    # the draw count and head are final only after this write: the
                    # outbox carries the seed, ``published()`` the rest
                    *self.outbox(self.spec.row, row.revision + 1, [
                        ("revealed", None, {"seed": body["seed"],
                                            "commitment": body["commitment"]})]))))
            if outcome.applied:  # no draw lands after this: the count is final
                draws = self.final_draws(outcome.values)
                self.emit("revealed", None, {"seed": body["seed"], "draws": draws,
                                             "head": self.head(draws),
                                             "commitment": body["commitment"]})
                return str(body["seed"])
        raise GameError(f"game {self.id!r} stayed busy; try the reveal again", reason="busy",
                        game=self.id)

    def published(self) -> dict[str, Any]:
        """The seed and commitment, with the final draw count and the chain's head."""
        draws = self.total_draws()
        return {**super().published(), "draws": draws, "head": self.head(draws)}

    def head(self, draws: int | None = None) -> str:
        """The hash of the game's last log entry (of entry ``draws``), the commitment
        before the first draw: with :meth:`total_draws`, what the reveal publishes
        and a verifier checks the log against."""
        count = self.total_draws() if draws is None else draws
        return chain_tail(self.store, self.stream("draws"), count, self.commitment())

    def draw_log(self) -> DrawLog:
        """The audit record, chained (docs/games.md, "The draw log")."""
        return chained(super().draw_log())
