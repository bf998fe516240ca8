"""The interface of a guard: a veto on a promotion for a cart, with a reason.

Guards enforce rules that sit above any single campaign (compliance, brand
policy, fraud). A guard that returns a message blocks the promotion; the
result reports it as ``guard:<name>`` with that message.

A guard that keeps promotions off tobacco (no discount may touch a line
tagged ``tobacco``)::

    class NoTobaccoDiscounts(Guard):
        name = "no_tobacco"

        def check(self, promotion: Promotion, ctx: ConditionContext) -> str | None:
            if any("tobacco" in view.line.tags for view in ctx.lines):
                return "tobacco may not be discounted"
            return None
"""

from __future__ import annotations

from typing import ClassVar

from .campaign import Promotion
from .conditions import ConditionContext

__all__ = ["Guard"]


class Guard:
    """Base class of guards. Subclass it and register an instance."""

    name: ClassVar[str]

    def check(self, promotion: Promotion, ctx: ConditionContext) -> str | None:
        """``None`` to allow ``promotion`` for this cart, or a message to block it."""
        raise NotImplementedError
