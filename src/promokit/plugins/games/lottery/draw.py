"""One draw: what it decides (the fallback and the guarantee), shared by
:class:`LotteryGame` and the verifier, and what a play returns (:class:`Draw`,
:class:`Grant`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from promokit.games import pick_weighted
from promokit.money import Currency

from .config import LotteryConfig, Prize

#: Offset into a draw's digest for the guarantee's pick (the draw itself uses 0..7).
GUARANTEE_OFFSET = 8


# -- what a draw decides (shared by the game and the verifier) -------------------------


def primary_outcome(config: LotteryConfig, drawn: Prize, position: int, wins: int,
                    in_stock: Callable[[Prize], bool]) -> tuple[Prize, str | None]:
    """The prize awarded for ``drawn`` at the game's draw ``position`` (1, 2, 3 …)
    before any guarantee, and why it fell back."""
    if drawn.fallback:
        return drawn, None
    if config.max_wins is not None and wins >= config.max_wins:
        return config.fallback, "max_wins"
    if drawn.locked(position - 1):
        return config.fallback, "locked"
    if not in_stock(drawn):
        return config.fallback, "out_of_stock"
    return drawn, None


def guarantee_due(config: LotteryConfig, award: Prize, wins: int, since_win: int) -> bool:
    """Whether this draw is the customer's N-th in a row without a paid prize (and
    the customer may still win one)."""
    return (config.guarantee_every is not None and award.fallback
            and (config.max_wins is None or wins < config.max_wins)
            and since_win + 1 >= config.guarantee_every)


def guarantee_candidates(config: LotteryConfig, position: int,
                         in_stock: Callable[[Prize], bool]) -> list[Prize]:
    """The paid prizes a due guarantee picks among: unlocked at ``position`` and in
    stock, in config order."""
    return [p for p in config.paid if not p.locked(position - 1) and in_stock(p)]


def guarantee_pick(digest: bytes, candidates: Sequence[Prize]) -> Prize:
    """The guarantee's prize: picked by the candidates' weights from bytes 8–15."""
    return candidates[pick_weighted(digest, [p.weight for p in candidates], GUARANTEE_OFFSET)]


# -- results ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Draw:
    """What one draw gave a customer."""

    customer: str
    nonce: int
    """The customer's draw number (1, 2, 3 …): part of the draw's randomness."""
    client_seed: str
    """The client seed the draw used: the customer's own or, when they gave none, the
    hash of the log before the draw (``prev``; the log entry then says ``null``)."""
    position: int
    """The draw's place in the whole game (1, 2, 3 …), as the store ordered it."""
    receipt: str
    """SHA-256 of the draw's log entry: keep it, and after the reveal find it in the
    published log at ``position`` (docs/games.md)."""
    drawn: str
    """The prize the randomness picked (before any fallback)."""
    prize: Prize
    """The prize awarded."""
    reason: str | None
    """Why ``prize`` is not ``drawn``: ``out_of_stock``, ``locked``, ``max_wins`` or
    ``guarantee``; ``None`` when it is."""
    ticket: bool
    """Whether the draw spent an entry ticket."""
    draws_left_today: int
    tickets: int
    currency: Currency = attrs.field(eq=False, repr=False)
    """The campaign file's currency (prize values are its minor units)."""

    @property
    def won(self) -> bool:
        """Whether the customer won a paid prize (anything but the fallback)."""
        return not self.prize.fallback

    def to_json(self) -> dict[str, Any]:
        return {"customer": self.customer, "nonce": self.nonce, "client_seed": self.client_seed,
                "position": self.position, "receipt": self.receipt, "drawn": self.drawn,
                "prize": self.prize.to_json(self.currency), "won": self.won, "reason": self.reason,
                "ticket": self.ticket, "draws_left_today": self.draws_left_today,
                "tickets": self.tickets}


@attrs.frozen(kw_only=True)
class Grant:
    """What :meth:`LotteryGame.grant` did."""

    customer: str
    action: str
    action_id: str
    granted: int
    """Tickets added now (0 for a repeated ``action_id``)."""
    tickets: int
    """The customer's tickets afterwards."""
    duplicate: bool

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)
