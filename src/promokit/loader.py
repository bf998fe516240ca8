"""Campaign files (TOML or JSON) → a validated :class:`CampaignSet`.

The whole input is read before anything is built: every problem is collected
with its path (``promotion[2].tiers[0].spend: must be > 0``) and reported in
one :class:`~promokit.errors.ConfigError`. Unknown keys are errors.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from .campaign import (
    Campaign,
    CampaignSet,
    Condition,
    Funding,
    Limits,
    Promotion,
    Schedule,
    Scope,
    Window,
)
from .coupons import CouponBatch
from .errors import ConfigError, Problem
from .games.loader import parse_game
from .games.pricing import game_promotion
from .kinds import STAGES
from .money import currency
from .params import Params
from .registry import Registry

__all__ = ["canonical_json", "load_campaigns", "parse_campaigns", "read_campaign_source",
           "read_scope"]

_SCOPE_KEYS = ("skus", "categories", "brands", "shops", "tags")
_LIMIT_KEYS = ("per_customer", "per_customer_daily", "total", "stock", "per_order_units")
JURISDICTIONS = ("cn", "eu", "none")
#: The most codes one ``[[coupon]]`` batch may generate.
MAX_CODES = 10_000_000
#: Top-level settings that every merged file must agree on (with their defaults).
_SETTINGS: dict[str, Any] = {"currency": None, "timezone": "UTC", "jurisdiction": "none",
                             "hint_within": "0.5"}


def read_campaign_source(path: str | Path) -> dict[str, Any]:
    """Read one TOML or JSON file (by extension; TOML otherwise) into a dict."""
    file = Path(path)
    try:
        text = file.read_bytes()
    except OSError as error:
        raise ConfigError([Problem(path="", message=f"cannot read {file}: {error.strerror}")],
                          source=str(file)) from None
    try:
        if file.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = tomllib.loads(text.decode("utf-8"))
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError([Problem(path="", message=f"not valid {file.suffix[1:] or 'TOML'}: "
                                                    f"{error}")], source=str(file)) from None
    if not isinstance(data, dict):
        raise ConfigError([Problem(path="", message="a campaign file must be a table")],
                          source=str(file))
    return data


def load_campaigns(paths: str | Path | Sequence[str | Path], registry: Registry) -> CampaignSet:
    """Load and validate one or more campaign files as one set.

    Several files are merged: their ``campaign`` and ``promotion`` lists are
    concatenated, and their top-level settings must agree.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    sources = [read_campaign_source(path) for path in paths]
    if not sources:
        raise ConfigError([Problem(path="", message="no campaign file given")])
    merged: dict[str, Any] = {}
    problems: list[Problem] = []
    for path, data in zip(paths, sources, strict=True):
        for key in _SETTINGS:
            value = data.get(key, _SETTINGS[key])
            first = merged.setdefault(key, value)
            if value != first:
                said = f"says {value!r}" if key in data else "does not say it"
                problems.append(Problem(path=key, message=f"{path} {said}, but {paths[0]} "
                                                          f"says {first!r}; merged files "
                                                          f"must agree"))
        for key, value in data.items():
            if key in _SETTINGS:
                continue
            if isinstance(value, list) and isinstance(merged.get(key), list):
                merged[key] = merged[key] + value
            elif key in merged:
                problems.append(Problem(path=key, message=f"{path} sets it again"))
            else:
                merged[key] = value
    for key, default in _SETTINGS.items():
        if merged.get(key) == default and all(key not in data for data in sources):
            del merged[key]
    if problems:
        raise ConfigError(problems)
    source = ", ".join(str(p) for p in paths)
    return parse_campaigns(merged, registry, source=source)


def parse_campaigns(data: Mapping[str, Any], registry: Registry, *,
                    source: str | None = None) -> CampaignSet:
    """Validate the parsed content of a campaign file and build the set."""
    problems: list[Problem] = []
    top = Params(data, "", problems)
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
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
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
    games = [parse_game(gp, registry, tz, jurisdiction=jurisdiction, campaigns=known_campaigns,
                        declared_campaigns=set(campaign_ids) - {None},  # type: ignore[arg-type]
                        schedule_of=lambda q, z: _schedule(q, z, windows=False),
                        funding_of=_funding,
                        conditions_of=lambda q: _conditions(q, "conditions", registry))
             for gp in game_tables]
    game_ids = _declared_ids(game_tables)
    _unique_ids(top, "game", game_ids)
    promotion_ids = set(_declared_ids(promotion_tables))
    for index, game_id in enumerate(game_ids):
        if game_id is not None and game_id in promotion_ids:
            top.problem(f"id {game_id!r} is also a promotion's id; a game's price shows "
                        "under its id, so they must differ", f"game[{index}].id")
    valid_games = tuple(g for g in games if g is not None)
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
        version=_version(data),
        canonical=canonical_json(data),
    )


