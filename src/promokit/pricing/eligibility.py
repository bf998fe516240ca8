"""Which candidates may act, and the units of choice they become.

Each promotion the index finds is checked once, before the best-deal search:
its currency, schedule, channels (and the channel's profile), codes, lines in
scope, the conditions that do not read amounts, its kind's own precheck and the guards
(:func:`static_reason`); then, with the store's counters read once for all of
them, its coupon code, limits, stock and budgets (:func:`store_reason`,
:func:`limits`). A promotion that survives becomes one :class:`~.model.Unit`,
or one per shop at the shop stage. Every counter the answer depends on is
narrowed in ``ctx.reads.expect`` to the values that give the same answer, so
checkout can let the store check them as it writes.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..campaign import Promotion
from ..conditions import ConditionContext, condition_message, failed_condition
from ..coupons import normalize_code
from ..errors import PluginError
from ..kinds import LineView, NoDeal
from ..loading import promotion_uses
from ..result import NotApplied
from ..stores import counter_keys
from ..terms import STAGES
from ..text import Text
from .acting import application
from .model import Context, Unit, stage_no
from .reading import limit_counter_keys, read_store, reads_counters

__all__ = ["budget_ranges", "budgets", "limits", "static_reason", "store_reason",
           "units_of_choice"]


def units_of_choice(ctx: Context, not_applied: dict[str, NotApplied]) -> list[Unit]:
    """Check each candidate once and cut the survivors into units of choice; the
    ones ruled out go to ``not_applied`` with their reason."""
    survivors: list[tuple[Promotion, list[int]]] = []
    for promotion, maybe in ctx.setup.compiled.candidates(ctx.cart):
        in_scope = [i for i in maybe if promotion.covers(ctx.lines[i])]
        reason = static_reason(ctx, promotion, in_scope)
        if reason is not None:
            not_applied[promotion.id] = NotApplied(promotion=promotion.id,
                                                   reason=reason.reason,
                                                   message=reason.message)
        else:
            survivors.append((promotion, in_scope))
    read_store(ctx, survivors)
    units: list[Unit] = []
    for promotion, in_scope in survivors:
        reason = store_reason(ctx, promotion)
        if reason is not None:
            not_applied[promotion.id] = NotApplied(
                promotion=promotion.id, reason=reason.reason, message=reason.message)
            continue
        limit_reason, cap, pools = limits(ctx, promotion, in_scope)
        if limit_reason is not None:
            not_applied[promotion.id] = NotApplied(promotion=promotion.id,
                                                   reason=limit_reason,
                                                   message=ctx.text.reason(limit_reason))
            continue
        stock_left = None
        if promotion.kind_impl.stock_counts == "own" and promotion.limits.stock is not None:
            stock_left = promotion.limits.stock - ctx.reads.exact(
                counter_keys.stock(promotion.id))
            if promotion.limits.per_order_units is None:
                cap = None  # the stock is the kind's own, not cart units
        number = stage_no(promotion)
        if STAGES[number] == "shop":
            shops: dict[str, list[int]] = {}
            for i in in_scope:
                shops.setdefault(ctx.lines[i].shop or "", []).append(i)
            parts = [(shop or None, lines) for shop, lines in sorted(shops.items())]
        else:
            parts = [(None, in_scope)]
        for shop, lines in parts:
            units.append(Unit(number=len(units), promotion=promotion, stage_no=number,
                              lines=tuple(lines), shop=shop, unit_cap=cap,
                              stock_left=stock_left, budget_pools=pools,
                              order_key=(-promotion.priority, promotion.id, shop or "")))
    return units


def static_reason(ctx: Context, promotion: Promotion, in_scope: list[int]) -> NoDeal | None:
    """Why the promotion cannot apply to this cart whatever the store says, if it
    cannot: currency, schedule, channel, codes, scope, conditions that do not read
    amounts, the kind's precheck, the guards."""
    cart, text, campaigns = ctx.cart, ctx.text, ctx.setup.campaigns
    if ctx.currency != campaigns.currency:
        return NoDeal("currency", text.gettext(
            "priced in {currency}, the cart is in {cart}", currency=campaigns.currency.code,
            cart=cart.currency))
    schedule_reason = promotion.schedule.reason_at(ctx.now)
    if schedule_reason is not None:
        return NoDeal(schedule_reason, _schedule_message(promotion, schedule_reason, text))
    if promotion.channels is not None and cart.channel not in promotion.channels:
        channels = ", ".join(sorted(promotion.channels))
        return NoDeal("channel", text.pgettext("reason", "only on {channels}",
                                               channels=channels))
    rules = ctx.setup.channels
    if cart.channel in rules.profiles:  # most channels have no profile: nothing to ask
        refusal = rules.refusal(cart.channel, promotion_uses(promotion))
        if refusal is not None:
            return NoDeal("channel_forbidden", text.reason(
                "channel_forbidden", channel=refusal.channel,
                what=refusal.restriction.label, profile=refusal.profile.title))
    if promotion.codes and promotion.codes.isdisjoint(cart.codes) and not promotion.coupons:
        return NoDeal("code_missing", text.reason("code_missing"))
    if promotion.coupons and not promotion.codes.intersection(cart.codes) \
            and not ctx.cart.codes:
        return NoDeal("code_missing", text.reason("code_missing"))
    if not in_scope:
        return NoDeal("no_lines_in_scope", text.reason("no_lines_in_scope"))
    views = tuple(LineView(index=i, line=ctx.lines[i], quantity=ctx.lines[i].quantity,
                           unit_price=ctx.unit_prices[i], subtotal=ctx.subtotals[i],
                           net=ctx.subtotals[i], base=ctx.subtotals[i]) for i in in_scope)
    condition_ctx = ConditionContext(customer=cart.customer, channel=cart.channel,
                                     now=ctx.now, currency=ctx.currency, lines=views)
    failed = failed_condition(promotion.conditions, condition_ctx, amounts=False)
    if failed is not None:
        return NoDeal(f"not_eligible:{failed.rule}", condition_message(failed, text))
    kind = promotion.kind_impl
    unit = Unit(number=-1, promotion=promotion, stage_no=stage_no(promotion),
                lines=tuple(in_scope))
    try:
        early = kind.precheck(promotion.params, application(ctx, unit, views, 0))
    except Exception as error:
        raise PluginError(f"kind {kind.name!r} raised in precheck of promotion "
                          f"{promotion.id!r}: {error!r}", hook="precheck") from error
    if early is not None:
        return early
    for guard in ctx.setup.guards:
        try:
            blocked = guard.check(promotion, condition_ctx)
        except Exception as error:
            raise PluginError(f"guard {guard.name!r} raised checking promotion "
                              f"{promotion.id!r}: {error!r}", hook="check") from error
        if blocked is not None:
            return NoDeal(f"guard:{guard.name}", blocked)
    return None


