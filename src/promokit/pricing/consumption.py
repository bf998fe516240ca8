"""What a priced order takes from the store: uses, stock, budget, coupon codes.

:meth:`Pricer.price <promokit.pricing.Pricer.price>` works this out with the
price, from the same best deal, so checkout reserves exactly what the customer
was given. Each applied promotion becomes one :class:`~promokit.order.Use`;
:func:`order_deltas` turns the uses into the store deltas of one reservation,
each with the limit it must stay within.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from ..campaign import Promotion
from ..campaign_set import CampaignSet
from ..cart import Line
from ..errors import PluginError
from ..kinds import DiscountKind
from ..order import Use
from ..stores import Delta, counter_keys
from .model import Context, State, Unit

__all__ = ["consumption", "kind_holds", "order_deltas"]


@attrs.define
class _Taken:
    """What one promotion took in an order, summed over its units (shops)."""

    promotion: Promotion
    amount: int = 0
    gifts: int = 0
    lines: dict[int, int] = attrs.field(factory=dict)
    """Line index → units its stock counts."""


def consumption(ctx: Context, units: Sequence[Unit], state: State) -> tuple[Use, ...]:
    """The :class:`Use` of every promotion that applied in ``state``."""
    taken: dict[str, _Taken] = {}
    for unit in sorted(units, key=lambda u: (u.stage_no, u.order_key)):
        acted = state.acted.get(unit.number)
        if acted is None or acted.no_deal is not None:
            continue
        kind = unit.promotion.kind_impl
        entry = taken.setdefault(unit.promotion.id, _Taken(unit.promotion))
        entry.amount += acted.amount
        if kind.stock_counts == "own":
            entry.gifts += sum(gift.quantity for gift in acted.gifts)
        elif kind.quantity_deal:
            for index, count in acted.consumed.items():
                entry.lines[index] = entry.lines.get(index, 0) + count
        elif acted.app is not None:
            for view in acted.app.lines:
                if acted.per_line.get(view.index):
                    entry.lines[view.index] = entry.lines.get(view.index, 0) + view.quantity
    customer = ctx.cart.customer.id
    uses = []
    for entry in taken.values():
        promotion, amount = entry.promotion, entry.amount
        line_units: tuple[tuple[str, int], ...] = ()
        if promotion.kind_impl.stock_counts == "own":
            units_taken = entry.gifts
        else:
            units_taken = sum(entry.lines.values())
            line_units = tuple((ctx.lines[i].id, entry.lines[i]) for i in sorted(entry.lines))
        limits = promotion.limits
        holds = [Delta(counter_keys.uses(promotion.id), 1, limits.total)]
        if customer is not None and limits.per_customer is not None:
            holds.append(Delta(counter_keys.customer_uses(promotion.id, customer), 1,
                               limits.per_customer))
        if customer is not None and limits.per_customer_daily is not None:
            holds.append(Delta(counter_keys.customer_daily_uses(
                promotion.id, customer, ctx.now.date()), 1, limits.per_customer_daily))
        if limits.stock is not None and units_taken:
            holds.append(Delta(counter_keys.stock(promotion.id), units_taken, limits.stock))
        if promotion.budget is not None and amount:
            holds.append(Delta(counter_keys.spent(promotion.id), amount, promotion.budget))
        if entry.lines:
            holds.extend(kind_holds(promotion, [ctx.lines[i] for i in sorted(entry.lines)],
                                    ctx))
        code = ctx.reads.chosen.get(promotion.id)
        if code is not None:
            holds.append(Delta(counter_keys.code_uses(code), 1, ctx.reads.codes[code][1]))
        uses.append(Use(promotion=promotion.id, campaign=promotion.campaign, amount=amount,
                        units=units_taken, line_units=line_units, code=code,
                        holds=tuple(holds)))
    return tuple(uses)


def kind_holds(promotion: Promotion, lines: Sequence[Line], ctx: Context) -> list[Delta]:
    """What the promotion's kind says the order holds on its lines (a game's price)."""
    kind = promotion.kind_impl
    if type(kind).holds is DiscountKind.holds:
        return []
    try:
        return list(kind.holds(promotion.params, lines, ctx.cart.customer))
    except Exception as error:
        raise PluginError(f"kind {kind.name!r} raised in holds of promotion "
                          f"{promotion.id!r}: {error!r}", hook="holds") from error


def order_deltas(uses: Sequence[Use], campaigns: CampaignSet) -> tuple[Delta, ...]:
    """Every counter an order holds, once each, sorted by key: the promotions' own
    holds and each campaign budget's share of the order's discounts."""
    merged: dict[str, Delta] = {}
    for use in uses:
        for delta in use.holds:
            seen = merged.get(delta.key)
            merged[delta.key] = delta if seen is None else attrs.evolve(
                seen, amount=seen.amount + delta.amount)
    spent: dict[str, int] = {}
    for use in uses:
        if use.campaign is not None and use.amount:
            spent[use.campaign] = spent.get(use.campaign, 0) + use.amount
    for campaign_id, amount in spent.items():
        campaign = campaigns.campaign(campaign_id)
        if campaign is not None and campaign.budget is not None:
            key = counter_keys.campaign_spent(campaign_id)
            merged[key] = Delta(key, amount, campaign.budget)
    return tuple(merged[key] for key in sorted(merged))
