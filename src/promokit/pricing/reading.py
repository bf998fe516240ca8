"""Reading the store, once per evaluation: every counter and coupon code the
candidates need, and what the cart's codes are worth.

The counters come from one :meth:`Store.read <promokit.stores.Store.read>`
(or from the order's record when replaying, or from checkout's
:class:`~promokit.pricing.reads.Known` values, which the store then checks as
it applies the order). Codes no promotion can accept are rejected without a
look-up; the rest are looked up together through the customer's code throttle
(:meth:`Store.check_codes <promokit.stores.Store.check_codes>`), which counts
each distinct wrong one in the same atomic step: so ``evaluate`` and checkout
write that much. Once the throttle holds ``code_attempts[0]`` wrong codes, every
code of the cart is refused as ``code_throttled``. Each good code is given to
the promotion it unlocks.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..campaign import Promotion
from ..coupons import is_well_formed, normalize_code
from ..errors import PluginError, StoreError
from ..kinds import DiscountKind
from ..stores import counter_keys
from .model import Context
from .reads import StoreReads

__all__ = ["kind_counter_keys", "limit_counter_keys", "read_store", "reads_counters"]


def reads_counters(kind: DiscountKind) -> bool:
    """Whether the kind overrides :meth:`DiscountKind.counter_keys`."""
    return type(kind).counter_keys is not DiscountKind.counter_keys


def limit_counter_keys(ctx: Context, promotion: Promotion) -> list[str]:
    """The counters the promotion's limits and budgets are checked against."""
    limits, customer = promotion.limits, ctx.cart.customer.id
    keys = []
    if limits.total is not None:
        keys.append(counter_keys.uses(promotion.id))
    if customer is not None and limits.per_customer is not None:
        keys.append(counter_keys.customer_uses(promotion.id, customer))
    if customer is not None and limits.per_customer_daily is not None:
        keys.append(counter_keys.customer_daily_uses(promotion.id, customer, ctx.now.date()))
    if limits.stock is not None:
        keys.append(counter_keys.stock(promotion.id))
    if promotion.budget is not None:
        keys.append(counter_keys.spent(promotion.id))
    campaign = ctx.setup.campaigns.campaign(promotion.campaign)
    if campaign is not None and campaign.budget is not None:
        keys.append(counter_keys.campaign_spent(campaign.id))
    return keys


def kind_counter_keys(ctx: Context, promotion: Promotion,
                      in_scope: Sequence[int]) -> Sequence[str]:
    """The counters the promotion's kind asks for on its lines (a game's state)."""
    kind = promotion.kind_impl
    if not reads_counters(kind):
        return ()
    try:
        return kind.counter_keys(promotion.params, [ctx.lines[i] for i in in_scope],
                                 ctx.cart.customer)
    except Exception as error:
        raise PluginError(f"kind {kind.name!r} raised in counter_keys of promotion "
                          f"{promotion.id!r}: {error!r}", hook="counter_keys") from error


def read_store(ctx: Context, survivors: list[tuple[Promotion, list[int]]]) -> None:
    """Read, once, every counter and coupon code the candidates need into
    ``ctx.reads`` (or take them from it when replaying, or from ``ctx.known``
    at checkout), and sort the cart's codes."""
    setup, reads = ctx.setup, ctx.reads
    candidates = _code_candidates(ctx, reads)
    promotions = [p for p, _ in survivors]
    keys = {key for p in promotions for key in limit_counter_keys(ctx, p)}
    kind_keys = [key for p, in_scope in survivors
                 for key in kind_counter_keys(ctx, p, in_scope)]
    keys.update(kind_keys)
    known = ctx.known
    if not reads.replay and (keys or candidates):
        try:
            failures = _check_codes(ctx, candidates, keys) if candidates else None
            if keys and known is not None:
                values, reads.guessed = known.counters(keys)
                reads.counters.update(values)
            elif keys:
                reads.counters.update(setup.store.read(sorted(keys)))
            if failures is not None:  # what the store answered, not a guess
                reads.counters[_throttle_key(ctx)] = failures
        except Exception as error:
            if setup.on_store_error == "raise":
                if isinstance(error, StoreError):
                    raise
                raise StoreError(f"reading the store failed: {error!r}") from error
            reads.unavailable = True
            reads.counters.clear()
            reads.codes.clear()
    for key in kind_keys:  # a kind reading a counter depends on its value
        reads.exact(key)
    _sort_codes(ctx, candidates, promotions)


def _check_codes(ctx: Context, candidates: list[tuple[str, str]], keys: set[str]
                 ) -> int | None:
    """Look the candidates' codes up through the customer's throttle, which counts
    the wrong ones (:meth:`Store.check_codes <promokit.stores.Store.check_codes>`),
    into ``ctx.reads.codes``; add the counters they need to ``keys``. The number of
    wrong codes the throttle holds, or ``None`` when every code was known already
    (at checkout): the throttle's counter is then among ``keys``, taken from what
    checkout knows and checked by the store as the order is applied."""
    setup, reads, known = ctx.setup, ctx.reads, ctx.known
    wanted = [canonical for _, canonical in candidates]
    seen = known.codes(wanted) if known is not None else {}
    missing = [code for code in wanted if code not in seen]
    throttle = _throttle_key(ctx)
    failures = None
    reads.codes.update(seen)
    if missing:
        limit, window = setup.code_attempts
        checked = setup.store.check_codes(missing, throttle=throttle, limit=limit,
                                          ttl=window)
        found = {code: (row.batch, row.uses) for code, row in checked.found.items()}
        reads.codes.update(found)
        if known is not None and found:
            known.learn(codes=found)
        failures = checked.failures
    else:
        keys.add(throttle)
    keys.update(counter_keys.code_uses(code) for code in reads.codes)
    return failures


def _throttle_key(ctx: Context) -> str:
    window = int(ctx.setup.clock().timestamp()) // ctx.setup.code_attempts[1]
    if ctx.reads.throttle_key is None:
        ctx.reads.throttle_key = counter_keys.code_failures(
            ctx.cart.customer.id or "anonymous", window)
    return ctx.reads.throttle_key


def _code_candidates(ctx: Context, reads: StoreReads) -> list[tuple[str, str]]:
    """``(as entered, canonical)`` for each cart code that needs a store lookup;
    codes no promotion can accept are rejected here, without one."""
    campaigns = ctx.setup.campaigns
    candidates = []
    external = any(batch.external for batch in campaigns.coupons)
    for entered in dict.fromkeys(ctx.cart.codes):
        if entered in ctx.setup.compiled.codes:
            continue
        canonical = normalize_code(entered)
        if not campaigns.coupons or not canonical or (
                not external and not is_well_formed(canonical)):
            reads.rejected[entered] = "code_invalid"
        else:
            candidates.append((entered, canonical))
    return candidates


def _sort_codes(ctx: Context, candidates: list[tuple[str, str]],
                promotions: list[Promotion]) -> None:
    """Decide which looked-up codes are good, and which promotion each unlocks."""
    reads = ctx.reads
    if not candidates:
        return
    throttled = (reads.throttle_key is not None
                 and not reads.below(reads.throttle_key, ctx.setup.code_attempts[0]))
    good: dict[str, str] = {}  # canonical → batch
    for entered, canonical in candidates:
        row = reads.codes.get(canonical)
        batch = ctx.setup.campaigns.coupon(row[0]) if row is not None else None
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
