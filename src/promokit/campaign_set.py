"""Everything one campaign file (or several merged) defines: a :class:`CampaignSet`.

It sits above the game interface because it holds the file's games
(:class:`~promokit.games.GameSpec`) beside its campaigns, promotions and
coupon batches.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from zoneinfo import ZoneInfo

import attrs

from .campaign import Campaign, Promotion
from .coupons import CouponBatch
from .games import GameSpec
from .money import Currency

__all__ = ["CampaignSet"]


@attrs.frozen(kw_only=True)
class CampaignSet:
    """Everything one campaign file (or several merged) defines."""

    currency: Currency
    timezone: ZoneInfo
    jurisdiction: str = "none"
    hint_within: Decimal = Decimal("0.5")
    campaigns: tuple[Campaign, ...] = ()
    promotions: tuple[Promotion, ...] = ()
    coupons: tuple[CouponBatch, ...] = ()
    games: tuple[GameSpec, ...] = ()
    """The ``[[game]]`` tables (their price promotions are in ``promotions``)."""
    channel_allow: Mapping[str, frozenset[str]] = attrs.field(factory=dict)
    """``[channels.<name>] allow``: channel → the restriction keys of its profile the
    file lifts (``{"wechat_h5": {"bargain"}}``)."""
    version: str = ""
    """SHA-256 of the canonical content: changes whenever any rule changes."""
    canonical: str = attrs.field(default="", eq=False, repr=False)
    """The canonical JSON content the version hashes (kept in stores for replay)."""

    def coupon(self, batch_id: str) -> CouponBatch | None:
        """The coupon batch with that id, if any."""
        for batch in self.coupons:
            if batch.id == batch_id:
                return batch
        return None

    def game(self, game_id: str) -> GameSpec | None:
        """The game with that id, if any."""
        for spec in self.games:
            if spec.id == game_id:
                return spec
        return None

    def campaign(self, campaign_id: str | None) -> Campaign | None:
        """The campaign with that id, if any."""
        for campaign in self.campaigns:
            if campaign.id == campaign_id:
                return campaign
        return None
