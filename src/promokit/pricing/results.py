"""The result of an evaluation: what the best deal did, line by line, with the
funding of each applied promotion, the reason of each that did not apply, and
hints of what more spend would save."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from ..allocation import split_funding
from ..campaign import Promotion
from ..errors import PluginError
from ..money import Currency
from ..result import (
    Applied,
    Gift,
    Hint,
    LineDiscount,
    LineResult,
    NotApplied,
    PriceResult,
    RejectedCode,
    Reward,
)
from ..text import Text
from .model import Context, State, Unit
from .search import Choice

__all__ = ["price_result"]

_DEFAULT_FUNDING = {"platform": (("platform", Decimal(1)),)}
_MERCHANT_FUNDING = (("merchant", Decimal(1)),)


def price_result(ctx: Context, units: list[Unit], choice: Choice,
                 not_applied: dict[str, NotApplied]) -> PriceResult:
    """The result of an evaluation: lines, applied promotions with their funding, the
    reasons of those that did not apply, hints, gifts and rewards."""
    state, chosen = choice.state, choice.chosen
    money = ctx.currency
    cart = ctx.cart
    order = sorted(units, key=lambda u: (u.stage_no, u.order_key))
    line_discounts: list[list[tuple[str, int]]] = [[] for _ in ctx.lines]
    applied_amount: dict[str, int] = {}
    shipping_discount = 0
    gifts: list[Gift] = []
    rewards: list[Reward] = []
    for unit in order:
        acted = state.acted.get(unit.number)
        if acted is None or acted.no_deal is not None:
            continue
        pid = unit.promotion.id
        for index in sorted(acted.per_line):
            line_discounts[index].append((pid, acted.per_line[index]))
        shipping_discount += acted.shipping
        applied_amount[pid] = applied_amount.get(pid, 0) + acted.amount
        gifts.extend(Gift(promotion=pid, sku=g.sku, name=g.name, quantity=g.quantity,
                          value=money.to_decimal(g.value)) for g in acted.gifts)
        rewards.extend(Reward(promotion=pid, kind=r.kind, amount=r.amount)
                       for r in acted.rewards)
    lines = []
    for i, line in enumerate(ctx.lines):
        merged: dict[str, int] = {}
        for pid, amount in line_discounts[i]:
            merged[pid] = merged.get(pid, 0) + amount
        total = ctx.subtotals[i] - sum(merged.values())
        lines.append(LineResult(
            id=line.id, sku=line.sku, quantity=line.quantity,
            unit_price=money.to_decimal(ctx.unit_prices[i]),
            subtotal=money.to_decimal(ctx.subtotals[i]),
            discounts=tuple(LineDiscount(promotion=pid, amount=money.to_decimal(amount))
                            for pid, amount in merged.items()),
            total=money.to_decimal(total), deposit_paid=line.deposit_paid))
    promotions = {unit.promotion.id: unit.promotion for unit in units}
    applied = tuple(
        Applied(promotion=pid, stage=promotions[pid].stage, amount=money.to_decimal(amount),
                funding=tuple((party, money.to_decimal(share)) for party, share in
                              split_funding(amount, _funding(promotions[pid])).items()))
        for pid, amount in applied_amount.items())
    _explain(units, choice, applied_amount, not_applied, ctx.text)
    subtotal = sum(ctx.subtotals)
    lines_total = subtotal - sum(sum(a for _, a in d) for d in line_discounts)
    shipping = state.shipping
    total = lines_total + shipping
    deposits = sum(money.parse(line.deposit_paid) for line in cart.lines
                   if line.deposit_paid is not None)
    return PriceResult(
        currency=cart.currency,
        subtotal=money.to_decimal(subtotal),
        discount_total=money.to_decimal(subtotal - lines_total + shipping_discount),
        shipping_discount=money.to_decimal(shipping_discount),
        shipping=money.to_decimal(shipping),
        total=money.to_decimal(total),
        balance_due=money.to_decimal(total - deposits),
        lines=tuple(lines),
        applied=applied,
        not_applied=tuple(sorted(not_applied.values(), key=lambda n: n.promotion)),
        hints=_hints(ctx, money, units, state, chosen),
        rewards=tuple(rewards),
        gifts=tuple(gifts),
        rejected_codes=tuple(
            RejectedCode(code=code, reason=reason, message=ctx.text.reason(reason))
            for code, reason in ctx.reads.rejected.items()),
        optimal=choice.optimal,
        store_unavailable=ctx.reads.unavailable,
    )


def _explain(units: list[Unit], choice: Choice, applied: Mapping[str, int],
             not_applied: dict[str, NotApplied], text: Text) -> None:
    """Give every considered promotion that applied nowhere its reason."""
    state, chosen, clashes = choice.state, choice.chosen, choice.clashes
    by_number = {unit.number: unit for unit in units}
    applied_units = {n for n, acted in state.acted.items() if acted.no_deal is None}
    for unit in sorted(units, key=lambda u: (u.order_key[1], u.order_key[2])):
        pid = unit.promotion.id
        if pid in applied or pid in not_applied:
            continue
        acted = state.acted.get(unit.number)
        if acted is not None and acted.no_deal is not None:
            not_applied[pid] = NotApplied(promotion=pid, reason=acted.no_deal.reason,
                                          message=acted.no_deal.message)
        elif unit.number not in chosen:
            blockers = sorted((by_number[n] for n in clashes[unit.number] & applied_units),
                              key=lambda u: (u.stage_no, u.order_key))
            if blockers:
                other = blockers[0].promotion
                reason = f"excluded_by:{other.id}"
                not_applied[pid] = NotApplied(promotion=pid, reason=reason,
                                              message=text.reason(reason, other=other.name))
            else:
                not_applied[pid] = NotApplied(promotion=pid, reason="not_best",
                                              message=text.reason("not_best"))


def _hints(ctx: Context, money: Currency, units: list[Unit], state: State,
           chosen: frozenset[int]) -> tuple[Hint, ...]:
    hints = []
    within = ctx.setup.campaigns.hint_within
    text = ctx.text
    for unit in units:
        acted = state.acted.get(unit.number)
        if unit.number not in chosen or acted is None or acted.app is None:
            continue
        if acted.no_deal is not None and acted.no_deal.reason != "below_threshold":
            continue
        promotion = unit.promotion
        try:
            proposal = promotion.kind_impl.hint(promotion.params, acted.app)
        except Exception as error:
            raise PluginError(f"kind {promotion.kind!r} raised in hint of promotion "
                              f"{promotion.id!r}: {error!r}", hook="hint") from error
        if proposal is None or proposal.missing <= 0 or proposal.saving <= 0:
            continue
        if Decimal(proposal.missing) > within * proposal.target:
            continue
        hints.append(Hint(promotion=promotion.id, missing=money.to_decimal(proposal.missing),
                          saving=money.to_decimal(proposal.saving), shop=unit.shop,
                          message=proposal.message or text.hint(
                              proposal.missing, proposal.saving, money)))
    return tuple(sorted(hints, key=lambda h: (h.promotion, h.shop or "")))


def _funding(promotion: Promotion) -> tuple[tuple[str, Decimal], ...]:
    if promotion.funding is not None:
        return promotion.funding.shares
    return _DEFAULT_FUNDING.get(promotion.stage, _MERCHANT_FUNDING)
