"""The interface a discount kind implements, built-in or third-party.

Plugins compute, the kernel applies. A kind receives an :class:`Application`
(the frozen lines of one promotion's scope with their current net amounts, in
integer minor units) and returns a proposal: per-line amounts
(:class:`PerLine`), one amount for the kernel to spread over the lines by net
(:class:`Total`), a shipping discount (:class:`ShippingOff`), or a reason it
does not apply (:class:`NoDeal`). Stacking, the best-deal search, capping,
allocation, rounding, funding, explanations and hints happen once, in the
kernel, so a third-party kind keeps every money invariant.

A minimal kind, "round the order down to whole yuan" (抹零)::

    class RoundDown(DiscountKind):
        name = "round_down"
        default_stage = "platform"

        def parse(self, params: Params) -> None:
            return None

        def compute(self, params: None, app: Application) -> Outcome:
            cents = sum(line.net for line in app.lines) % app.currency.scale
            return Total(cents) if cents else NoDeal("no_saving", "already whole yuan")
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Literal

import attrs

from .cart import Customer, Line
from .money import Currency
from .params import Params
from .stores.base import Delta
from .terms import Scope, Stage
from .text import Text

__all__ = [
    "Application",
    "DiscountKind",
    "GiftItem",
    "Gifts",
    "HintProposal",
    "LineView",
    "NoDeal",
    "Outcome",
    "PerLine",
    "RewardItem",
    "Rewards",
    "ShippingOff",
    "Total",
    "UnitDeal",
]

@attrs.frozen(kw_only=True, slots=True)
class LineView:
    """The units of one cart line that a promotion covers, in minor units."""

    index: int
    """Position of the line in the cart."""
    line: Line
    """The cart line (sku, category, brand, shop, tags …)."""
    quantity: int
    """Units covered (fewer than the line's when a unit limit applies)."""
    unit_price: int
    subtotal: int
    """List price of the covered units."""
    net: int
    """Net amount of the covered units after the promotions before this one."""
    base: int
    """The amount thresholds measure: the stage's starting net, or the list price."""
    floor: int = 0
    """What the net may not go below: the deposit already paid for these units
    (定金). The kernel caps every discount at ``net − floor``."""


@attrs.frozen(kw_only=True, slots=True)
class Application:
    """One promotion about to act on its lines (per shop at the shop stage)."""

    promotion_id: str
    params: Any
    lines: tuple[LineView, ...]
    currency: Currency
    customer: Customer
    channel: str | None
    now: datetime
    shipping: int = 0
    """Shipping still charged (the shipping stage)."""
    stock_left: int | None = None
    """For kinds whose ``stock_counts = "own"`` (gifts): what is left of ``limits.stock``."""
    text: Text = attrs.field(factory=Text)
    """The customer's language, for messages (``app.text.money(…)``)."""
    counters: Mapping[str, int] = attrs.field(factory=dict)
    """Store counters the evaluation read, including those the kind asked for in
    :meth:`DiscountKind.counter_keys` (a game's state)."""

    @property
    def spend(self) -> int:
        """What thresholds measure: Σ ``base`` of the lines in scope."""
        return sum(line.base for line in self.lines)

    @property
    def net(self) -> int:
        """Σ current net of the lines in scope."""
        return sum(line.net for line in self.lines)

    @property
    def quantity(self) -> int:
        """Σ units in scope."""
        return sum(line.quantity for line in self.lines)


def _amounts(values: Iterable[int]) -> tuple[int, ...]:
    return tuple(values)


@attrs.frozen(slots=True)
class PerLine:
    """A discount per line, aligned with ``Application.lines`` (minor units)."""

    amounts: tuple[int, ...] = attrs.field(converter=_amounts)


@attrs.frozen(slots=True)
class Total:
    """One discount the kernel spreads over the lines by net (largest remainder)."""

    amount: int


@attrs.frozen(slots=True)
class ShippingOff:
    """A discount on the shipping charge."""

    amount: int


@attrs.frozen(slots=True)
class UnitDeal:
    """A quantity deal: ``amount`` off the ``units`` it covers on each line (aligned
    with ``Application.lines``). The kernel spreads the amount over those units by
    net, and no other quantity deal may use them again."""

    amount: int
    units: tuple[int, ...] = attrs.field(converter=_amounts)


@attrs.frozen(slots=True)
class GiftItem:
    """A gift line: ``quantity`` × ``sku`` worth ``value`` (minor units) each."""

    sku: str
    name: str
    quantity: int
    value: int


@attrs.frozen(slots=True)
class Gifts:
    """Gift lines added to the order (贈品); the best deal counts their value."""

    items: tuple[GiftItem, ...]


@attrs.frozen(slots=True)
class RewardItem:
    """Something earned that is not a price change: ``kind`` (``points``,
    ``coupon`` …) and an ``amount`` written as text (``"1336"``, a coupon batch id)."""

    kind: str
    amount: str


@attrs.frozen(slots=True)
class Rewards:
    """Rewards earned on the final net (積分翻倍, a coupon for the next order)."""

    items: tuple[RewardItem, ...]


@attrs.frozen(slots=True)
class NoDeal:
    """The promotion does not apply here: a reason code of DESIGN §7 and a message."""

    reason: str
    message: str


Outcome = PerLine | Total | ShippingOff | UnitDeal | Gifts | Rewards | NoDeal


@attrs.frozen(slots=True)
class HintProposal:
    """"Add ``missing`` more to save ``saving`` more" (minor units); ``target`` is the
    threshold being aimed at, for the within-reach test."""

    missing: int
    saving: int
    target: int
    message: str | None = None
    """The hint in ``app.text``'s language, when "add X more to save Y" does not fit
    (a gift: 再買¥49.00可獲贈保溫杯)."""


class DiscountKind:
    """Base class of discount kinds. Subclass it and register an instance.

    Class attributes:

    ``name``
        The short stable name campaign files use (``kind = "percent_off"``).
    ``default_stage``
        The stage a promotion of this kind runs at unless it says ``stage``.
    ``monotone``
        ``True`` promises that, apart from the spends where
        :meth:`threshold_between` reports a step, a lower net never makes this
        kind save more, and never makes the price after it higher. The
        best-deal search then knows that applying an earlier discount cannot
        cost the customer through this kind, and needs to weigh fewer
        combinations. Leave it ``False`` if unsure: results stay exact, the
        search just considers more.
    """

    name: ClassVar[str]
    default_stage: ClassVar[Stage] = "item"
    monotone: ClassVar[bool] = False
    quantity_deal: ClassVar[bool] = False
    """``True`` for kinds that return :class:`UnitDeal`: they see only units no
    earlier quantity deal has taken."""
    benefit: ClassVar[Literal["price", "gift", "reward"]] = "price"
    """What the customer gets: a lower ``price``, a ``gift``, or a ``reward`` for later
    (points, a coupon). The rule text says so."""
    stock_counts: ClassVar[Literal["units", "own"]] = "units"
    """What ``limits.stock`` counts: the cart ``units`` discounted (flash sales), or
    the kind's ``own`` things, such as gifts (handed over as ``app.stock_left``)."""

    def parse(self, params: Params) -> Any:
        """Read this kind's parameters from the promotion table.

        Use ``params``' typed accessors: they record problems with their
        path. Keys not read here or by the kernel are reported as unknown.
        Return any value; it is handed back to :meth:`compute` as ``params``.
        """
        raise NotImplementedError

    def scopes(self, params: Any) -> tuple[Scope, ...]:
        """Further scopes whose lines the promotion covers (a bundle's components, a
        ``get_scope``). A promotion without a ``scope`` of its own then covers only
        these."""
        return ()

    def describe(self, params: Any, text: Text) -> str:
        """The benefit in customer words for the rule text, in ``text.lang``
        (``滿300減50`` / ``¥50.00 off orders from ¥300.00``)."""
        return self.name

    def precheck(self, params: Any, app: Application) -> NoDeal | None:
        """A reason this promotion cannot apply to this cart at all, checked once
        before the best-deal search (``app`` holds the lines at list price).
        ``None`` (the default) lets the search consider it."""
        return None

    def compute(self, params: Any, app: Application) -> Outcome:
        """Propose this promotion's discount on ``app.lines``."""
        raise NotImplementedError

    def threshold_between(self, params: Any, low: int, high: int) -> bool:
        """Whether the outcome steps (a tier is reached or lost) for a spend in
        ``(low, high]``. Only consulted for ``monotone`` kinds."""
        return False

    def hint(self, params: Any, app: Application) -> HintProposal | None:
        """What more spend in scope would save more, if anything ("湊單提示")."""
        return None

    def counter_keys(self, params: Any, lines: Sequence[Line],
                     customer: Customer) -> Sequence[str]:
        """Store counters :meth:`compute` needs (handed over as ``app.counters``),
        for the cart's lines in scope. The kernel reads them with every other
        counter in one store read; replay uses the recorded values."""
        return ()

    def holds(self, params: Any, lines: Sequence[Line], customer: Customer) -> Sequence[Delta]:
        """Counters an order holds when this promotion applied to ``lines``, beyond
        its limits' (checkout reserves them with the rest, all or nothing)."""
        return ()
