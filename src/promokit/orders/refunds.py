"""Working out a refund: the money paid back, each promotion's discount given back
(the ledger's reversals), the counters given back to the store, and, under
``reevaluate``, the clawback and the gifts the kept items no longer earn."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

import attrs

from ..allocation import unit_share_sum
from ..money import Currency, currency
from ..order import Order, Policy, Refund
from ..pricing import Pricer
from ..result import Gift
from ..stores import Delta, counter_keys
from .replay import pricer_for

__all__ = ["all_refunded", "work_out"]


def work_out(pricer: Pricer, order: Order, refund_id: str, units: Mapping[str, int],
             policy: Policy, now: datetime) -> tuple[Refund, tuple[Delta, ...]]:
    """The refund of ``units`` of ``order`` and the holds the order keeps after it."""
    money = pricer.campaigns.currency
    result = order.result
    done = order.refunded_units
    proportional = result.refund(units, done)
    reversed_so_far = _reversed(order)
    final = all_refunded(order, units)
    holds = {d.key: d for d in order.holds}
    if final:
        back = {key: d.amount for key, d in holds.items() if d.amount}
        reversals = {u.promotion: u.amount - reversed_so_far.get(u.promotion, 0)
                     for u in order.uses}
        amount = money.to_minor(result.total) - money.to_minor(order.refunded)
        refund = Refund(refund_id=refund_id, units=tuple(units.items()), policy=policy,
                        amount=money.to_decimal(max(0, amount)),
                        clawback=money.to_decimal(max(0, money.to_minor(proportional)
                                                      - amount)),
                        gifts_owed=(), given_back=tuple(sorted(back.items())),
                        reversals=_decimals(reversals, money), at=now)
        return refund, ()
    if policy == "proportional":
        reversals, back = _proportional(money, order, units, done)
        amount = money.to_minor(proportional)
        gifts_owed: tuple[Gift, ...] = ()
    else:
        reversals, back, amount, gifts_owed = _reevaluated(pricer, order, units, done)
    back = {key: min(amount_back, holds[key].amount) for key, amount_back in back.items()
            if key in holds and amount_back > 0}
    kept = tuple(attrs.evolve(d, amount=d.amount - back.get(d.key, 0))
                 for d in order.holds if d.amount - back.get(d.key, 0))
    refund = Refund(refund_id=refund_id, units=tuple(units.items()), policy=policy,
                    amount=money.to_decimal(amount),
                    clawback=money.to_decimal(max(0, money.to_minor(proportional) - amount)),
                    gifts_owed=gifts_owed, given_back=tuple(sorted(back.items())),
                    reversals=_decimals(reversals, money), at=now)
    return refund, kept


def _proportional(money: Currency, order: Order, units: Mapping[str, int],
                  done: Mapping[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """Each promotion's discount on the refunded units, and the stock and budget
    they give back: the units' equal shares, taken in the order
    :meth:`PriceResult.refund` takes them."""
    lines = {line.id: line for line in order.result.lines}
    reversals: dict[str, int] = {}
    back: dict[str, int] = {}
    for line_id, count in units.items():
        line = lines[line_id]
        start = done.get(line_id, 0)
        for discount in line.discounts:
            reversals[discount.promotion] = reversals.get(discount.promotion, 0) + (
                unit_share_sum(money.to_minor(discount.amount), line.quantity, start,
                               start + count))
    campaign_back: dict[str, int] = {}
    for use in order.uses:
        line_units = dict(use.line_units)
        stock = sum(unit_share_sum(line_units[line_id], lines[line_id].quantity,
                                   done.get(line_id, 0), done.get(line_id, 0) + count)
                    for line_id, count in units.items() if line_id in line_units)
        given = reversals.get(use.promotion, 0)
        held = {delta.key for delta in use.holds}
        if stock and counter_keys.stock(use.promotion) in held:
            back[counter_keys.stock(use.promotion)] = stock
        if given and counter_keys.spent(use.promotion) in held:
            back[counter_keys.spent(use.promotion)] = given
        if use.campaign is not None and given:
            campaign_back[use.campaign] = campaign_back.get(use.campaign, 0) + given
    for campaign_id, given in campaign_back.items():
        back[counter_keys.campaign_spent(campaign_id)] = given
    return reversals, back


def _reevaluated(pricer: Pricer, order: Order, units: Mapping[str, int],
                 done: Mapping[str, int]
                 ) -> tuple[dict[str, int], dict[str, int], int, tuple[Gift, ...]]:
    """Price what the customer keeps under the promotions the order had, with the
    counters it saw; return each promotion's discount given back, the counters
    given back, the money refunded and the gifts now owed."""
    money = pricer.campaigns.currency
    kept_lines = []
    for line in order.cart.lines:
        keep = line.quantity - done.get(line.id, 0) - units.get(line.id, 0)
        if keep:
            kept_lines.append(attrs.evolve(line, quantity=keep))
    kept_cart = attrs.evolve(order.cart, lines=tuple(kept_lines))
    kept = pricer_for(pricer, order, only=(u.promotion for u in order.uses)).price(
        kept_cart, lang=order.lang, checkout=True, recorded=order.reads)
    paid = money.to_minor(order.result.total)
    amount = max(0, paid - money.to_minor(kept.result.total)
                 - money.to_minor(order.refunded))
    kept_uses = {u.promotion: u for u in kept.uses}
    reversed_so_far = _reversed(order)
    reversals = {u.promotion: max(0, u.amount - (kept_uses[u.promotion].amount
                                                 if u.promotion in kept_uses else 0)
                                  - reversed_so_far.get(u.promotion, 0))
                 for u in order.uses}
    now_holds = {d.key: d.amount for d in kept.deltas}
    own_stock = {counter_keys.stock(u.promotion) for u in order.uses if not u.line_units}
    back = {d.key: d.amount - now_holds.get(d.key, 0) for d in order.holds
            if d.key not in own_stock}
    earned: dict[tuple[str, str], int] = {}
    for gift in kept.result.gifts:
        earned[(gift.promotion, gift.sku)] = earned.get((gift.promotion, gift.sku), 0) \
            + gift.quantity
    owed_before: dict[tuple[str, str], int] = {}
    for refund in order.refunds:
        for gift in refund.gifts_owed:
            key = (gift.promotion, gift.sku)
            owed_before[key] = owed_before.get(key, 0) + gift.quantity
    owed = []
    for gift in order.result.gifts:
        key = (gift.promotion, gift.sku)
        missing = gift.quantity - earned.pop(key, 0) - owed_before.get(key, 0)
        if missing > 0:
            owed.append(attrs.evolve(gift, quantity=missing))
    return reversals, back, amount, tuple(owed)


def all_refunded(order: Order, units: Mapping[str, int]) -> bool:
    """Whether refunding ``units`` leaves nothing of ``order`` unrefunded."""
    done = order.refunded_units
    return all(done.get(line.id, 0) + units.get(line.id, 0) >= line.quantity
               for line in order.result.lines)


def _reversed(order: Order) -> dict[str, int]:
    money = currency(order.result.currency)
    total: dict[str, int] = {}
    for refund in order.refunds:
        for promotion, amount in refund.reversals:
            total[promotion] = total.get(promotion, 0) + money.to_minor(amount)
    return total


def _decimals(amounts: Mapping[str, int], money: Currency) -> tuple[tuple[str, Decimal], ...]:
    return tuple((pid, money.to_decimal(amount)) for pid, amount in amounts.items() if amount)
