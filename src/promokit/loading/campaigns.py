"""The content of campaign files → a validated :class:`~promokit.campaign_set.CampaignSet`.

The whole content is read before anything is built: every problem is
collected with its path (``promotion[2].tiers[0].spend: must be > 0``) and
reported in one :class:`~promokit.errors.ConfigError`. Unknown keys are errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from ..campaign import Campaign, Promotion
from ..campaign_set import CampaignSet
from ..coupons import CouponBatch
from ..errors import ConfigError, Problem
from ..inputs import DEFAULT_LIMITS, InputLimits, check_document
from ..money import currency
from ..params import Params
from ..registry import Registry
from ..terms import STAGES, Schedule, Scope
from .canonical import canonical_json, content_version
from .channels import read_channels
from .game_prices import game_promotion
from .games import parse_game
from .readers import read_conditions, read_funding, read_limits, read_schedule, zone

__all__ = ["JURISDICTIONS", "MAX_CODES", "parse_campaigns"]

JURISDICTIONS = ("cn", "eu", "none")
#: The most codes one ``[[coupon]]`` batch may generate.
MAX_CODES = 10_000_000


def parse_campaigns(data: Mapping[str, Any], registry: Registry, *,
                    source: str | None = None,
                    limits: InputLimits = DEFAULT_LIMITS) -> CampaignSet:
    """Validate the parsed content of a campaign file and build the set; what breaks
    ``limits`` (nesting, huge numbers, text that cannot be stored, long ids) is a
    problem like any other."""
    if not isinstance(data, Mapping):
        raise ConfigError([Problem(path="", message="a campaign file must be a table")],
                          source=source)
    problems: list[Problem] = check_document(data, limits)
    if problems:
        raise ConfigError(problems, source=source)
    top = Params(data, "", problems, limits=limits)
    code = top.string("currency")
    money = None
    if code is not None:
        try:
            money = currency(code)
        except ValueError as error:
            top.problem(str(error), "currency")
    if money is not None:
        top.currency = money
    tz_name = top.string("timezone", required=False, default="UTC") or "UTC"
    tz = zone(tz_name)
    if tz is None:
        top.problem(f"unknown timezone {tz_name!r}", "timezone")
        tz = ZoneInfo("UTC")
    jurisdiction = top.string("jurisdiction", required=False, default="none",
                              choices=JURISDICTIONS) or "none"
    hint_within = top.decimal("hint_within", required=False, maximum=Decimal(1))
    campaign_tables = top.tables("campaign") or []
    campaigns = [_campaign(p, tz) for p in campaign_tables]
    campaign_ids = _declared_ids(campaign_tables)
    _unique_ids(top, "campaign", campaign_ids)
    known_campaigns = {c.id: c for c in campaigns if c is not None}
    promotion_tables = top.tables("promotion") or []
    promotions = [_promotion(p, tz, registry, known_campaigns, set(campaign_ids) - {None})
                  for p in promotion_tables]
    _unique_ids(top, "promotion", _declared_ids(promotion_tables))
    coupon_tables = top.tables("coupon") or []
    coupons = [_coupon(cp, tz, set(_declared_ids(promotion_tables)) - {None})
               for cp in coupon_tables]
    _unique_ids(top, "coupon", _declared_ids(coupon_tables))
    promotions = _link_coupons(top, promotions, [c for c in coupons if c is not None])
    game_tables = top.tables("game") or []
    declared = {campaign_id for campaign_id in campaign_ids if campaign_id is not None}
    games = [parse_game(gp, registry, tz, jurisdiction=jurisdiction, campaigns=known_campaigns,
                        declared_campaigns=declared)
             for gp in game_tables]
    game_ids = _declared_ids(game_tables)
    _unique_ids(top, "game", game_ids)
    promotion_ids = set(_declared_ids(promotion_tables))
    for index, game_id in enumerate(game_ids):
        if game_id is not None and game_id in promotion_ids:
            top.problem(f"id {game_id!r} is also a promotion's id; a game's price shows "
                        "under its id, so they must differ", f"game[{index}].id")
    valid_games = tuple(g for g in games if g is not None)
    channel_allow = read_channels(top.table("channels"), registry)
    promotions = [*promotions, *(game_promotion(g) for g in valid_games
                                 if g.kind_impl.price_field is not None)]
    top.finish()
    if problems:
        raise ConfigError(problems, source=source)
    assert money is not None
    return CampaignSet(
        currency=money,
        timezone=tz,
        jurisdiction=jurisdiction,
        hint_within=hint_within if hint_within is not None else Decimal("0.5"),
        campaigns=tuple(c for c in campaigns if c is not None),
        promotions=tuple(p for p in promotions if p is not None),
        coupons=tuple(c for c in coupons if c is not None),
        games=valid_games,
        channel_allow=channel_allow,
        version=content_version(data),
        canonical=canonical_json(data),
    )


def _declared_ids(tables: Iterable[Params]) -> list[str | None]:
    """The ids the tables declare, valid or not, so one error does not hide another."""
    return [t.data.get("id") if isinstance(t.data.get("id"), str) else None for t in tables]


def _unique_ids(top: Params, what: str, ids: Iterable[str | None]) -> None:
    seen: dict[str, int] = {}
    for index, item_id in enumerate(ids):
        if item_id is None:
            continue
        if item_id in seen:
            top.problem(f"id {item_id!r} is used twice (also {what}[{seen[item_id]}])",
                        f"{what}[{index}].id")
        seen.setdefault(item_id, index)


def _campaign(p: Params, tz: ZoneInfo) -> Campaign | None:
    before = len(p.problems)
    campaign_id = p.string("id")
    name = p.string("name", required=False)
    schedule = read_schedule(p, tz, windows=False)
    budget = p.money("budget", required=False, positive=True)
    funding = read_funding(p)
    p.finish()
    if len(p.problems) > before or campaign_id is None:
        return None
    return Campaign(id=campaign_id, name=name or campaign_id, schedule=schedule,
                    budget=budget, funding=funding)


def _promotion(p: Params, tz: ZoneInfo, registry: Registry,
               campaigns: Mapping[str, Campaign], declared: set[str | None]) -> Promotion | None:
    before = len(p.problems)
    promotion_id = p.string("id")
    name = p.string("name", required=False)
    campaign_id = p.string("campaign", required=False)
    campaign = None
    if campaign_id is not None:
        campaign = campaigns.get(campaign_id)
        if campaign_id not in declared:
            p.problem(f"no campaign with id {campaign_id!r}", "campaign")
    kind_name = p.string("kind")
    kind = registry.kinds.get(kind_name) if kind_name else None
    if kind_name is not None and kind is None:
        p.problem(f"unknown kind {kind_name!r}; known: {', '.join(sorted(registry.kinds))}",
                  "kind")
    stage = p.string("stage", required=False, choices=STAGES)
    scope_table = p.table("scope")
    scope = Scope() if scope_table is None else Scope.from_params(scope_table)
    conditions = read_conditions(p, "conditions", registry)
    schedule = read_schedule(p, tz, windows=True)
    if campaign is not None:
        schedule = _within(schedule, campaign.schedule)
        if schedule.start and schedule.end and schedule.start > schedule.end:
            p.problem(f"runs outside its campaign {campaign.id!r} "
                      f"({_span(campaign.schedule)}), so it could never apply")
    channels = p.strings("channels")
    if channels == ():
        p.problem("must not be empty (leave channels out for every channel)", "channels")
    codes = p.strings("codes")
    if codes == ():
        p.problem("must not be empty (leave codes out for a promotion without codes)", "codes")
    exclusive = p.boolean("exclusive")
    group = p.string("group", required=False)
    priority = p.integer("priority", required=False, default=0)
    limits = read_limits(p)
    budget = p.money("budget", required=False, positive=True)
    partial_budget = p.boolean("partial_budget")
    if partial_budget and budget is None and (campaign is None or campaign.budget is None):
        p.problem("needs a budget (the promotion's or its campaign's) to be partial",
                  "partial_budget")
    coupon = p.string("coupon", required=False)
    funding = read_funding(p)
    base = p.string("base", required=False, default="stage", choices=("stage", "list"))
    params = kind.parse(p) if kind is not None else None
    if kind is not None or kind_name is None:
        p.finish()  # with an unknown kind, its keys would only add noise
    if len(p.problems) > before or kind is None or promotion_id is None:
        return None
    return Promotion(
        id=promotion_id,
        name=name or promotion_id,
        kind=kind.name,
        stage=stage or kind.default_stage,  # type: ignore[arg-type]  # checked by choices
        params=params,
        kind_impl=kind,
        campaign=campaign_id,
        scope=scope,
        conditions=conditions,
        schedule=schedule,
        channels=frozenset(channels) if channels is not None else None,
        codes=frozenset(codes or ()),
        exclusive=exclusive,
        group=group,
        priority=priority or 0,
        limits=limits,
        budget=budget,
        partial_budget=partial_budget,
        coupons=frozenset([coupon]) if coupon else frozenset(),
        funding=funding if funding is not None else (campaign.funding if campaign else None),
        base=base,  # type: ignore[arg-type]  # checked by choices
        source=dict(p.data),
    )


def _span(schedule: Schedule) -> str:
    start = schedule.start.isoformat() if schedule.start else "…"
    end = schedule.end.isoformat() if schedule.end else "…"
    return f"{start} to {end}"


def _within(own: Schedule, campaign: Schedule) -> Schedule:
    """A promotion runs only while its campaign runs too."""
    starts = [s for s in (own.start, campaign.start) if s is not None]
    ends = [e for e in (own.end, campaign.end) if e is not None]
    return Schedule(start=max(starts) if starts else None, end=min(ends) if ends else None,
                    windows=own.windows)


_PREFIX = re.compile(r"[A-Z0-9]{1,8}")


def _coupon(p: Params, tz: ZoneInfo, promotion_ids: set[str | None]) -> CouponBatch | None:
    before = len(p.problems)
    batch_id = p.string("id")
    promotion = p.string("promotion")
    if promotion is not None and promotion not in promotion_ids:
        p.problem(f"no promotion with id {promotion!r}", "promotion")
    uses = p.integer("uses", required=False, minimum=1, default=1)
    count = p.integer("count", required=False, minimum=1)
    if count is not None and count > MAX_CODES:
        p.problem(f"at most {MAX_CODES:,} codes per batch", "count")
    prefix = p.string("prefix", required=False, default="") or ""
    if prefix and not _PREFIX.fullmatch(prefix):
        p.problem(f"{prefix!r} must be 1 to 8 upper-case letters or digits", "prefix")
    external = p.boolean("external")
    schedule = read_schedule(p, tz, windows=False)
    p.finish()
    if len(p.problems) > before or batch_id is None or promotion is None:
        return None
    return CouponBatch(id=batch_id, promotion=promotion, uses=uses or 1, count=count,
                       prefix=prefix, external=external, start=schedule.start,
                       end=schedule.end)


def _link_coupons(top: Params, promotions: list[Promotion | None],
                  coupons: list[CouponBatch]) -> list[Promotion | None]:
    """Give each promotion the batches that unlock it; a promotion's own ``coupon``
    must name a batch of that promotion."""
    by_batch = {c.id: c for c in coupons}
    linked: list[Promotion | None] = []
    for index, promotion in enumerate(promotions):
        if promotion is None:
            linked.append(None)
            continue
        for named in promotion.coupons:
            batch = by_batch.get(named)
            if batch is None:
                top.problem(f"no coupon batch with id {named!r}",
                            f"promotion[{index}].coupon")
            elif batch.promotion != promotion.id:
                top.problem(f"coupon batch {named!r} unlocks promotion {batch.promotion!r}, "
                            "not this one", f"promotion[{index}].coupon")
        batches = frozenset(c.id for c in coupons if c.promotion == promotion.id)
        linked.append(attrs.evolve(promotion, coupons=batches))
    return linked
