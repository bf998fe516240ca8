"""The engine: prices carts under a set of campaigns (DESIGN §4).

>>> engine = Engine.from_files(["examples/d11.toml"])       # doctest: +SKIP
>>> result = engine.evaluate(Cart.from_json(cart_json))     # doctest: +SKIP
>>> result.total, result.applied, result.not_applied, result.hints  # doctest: +SKIP

``evaluate`` does no I/O but one read of the counters it needs from the
store, and never writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from cachetools import LRUCache

from .allocation import split_funding
from .campaign import CampaignSet, Promotion
from .cart import Cart
from .conditions import ConditionContext
from .errors import PluginError, StoreError
from .index import CompiledCampaigns
from .kinds import STAGES, LineView, NoDeal
from .loader import load_campaigns
from .money import Currency, currency
from .pipeline import (
    Context,
    State,
    Unit,
    application,
    condition_message,
    failed_condition,
    run_stage,
    stage_no,
)
from .registry import Registry
from .result import (
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
from .stacking import EXACT_LIMIT, Choice, search
from .stores import MemoryStore, Store, counter_keys
from .text import LANGUAGES, Text

__all__ = ["Engine"]

_DEFAULT_FUNDING = {"platform": (("platform", Decimal(1)),)}
_MERCHANT_FUNDING = (("merchant", Decimal(1)),)


class Engine:
    """Prices carts under one :class:`~promokit.campaign.CampaignSet`.

    ``store`` supplies the counters limits, stock and budgets are checked
    against (an empty :class:`~promokit.stores.MemoryStore` if not given);
    ``clock`` gives the time for carts without ``now``; ``exact_limit`` is the
    number of competing promotions up to which the best deal is exact.
    """

    def __init__(self, campaigns: CampaignSet, *, registry: Registry | None = None,
                 store: Store | None = None,
                 clock: Callable[[], datetime] | None = None,
                 exact_limit: int = EXACT_LIMIT, lang: str = "en",
                 compiled_cache: LRUCache[str, CompiledCampaigns] | None = None) -> None:
        self.campaigns = campaigns
        self._texts: dict[str, Text] = {code: Text(code, currency=campaigns.currency)
                                        for code in LANGUAGES}
        if lang not in self._texts:
            raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
        self.lang = lang
        self.registry = registry if registry is not None else Registry.default()
        self.store: Store = store if store is not None else MemoryStore()
        self.exact_limit = exact_limit
        self._clock = clock or (lambda: datetime.now(UTC))
        self._cache: LRUCache[str, CompiledCampaigns] = (
            compiled_cache if compiled_cache is not None else LRUCache(maxsize=8))
        compiled = self._cache.get(campaigns.version) if campaigns.version else None
        if compiled is None:
            compiled = CompiledCampaigns(campaigns)
            if campaigns.version:
                self._cache[campaigns.version] = compiled
        self._compiled = compiled
        self._codes = compiled.codes()

    @classmethod
    def from_files(cls, paths: str | Path | Sequence[str | Path], *,
                   registry: Registry | None = None, plugins: Iterable[object] = (),
                   load_entry_points: bool = True, blocked: Iterable[str] = (),
                   **options: Any) -> Engine:
        """Load campaign files (TOML or JSON) and build an engine for them."""
        if registry is None:
            registry = Registry.default(plugins, load_entry_points=load_entry_points,
                                        blocked=blocked)
        return cls(load_campaigns(paths, registry), registry=registry, **options)

    def with_campaigns(self, campaigns: CampaignSet) -> Engine:
        """An engine for new campaigns sharing this one's plugins, store and the cache
        of compiled campaigns (an unchanged version is not compiled again)."""
        return Engine(campaigns, registry=self.registry, store=self.store, clock=self._clock,
                      exact_limit=self.exact_limit, lang=self.lang, compiled_cache=self._cache)

    # -- evaluation ------------------------------------------------------------

    def evaluate(self, cart: Cart | Mapping[str, Any] | str, *,
                 lang: str | None = None) -> PriceResult:
        """Price ``cart`` (a :class:`Cart` or its JSON form) under the campaigns.

        Messages and hints are in ``lang`` (``"en"`` or ``"zh-CN"``; the engine's
        ``lang`` if not given)."""
        if not isinstance(cart, Cart):
            cart = Cart.from_json(cart)
        ctx, start, units, not_applied = self._prepare(cart, lang=lang)
        choice = search(ctx, start, units, exact_limit=self.exact_limit)
        result = self._result(ctx, units, choice, not_applied)
        self.registry.hooks.evaluated(cart, result)
        return result

    def _prepare(self, cart: Cart, *, lang: str | None = None
                 ) -> tuple[Context, State, list[Unit], dict[str, NotApplied]]:
        """Everything the best-deal search works on: the evaluation context, the
        starting state, the units of choice and the promotions already ruled out."""
        lang = lang or self.lang
        if lang not in self._texts:
            raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
        ctx = self._context(cart, lang)
        not_applied: dict[str, NotApplied] = {}
        units = self._units(ctx, not_applied)
        start = State(nets=list(ctx.subtotals), shipping=ctx.currency.parse(cart.shipping),
                      consumed=[0] * len(ctx.lines), consumed_net=[0] * len(ctx.lines))
        deals = [u for u in units if u.promotion.kind_impl.quantity_deal]
        for unit in units:
            # What each saves alone at list price: for a monotone kind, the most it
            # can save in any combination. Otherwise the most is everything it touches;
            # so too for a quantity deal that shares lines with another (fewer units
            # left to it can mean other units, and more saved: buy 2 get 1 on
            # 10, 10, 50, 50, 50, 50 frees 20.00; without the 10s, 50.00).
            shared = unit in deals and any(
                other is not unit and not set(other.lines).isdisjoint(unit.lines)
                for other in deals)
            if unit.promotion.kind_impl.monotone and not shared:
                alone = run_stage(ctx, start, [unit]).acted[unit.number]
                unit.standalone = tuple(alone.per_line.get(i, 0) for i in unit.lines)
                unit.ceiling = alone.value
                if alone.no_deal is None:
                    unit.shape = ("spread" if alone.spread and len(alone.per_line) > 1
                                  else "per_line" if alone.per_line else "other")
            else:
                unit.standalone = tuple(ctx.subtotals[i] for i in unit.lines)
                unit.ceiling = sum(unit.standalone) + start.shipping
        return ctx, start, units, not_applied

    def _context(self, cart: Cart, lang: str = "en") -> Context:
        money = currency(cart.currency)
        tz = self.campaigns.timezone
        now = cart.now or self._clock()
        now = (now if now.tzinfo else now.replace(tzinfo=tz)).astimezone(tz)
        lines = cart.lines
        unit_prices = tuple(money.parse(line.unit_price) for line in lines)
        floors = tuple(0 if line.deposit_paid is None else money.parse(line.deposit_paid)
                       for line in lines)
        return Context(cart=cart, lines=lines, unit_prices=unit_prices,
                       subtotals=tuple(p * line.quantity for p, line in zip(unit_prices, lines,
                                                                              strict=True)),
                       currency=money, now=now, floors=floors, text=self._texts[lang])

    def _static_reason(self, ctx: Context, promotion: Promotion,
                       in_scope: list[int]) -> NoDeal | None:
        cart = ctx.cart
        text = ctx.text
        if ctx.currency != self.campaigns.currency:
            return NoDeal("currency", text.pick(
                f"priced in {self.campaigns.currency.code}, the cart is in {cart.currency}",
                f"活動以{self.campaigns.currency.code}計價，購物車為{cart.currency}"))
        schedule_reason = promotion.schedule.reason_at(ctx.now)
        if schedule_reason is not None:
            return NoDeal(schedule_reason, _schedule_message(promotion, schedule_reason, text))
        if promotion.channels is not None and cart.channel not in promotion.channels:
            channels = ", ".join(sorted(promotion.channels))
            return NoDeal("channel", text.pick(f"only on {channels}", f"僅限{channels}"))
        if promotion.codes and promotion.codes.isdisjoint(cart.codes):
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
        for guard in self.registry.guards:
            try:
                blocked = guard.check(promotion, condition_ctx)
            except Exception as error:
                raise PluginError(f"guard {guard.name!r} raised checking promotion "
                                  f"{promotion.id!r}: {error!r}", hook="check") from error
            if blocked is not None:
                return NoDeal(f"guard:{guard.name}", blocked)
        return None

    def _units(self, ctx: Context, not_applied: dict[str, NotApplied]) -> list[Unit]:
        """Check each candidate once and cut the survivors into units of choice."""
        survivors: list[tuple[Promotion, list[int]]] = []
        for promotion in self._compiled.candidates(ctx.cart):
            in_scope = [i for i, line in enumerate(ctx.lines) if promotion.covers(line)]
            reason = self._static_reason(ctx, promotion, in_scope)
            if reason is not None:
                not_applied[promotion.id] = NotApplied(promotion=promotion.id,
                                                       reason=reason.reason,
                                                       message=reason.message)
            else:
                survivors.append((promotion, in_scope))
        counts = self._read_counters(ctx, [p for p, _ in survivors])
        units: list[Unit] = []
        for promotion, in_scope in survivors:
            limit_reason, cap, pools = self._limits(ctx, promotion, counts)
            if limit_reason is not None:
                not_applied[promotion.id] = NotApplied(promotion=promotion.id,
                                                       reason=limit_reason,
                                                       message=ctx.text.reason(limit_reason))
                continue
            stock_left = None
            if promotion.kind_impl.stock_counts == "own" and promotion.limits.stock is not None:
                stock_left = promotion.limits.stock - counts[counter_keys.stock(promotion.id)]
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

    def _counter_keys(self, ctx: Context, promotion: Promotion) -> list[str]:
        limits, customer = promotion.limits, ctx.cart.customer.id
        keys = []
        if limits.total is not None:
            keys.append(counter_keys.uses(promotion.id))
        if customer is not None and limits.per_customer is not None:
            keys.append(counter_keys.customer_uses(promotion.id, customer))
        if customer is not None and limits.per_customer_daily is not None:
            keys.append(counter_keys.customer_daily_uses(promotion.id, customer,
                                                         ctx.now.date()))
        if limits.stock is not None:
            keys.append(counter_keys.stock(promotion.id))
        if promotion.budget is not None:
            keys.append(counter_keys.spent(promotion.id))
        campaign = self.campaigns.campaign(promotion.campaign)
        if campaign is not None and campaign.budget is not None:
            keys.append(counter_keys.campaign_spent(campaign.id))
        return keys

    def _read_counters(self, ctx: Context, promotions: list[Promotion]) -> Mapping[str, int]:
        keys = sorted({key for p in promotions for key in self._counter_keys(ctx, p)})
        if not keys:
            return {}
        try:
            return self.store.read(keys)
        except StoreError:
            raise
        except Exception as error:
            raise StoreError(f"reading counters failed: {error!r}") from error

    def _limits(self, ctx: Context, promotion: Promotion, counts: Mapping[str, int]
                ) -> tuple[str | None, int | None, tuple[tuple[str, int], ...]]:
        """A reason the promotion is used up, the units it may still discount, and
        the money left in each budget it draws on."""
        limits, customer = promotion.limits, ctx.cart.customer.id
        if limits.total is not None and counts[counter_keys.uses(promotion.id)] >= limits.total:
            return "limit_reached", None, ()
        if customer is not None:
            if limits.per_customer is not None and counts[
                    counter_keys.customer_uses(promotion.id, customer)] >= limits.per_customer:
                return "limit_reached", None, ()
            if limits.per_customer_daily is not None and counts[
                    counter_keys.customer_daily_uses(promotion.id, customer, ctx.now.date())
            ] >= limits.per_customer_daily:
                return "limit_reached", None, ()
        caps = []
        if limits.per_order_units is not None:
            caps.append(limits.per_order_units)
        if limits.stock is not None:
            left = limits.stock - counts[counter_keys.stock(promotion.id)]
            if left <= 0:
                return "stock_exhausted", None, ()
            caps.append(left)
        pools = []
        if promotion.budget is not None:
            pools.append((f"p:{promotion.id}",
                          promotion.budget - counts[counter_keys.spent(promotion.id)]))
        campaign = self.campaigns.campaign(promotion.campaign)
        if campaign is not None and campaign.budget is not None:
            pools.append((f"c:{campaign.id}",
                          campaign.budget - counts[counter_keys.campaign_spent(campaign.id)]))
        if any(left <= 0 for _, left in pools):
            return "budget_exhausted", None, ()
        return None, min(caps) if caps else None, tuple(pools)

    # -- the result --------------------------------------------------------------

    def _result(self, ctx: Context, units: list[Unit], choice: Choice,
                not_applied: dict[str, NotApplied]) -> PriceResult:
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
        self._explain(units, choice, applied_amount, not_applied, ctx.text)
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
            hints=self._hints(money, units, state, chosen, ctx.text),
            rewards=tuple(rewards),
            gifts=tuple(gifts),
            rejected_codes=tuple(
                RejectedCode(code=code, reason="code_invalid",
                             message=ctx.text.reason("code_invalid"))
                for code in dict.fromkeys(cart.codes) if code not in self._codes),
            optimal=choice.optimal,
        )

    def _explain(self, units: list[Unit], choice: Choice, applied: Mapping[str, int],
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

    def _hints(self, money: Currency, units: list[Unit], state: State,
               chosen: frozenset[int], text: Text) -> tuple[Hint, ...]:
        hints = []
        within = self.campaigns.hint_within
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


def _schedule_message(promotion: Promotion, reason: str, text: Text) -> str:
    schedule = promotion.schedule
    if reason == "not_started" and schedule.start is not None:
        when = schedule.start.isoformat()
        return text.pick(f"starts at {when}", f"{when}開始")
    if reason == "ended" and schedule.end is not None:
        when = schedule.end.isoformat()
        return text.pick(f"ended at {when}", f"已於{when}結束")
    windows = ", ".join(f"{w.start:%H:%M}–{w.end:%H:%M}" for w in schedule.windows)
    return text.pick(f"only runs {windows} daily", f"每日{windows}進行")


