"""Campaigns and promotions as loaded from a campaign file (DESIGN §5).

These are frozen value objects built by :mod:`promokit.loader` once every
problem in the file has been ruled out; the engine only reads them.
"""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

import attrs

from .cart import Line
from .coupons import CouponBatch
from .kinds import Stage
from .money import Currency

if TYPE_CHECKING:
    from .conditions import ConditionType
    from .games.base import GameSpec
    from .kinds import DiscountKind

__all__ = [
    "Campaign",
    "CampaignSet",
    "Condition",
    "Funding",
    "Limits",
    "Promotion",
    "Schedule",
    "Scope",
    "Window",
]


def _frozen(values: Any) -> frozenset[str]:
    return frozenset(values or ())


@attrs.frozen(kw_only=True)
class Scope:
    """Which lines a promotion covers.

    A line is in scope when, for every dimension that lists values, it matches
    one of them (categories by path prefix: ``apparel`` covers
    ``apparel/shoes``), and it matches no ``exclude_*`` value. A scope that
    lists nothing covers every line.
    """

    skus: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)
    categories: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)
    brands: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)
    shops: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)
    tags: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)
    exclude_skus: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)
    exclude_categories: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)
    exclude_brands: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)
    exclude_shops: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)
    exclude_tags: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)

    @property
    def lists_anything(self) -> bool:
        """Whether any dimension, positive or excluded, lists a value."""
        return any(getattr(self, field.name) for field in attrs.fields(Scope))

    @property
    def lists_lines(self) -> bool:
        """Whether any positive dimension (not an ``exclude_*``) lists a value."""
        return bool(self.skus or self.categories or self.brands or self.shops or self.tags)

    def excludes(self, line: Line) -> bool:
        """Whether an ``exclude_*`` value matches ``line``."""
        return bool(
            line.sku in self.exclude_skus
            or (self.exclude_categories
                and _in_categories(line, self.exclude_categories))
            or (line.brand is not None and line.brand in self.exclude_brands)
            or (line.shop is not None and line.shop in self.exclude_shops)
            or (self.exclude_tags & line.tags))

    def matches(self, line: Line) -> bool:
        """Whether ``line`` is in this scope."""
        if self.skus and line.sku not in self.skus:
            return False
        if self.categories and not _in_categories(line, self.categories):
            return False
        if self.brands and line.brand not in self.brands:
            return False
        if self.shops and line.shop not in self.shops:
            return False
        if self.tags and not (self.tags & line.tags):
            return False
        return not self.excludes(line)


def _in_categories(line: Line, wanted: frozenset[str]) -> bool:
    return not wanted.isdisjoint(line.categories)


@attrs.frozen(kw_only=True)
class Window:
    """A daily window, start inclusive, end exclusive; may cross midnight."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        """Whether a local time of day falls in the window."""
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@attrs.frozen(kw_only=True)
class Schedule:
    """When a promotion runs: an inclusive ``start``/``end`` and daily windows."""

    start: datetime | None = None
    end: datetime | None = None
    windows: tuple[Window, ...] = ()

    def reason_at(self, now: datetime) -> str | None:
        """``None`` if running at ``now`` (local time), else the reason code."""
        if self.start is not None and now < self.start:
            return "not_started"
        if self.end is not None and now > self.end:
            return "ended"
        if self.windows:
            moment = now.timetz().replace(tzinfo=None)
            if not any(window.contains(moment) for window in self.windows):
                return "out_of_window"
        return None


@attrs.frozen(kw_only=True)
class Limits:
    """Caps on a promotion's use; ``None`` means unlimited."""

    per_customer: int | None = None
    per_customer_daily: int | None = None
    total: int | None = None
    stock: int | None = None
    per_order_units: int | None = None


@attrs.frozen(kw_only=True)
class Funding:
    """Who pays a discount: ``(party, share)`` pairs adding up to 1, in file order."""

    shares: tuple[tuple[str, Decimal], ...]


@attrs.frozen(kw_only=True)
class Condition:
    """One node of a promotion's condition tree.

    Leaves name a registered :class:`~promokit.conditions.ConditionType`;
    ``all``/``any``/``not`` nodes have ``children`` instead.
    """

    rule: str
    params: Any = None
    type: ConditionType | None = attrs.field(default=None, eq=False, repr=False)
    children: tuple[Condition, ...] = ()

    @property
    def uses_amounts(self) -> bool:
        """Whether any leaf reads line amounts."""
        if self.type is not None:
            return self.type.uses_amounts
        return any(child.uses_amounts for child in self.children)


@attrs.frozen(kw_only=True)
class Promotion:
    """One promotion rule: scope + conditions + benefit + limits."""

    id: str
    name: str
    kind: str
    stage: Stage
    params: Any
    kind_impl: DiscountKind = attrs.field(eq=False, repr=False)
    """The registered kind that computes this promotion."""
    campaign: str | None = None
    scope: Scope = Scope()
    conditions: tuple[Condition, ...] = ()
    schedule: Schedule = Schedule()
    channels: frozenset[str] | None = None
    codes: frozenset[str] = frozenset()
    exclusive: bool = False
    group: str | None = None
    priority: int = 0
    limits: Limits = Limits()
    budget: int | None = None
    """Money budget in minor units (DESIGN §4.9 consumes it at checkout)."""
    partial_budget: bool = False
    """Give what is left of a budget that cannot pay the whole discount."""
    coupons: frozenset[str] = frozenset()
    """Ids of the coupon batches whose codes unlock it (any one code will do)."""
    funding: Funding | None = None
    base: Literal["stage", "list"] = "stage"
    source: Any = attrs.field(default=None, eq=False, repr=False)
    """The promotion's table as written in the file (for rule text)."""

    def covers(self, line: Line) -> bool:
        """Whether the promotion acts on ``line``: its own scope, or any scope its
        kind adds (a bundle's components, a ``get_scope``); with no lines of its own
        listed, only the kind's. The promotion's ``exclude_*`` always apply."""
        extra = self.kind_impl.scopes(self.params)
        if not extra:
            return self.scope.matches(line)
        if self.scope.excludes(line):
            return False
        if self.scope.lists_lines and self.scope.matches(line):
            return True
        return any(scope.matches(line) for scope in extra)

    def scopes(self) -> tuple[Scope, ...]:
        """Every scope the promotion covers lines through (for the index)."""
        extra = self.kind_impl.scopes(self.params)
        if extra and not self.scope.lists_lines:
            return tuple(extra)
        return (self.scope, *extra)


@attrs.frozen(kw_only=True)
class Campaign:
    """A named set of promotions sharing a schedule, a budget and funding."""

    id: str
    name: str
    schedule: Schedule = Schedule()
    budget: int | None = None
    funding: Funding | None = None


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
