"""A campaign file's ``[channels.<name>]`` tables, and the promotions and games
that list a channel whose profile forbids them (``promokit validate`` warns).

::

    [channels.wechat_h5]
    allow = ["bargain"]     # the shop runs its 砍價 on H5 pages anyway

The channel must have a registered profile and ``allow`` may only name that
profile's restriction keys; both are checked with a did-you-mean.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from ..campaign import Promotion
from ..campaign_set import CampaignSet
from ..channels import ChannelRules, Refusal, Uses
from ..conditions import Condition
from ..errors import Problem
from ..params import Params
from ..registry import Registry
from .game_prices import GamePriceParams

__all__ = ["channel_rules", "channel_warnings", "promotion_uses", "read_channels"]


def _close(word: str, known: list[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def read_channels(p: Params | None, registry: Registry) -> dict[str, frozenset[str]]:
    """The ``channels`` table: channel → restriction keys lifted."""
    if p is None:
        return {}
    allowed: dict[str, frozenset[str]] = {}
    for channel in p:
        table = p.table(channel)
        if table is None:
            continue
        profile = registry.profiles.get(channel)
        if profile is None:
            known = sorted(registry.profiles)
            table.problem(f"no channel profile {channel!r}{_close(channel, known)}; "
                          f"profiles: {', '.join(known) or 'none'}")
            table.raw("allow")
            continue
        keys = table.strings("allow", required=True) or ()
        for index, key in enumerate(keys):
            if key not in profile.keys:
                table.problem(f"{profile.name} forbids no {key!r}{_close(key, list(profile.keys))}"
                              f"; it forbids {', '.join(profile.keys)}", f"allow[{index}]")
        table.finish()
        allowed[channel] = frozenset(keys)
    return allowed


def channel_rules(campaigns: CampaignSet, registry: Registry) -> ChannelRules:
    """The registry's profiles with the file's ``[channels]`` overrides."""
    return ChannelRules(profiles=registry.profiles, allow=campaigns.channel_allow)


def promotion_uses(promotion: Promotion) -> Uses:
    """What a promotion does, as profiles see it: its kind, and for a game's price
    promotion the game's kind and features."""
    params = promotion.params
    if isinstance(params, GamePriceParams):
        spec = params.spec
        return Uses(kind=promotion.kind, game=spec.kind,
                    features=spec.kind_impl.features(spec.config))
    return Uses(kind=promotion.kind)


def _listed(conditions: tuple[Condition, ...]) -> Iterator[str]:
    """Channels named by ``channel`` conditions anywhere in a condition tree."""
    for condition in conditions:
        if condition.rule == "channel" and condition.params:
            yield from condition.params
        yield from _listed(condition.children)


def channel_warnings(campaigns: CampaignSet, registry: Registry) -> list[Problem]:
    """A warning for each promotion or game that lists a channel (``channels``, or a
    ``channel`` condition) whose profile forbids it."""
    rules = channel_rules(campaigns, registry)
    found: list[Problem] = []

    def check(path: str, what: str, channels: list[str], uses: Uses) -> None:
        for channel in dict.fromkeys(channels):
            refusal: Refusal | None = rules.refusal(channel, uses)
            if refusal is not None:
                found.append(Problem(path=path, message=f"{what} lists {channel}, but "
                                     f"{refusal.message}"))

    index = 0
    for promotion in campaigns.promotions:
        if isinstance(promotion.params, GamePriceParams):
            continue
        listed = sorted(promotion.channels or ()) + list(_listed(promotion.conditions))
        check(f"promotion[{index}]", f"promotion {promotion.id!r}", listed,
              promotion_uses(promotion))
        index += 1
    for number, spec in enumerate(campaigns.games):
        uses = Uses(game=spec.kind, features=spec.kind_impl.features(spec.config))
        check(f"game[{number}]", f"game {spec.id!r}", list(_listed(spec.conditions)), uses)
    return found


