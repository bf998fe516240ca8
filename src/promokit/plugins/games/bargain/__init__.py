"""``bargain`` (砍價): friends' helps cut a product's price down to a floor.

Adds the game kind ``bargain``. A customer starts a bargain on one product at
its list price; other customers help, each help cutting the price, and
exactly ``helps`` helps reach the floor price. The cuts are planned when the
bargain starts, from the game's secret server seed and the bargain id
(:func:`cut_plan`), so the number of helps still needed is always an exact
integer (never "0.9% left" forever), the cuts sum to the list price minus the
floor to the minor unit, and after :meth:`~promokit.games.Game.reveal` anyone
can recompute every cut (:meth:`Bargain.verify`). The owner buys at the price
reached, once, through a cart line carrying ``bargain_id = "<game id>.<code>"``.

Campaign keys, besides the shared ones: ``sku``, ``price``, ``floor``,
``helps``, ``window_hours`` (24), ``buy_within_hours`` (= ``window_hours``),
``helps_per_day`` (no cap), ``new_helper_bonus`` (1),
``max_bargains_per_customer`` (1). See ``docs/games/bargain.md``.

What it keeps in the store (``G`` is the game id, ``C`` the bargain's code):

- row ``game:G:bargain:C``: the bargain's terms, cut total and helps (every
  help is one transaction on it), expiring at the end of the window;
- counters ``game:G:bargain:C:cut`` (the cut total, limited to price − floor),
  ``…:price`` (the list price it started from), ``…:buy_by`` (seconds since the
  epoch until which the owner may buy), ``…:owner:<customer>`` (1),
  ``…:bought`` (held by the order that buys it, limit 1),
  ``game:G:bargains:<customer>`` (bargains started, limit
  ``max_bargains_per_customer``) and ``game:G:helps:<helper>:<YYYY-MM-DD>``
  (helps a day, limit ``helps_per_day``);
- journal ``game:G:helps``: one entry per help, for the audit.
"""

from __future__ import annotations

from promokit import hookimpl
from promokit.games import GameKind

from .game import BargainGame
from .kind import Bargain
from .plan import cut_plan
from .values import BargainConfig, BargainState, HelpResult

__all__ = ["Bargain", "BargainConfig", "BargainGame", "BargainState", "HelpResult", "cut_plan"]


@hookimpl
def promokit_register_games() -> list[GameKind]:
    """Declare the ``bargain`` game kind."""
    return [Bargain()]
