"""Loading: campaign files (TOML or JSON) → a validated
:class:`~promokit.campaign_set.CampaignSet`.

Everything is read before anything is built: every problem is collected with
its path (``promotion[2].tiers[0].spend: must be > 0``) and reported in one
:class:`~promokit.errors.ConfigError`; unknown keys are errors; nothing is
half-loaded. The registry supplies the kinds, conditions and game kinds the
files name.

- :mod:`.files`: reading and merging files;
- :mod:`.campaigns`: the content → campaigns, promotions, coupon batches;
- :mod:`.readers`: schedules, funding, limits and conditions, shared by all;
- :mod:`.games`: ``[[game]]`` tables and the rules that apply at load;
- :mod:`.game_prices`: the promotion that carries a game's price to the cart;
- :mod:`.canonical`: the canonical JSON a store keeps and a version hashes.
"""

from .campaigns import parse_campaigns
from .canonical import canonical_json
from .channels import channel_rules, channel_warnings, promotion_uses
from .files import load_campaigns, read_campaign_source
from .games import parse_game_table

__all__ = [
    "canonical_json",
    "channel_rules",
    "channel_warnings",
    "load_campaigns",
    "parse_campaigns",
    "parse_game_table",
    "promotion_uses",
    "read_campaign_source",
]
