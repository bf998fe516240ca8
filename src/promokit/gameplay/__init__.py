"""Gameplay: the games of a campaign set bound to a store (``engine.games``), the
change rule of a started game, and verifying a revealed draw log.

The game interface a plugin implements is :mod:`promokit.games`; this package
plays the declared games. A game sees only the narrow
:class:`~promokit.games.GameRuntime` the engine gives it: a store, a clock,
where its events go, the orders it may look at and refund, and the campaign
set's promotions; never the engine.
"""

from .adoption import adopt
from .games import Games
from .verify import verify_log

__all__ = ["Games", "adopt", "verify_log"]