def canonical_json(data: Mapping[str, Any]) -> str:
    """The content of a campaign file as canonical JSON (sorted keys, TOML times as
    ISO 8601 text): what a store keeps so an order can be re-priced later."""
    def default(value: object) -> str:
        if isinstance(value, (datetime, date, time)):
            return value.isoformat()
        raise TypeError(type(value).__name__)

    return json.dumps(data, sort_keys=True, ensure_ascii=False, default=default)


def _version(data: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


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


def _schedule(p: Params, tz: ZoneInfo, *, windows: bool) -> Schedule:
    start = p.datetime("start", tz)
    end = p.datetime("end", tz)
    if start is not None and end is not None and end <= start:
        p.problem(f"must be after start ({start.isoformat()})", "end")
    parsed: list[Window] = []
    for wp in (p.tables("windows") or []) if windows else []:
        begin, finish = wp.clock("from"), wp.clock("to")
        wp.finish()
        if begin is None or finish is None:
            continue
        if begin == finish:
            wp.problem("from and to are equal: an empty window (leave windows out for all day)")
            continue
        parsed.append(Window(start=begin, end=finish))
    return Schedule(start=start, end=end, windows=tuple(parsed))


def _funding(p: Params) -> Funding | None:
    table = p.table("funding")
    if table is None:
        return None
    shares: list[tuple[str, Decimal]] = []
    for party in list(table):
        share = table.decimal(party, maximum=Decimal(1))
        if share is not None:
            shares.append((party, share))
    table.finish()
    if not table.data:
        table.problem("must name at least one party")
        return None
    if len(shares) < len(table.data):
        return None  # a share was invalid and is reported already
    total = sum((share for _, share in shares), Decimal(0))
    if total != 1:
        table.problem(f"shares must add up to 1, they add up to {total}")
        return None
    return Funding(shares=tuple(shares))


def _campaign(p: Params, tz: ZoneInfo) -> Campaign | None:
    before = len(p.problems)
    campaign_id = p.string("id")
    name = p.string("name", required=False)
    schedule = _schedule(p, tz, windows=False)
    budget = p.money("budget", required=False, positive=True)
    funding = _funding(p)
    p.finish()
    if len(p.problems) > before or campaign_id is None:
        return None
    return Campaign(id=campaign_id, name=name or campaign_id, schedule=schedule,
                    budget=budget, funding=funding)


def _scope(p: Params) -> Scope:
    table = p.table("scope")
    return Scope() if table is None else read_scope(table)


def read_scope(table: Params) -> Scope:
    """A scope table (``{ skus = [...], exclude_tags = [...] }``) as a :class:`Scope`,
    problems recorded with their paths. Kinds use it for scopes of their own
    (``get_scope``, a bundle component's ``scope``)."""
    values: dict[str, tuple[str, ...]] = {}
    for key in _SCOPE_KEYS:
        for name in (key, f"exclude_{key}"):
            listed = table.strings(name)
            if listed == ():
                table.problem("must not be empty (leave it out to cover every line)"
                              if name == key else "must not be empty (leave it out)", name)
            values[name] = listed or ()
    for name in ("categories", "exclude_categories"):
        for index, path in enumerate(values[name]):
            if path.startswith("/") or path.endswith("/") or "//" in path:
                table.problem(f"{path!r} is not a category path such as 'apparel/shoes' "
                              "(no leading, trailing or double slash)", f"{name}[{index}]")
    table.finish()
    return Scope(**values)


def _limits(p: Params) -> Limits:
    table = p.table("limits")
    if table is None:
        return Limits()
    values = {key: table.integer(key, required=False, minimum=1) for key in _LIMIT_KEYS}
    table.finish()
    return Limits(**values)


def _conditions(p: Params, key: str, registry: Registry) -> tuple[Condition, ...]:
    parsed = []
    for cp in p.tables(key) or []:
        condition = _condition(cp, registry)
        if condition is not None:
            parsed.append(condition)
    return tuple(parsed)


def _condition(p: Params, registry: Registry) -> Condition | None:
    rule = p.string("rule")
    if rule is None:
        p.finish()
        return None
    if rule in ("all", "any", "not"):
        tables = p.tables("of", required=True, non_empty=True) or []
        children = tuple(c for c in (_condition(cp, registry) for cp in tables) if c is not None)
        p.finish()
        return Condition(rule=rule, children=children)
    impl = registry.conditions.get(rule)
    if impl is None:
        p.problem(f"unknown condition {rule!r}; known: {', '.join(sorted(registry.conditions))}",
                  "rule")
        p.finish()
        return None
    params = impl.parse(p)
    p.finish()
    return Condition(rule=rule, params=params, type=impl)


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
    scope = _scope(p)
    conditions = _conditions(p, "conditions", registry)
    schedule = _schedule(p, tz, windows=True)
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
    limits = _limits(p)
    budget = p.money("budget", required=False, positive=True)
    partial_budget = p.boolean("partial_budget")
    if partial_budget and budget is None and (campaign is None or campaign.budget is None):
        p.problem("needs a budget (the promotion's or its campaign's) to be partial",
                  "partial_budget")
    coupon = p.string("coupon", required=False)
    funding = _funding(p)
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
    schedule = _schedule(p, tz, windows=False)
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
