"""Channel profiles: what a channel forbids, and the shop's explicit overrides.

A :class:`ChannelProfile` is registered through
``promokit_register_channel_profiles`` and governs the channel of its ``name``.
It holds :class:`Restriction` s, each with a ``key`` a campaign file can lift::

    [channels.wechat_h5]
    allow = ["bargain"]

A restriction matches a discount kind by name, a game kind by name, or a
*feature*: something a game or promotion does whatever its kind is
(``share_for_draw``: a lottery's ``tickets.share``). Pricing reports a
forbidden promotion as ``channel_forbidden``; a game refuses the operation
with :class:`~promokit.errors.GameError` ``channel_forbidden``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

__all__ = ["ChannelProfile", "ChannelRules", "Refusal", "Restriction", "Uses"]


def _frozen(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


def _tuple(values: Iterable[Restriction]) -> tuple[Restriction, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class Uses:
    """What a promotion, a game or one game operation does, as profiles see it."""

    kind: str | None = None
    """The discount kind (a promotion)."""
    game: str | None = None
    """The game kind (a game, its operations, and its price promotion)."""
    features: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)


@attrs.frozen(kw_only=True)
class Restriction:
    """One thing a channel forbids; ``key`` is what ``allow = [...]`` names."""

    key: str
    label: str
    """What it is, for people: ``friend-help bargaining (砍價)``."""
    kinds: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)
    games: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)
    features: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)

    def matches(self, uses: Uses) -> bool:
        return (uses.kind in self.kinds or uses.game in self.games
                or not self.features.isdisjoint(uses.features))


@attrs.frozen(kw_only=True)
class ChannelProfile:
    """The rules of one channel: ``name`` is the channel (``wechat_h5``)."""

    name: str
    title: str
    """Where the rules come from: ``WeChat external-link rules (since 2019-10-28)``."""
    restrictions: tuple[Restriction, ...] = attrs.field(default=(), converter=_tuple)

    def __attrs_post_init__(self) -> None:
        keys = [r.key for r in self.restrictions]
        if len(set(keys)) != len(keys):
            raise ValueError(f"profile {self.name!r} uses a restriction key twice: {keys}")

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(r.key for r in self.restrictions)

    def refusal(self, uses: Uses, allow: frozenset[str] = frozenset()) -> Restriction | None:
        """The first restriction that forbids ``uses`` and is not allowed."""
        for restriction in self.restrictions:
            if restriction.key not in allow and restriction.matches(uses):
                return restriction
        return None


@attrs.frozen(kw_only=True)
class Refusal:
    """Why something may not run on a channel."""

    channel: str
    profile: ChannelProfile
    restriction: Restriction

    @property
    def message(self) -> str:
        return (f"{self.restriction.label} is not allowed on {self.channel} "
                f"({self.profile.title}); lift it with [channels.{self.channel}] "
                f'allow = ["{self.restriction.key}"]')


@attrs.frozen(kw_only=True)
class ChannelRules:
    """The registered profiles with one campaign set's overrides: what the engine,
    its games and ``promokit validate`` ask."""

    profiles: Mapping[str, ChannelProfile] = attrs.field(factory=dict)
    allow: Mapping[str, frozenset[str]] = attrs.field(factory=dict)
    """Channel → restriction keys the campaign file lifts."""

    def refusal(self, channel: str | None, uses: Uses) -> Refusal | None:
        """Why ``uses`` may not run on ``channel``, or ``None`` if it may."""
        if channel is None:
            return None
        profile = self.profiles.get(channel)
        if profile is None:
            return None
        restriction = profile.refusal(uses, self.allow.get(channel, frozenset()))
        if restriction is None:
            return None
        return Refusal(channel=channel, profile=profile, restriction=restriction)
