"""``presale`` (預售, 定金膨脹): a deposit now, the balance later, priced by the catalogue.

Campaign keys of a ``[[game]]`` table with ``kind = "presale"``:

- ``sku``: the product sold in presale; optional ``category``, ``brand`` and
  ``shop`` are copied onto the balance line so the catalogue's scopes see it;
- ``presale_price``: the unit price the balance is computed from;
- ``deposit``: money per unit, above zero and at most 20% of ``presale_price``
  (《民法典》第五百八十六條), in every jurisdiction;
- ``deposit_start`` / ``deposit_end``: when deposits are taken (inclusive);
- ``balance_start`` / ``balance_end``: when the balance is paid (inclusive),
  starting at or after ``deposit_end``;
- ``stock``: units that can be put down; ``max_units_per_customer`` (optional);
- ``pay_within_minutes``: an unpaid deposit is cancelled after it (default 30,
  and never later than ``deposit_end``);
- ``promotion``: optional id of a ``deposit_multiplier`` promotion of the same
  files that prices the balance (checked when the game is bound, since a
  kind's load-time check sees only its own table).

The shared ``start``/``end`` keys are refused: the four window times are the
schedule. Each deposit is one store row ``game:<id>:deposit:<order id>``
moving ``unpaid → paid → balance_due → completed``, or to ``cancelled`` (not
paid in time, or by the customer) or ``forfeited`` (balance not paid by
``balance_end``). Stock is the counter ``game:<id>:stock``, a customer's units
``game:<id>:units:<customer>``; every move is journalled in
``game:<id>:deposits``.
"""

from __future__ import annotations

from promokit import hookimpl
from promokit.games import GameKind

from .config import DEPOSIT_CAP_SHARE, PresaleConfig
from .deposit import Deposit
from .disclosure import rules
from .game import PresaleGame
from .kind import Presale
from .terms import Terms, terms_changes

__all__ = ["DEPOSIT_CAP_SHARE", "Deposit", "Presale", "PresaleConfig", "PresaleGame", "Terms",
           "rules", "terms_changes"]


@hookimpl
def promokit_register_games() -> list[GameKind]:
    return [Presale()]
