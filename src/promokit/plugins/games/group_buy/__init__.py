"""``group_buy`` (拼團): a product sold at a group price when enough people buy it
together within a window.

A leader pays at the group price and opens a group (:meth:`GroupBuyGame.open_group`);
friends join through the group id or a signed share link
(:meth:`GroupBuyGame.join`), each after paying. The group is ``full`` when its
members reach ``size``; when its window ends short of that, every paid member
is refunded exactly once (``expired``), or with ``auto_complete`` the missing
places are filled with virtual members, disclosed as such and never counted
as buyers (``completed_virtually``). With ``tiers`` the price falls as the group
grows: members pay the first tier's price up front, the group succeeds at the
smallest tier and the difference to the final tier is owed back to each member.

Campaign keys: ``sku``; ``price`` (per unit) or ``tiers = [{ size, price }]``;
``size`` (members needed; with tiers the largest tier's size, optional);
``window_hours`` (24); ``new_customers_only`` (joiners must have no earlier
order); ``max_groups_per_customer`` (groups a customer may lead or join);
``auto_complete`` (false); ``max_units`` (units per member at the group price, 1).

Rows: ``game:<id>:group:<code>`` per group (its ``expires_at`` is the window's
end while open or while refunds are owed). Counters, written with the row so
that pricing reads only counters: ``game:<id>:group:<code>:members``,
``…:ends`` (epoch seconds), ``…:closed`` (0/1), ``…:member:<customer>`` (0/1),
and ``game:<id>:groups:<customer>`` (groups led or joined; given back when a
group expires).
"""

from __future__ import annotations

from promokit import hookimpl
from promokit.games import GameKind

from .config import GroupBuyConfig, Tier
from .game import GroupBuyGame
from .group import CODE_LENGTH, EXPIRED, FULL, OPEN, SUCCEEDED, VIRTUAL, Group, Member
from .kind import GroupBuy

__all__ = ["CODE_LENGTH", "EXPIRED", "FULL", "OPEN", "SUCCEEDED", "VIRTUAL", "Group", "GroupBuy",
           "GroupBuyConfig", "GroupBuyGame", "Member", "Tier"]


@hookimpl
def promokit_register_games() -> list[GameKind]:
    return [GroupBuy()]
