"""``[[game]]`` tables → :class:`~promokit.games.GameSpec`, with the rules that
apply at load.

The kernel reads the keys every game shares and hands the table to the game's
kind for the rest. At load, in jurisdiction ``cn``:

- a chance-based game (lottery, blind box) whose top prize — cash, or the
  declared market value of a non-cash prize — is above 50,000.00 CNY is
  rejected (《反不正當競爭法》第十條: 抽獎式有獎銷售最高獎的金額不得超過五萬元;
  exactly 50,000.00 is allowed);
- a chance-based game must name its ``organiser`` (who runs it and how to
  reach them), which its disclosure prints;
- kinds add their own rules through :meth:`~promokit.games.GameKind.check`
  (a lottery's redemption terms, a blind box's item values, a presale's
  deposit cap).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from ..campaign import Campaign
from ..errors import ConfigError, Problem
from ..games import GameSpec, hash_config
from ..inputs import check_document
from ..money import Currency
from ..money import currency as currency_of
from ..params import Params
from ..registry import Registry
from ..terms import Schedule
from ..text import Text
from .canonical import canonical_json
from .readers import read_conditions, read_funding, read_schedule, zone

__all__ = ["CN_TOP_PRIZE", "game_source", "parse_game", "parse_game_table"]

#: The most a chance-based game's top prize may be worth in jurisdiction ``cn``, in yuan.
CN_TOP_PRIZE = 50_000


def game_source(table: Mapping[str, Any]) -> dict[str, Any]:
    """The table with canonical JSON types (TOML times as ISO 8601 text)."""
    loaded: dict[str, Any] = json.loads(canonical_json(table))
    return loaded


def legacy_config_hash(source: Mapping[str, Any]) -> str:
    """The hash game configs were named by before draw logs were chained: SHA-256 of
    ``json.dumps(sort_keys=True, ensure_ascii=False)``. Kept only so that a verifier
    can still read an old, unchained log; new configs are named by
    :func:`~promokit.games.hash_config` (RFC 8785)."""
    return hashlib.sha256(json.dumps(source, sort_keys=True, ensure_ascii=False)
                          .encode()).hexdigest()


def parse_game(p: Params, registry: Registry, tz: ZoneInfo, *, jurisdiction: str,
               campaigns: Mapping[str, Campaign], declared_campaigns: set[str]
               ) -> GameSpec | None:
    """One ``[[game]]`` table; problems go to ``p``. A game's schedule, funding and
    conditions read exactly like a promotion's."""
    before = len(p.problems)
    game_id = p.string("id")
    if game_id is not None and not game_id.replace("-", "").replace("_", "").isalnum():
        p.problem("may hold only letters, digits, '-' and '_' (it names store rows)", "id")
    name = p.string("name", required=False)
    campaign_id = p.string("campaign", required=False)
    campaign = campaigns.get(campaign_id) if campaign_id else None
    if campaign_id is not None and campaign_id not in declared_campaigns:
        p.problem(f"no campaign with id {campaign_id!r}", "campaign")
    kind_name = p.string("kind")
    kind = registry.games.get(kind_name) if kind_name else None
    if kind_name is not None and kind is None:
        known = ", ".join(sorted(registry.games)) or "none registered"
        p.problem(f"unknown game kind {kind_name!r}; known: {known}", "kind")
    schedule = read_schedule(p, tz, windows=False)
    if campaign is not None:
        schedule = Schedule(start=schedule.start or campaign.schedule.start,
                            end=schedule.end or campaign.schedule.end)
    organiser = p.string("organiser", required=False)
    conditions = read_conditions(p, "conditions", registry)
    funding = read_funding(p)
    if funding is None and campaign is not None:
        funding = campaign.funding
    source = game_source(p.data)
    spec = GameSpec(id=game_id or "?", kind=kind_name or "?", name=name or game_id or "?",
                    config=None, kind_impl=kind,  # type: ignore[arg-type]  # checked below
                    campaign=campaign_id, schedule=schedule, organiser=organiser,
                    conditions=conditions, funding=funding, source=source,
                    timezone=tz, jurisdiction=jurisdiction)
    if kind is None:
        return None  # with an unknown kind, its keys would only add noise
    config = kind.parse(p, spec)
    p.finish()
    if len(p.problems) > before or game_id is None:
        return None
    try:
        named = hash_config(source)
    except ValueError as error:  # a float the kind let through: it has no canonical form
        p.problem(str(error))
        return None
    spec = attrs.evolve(spec, config=config, config_hash=named)
    _check(spec, jurisdiction, p)
    kind.check(spec, jurisdiction, p)
    return None if len(p.problems) > before else spec


def _check(spec: GameSpec, jurisdiction: str, p: Params) -> None:
    if jurisdiction != "cn" or not spec.kind_impl.chance_based:
        return
    top = spec.kind_impl.top_prize(spec.config)
    if p.currency.code != "CNY":
        p.problem(f"jurisdiction cn caps prizes in CNY; this file is in {p.currency.code}")
    elif top is not None and top > CN_TOP_PRIZE * p.currency.scale:
        text = Text("en")
        p.problem(f"top prize {text.money(top, p.currency)} is above the "
                  f"{text.money(CN_TOP_PRIZE * p.currency.scale, p.currency)} allowed for a "
                  "prize draw in jurisdiction cn (反不正當競爭法 第十條)")
    if not spec.organiser:
        p.problem("jurisdiction cn: a prize game must name its organiser and how to reach "
                  "them (organiser = \"…, 客服 400-…\"); the disclosure prints it",
                  "organiser")


def parse_game_table(table: Mapping[str, Any], registry: Registry, *, currency: str,
                     timezone: str, jurisdiction: str = "none") -> GameSpec:
    """One game table on its own (a stored config, a draw log's), as the loader
    would read it inside a file with that currency and timezone."""
    if not isinstance(table, Mapping):
        raise ConfigError([Problem(path="game", message="must be a table")])
    problems: list[Problem] = check_document(table)
    if problems:
        raise ConfigError([attrs.evolve(p, path=f"game.{p.path}" if p.path else "game")
                           for p in problems])
    try:
        money: Currency = currency_of(currency)
    except (ValueError, TypeError) as error:
        raise ConfigError([Problem(path="currency", message=str(error))]) from None
    tz = zone(timezone) if isinstance(timezone, str) else None
    if tz is None:
        raise ConfigError([Problem(path="timezone", message=f"unknown timezone {timezone!r}")])
    p = Params(table, "game", problems, money)
    named = table.get("campaign")
    spec = parse_game(p, registry, tz, jurisdiction=jurisdiction, campaigns={},
                      declared_campaigns={named} if isinstance(named, str) else set())
    if problems or spec is None:
        raise ConfigError(problems or [Problem(path="game", message="invalid game")])
    return spec
