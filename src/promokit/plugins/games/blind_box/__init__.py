"""``blind_box`` (盲盒): buy a sealed box of a series, find out which item is inside.

Campaign keys (besides the shared ``id``, ``name``, ``organiser`` …): ``series``,
``price`` (per box), ``pool`` (``"fixed"``: every box is drawn by the items'
``weight``; ``"finite"``: a pool of released boxes, drawn without replacement by
the ``quantity`` of each item still in it), ``tiers`` (``[{id, name}]``, common
first, rarest last), ``items`` (``[{id, name, tier, value, weight | quantity,
hidden}]``; ``value`` is the item's declared market value and is required),
``last_prize`` (finite pool: ``{name, value}`` for whoever draws the last box),
``pity`` (保底, ``{tier, within}``), ``draws_per_day``, ``spend_per_day`` and
``min_age``. In jurisdiction ``cn`` boxes are not sold to customers under 8 and
need a guardian's consent under 18 (《盲盒經營行為規範指引（試行）》), when the
customer's birthday is known.

Every draw is auditable like a lottery's: the outcome is picked from
``draw_digest(seed, customer=…, client_seed=…, nonce=…, config_hash=…)`` with the
customer's nonce 1, 2, 3 … (the client seed the customer's own, or the hash of the
log before the draw) and journalled, hash-chained, to ``game:<id>:draws``; :meth:`BlindBox.verify`
recomputes a revealed log, replaying the pool's counts in log order.
"""

from __future__ import annotations

from promokit import hookimpl
from promokit.games import GameKind

from .config import CN_CONSENT_AGE, CN_MIN_AGE, BlindBoxConfig, Item, LastPrize, Pity, Tier
from .game import BlindBoxGame, BoxDraw
from .kind import BlindBox
from .odds import ItemOdds, Odds, odds_of

__all__ = ["CN_CONSENT_AGE", "CN_MIN_AGE", "BlindBox", "BlindBoxConfig", "BlindBoxGame", "BoxDraw",
           "Item", "ItemOdds", "LastPrize", "Odds", "Pity", "Tier", "odds_of"]


@hookimpl
def promokit_register_games() -> list[GameKind]:
    """Declare the ``blind_box`` game kind."""
    return [BlindBox()]
