"""The engine: the one object a shop holds, wiring pricing, orders and games.

>>> engine = Engine.from_files(["examples/d11.toml"])       # doctest: +SKIP
>>> result = engine.evaluate(Cart.from_json(cart_json))     # doctest: +SKIP
>>> result.total, result.applied, result.not_applied, result.hints  # doctest: +SKIP

The engine holds no logic of its own. It builds, for one campaign set, a
:class:`~promokit.pricing.Pricer` (``evaluate``), a
:class:`~promokit.orders.Checkout` on its store (``checkout``, ``commit``,
``release``, ``refund``, ``sweep``, ``replay``), a
:class:`~promokit.orders.CodeDesk` (``try_code``) and the campaign set's
:class:`~promokit.gameplay.Games` (``games``), and hands each the narrow
pieces it needs: the pricer, the store, the clock, the hooks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from cachetools import LRUCache

from .campaign_set import CampaignSet
from .cart import Cart
from .coupons import CodeCheck
from .gameplay import Games
from .games import GameRuntime
from .inputs import DEFAULT_LIMITS, InputLimits
from .loading import load_campaigns
from .order import Order, Refund, Replay
from .orders import DEFAULT_TOLERANCE, DEFAULT_TTL, Checkout, CodeDesk
from .pricing import EXACT_LIMIT, Pricer
from .pricing.index import CompiledCampaigns
from .registry import Registry
from .result import PriceResult
from .stores import NoStore, Store

__all__ = ["Engine"]


class Engine:
    """Prices carts under one :class:`~promokit.campaign_set.CampaignSet`, checks
    orders out against a store and plays the set's games.

    ``store`` supplies the counters limits, stock and budgets are checked
    against and keeps orders, games and the ledger. Without one the engine
    prices (every counter at 0, no coupon code known) but refuses whatever
    writes (checkout, games …) with a :class:`~promokit.errors.StoreError`:
    pass ``open_store(url)``, ``memory://`` for one process;
    ``clock`` gives the time for carts without ``now``; ``exact_limit`` is the
    number of competing promotions up to which the best deal is exact.

    ``on_store_error`` says what ``evaluate`` does when the store cannot be read:
    ``"raise"`` (the default) raises :class:`~promokit.errors.StoreError`;
    ``"skip"`` prices without the promotions that need the store (limits, stock,
    budgets, coupon codes), reports them as ``store_unavailable`` and sets the
    result's ``store_unavailable``. ``code_attempts`` is ``(failures, seconds)``:
    after that many distinct wrong coupon codes in a window of that many seconds,
    a customer's codes are refused as ``code_throttled`` until the window ends.
    ``ttl`` is how long a reservation lives unless committed (seconds). Whatever
    consumes (checkout, commit, refunds, games) runs at ``clock``'s time: a cart's
    ``now`` steers ``evaluate`` only (previews, tests, simulation), and checkout
    refuses a cart whose ``now`` is more than ``clock_tolerance`` seconds from
    the clock.
    ``secret`` (at least 16 bytes) signs games' share tokens. ``input_limits``
    bounds the carts the engine reads (lines, units, codes, ids, size; see
    :class:`~promokit.inputs.InputLimits` for the defaults).
    """

    def __init__(self, campaigns: CampaignSet, *, registry: Registry | None = None,
                 store: Store | None = None,
                 clock: Callable[[], datetime] | None = None,
                 exact_limit: int = EXACT_LIMIT, lang: str = "en",
                 on_store_error: str = "raise", code_attempts: tuple[int, int] = (10, 900),
                 ttl: float = DEFAULT_TTL, clock_tolerance: float = DEFAULT_TOLERANCE,
                 secret: bytes | None = None,
                 compiled_cache: LRUCache[str, CompiledCampaigns] | None = None,
                 input_limits: InputLimits = DEFAULT_LIMITS) -> None:
        self.registry = registry if registry is not None else Registry.default()
        self.store: Store = store if store is not None else NoStore()
        self._clock = clock or (lambda: datetime.now(UTC))
        self.secret = secret
        self.pricer = Pricer(campaigns, registry=self.registry, store=self.store,
                             clock=self._clock, exact_limit=exact_limit, lang=lang,
                             on_store_error=on_store_error, code_attempts=code_attempts,
                             compiled_cache=compiled_cache, input_limits=input_limits)
        """Prices carts (``evaluate``)."""
        self.orders = Checkout(self.pricer, hooks=self.registry.hooks, clock=self._clock,
                               ttl=ttl, tolerance=clock_tolerance,
                               expire_row=lambda row_id: self.games.expire(row_id))
        """The checkout service on this engine's store (the methods below use it)."""
        self.codes = CodeDesk(self.pricer)
        """Checks the codes customers type (``try_code``)."""
        self.games = Games(campaigns.games, GameRuntime(
            store=self.store, clock=self._local_now, currency=campaigns.currency,
            timezone=campaigns.timezone.key, emit=self.registry.hooks.game_event,
            jurisdiction=campaigns.jurisdiction, secret=secret, orders=self.orders,
            promotions={p.id: p for p in campaigns.promotions},
            channels=self.pricer.setup.channels), self.registry)
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
        setup = self.pricer.setup
        return Engine(campaigns, registry=self.registry, store=self.store, clock=self._clock,
                      exact_limit=setup.exact_limit, lang=self.lang,
                      on_store_error=setup.on_store_error, code_attempts=setup.code_attempts,
                      ttl=self.orders.ttl, clock_tolerance=self.orders.tolerance,
                      secret=self.secret,
                      compiled_cache=self.pricer.cache, input_limits=setup.limits)

    @property
    def campaigns(self) -> CampaignSet:
        """The campaign set this engine runs."""
        return self.pricer.campaigns

    @property
    def lang(self) -> str:
        """The language of messages and hints unless a call names another."""
        return self.pricer.lang

    @property
    def exact_limit(self) -> int:
        """Competing promotions up to which the best deal is exact."""
        return self.pricer.setup.exact_limit

    @property
    def on_store_error(self) -> str:
        """What ``evaluate`` does when the store cannot be read (``raise``, ``skip``)."""
        return self.pricer.setup.on_store_error

    @property
    def code_attempts(self) -> tuple[int, int]:
        """``(failures, seconds)``: the throttle on distinct wrong coupon codes."""
        return self.pricer.setup.code_attempts

    def now(self) -> datetime:
        """The engine clock's time."""
        return self._clock()

    def _local_now(self) -> datetime:
        return self.pricer.local(self._clock())

    # -- pricing (promokit.pricing) --------------------------------------------------

    def evaluate(self, cart: Cart | Mapping[str, Any] | str, *,
                 lang: str | None = None) -> PriceResult:
        """Price ``cart`` (a :class:`Cart` or its JSON form) under the campaigns.

        Messages and hints are in ``lang`` (``"en"``, ``"zh-CN"``, ``"zh-TW"`` or
        ``"zh-HK"``: :data:`~promokit.text.LANGUAGES`; the engine's ``lang`` if not
        given). Does no I/O but one read of the counters it needs from the store
        and one atomic check of the cart's coupon codes, which counts wrong ones
        against the customer's throttle; writes nothing else."""
        return self.pricer.evaluate(cart, lang=lang)

    def try_code(self, code: str, *, customer: str | None = None,
                 lang: str | None = None) -> CodeCheck:
        """Check a code a customer typed and count a wrong one against them; see
        :meth:`CodeDesk.try_code <promokit.orders.CodeDesk.try_code>`."""
        return self.codes.try_code(code, customer=customer, lang=lang)

    # -- orders (promokit.orders) ------------------------------------------------------

    def checkout(self, cart: Cart | Mapping[str, Any] | str, order_id: str, *,
                 ttl: float | None = None, lang: str | None = None) -> Order:
        """Price ``cart`` and reserve all it consumes; see :meth:`Checkout.checkout
        <promokit.orders.Checkout.checkout>`."""
        return self.orders.checkout(cart, order_id, ttl=ttl, lang=lang)

    def commit(self, order_id: str) -> Order:
        """The order is paid; see :meth:`Checkout.commit <promokit.orders.Checkout.commit>`."""
        return self.orders.commit(order_id)

    def release(self, order_id: str) -> Order:
        """The order is cancelled before payment; see :meth:`Checkout.release
        <promokit.orders.Checkout.release>`."""
        return self.orders.release(order_id)

    def refund(self, order_id: str, refund_id: str, units: Mapping[str, int] | None = None,
               *, policy: Literal["proportional", "reevaluate"] = "proportional") -> Refund:
        """Refund units of a committed order; see :meth:`Checkout.refund
        <promokit.orders.Checkout.refund>`."""
        return self.orders.refund(order_id, refund_id, units, policy=policy)

    def order(self, order_id: str) -> Order | None:
        """A stored order, or ``None``."""
        return self.orders.order(order_id)

    def sweep(self, limit: int = 100) -> list[str]:
        """Expire lapsed reservations and games' lapsed rows (a group's window, an
        unpaid deposit); see :meth:`Checkout.sweep <promokit.orders.Checkout.sweep>`."""
        return self.orders.sweep(limit)

    def replay(self, order_id: str) -> Replay:
        """Price a stored order again and compare; see :meth:`Checkout.replay
        <promokit.orders.Checkout.replay>`."""
        return self.orders.replay(order_id)
