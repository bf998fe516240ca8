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

This package is the interface a game kind implements, with everything a kind
needs to write one (rows, steps, the audit's randomness, share tokens, the
change rule's comparisons); :mod:`promokit.gameplay` plays them.
"""

from .audit import (
    LOG_FORMAT,
    MAX_TOTAL_WEIGHT,
    Chain,
    DrawLog,
    VerifyReport,
    below,
    chain_tail,
    chained,
    commitment,
    draw_digest,
    draw_input,
    entry_hash,
    hash_config,
    new_seed,
    pick_weighted,
    seed_stream,
)
from .base import (
    LIVE_LIMIT,
    MAX_ATTEMPTS,
    ConfigChange,
    Game,
    GameEvent,
    GameKind,
    GameRuntime,
    GameSpec,
    OrderBook,
    Step,
    age_on,
    dumps,
)
from .chance import ChanceGame
from .changes import compare, shared_changes
from .tokens import ShareToken, is_token_shaped, sign_token, verify_token

__all__ = [
    "LIVE_LIMIT",
    "LOG_FORMAT",
    "MAX_ATTEMPTS",
    "MAX_TOTAL_WEIGHT",
    "Chain",
    "ChanceGame",
    "ConfigChange",
    "DrawLog",
    "Game",
    "GameEvent",
    "GameKind",
    "GameRuntime",
    "GameSpec",
    "OrderBook",
    "ShareToken",
    "Step",
    "VerifyReport",
    "age_on",
    "below",
    "chain_tail",
    "chained",
    "commitment",
    "compare",
    "draw_digest",
    "draw_input",
    "dumps",
    "entry_hash",
    "hash_config",
    "is_token_shaped",
    "new_seed",
    "pick_weighted",
    "seed_stream",
    "shared_changes",
    "sign_token",
    "verify_token",
]
