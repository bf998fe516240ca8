"""What one evaluation works on: its :class:`Setup` and :class:`Context`, the
:class:`Unit` of choice of the best-deal search, a :class:`State` part-way
through the stages, and what a unit :class:`Acted`.

Everything is in integer minor units. A unit is one promotion acting on its
lines (one per shop at the shop stage); a state is the priced cart part-way
through. Stages return new states and never mutate their input, so the search
can branch from any stage.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

import attrs

from ..campaign import Promotion
from ..campaign_set import CampaignSet
from ..cart import Cart, Line
from ..channels import ChannelRules
from ..guards import Guard
from ..inputs import DEFAULT_LIMITS, InputLimits
from ..kinds import Application, GiftItem, NoDeal, RewardItem
from ..money import Currency
from ..stores import Store
from ..terms import STAGES
from ..text import Text
from .index import CompiledCampaigns
from .reads import Known, StoreReads

__all__ = ["Acted", "Context", "Setup", "State", "Unit", "skip", "stage_no"]


@attrs.frozen(kw_only=True)
class Setup:
    """What stays the same across a pricer's evaluations: the campaigns, compiled
    for look-up, the guards, the store counters are read from, the clock, and the
    pricer's settings."""

    campaigns: CampaignSet
    compiled: CompiledCampaigns
    guards: tuple[Guard, ...]
    store: Store
    clock: Callable[[], datetime]
    texts: Mapping[str, Text]
    """A :class:`~promokit.text.Text` per language, in the campaigns' currency."""
    on_store_error: str = "raise"
    code_attempts: tuple[int, int] = (10, 900)
    exact_limit: int = 12
    limits: InputLimits = DEFAULT_LIMITS
    """The bounds carts are held to."""
    channels: ChannelRules = attrs.field(factory=ChannelRules)
    """The channel profiles and the campaigns' ``[channels]`` overrides."""


@attrs.define(kw_only=True, eq=False)
class Context:
    """One evaluation: its inputs, fixed once the cart is read (the lines with their
    prices in minor units, the time in the campaigns' timezone, the language),
    and what it fills in as it goes (``reads``: what the store said; ``memo``:
    what each unit did on given amounts). Not shared between evaluations."""

    setup: Setup
    cart: Cart
    lines: tuple[Line, ...]
    unit_prices: tuple[int, ...]
    subtotals: tuple[int, ...]
    currency: Currency
    now: datetime
    text: Text
    floors: tuple[int, ...] = ()
    """Per line, the deposit already paid: no discount takes a line below it."""
    checkout: bool = False
    """Pricing an order at checkout (per-customer limits need a customer id)."""
    known: Known | None = None
    """Price with these values instead of reading the store's counters."""
    reads: StoreReads = attrs.field(factory=StoreReads)
    memo: dict[tuple[object, ...], Acted] = attrs.field(factory=dict, repr=False)
    """What each unit did for given inputs, shared by every combination the search tries
    (kinds are pure functions of their application)."""


@attrs.define(slots=True, eq=False)
class Unit:
    """One promotion acting on its lines; the unit of choice of the best-deal search."""

    number: int
    promotion: Promotion
    stage_no: int
    lines: tuple[int, ...]
    shop: str | None = None
    unit_cap: int | None = None
    """Units it may discount in this order (per-order limit, stock left)."""
    stock_left: int | None = None
    """Stock left of a kind that counts its own stock (gifts)."""
    budget_pools: tuple[tuple[str, int], ...] = ()
    """``(pool key, money left)`` for the promotion's and its campaign's budgets."""
    standalone: tuple[int, ...] = ()
    """The most it can save on each of its lines (aligned with ``lines``)."""
    ceiling: int = 0
    """The most it can save in any combination, shipping included."""
    shape: str | None = None
    """How it acted alone at list price: ``"spread"`` (one amount spread over two or
    more lines: ``Total``, ``UnitDeal``), ``"per_line"`` (``PerLine``), ``"other"``
    (shipping, gifts, rewards); ``None`` if it did not act then."""
    order_key: tuple[int, str, str] = (0, "", "")
    """Acting order within a stage: higher priority first, then id, then shop."""


@attrs.define(slots=True, eq=False)
class Acted:
    """What one unit did in a state: its discount per line, or why it did not apply."""

    amount: int
    per_line: dict[int, int]
    shipping: int
    no_deal: NoDeal | None
    app: Application | None
    consumed: dict[int, int] = attrs.field(factory=dict)
    """Units a quantity deal took, per line."""
    covered_net: dict[int, int] = attrs.field(factory=dict)
    """The net of those units before the deal, per line."""
    spread: bool = False
    """One amount spread over the lines by net (``Total``, ``UnitDeal``)."""
    gifts: tuple[GiftItem, ...] = ()
    rewards: tuple[RewardItem, ...] = ()

    @property
    def value(self) -> int:
        """What it is worth to the customer: the discount and the gifts' value."""
        return self.amount + sum(gift.value * gift.quantity for gift in self.gifts)


def skip(no_deal: NoDeal, app: Application | None) -> Acted:
    return Acted(0, {}, 0, no_deal, app)


@attrs.define(slots=True, eq=False)
class State:
    """A cart priced part-way: nets per line, discounts so far, what each unit did."""

    nets: list[int]
    shipping: int
    consumed: list[int]
    """Units of each line taken by quantity deals so far."""
    consumed_net: list[int] = attrs.field(factory=list)
    """The net of those taken units, so the units left keep their own net (a
    quantity deal's discount stays on the units it covered)."""
    saving: int = 0
    """What the promotions so far are worth to the customer (discounts, gifts)."""
    acted: dict[int, Acted] = attrs.field(factory=dict)
    budget_used: dict[str, int] = attrs.field(factory=dict)
    """Money drawn on each budget pool, and own stock (``stock:<promotion>``) handed
    out, by the promotions so far in this order."""

    def copy(self) -> State:
        return State(nets=list(self.nets), shipping=self.shipping, consumed=list(self.consumed),
                     consumed_net=list(self.consumed_net), saving=self.saving,
                     acted=dict(self.acted), budget_used=dict(self.budget_used))


STAGE_NUMBERS = {stage: number for number, stage in enumerate(STAGES)}


def stage_no(promotion: Promotion) -> int:
    """The position of the promotion's stage in :data:`~promokit.terms.STAGES`."""
    return STAGE_NUMBERS[promotion.stage]
