"""The interface an eligibility condition implements, built-in or third-party.

A campaign file names a condition by ``rule``; the rest of the table is its
parameters::

    conditions = [ { rule = "member_tier", in = ["gold", "platinum"] } ]

``all``, ``any`` and ``not`` combine conditions (``of = [ … ]``) and are part
of the kernel. When a condition fails, the promotion is reported as
``not_eligible:<rule>`` with the condition's :meth:`ConditionType.message`.

The loader turns a promotion's ``conditions`` into a tree of :class:`Condition`
nodes; :func:`failed_condition` finds the first that does not hold and
:func:`condition_message` says why in the customer's language.

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

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

import attrs

from .cart import Customer
from .kinds import LineView
from .money import Currency
from .params import Params
from .text import Text

__all__ = [
    "Condition",
    "ConditionContext",
    "ConditionType",
    "condition_message",
    "failed_condition",
]


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
        English and the generic wording (``需满足「weekday」条件``) otherwise."""
        if text.lang == "en":
            return self.message(params)
        return text.gettext("the “{rule}” condition must be met", rule=self.name)

    def threshold_between(self, params: Any, low: int, high: int) -> bool:
        """For conditions that use amounts: whether the result can change for a
        spend in ``(low, high]``. The default, ``True``, is always safe."""
        return True


@attrs.frozen(kw_only=True)
class Condition:
    """One node of a promotion's (or a game's) condition tree.

    Leaves name a registered :class:`ConditionType` (``type``) with its parsed
    ``params``; ``all``/``any``/``not`` nodes have ``children`` instead.
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

    def threshold_between(self, low: int, high: int) -> bool:
        """Whether a leaf that reads amounts can change its answer for a spend in
        ``(low, high]``."""
        if self.type is not None:
            return self.type.uses_amounts and self.type.threshold_between(self.params, low,
                                                                          high)
        return any(child.threshold_between(low, high) for child in self.children)

    def failed(self, ctx: ConditionContext) -> Condition | None:
        """The node that makes this one fail for ``ctx`` (itself, or a leaf under an
        ``all``), or ``None`` if it holds."""
        if self.type is not None:
            return None if self.type.check(self.params, ctx) else self
        if self.rule == "all":
            for child in self.children:
                failed = child.failed(ctx)
                if failed is not None:
                    return failed
            return None
        holds = any(child.failed(ctx) is None for child in self.children)
        if self.rule == "not":
            holds = not all(child.failed(ctx) is None for child in self.children)
        return None if holds else self


def failed_condition(conditions: Sequence[Condition], ctx: ConditionContext, *,
                     amounts: bool | None = None) -> Condition | None:
    """The first condition that does not hold, or ``None``.

    ``amounts`` selects the conditions checked: ``False`` only those that do
    not read amounts, ``True`` only those that do, ``None`` all.
    """
    for condition in conditions:
        if amounts is not None and condition.uses_amounts != amounts:
            continue
        failed = condition.failed(ctx)
        if failed is not None:
            return failed
    return None


def condition_message(condition: Condition, text: Text) -> str:
    """What a customer reads when ``condition`` fails, in ``text.lang``."""
    if condition.type is not None:
        return condition.type.describe(condition.params, text)
    parts = [condition_message(child, text) for child in condition.children]
    if condition.rule == "any":
        return text.gettext("needs one of: {conditions}",
                            conditions=text.pgettext("any", "; or ").join(parts))
    if condition.rule == "not":
        return text.gettext("not when: {conditions}",
                            conditions=text.pgettext("all", "; and ").join(parts))
    return text.gettext("; ").join(parts)
