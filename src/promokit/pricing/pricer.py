"""The pricer: one campaign set, compiled once, pricing carts (DESIGN §4).

An evaluation runs in four steps, each in its own module:

1. :func:`~.eligibility.units_of_choice`: the index's candidates checked once,
   the store read once (:mod:`.reading`), the survivors cut into units;
2. each unit alone at list price (:func:`~.acting.act`), for the search's ceilings;
3. :func:`~.search.search`: the best combination the stacking rules allow;
4. :func:`~.results.price_result`: the :class:`~promokit.result.PriceResult`.

It does no I/O but one read of the counters it needs from the store, and never
writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs
from cachetools import LRUCache

from ..campaign_set import CampaignSet
from ..cart import Cart
from ..errors import CartError
from ..inputs import DEFAULT_LIMITS, InputLimits
from ..loading import channel_rules
from ..money import currency
from ..order import Recorded, Use
from ..registry import Registry
from ..result import NotApplied, PriceResult
from ..stores import Delta, Store
from ..text import LANGUAGES, Text
from .acting import act
from .consumption import consumption, order_deltas
from .eligibility import budget_ranges, units_of_choice
from .index import CompiledCampaigns
from .model import Context, Setup, State, Unit
from .reads import Known, StoreReads
from .results import price_result
from .search import EXACT_LIMIT, Choice, search

__all__ = ["Priced", "Pricer"]


@attrs.frozen(kw_only=True)
class Priced:
    """A priced cart with what checkout needs: the result, each applied promotion's
    :class:`~promokit.order.Use`, the store deltas of the whole order and what was
    read from the store."""

    cart: Cart
    result: PriceResult
    uses: tuple[Use, ...]
    deltas: tuple[Delta, ...]
    reads: StoreReads


class Pricer:
    """Prices carts under one :class:`~promokit.campaign_set.CampaignSet`.

    ``store`` supplies the counters that limits, stock and budgets are checked
    against; ``clock`` gives the time for carts without ``now``; ``exact_limit``
    is the number of competing promotions up to which the best deal is exact;
    ``on_store_error`` and ``code_attempts`` are :class:`~promokit.Engine`'s.
    Compiled campaigns are kept in ``compiled_cache`` by version, so a pricer for
    an unchanged version does not compile them again.
    """

    def __init__(self, campaigns: CampaignSet, *, registry: Registry, store: Store,
                 clock: Callable[[], datetime], exact_limit: int = EXACT_LIMIT,
                 lang: str = "en", on_store_error: str = "raise",
                 code_attempts: tuple[int, int] = (10, 900),
                 compiled_cache: LRUCache[str, CompiledCampaigns] | None = None,
                 input_limits: InputLimits = DEFAULT_LIMITS) -> None:
        if on_store_error not in ("raise", "skip"):
            raise ValueError(f"on_store_error must be 'raise' or 'skip', not {on_store_error!r}")
        if code_attempts[0] < 1 or code_attempts[1] < 1:
            raise ValueError(f"code_attempts must be two positive numbers, not {code_attempts!r}")
        texts: dict[str, Text] = {code: Text(code, currency=campaigns.currency)
                                  for code in LANGUAGES}
        if lang not in texts:
            raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
        self.campaigns = campaigns
        self.registry = registry
        self.lang = lang
        self.cache: LRUCache[str, CompiledCampaigns] = (
            compiled_cache if compiled_cache is not None else LRUCache(maxsize=8))
        compiled = self.cache.get(campaigns.version) if campaigns.version else None
        if compiled is None:
            compiled = CompiledCampaigns(campaigns)
            if campaigns.version:
                self.cache[campaigns.version] = compiled
        self.setup = Setup(campaigns=campaigns, compiled=compiled, guards=registry.guards,
                           store=store, clock=clock, texts=texts,
                           on_store_error=on_store_error, code_attempts=code_attempts,
                           exact_limit=exact_limit, limits=input_limits,
                           channels=channel_rules(campaigns, registry))

    @property
    def store(self) -> Store:
        return self.setup.store

    def with_campaigns(self, campaigns: CampaignSet) -> Pricer:
        """A pricer for other campaigns with this one's registry, store, clock,
        settings and cache of compiled campaigns."""
        setup = self.setup
        return Pricer(campaigns, registry=self.registry, store=setup.store, clock=setup.clock,
                      exact_limit=setup.exact_limit, lang=self.lang,
                      on_store_error=setup.on_store_error, code_attempts=setup.code_attempts,
                      compiled_cache=self.cache, input_limits=setup.limits)

    def only(self, promotion_ids: Iterable[str]) -> Pricer:
        """A pricer for this one's promotions named in ``promotion_ids`` alone (the
        promotions an order had, to price what a refund leaves)."""
        wanted = frozenset(promotion_ids)
        return self.with_campaigns(attrs.evolve(self.campaigns, version="", promotions=tuple(
            p for p in self.campaigns.promotions if p.id in wanted)))

    def read_cart(self, cart: Cart | Mapping[str, Any] | str) -> Cart:
        """``cart`` read from its JSON form, or checked if built in code, within the
        pricer's input limits; :class:`~promokit.errors.CartError` if it breaks one."""
        if not isinstance(cart, Cart):
            return Cart.from_json(cart, limits=self.setup.limits)
        problems = cart.bound_problems(self.setup.limits)
        if problems:
            raise CartError(problems)
        return cart

    def local(self, moment: datetime) -> datetime:
        """``moment`` in the campaign file's timezone (naive times are taken as local)."""
        tz = self.campaigns.timezone
        return (moment if moment.tzinfo else moment.replace(tzinfo=tz)).astimezone(tz)

    # -- pricing --------------------------------------------------------------------

    def evaluate(self, cart: Cart | Mapping[str, Any] | str, *,
                 lang: str | None = None) -> PriceResult:
        """Price ``cart`` (a :class:`Cart` or its JSON form); observers hear of it
        through ``promokit_evaluated``."""
        cart = self.read_cart(cart)
        result = self._priced(cart, lang)[3]
        self.registry.hooks.evaluated(cart, result)
        return result

    def price(self, cart: Cart, *, lang: str | None = None, checkout: bool = False,
              recorded: Recorded | None = None, known: Known | None = None) -> Priced:
        """Price ``cart`` and keep what checkout needs: the result, what each applied
        promotion consumes, and what was read from the store.

        With ``checkout``, a promotion limited per customer needs the cart's
        customer id (an anonymous cart is shown the price, but cannot check out
        with it). With ``recorded``, the recorded counters and codes are used
        instead of reading the store (replay). With ``known``, counters and the
        codes seen before are taken from it instead of being read, and
        ``reads.expect`` says for which values of each the price holds (for the
        store to check)."""
        reads = StoreReads.replaying(recorded) if recorded is not None else None
        ctx, units, choice, result = self._priced(cart, lang, reads=reads, checkout=checkout,
                                                  known=known)
        uses = consumption(ctx, units, choice.state)
        return Priced(cart=cart, result=result, reads=ctx.reads, uses=uses,
                      deltas=order_deltas(uses, self.campaigns))

    def _priced(self, cart: Cart, lang: str | None, *, reads: StoreReads | None = None,
                checkout: bool = False, known: Known | None = None
                ) -> tuple[Context, list[Unit], Choice, PriceResult]:
        ctx, start, units, not_applied = self.prepare(cart, lang=lang, reads=reads,
                                                      checkout=checkout, known=known)
        choice = search(ctx, start, units, exact_limit=self.setup.exact_limit)
        return ctx, units, choice, price_result(ctx, units, choice, not_applied)

    def prepare(self, cart: Cart, *, lang: str | None = None,
                reads: StoreReads | None = None, checkout: bool = False,
                known: Known | None = None
                ) -> tuple[Context, State, list[Unit], dict[str, NotApplied]]:
        """Everything the best-deal search works on: the evaluation context, the
        starting state, the units of choice and the promotions already ruled out."""
        ctx = self.context(cart, lang, reads=reads, checkout=checkout, known=known)
        not_applied: dict[str, NotApplied] = {}
        units = units_of_choice(ctx, not_applied)
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
        budget_ranges(ctx, units, start.shipping)
        return ctx, start, units, not_applied

    def context(self, cart: Cart, lang: str | None = None, *, reads: StoreReads | None = None,
                checkout: bool = False, known: Known | None = None) -> Context:
        """A fresh evaluation context for ``cart``, messages in ``lang``."""
        lang = lang or self.lang
        text = self.setup.texts.get(lang)
        if text is None:
            raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
        money = currency(cart.currency)
        now = self.local(cart.now or self.setup.clock())
        lines = cart.lines
        unit_prices = tuple(money.parse(line.unit_price) for line in lines)
        floors = tuple(0 if line.deposit_paid is None else money.parse(line.deposit_paid)
                       for line in lines)
        return Context(setup=self.setup, cart=cart, lines=lines, unit_prices=unit_prices,
                       subtotals=tuple(p * line.quantity for p, line in zip(unit_prices, lines,
                                                                              strict=True)),
                       currency=money, now=now, floors=floors, text=text,
                       reads=reads if reads is not None else StoreReads(),
                       checkout=checkout, known=known)
