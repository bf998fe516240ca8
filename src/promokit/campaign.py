"""Campaigns and promotions as loaded from a campaign file (DESIGN §5).

Frozen value objects built by :mod:`promokit.loading` once every problem in
the file has been ruled out; pricing only reads them. A :class:`Promotion`
names its kind and holds the kind's parsed parameters, with a reference to the
registered :class:`~promokit.kinds.DiscountKind` that computes it (typed by
the interface, never by a plugin's class). The whole file is a
:class:`~promokit.campaign_set.CampaignSet`.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from .cart import Line
from .conditions import Condition
from .kinds import DiscountKind
from .terms import Funding, Limits, Schedule, Scope, Stage

__all__ = ["Campaign", "Promotion"]


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
    scope: Scope = attrs.field(factory=Scope)
    conditions: tuple[Condition, ...] = ()
    schedule: Schedule = attrs.field(factory=Schedule)
    channels: frozenset[str] | None = None
    codes: frozenset[str] = frozenset()
    exclusive: bool = False
    group: str | None = None
    priority: int = 0
    limits: Limits = attrs.field(factory=Limits)
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
    schedule: Schedule = attrs.field(factory=Schedule)
    budget: int | None = None
    funding: Funding | None = None
