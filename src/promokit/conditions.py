"""The interface an eligibility condition implements, built-in or third-party.

A campaign file names a condition by ``rule``; the rest of the table is its
parameters::

    conditions = [ { rule = "member_tier", in = ["gold", "platinum"] } ]

``all``, ``any`` and ``not`` combine conditions (``of = [ … ]``) and are part
of the kernel. When a condition fails, the promotion is reported as
``not_eligible:<rule>`` with the condition's :meth:`ConditionType.message`.

A minimal condition, "only on the given weekdays"::

    class Weekday(ConditionType):
        name = "weekday"
        uses_amounts = False

        def parse(self, params: Params) -> frozenset[int]:
            return frozenset(params.raw("in", []))

        def check(self, params: frozenset[int], ctx: ConditionContext) -> bool:
            return ctx.now.isoweekday() in params

        def message(self, params: frozenset[int]) -> str:
            return "only on certain weekdays"
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import attrs

from .cart import Customer
from .kinds import LineView
from .money import Currency
from .params import Params
from .text import Text

__all__ = ["ConditionContext", "ConditionType"]


@attrs.frozen(kw_only=True, slots=True)
class ConditionContext:
    """What a condition may look at."""

    customer: Customer
    channel: str | None
    now: datetime
    """The evaluation time in the campaign file's timezone."""
    currency: Currency
    lines: tuple[LineView, ...]
    """The promotion's lines in scope, with the stage's base amounts."""

    @property
    def spend(self) -> int:
        """Σ ``base`` of the lines in scope (minor units)."""
        return sum(line.base for line in self.lines)

    @property
    def quantity(self) -> int:
        """Σ units in scope."""
        return sum(line.quantity for line in self.lines)


class ConditionType:
    """Base class of conditions. Subclass it and register an instance.

    ``uses_amounts = False`` declares that :meth:`check` never reads line
    amounts, so the kernel checks it once per evaluation, before the best-deal
    search. A condition that reads amounts is checked at its stage, on the
    amounts at the start of that stage.
    """

    name: ClassVar[str]
    uses_amounts: ClassVar[bool] = True

    def parse(self, params: Params) -> Any:
        """Read the condition's parameters (everything but ``rule``)."""
        raise NotImplementedError

    def check(self, params: Any, ctx: ConditionContext) -> bool:
        """Whether the condition holds."""
        raise NotImplementedError

    def message(self, params: Any) -> str:
        """A short sentence for customers saying who or what qualifies."""
        return f"the {self.name} condition is not met"

    def describe(self, params: Any, text: Text) -> str:
        """Who or what qualifies, in ``text.lang``, for rule text and for the
        message when the condition fails. The default is :meth:`message` in
        English and the generic wording otherwise."""
        if text.lang == "en":
            return self.message(params)
        return f"需滿足「{self.name}」條件"

    def threshold_between(self, params: Any, low: int, high: int) -> bool:
        """For conditions that use amounts: whether the result can change for a
        spend in ``(low, high]``. The default, ``True``, is always safe."""
        return True