def _schedule_message(promotion: Promotion, reason: str, text: Text) -> str:
    schedule = promotion.schedule
    if reason == "not_started" and schedule.start is not None:
        when = schedule.start.isoformat()
        return text.gettext("starts at {when}", when=when)
    if reason == "ended" and schedule.end is not None:
        when = schedule.end.isoformat()
        return text.gettext("ended at {when}", when=when)
    windows = ", ".join(f"{w.start:%H:%M}–{w.end:%H:%M}" for w in schedule.windows)
    return text.gettext("only runs {windows} daily", windows=windows)


def store_reason(ctx: Context, promotion: Promotion) -> NoDeal | None:
    """Why a promotion cannot apply given what the store said (or could not say)."""
    reads, text = ctx.reads, ctx.text
    if reads.unavailable and (promotion.coupons or limit_counter_keys(ctx, promotion)
                              or reads_counters(promotion.kind_impl)):
        return NoDeal("store_unavailable", text.reason("store_unavailable"))
    if promotion.coupons and not promotion.codes.intersection(ctx.cart.codes) \
            and promotion.id not in reads.chosen:
        batches = promotion.coupons
        seen = [reason for entered, reason in reads.rejected.items()
                if reads.codes.get(normalize_code(entered), ("",))[0] in batches]
        for reason in ("code_used", "not_started", "ended"):
            if reason in seen:
                return NoDeal("code_used" if reason == "code_used" else "code_invalid",
                              text.reason(reason))
        if "code_throttled" in reads.rejected.values():
            return NoDeal("code_throttled", text.reason("code_throttled"))
        if reads.rejected:
            return NoDeal("code_invalid", text.reason("code_invalid"))
        return NoDeal("code_missing", text.reason("code_missing"))
    customer = ctx.cart.customer.id
    promotion_limits = promotion.limits
    if ctx.checkout and customer is None and (promotion_limits.per_customer is not None
                                              or promotion_limits.per_customer_daily
                                              is not None):
        return NoDeal("limit_reached", text.gettext(
            "limited per customer: needs a signed-in customer"))
    return None


