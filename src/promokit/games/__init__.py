"""Promotion games: lotteries, blind boxes, group buys, bargains and presales.

A game is a ``[[game]]`` table in the campaign file, parsed by a registered
:class:`GameKind` (built-in ones are plugins in :mod:`promokit.plugins.games`)
and played through :attr:`promokit.Engine.games`::

    koi = engine.games["koi"]          # a Lottery bound to the engine's store
    koi.open()                          # publishes the seed commitment
    draw = koi.draw(customer, client_seed="c1-seed")

Every game keeps its state in the engine's store, through the same atomic
:meth:`~promokit.stores.Store.apply` as checkout, so it is race-free on one
process and on many app servers; every state change is journalled for the
audit; and every change a customer should hear about is a
:class:`GameEvent` through the ``promokit_game_event`` hook.
"""

from .audit import DrawLog, VerifyReport, verify_log
from .base import (
    ConfigChange,
    Game,
    GameEvent,
    GameKind,
    GameRuntime,
    GameSpec,
    age_on,
)
from .collection import Games
from .tokens import ShareToken, sign_token, verify_token

__all__ = [
    "ConfigChange",
    "DrawLog",
    "Game",
    "GameEvent",
    "GameKind",
    "GameRuntime",
    "GameSpec",
    "Games",
    "ShareToken",
    "VerifyReport",
    "age_on",
    "sign_token",
    "verify_log",
    "verify_token",
]
