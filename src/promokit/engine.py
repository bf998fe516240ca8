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
from typing import Any, Literal

import attrs
from cachetools import LRUCache

from .allocation import split_funding
from .campaign import CampaignSet, Promotion
from .cart import Cart
from .checkout import DEFAULT_TTL, Checkout, Order, Refund, Replay
from .conditions import ConditionContext
from .consumption import Use, consumption, order_deltas
from .coupons import CodeCheck, is_well_formed, normalize_code
from .errors import PluginError, StoreError
from .games.base import GameRuntime
from .games.collection import Games
from .index import CompiledCampaigns
from .kinds import STAGES, DiscountKind, LineView, NoDeal
from .loader import load_campaigns
from .money import Currency, currency
from .pipeline import (
    Context,
    Known,
    State,
    StoreReads,
    Unit,
    act,
    application,
    condition_message,
    failed_condition,
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
from .stores import Delta, MemoryStore, Store, counter_keys
from .text import LANGUAGES, Text

__all__ = ["Engine", "Priced"]

_DEFAULT_FUNDING = {"platform": (("platform", Decimal(1)),)}
_MERCHANT_FUNDING = (("merchant", Decimal(1)),)


@attrs.frozen(kw_only=True)
class Priced:
    """A priced cart with what checkout needs: the result, each applied promotion's
    :class:`~promokit.consumption.Use`, the store deltas of the whole order and
    what was read from the store."""

    cart: Cart
    result: PriceResult
    uses: tuple[Use, ...]
    deltas: tuple[Delta, ...]
    reads: StoreReads


class Engine:
    """Prices carts under one :class:`~promokit.campaign.CampaignSet`.

    ``store`` supplies the counters limits, stock and budgets are checked
    against (an empty :class:`~promokit.stores.MemoryStore` if not given);
    ``clock`` gives the time for carts without ``now``; ``exact_limit`` is the
    number of competing promotions up to which the best deal is exact.

    ``on_store_error`` says what ``evaluate`` does when the store cannot be read:
    ``"raise"`` (the default) raises :class:`~promokit.errors.StoreError`;
    ``"skip"`` prices without the promotions that need the store (limits, stock,
    budgets, coupon codes), reports them as ``store_unavailable`` and sets the
    result's ``store_unavailable``. ``code_attempts`` is ``(failures, seconds)``:
    after that many failed coupon codes in a window of that many seconds, a
    customer's codes are refused as ``code_throttled`` until the window ends.
    ``secret`` (at least 16 bytes) signs games' share tokens.
    """

    def __init__(self, campaigns: CampaignSet, *, registry: Registry | None = None,
                 store: Store | None = None,
                 clock: Callable[[], datetime] | None = None,
                 exact_limit: int = EXACT_LIMIT, lang: str = "en",
                 on_store_error: str = "raise", code_attempts: tuple[int, int] = (10, 900),
                 ttl: float = DEFAULT_TTL, secret: bytes | None = None,
                 compiled_cache: LRUCache[str, CompiledCampaigns] | None = None) -> None:
        if on_store_error not in ("raise", "skip"):
            raise ValueError(f"on_store_error must be 'raise' or 'skip', not {on_store_error!r}")
        if code_attempts[0] < 1 or code_attempts[1] < 1:
            raise ValueError(f"code_attempts must be two positive numbers, not {code_attempts!r}")
        self.campaigns = campaigns
        self.on_store_error = on_store_error
        self.code_attempts = code_attempts
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
        self.orders = Checkout(self, ttl=ttl)
        """The checkout service on this engine's store (the methods below use it)."""
        self.secret = secret
        self.games = Games(campaigns.games, GameRuntime(
            store=self.store, clock=self._local_now, currency=campaigns.currency,
            timezone=campaigns.timezone.key, hooks=self.registry.hooks,
            jurisdiction=campaigns.jurisdiction, secret=secret, engine=self),
            self.registry)
        """The campaign set's games, playable on this engine's store
        (``engine.games["koi"].draw(…)``; see :mod:`promokit.games`)."""

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
                      exact_limit=self.exact_limit, lang=self.lang,
                      on_store_error=self.on_store_error, code_attempts=self.code_attempts,
                      ttl=self.orders.ttl, secret=self.secret, compiled_cache=self._cache)

    def now(self) -> datetime:
        """The engine clock's time."""
        return self._clock()

    def _local_now(self) -> datetime:
        return self._local(self._clock())

    def _local(self, moment: datetime) -> datetime:
        """``moment`` in the campaign file's timezone (naive times are taken as local)."""
        tz = self.campaigns.timezone
        return (moment if moment.tzinfo else moment.replace(tzinfo=tz)).astimezone(tz)

    # -- checkout (promokit.checkout) ----------------------------------------------

    def checkout(self, cart: Cart | Mapping[str, Any] | str, order_id: str, *,
                 ttl: float | None = None, lang: str | None = None) -> Order:
        """Price ``cart`` and reserve all it consumes; see :meth:`Checkout.checkout`."""
        return self.orders.checkout(cart, order_id, ttl=ttl, lang=lang)

    def commit(self, order_id: str) -> Order:
        """The order is paid; see :meth:`Checkout.commit`."""
        return self.orders.commit(order_id)

    def release(self, order_id: str) -> Order:
        """The order is cancelled before payment; see :meth:`Checkout.release`."""
        return self.orders.release(order_id)

    def refund(self, order_id: str, refund_id: str, units: Mapping[str, int] | None = None,
               *, policy: Literal["proportional", "reevaluate"] = "proportional") -> Refund:
        """Refund units of a committed order; see :meth:`Checkout.refund`."""
        return self.orders.refund(order_id, refund_id, units, policy=policy)

    def order(self, order_id: str) -> Order | None:
        """A stored order, or ``None``."""
        return self.orders.order(order_id)

    def sweep(self, limit: int = 100) -> list[str]:
        """Expire lapsed reservations and games' lapsed rows (a group's window, an
        unpaid deposit); see :meth:`Checkout.sweep`."""
        return self.orders.sweep(limit)

    def replay(self, order_id: str) -> Replay:
        """Price a stored order again and compare; see :meth:`Checkout.replay`."""
        return self.orders.replay(order_id)

    # -- coupon codes --------------------------------------------------------------

    def try_code(self, code: str, *, customer: str | None = None,
                 lang: str | None = None) -> CodeCheck:
        """Check a code a customer typed (an "apply coupon" button) and count a wrong
        one against them.

        Call it where customers enter codes: after ``code_attempts[0]`` wrong
        codes in a window of ``code_attempts[1]`` seconds the customer's codes
        are refused (``code_throttled``) here and in ``evaluate`` until the
        window ends, which stops codes being guessed. A code failing its check
        character is refused without a store lookup; an unknown one is counted.
        Codes that exist but are used up or out of their window are refused
        without counting (they are not guesses).
        """
        text = self._texts[lang or self.lang]
        window = self.code_attempts[1]
        key = counter_keys.code_failures(customer or "anonymous",
                                         int(self._clock().timestamp()) // window)

        def refused(reason: str, failures: int) -> CodeCheck:
            return CodeCheck(code=code, ok=False, reason=reason, message=text.reason(reason),
                             failures=failures)

        canonical = normalize_code(code)
        uses_key = counter_keys.code_uses(canonical)
        try:
            counts = self.store.read([key, uses_key])  # one round trip for both
            failures = counts[key]
            if failures >= self.code_attempts[0]:
                return refused("code_throttled", failures)
            literal = tuple(sorted(p.id for p in self.campaigns.promotions if code in p.codes))
            if literal:
                return CodeCheck(code=code, ok=True, promotions=literal, failures=failures)
            external = any(batch.external for batch in self.campaigns.coupons)
            row = None
            if canonical and (external or is_well_formed(canonical)):
                row = self.store.find_codes([canonical]).get(canonical)
            batch = self.campaigns.coupon(row.batch) if row is not None else None
            if row is None or batch is None:
                return refused("code_invalid", self.store.hit(key, window))
        except StoreError:
            raise
        except Exception as error:
            raise StoreError(f"checking a code against the store failed: {error!r}") from error
        when = batch.window_reason(self._clock().astimezone(self.campaigns.timezone))
        if when is not None:
            return refused(when, failures)
        if counts[uses_key] >= row.uses:
            return refused("code_used", failures)
        return CodeCheck(code=code, ok=True, promotions=(batch.promotion,), failures=failures)

    # -- evaluation ------------------------------------------------------------

    def evaluate(self, cart: Cart | Mapping[str, Any] | str, *,
                 lang: str | None = None) -> PriceResult:
        """Price ``cart`` (a :class:`Cart` or its JSON form) under the campaigns.

        Messages and hints are in ``lang`` (``"en"`` or ``"zh-CN"``; the engine's
        ``lang`` if not given)."""
        if not isinstance(cart, Cart):
            cart = Cart.from_json(cart)
        result = self._priced(cart, lang)[3]
        self.registry.hooks.evaluated(cart, result)
        return result

    def price(self, cart: Cart, *, lang: str | None = None, checkout: bool = False,
              reads: StoreReads | None = None, known: Known | None = None) -> Priced:
        """Price ``cart`` and keep what checkout needs: the result, what each applied
        promotion consumes, and what was read from the store.

        With ``checkout``, a promotion limited per customer needs the cart's
        customer id (an anonymous cart is shown the price, but cannot check out
        with it). With ``reads``, the recorded counters and codes are used instead
        of reading the store (replay). With ``known``, counters and the codes
        seen before are taken from it instead of being read, and ``reads.expect``
        says for which values of each the price holds (for the store to check)."""
        ctx, units, choice, result = self._priced(cart, lang, reads=reads, checkout=checkout,
                                                  known=known)
        uses = consumption(ctx, units, choice.state)
        return Priced(cart=cart, result=result, reads=ctx.reads, uses=uses,
                      deltas=order_deltas(uses, self.campaigns))

    def _priced(self, cart: Cart, lang: str | None, *, reads: StoreReads | None = None,
                checkout: bool = False, known: Known | None = None
                ) -> tuple[Context, list[Unit], Choice, PriceResult]:
        ctx, start, units, not_applied = self._prepare(cart, lang=lang, reads=reads,
                                                       checkout=checkout, known=known)
        choice = search(ctx, start, units, exact_limit=self.exact_limit)
        return ctx, units, choice, self._result(ctx, units, choice, not_applied)

    def _prepare(self, cart: Cart, *, lang: str | None = None,
                 reads: StoreReads | None = None, checkout: bool = False,
                 known: Known | None = None
                 ) -> tuple[Context, State, list[Unit], dict[str, NotApplied]]:
        """Everything the best-deal search works on: the evaluation context, the
        starting state, the units of choice and the promotions already ruled out."""
        lang = lang or self.lang
        if lang not in self._texts:
            raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
        ctx = self._context(cart, lang, reads, checkout, known)
        not_applied: dict[str, NotApplied] = {}
        units = self._units(ctx, not_applied)
        start = State(nets=list(ctx.subtotals), shipping=ctx.currency.parse(cart.shipping),
                      consumed=[0] * len(ctx.lines), consumed_net=[0] * len(ctx.lines))
        deals = [u for u in units if u.promotion.kind_impl.quantity_deal]
        start_nets = tuple(start.nets)  # the bases a unit alone at list price measures
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
                alone = act(ctx, unit, start, start_nets)
                unit.standalone = tuple(alone.per_line.get(i, 0) for i in unit.lines)
                unit.ceiling = alone.value
                if alone.no_deal is None:
                    unit.shape = ("spread" if alone.spread and len(alone.per_line) > 1
                                  else "per_line" if alone.per_line else "other")
            else:
                unit.standalone = tuple(ctx.subtotals[i] for i in unit.lines)
                unit.ceiling = sum(unit.standalone) + start.shipping
        self._budget_ranges(ctx, units, start.shipping)
        return ctx, start, units, not_applied

    def _context(self, cart: Cart, lang: str = "en", reads: StoreReads | None = None,
                 checkout: bool = False, known: Known | None = None) -> Context:
        money = currency(cart.currency)
        now = self._local(cart.now or self._clock())
        lines = cart.lines
        unit_prices = tuple(money.parse(line.unit_price) for line in lines)
        floors = tuple(0 if line.deposit_paid is None else money.parse(line.deposit_paid)
                       for line in lines)
        return Context(cart=cart, lines=lines, unit_prices=unit_prices,
                       subtotals=tuple(p * line.quantity for p, line in zip(unit_prices, lines,
                                                                              strict=True)),
                       currency=money, now=now, floors=floors, text=self._texts[lang],
                       reads=reads if reads is not None else StoreReads(), replay=reads is not None,
                       checkout=checkout, known=known)

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
        for promotion, maybe in self._compiled.candidates(ctx.cart):
            in_scope = [i for i in maybe if promotion.covers(ctx.lines[i])]
            reason = self._static_reason(ctx, promotion, in_scope)
            if reason is not None:
                not_applied[promotion.id] = NotApplied(promotion=promotion.id,
                                                       reason=reason.reason,
                                                       message=reason.message)
            else:
                survivors.append((promotion, in_scope))
        self._read_store(ctx, survivors)
        units: list[Unit] = []
        for promotion, in_scope in survivors:
            store_reason = self._store_reason(ctx, promotion)
            if store_reason is not None:
                not_applied[promotion.id] = NotApplied(
                    promotion=promotion.id, reason=store_reason.reason,
                    message=store_reason.message)
                continue
            limit_reason, cap, pools = self._limits(ctx, promotion, in_scope)
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

    @staticmethod
    def _kind_counter_keys(ctx: Context, promotion: Promotion,
                           in_scope: Sequence[int]) -> Sequence[str]:
        """The counters the promotion's kind asks for on its lines (a game's state)."""
        kind = promotion.kind_impl
        if not _reads_counters(kind):
            return ()
        try:
            return kind.counter_keys(promotion.params, [ctx.lines[i] for i in in_scope],
                                     ctx.cart.customer)
        except Exception as error:
            raise PluginError(f"kind {kind.name!r} raised in counter_keys of promotion "
                              f"{promotion.id!r}: {error!r}", hook="counter_keys") from error

    def _read_store(self, ctx: Context, survivors: list[tuple[Promotion, list[int]]]) -> None:
        """Read, once, every counter and coupon code the candidates need into
        ``ctx.reads`` (or take them from it when replaying, or from ``ctx.known``
        at checkout), and sort the cart's codes."""
        reads = ctx.reads
        candidates = self._code_candidates(ctx, reads)
        promotions = [p for p, _ in survivors]
        keys = {key for p in promotions for key in self._counter_keys(ctx, p)}
        kind_keys = [key for p, in_scope in survivors
                     for key in self._kind_counter_keys(ctx, p, in_scope)]
        keys.update(kind_keys)
        known = ctx.known
        if not ctx.replay and (keys or candidates):
            try:
                if candidates:
                    wanted = [c for _, c in candidates]
                    seen = known.codes(wanted) if known is not None else {}
                    missing = [code for code in wanted if code not in seen]
                    found = self.store.find_codes(missing) if missing else {}
                    reads.codes.update(seen)
                    reads.codes.update({code: (row.batch, row.uses)
                                        for code, row in found.items()})
                    if known is not None and found:
                        known.learn(codes={code: (row.batch, row.uses)
                                           for code, row in found.items()})
                    keys.add(self._throttle_key(ctx))
                    keys.update(counter_keys.code_uses(code) for code in reads.codes)
                if keys and known is not None:
                    values, reads.guessed = known.counters(keys)
                    reads.counters.update(values)
                elif keys:
                    reads.counters.update(self.store.read(sorted(keys)))
            except Exception as error:
                if self.on_store_error == "raise":
                    if isinstance(error, StoreError):
                        raise
                    raise StoreError(f"reading the store failed: {error!r}") from error
                reads.unavailable = True
                reads.counters.clear()
                reads.codes.clear()
        for key in kind_keys:  # a kind reading a counter depends on its value
            reads.exact(key)
        self._sort_codes(ctx, candidates, promotions)

    def _throttle_key(self, ctx: Context) -> str:
        window = int(self._clock().timestamp()) // self.code_attempts[1]
        if ctx.reads.throttle_key is None:
            ctx.reads.throttle_key = counter_keys.code_failures(
                ctx.cart.customer.id or "anonymous", window)
        return ctx.reads.throttle_key

    def _code_candidates(self, ctx: Context, reads: StoreReads) -> list[tuple[str, str]]:
        """``(as entered, canonical)`` for each cart code that needs a store lookup;
        codes no promotion can accept are rejected here, without one."""
        candidates = []
        external = any(batch.external for batch in self.campaigns.coupons)
        for entered in dict.fromkeys(ctx.cart.codes):
            if entered in self._codes:
                continue
            canonical = normalize_code(entered)
            if not self.campaigns.coupons or not canonical or (
                    not external and not is_well_formed(canonical)):
                reads.rejected[entered] = "code_invalid"
            else:
                candidates.append((entered, canonical))
        return candidates

    def _sort_codes(self, ctx: Context, candidates: list[tuple[str, str]],
                    promotions: list[Promotion]) -> None:
        """Decide which looked-up codes are good, and which promotion each unlocks."""
        reads = ctx.reads
        if not candidates:
            return
        throttled = (reads.throttle_key is not None
                     and not reads.below(reads.throttle_key, self.code_attempts[0]))
        good: dict[str, str] = {}  # canonical → batch
        for entered, canonical in candidates:
            row = reads.codes.get(canonical)
            batch = self.campaigns.coupon(row[0]) if row is not None else None
            if reads.unavailable:
                reads.rejected[entered] = "store_unavailable"
            elif throttled:
                reads.rejected[entered] = "code_throttled"
            elif row is None or batch is None:
                reads.rejected[entered] = "code_invalid"
            elif (window := batch.window_reason(ctx.now)) is not None:
                reads.rejected[entered] = window
            elif not reads.below(counter_keys.code_uses(canonical), row[1]):
                reads.rejected[entered] = "code_used"
            else:
                good[canonical] = batch.id
        for promotion in promotions:
            if not promotion.coupons or promotion.codes.intersection(ctx.cart.codes):
                continue
            for canonical, batch_id in good.items():
                if batch_id in promotion.coupons:
                    reads.chosen[promotion.id] = canonical
                    break

    def _store_reason(self, ctx: Context, promotion: Promotion) -> NoDeal | None:
        """Why a promotion cannot apply given what the store said (or could not say)."""
        reads, text = ctx.reads, ctx.text
        if reads.unavailable and (promotion.coupons or self._counter_keys(ctx, promotion)
                                  or _reads_counters(promotion.kind_impl)):
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
        limits = promotion.limits
        if ctx.checkout and customer is None and (limits.per_customer is not None
                                 or limits.per_customer_daily is not None):
            return NoDeal("limit_reached", text.pick(
                "limited per customer: needs a signed-in customer",
                "每位顧客限用，請先登入"))
        return None

    def _limits(self, ctx: Context, promotion: Promotion, in_scope: Sequence[int]
                ) -> tuple[str | None, int | None, tuple[tuple[str, int], ...]]:
        """A reason the promotion is used up, the units it may still discount, and
        the money left in each budget it draws on.

        Each counter asked is narrowed in ``ctx.reads.expect`` to the values that
        give the same answer (a use below its limit; stock enough for every unit
        in scope); a budget's is narrowed later, by :meth:`_budget_ranges`."""
        reads = ctx.reads
        limits, customer = promotion.limits, ctx.cart.customer.id
        if limits.total is not None and not reads.below(counter_keys.uses(promotion.id),
                                                        limits.total):
            return "limit_reached", None, ()
        if customer is not None:
            if limits.per_customer is not None and not reads.below(
                    counter_keys.customer_uses(promotion.id, customer), limits.per_customer):
                return "limit_reached", None, ()
            if limits.per_customer_daily is not None and not reads.below(
                    counter_keys.customer_daily_uses(promotion.id, customer, ctx.now.date()),
                    limits.per_customer_daily):
                return "limit_reached", None, ()
        caps = []
        if limits.per_order_units is not None:
            caps.append(limits.per_order_units)
        if limits.stock is not None:
            key = counter_keys.stock(promotion.id)
            left = limits.stock - reads.counters.get(key, 0)
            if left <= 0:
                reads.narrow(key, limits.stock, None)
                return "stock_exhausted", None, ()
            # The stock caps the units discounted only below what the cart asks for.
            wanted = min([sum(ctx.lines[i].quantity for i in in_scope), *caps])
            if left >= wanted:
                reads.narrow(key, 0, limits.stock - wanted)
            else:
                reads.exact(key)
            caps.append(left)
        budgets = self._budgets(promotion)
        empty = [(key, budget) for _, key, budget in budgets
                 if budget - reads.counters.get(key, 0) <= 0]
        if empty:
            for key, budget in empty:
                reads.narrow(key, budget, None)
            return "budget_exhausted", None, ()
        pools = tuple((pool, budget - reads.counters.get(key, 0)) for pool, key, budget in budgets)
        return None, min(caps) if caps else None, pools

    def _budgets(self, promotion: Promotion) -> list[tuple[str, str, int]]:
        """``(pool, counter, budget)`` for each budget the promotion draws on."""
        found = []
        if promotion.budget is not None:
            found.append((f"p:{promotion.id}", counter_keys.spent(promotion.id),
                          promotion.budget))
        campaign = self.campaigns.campaign(promotion.campaign)
        if campaign is not None and campaign.budget is not None:
            found.append((f"c:{campaign.id}", counter_keys.campaign_spent(campaign.id),
                          campaign.budget))
        return found

    def _budget_ranges(self, ctx: Context, units: Sequence[Unit], shipping: int) -> None:
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
            for pool, key, budget in self._budgets(unit.promotion):
                if key in seen:
                    continue
                seen.add(key)
                wanted = max(demand.get(pool, 0), 1)
                if budget - ctx.reads.counters.get(key, 0) >= wanted:
                    ctx.reads.narrow(key, 0, budget - wanted)
                else:
                    ctx.reads.exact(key)

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
                RejectedCode(code=code, reason=reason, message=ctx.text.reason(reason))
                for code, reason in ctx.reads.rejected.items()),
            optimal=choice.optimal,
            store_unavailable=ctx.reads.unavailable,
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


def _reads_counters(kind: DiscountKind) -> bool:
    """Whether the kind overrides :meth:`DiscountKind.counter_keys`."""
    return type(kind).counter_keys is not DiscountKind.counter_keys


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


