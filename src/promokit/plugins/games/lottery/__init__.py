"""``lottery`` (抽獎, 分享抽錦鯉, 答題抽獎): weighted prizes drawn with auditable randomness.

Campaign keys (``[[game]]`` with ``kind = "lottery"``): ``prizes`` (tables of
``id``, ``name``, ``kind``, ``weight``, ``value``, ``stock``, ``locked_until``,
``fallback``; exactly one ``fallback = true`` prize, unlimited), ``draws_per_day``,
``free_draws_per_day``, ``max_wins``, ``guarantee_every``, ``tickets`` (``purchase``,
``share``, ``quiz``), ``max_tickets_per_day``, ``draw_time`` and ``redeem`` (both
required in jurisdiction ``cn``).

Every draw is ``pick_weighted(draw_digest(seed, customer=…, client_seed=…,
nonce=…, config_hash=…), weights)`` (:mod:`promokit.games.audit`): the server
seed is committed to by :meth:`LotteryGame.open` before the first draw; the client
seed is the customer's own or, when they give none, the hash of the draw log
before the draw (its ``prev``); the nonce counts the customer's draws 1, 2, 3 ….
A drawn prize that is out of stock, not yet unlocked, or beyond the customer's
``max_wins`` turns into the fallback prize (never an error, never another paid
prize); the only other paid prize a customer can get is the guarantee's. Each
draw is one atomic write of the customer's row (``game:<id>:c:<customer>``) with
the prize's stock counter (``game:<id>:prize:<prize>``, limited to the stock),
the game's draw counter (``game:<id>:total``) and a journal entry (stream
``game:<id>:draws``, hash-chained through ``prev`` and numbered by its
``position``) holding everything :meth:`Lottery.verify` needs to recompute it.
"""

from __future__ import annotations

from promokit import hookimpl
from promokit.games import GameKind

from .config import PRIZE_KINDS, TICKET_ACTIONS, LotteryConfig, Prize
from .draw import GUARANTEE_OFFSET, Draw, Grant
from .game import CLOSED, LotteryGame
from .kind import Lottery

__all__ = ["CLOSED", "GUARANTEE_OFFSET", "PRIZE_KINDS", "TICKET_ACTIONS", "Draw", "Grant",
           "Lottery", "LotteryConfig", "LotteryGame", "Prize"]


@hookimpl
def promokit_register_games() -> list[GameKind]:
    return [Lottery()]