def limits(ctx: Context, promotion: Promotion, in_scope: Sequence[int]
           ) -> tuple[str | None, int | None, tuple[tuple[str, int], ...]]:
    """A reason the promotion is used up, the units it may still discount, and
    the money left in each budget it draws on.

    Each counter asked is narrowed in ``ctx.reads.expect`` to the values that
    give the same answer (a use below its limit; stock enough for every unit
    in scope); a budget's is narrowed later, by :func:`budget_ranges`."""
    reads = ctx.reads
    caps_of, customer = promotion.limits, ctx.cart.customer.id
    if caps_of.total is not None and not reads.below(counter_keys.uses(promotion.id),
                                                     caps_of.total):
        return "limit_reached", None, ()
    if customer is not None:
        if caps_of.per_customer is not None and not reads.below(
                counter_keys.customer_uses(promotion.id, customer), caps_of.per_customer):
            return "limit_reached", None, ()
        if caps_of.per_customer_daily is not None and not reads.below(
                counter_keys.customer_daily_uses(promotion.id, customer, ctx.now.date()),
                caps_of.per_customer_daily):
            return "limit_reached", None, ()
    caps = []
    if caps_of.per_order_units is not None:
        caps.append(caps_of.per_order_units)
    if caps_of.stock is not None:
        key = counter_keys.stock(promotion.id)
        left = caps_of.stock - reads.counters.get(key, 0)
        if left <= 0:
            reads.narrow(key, caps_of.stock, None)
            return "stock_exhausted", None, ()
        # The stock caps the units discounted only below what the cart asks for.
        wanted = min([sum(ctx.lines[i].quantity for i in in_scope), *caps])
        if left >= wanted:
            reads.narrow(key, 0, caps_of.stock - wanted)
        else:
            reads.exact(key)
        caps.append(left)
    pools_of = budgets(ctx, promotion)
    empty = [(key, budget) for _, key, budget in pools_of
             if budget - reads.counters.get(key, 0) <= 0]
    if empty:
        for key, budget in empty:
            reads.narrow(key, budget, None)
        return "budget_exhausted", None, ()
    pools = tuple((pool, budget - reads.counters.get(key, 0)) for pool, key, budget in pools_of)
    return None, min(caps) if caps else None, pools


def budgets(ctx: Context, promotion: Promotion) -> list[tuple[str, str, int]]:
    """``(pool, counter, budget)`` for each budget the promotion draws on."""
    found = []
    if promotion.budget is not None:
        found.append((f"p:{promotion.id}", counter_keys.spent(promotion.id),
                      promotion.budget))
    campaign = ctx.setup.campaigns.campaign(promotion.campaign)
    if campaign is not None and campaign.budget is not None:
        found.append((f"c:{campaign.id}", counter_keys.campaign_spent(campaign.id),
                      campaign.budget))
    return found


def budget_ranges(ctx: Context, units: Sequence[Unit], shipping: int) -> None:
    """Narrow each budget counter the units draw on: while the money left covers
    the most all of them could ever take (everything on their lines and the
    shipping; not their ceilings, which a budget may already have cut), no budget
    binds and the price holds; otherwise it depends on the exact amount left."""
    demand: dict[str, int] = {}
    for unit in units:
        most = sum(ctx.subtotals[i] for i in unit.lines) + shipping
        for pool, _ in unit.budget_pools:
            demand[pool] = demand.get(pool, 0) + most
    seen: set[str] = set()
    for unit in units:
        for pool, key, budget in budgets(ctx, unit.promotion):
            if key in seen:
                continue
            seen.add(key)
            wanted = max(demand.get(pool, 0), 1)
            if budget - ctx.reads.counters.get(key, 0) >= wanted:
                ctx.reads.narrow(key, 0, budget - wanted)
            else:
                ctx.reads.exact(key)
