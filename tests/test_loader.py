"""Campaign files: the d11 example, every kind of bad file by path, merging, versions."""

from __future__ import annotations

import json
import tomllib
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

from promokit.campaign_set import CampaignSet
from promokit.errors import ConfigError
from promokit.loading import load_campaigns, parse_campaigns
from promokit.registry import Registry
from promokit.terms import Funding, Limits, Schedule, Window

EXAMPLE = Path(__file__).parent.parent / "examples" / "d11.toml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
HEAD = 'currency = "CNY"\ntimezone = "Asia/Shanghai"\n'
PERCENT = '[[promotion]]\nid = "p"\nkind = "percent_off"\npercent = "5"\n'
TIERED = '[[promotion]]\nid = "t"\nkind = "tiered_threshold"\n'


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.default(load_entry_points=False)


@pytest.fixture(scope="module")
def d11(registry: Registry) -> CampaignSet:
    return load_campaigns(EXAMPLE, registry)


def parse(text: str, registry: Registry) -> CampaignSet:
    return parse_campaigns(tomllib.loads(text), registry)


def problems_of(text: str, registry: Registry) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        parse(text, registry)
    return [(problem.path, problem.message) for problem in caught.value.problems]


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


# -- the d11 example ----------------------------------------------------------------


def test_d11_top_level_settings(d11: CampaignSet) -> None:
    assert d11.currency.code == "CNY"
    assert d11.currency.exponent == 2
    assert d11.timezone == SHANGHAI
    assert d11.jurisdiction == "cn"
    assert d11.hint_within == Decimal("0.5")


def test_d11_campaign(d11: CampaignSet) -> None:
    (campaign,) = d11.campaigns
    assert campaign.id == "d11"
    assert campaign.name == "雙11全民狂歡"
    assert campaign.budget == 50000000
    assert campaign.funding == Funding(shares=(("platform", Decimal("0.7")),
                                               ("merchant", Decimal("0.3"))))
    assert campaign.schedule == Schedule(start=datetime(2026, 11, 10, 20, tzinfo=SHANGHAI),
                                         end=datetime(2026, 11, 11, 23, 59, 59,
                                                      tzinfo=SHANGHAI))


def test_d11_promotions_in_file_order(d11: CampaignSet) -> None:
    assert [p.id for p in d11.promotions] == [
        "gold-95", "d11-300-50", "flash-blender", "acme-every-300", "new-user-20",
        "ship-free-99", "socks-2nd-half", "tees-buy2-get1", "phone-buds", "beauty-2-3",
        "sockhaus-gift-99", "tv-presale-x2", "sockhaus-points-x2", "tea-199-30"]


@pytest.mark.parametrize(
    ("promotion_id", "stage"),
    [
        ("gold-95", "item"),  # member_price default
        ("d11-300-50", "platform"),  # given in the file
        ("flash-blender", "item"),  # fixed_price default
        ("acme-every-300", "shop"),  # tiered_threshold default
        ("new-user-20", "platform"),  # given in the file (order_amount_off defaults to shop)
        ("ship-free-99", "shipping"),  # free_shipping default
    ],
)
def test_d11_stages_default_per_kind(d11: CampaignSet, promotion_id: str, stage: str) -> None:
    (promotion,) = [p for p in d11.promotions if p.id == promotion_id]
    assert promotion.stage == stage


def promotion(campaigns: CampaignSet, promotion_id: str) -> Any:
    (found,) = [p for p in campaigns.promotions if p.id == promotion_id]
    return found


def test_d11_funding_is_inherited_from_the_campaign(d11: CampaignSet) -> None:
    assert promotion(d11, "new-user-20").funding == d11.campaigns[0].funding
    assert promotion(d11, "d11-300-50").funding == d11.campaigns[0].funding


def test_d11_own_funding_wins_over_the_campaigns(d11: CampaignSet) -> None:
    assert promotion(d11, "gold-95").funding == Funding(shares=(("merchant", Decimal("1")),))


def test_d11_promotion_without_campaign_has_no_funding(d11: CampaignSet) -> None:
    assert promotion(d11, "ship-free-99").funding is None
    assert promotion(d11, "ship-free-99").campaign is None


def test_d11_schedule_comes_from_the_campaign(d11: CampaignSet) -> None:
    flash = promotion(d11, "flash-blender")
    assert flash.schedule == Schedule(
        start=datetime(2026, 11, 10, 20, tzinfo=SHANGHAI),
        end=datetime(2026, 11, 11, 23, 59, 59, tzinfo=SHANGHAI),
        windows=(Window(start=time(0, 0), end=time(2, 0)),))
    assert promotion(d11, "ship-free-99").schedule == Schedule()


def test_d11_rule_fields(d11: CampaignSet) -> None:
    tiered = promotion(d11, "d11-300-50")
    assert tiered.kind == "tiered_threshold"
    assert tiered.name == "跨店滿300減50、滿500減100"
    assert tiered.limits == Limits(per_customer=3)
    assert tiered.scope.categories == frozenset({"apparel", "home"})
    assert tiered.scope.exclude_tags == frozenset({"no-promo"})
    assert [c.rule for c in tiered.conditions] == ["channel"]
    assert promotion(d11, "flash-blender").limits == Limits(stock=500, per_customer=1,
                                                             per_order_units=1)


def test_promotion_schedule_is_intersected_with_its_campaigns(registry: Registry) -> None:
    campaigns = parse(HEAD + """
[[campaign]]
id = "c"
start = "2026-11-10T20:00:00"
end = "2026-11-11T23:59:59"

[[promotion]]
id = "p"
campaign = "c"
kind = "percent_off"
percent = "5"
start = "2026-11-11T00:00:00"
end = "2026-11-12T12:00:00"
""", registry)
    assert campaigns.promotions[0].schedule == Schedule(
        start=datetime(2026, 11, 11, 0, tzinfo=SHANGHAI),
        end=datetime(2026, 11, 11, 23, 59, 59, tzinfo=SHANGHAI))


def test_times_with_an_offset_keep_it(registry: Registry) -> None:
    campaigns = parse(HEAD + PERCENT + 'start = "2026-11-10T12:00:00+00:00"\n', registry)
    assert campaigns.promotions[0].schedule.start == datetime(2026, 11, 10, 20,
                                                              tzinfo=SHANGHAI)


def test_defaults_of_an_almost_empty_file(registry: Registry) -> None:
    campaigns = parse('currency = "USD"\n', registry)
    assert campaigns.timezone == ZoneInfo("UTC")
    assert campaigns.jurisdiction == "none"
    assert campaigns.hint_within == Decimal("0.5")
    assert campaigns.campaigns == ()
    assert campaigns.promotions == ()


# -- bad files: one problem each, by path -------------------------------------------

BAD_FILES = [
    # top level
    ("unknown top-level key", HEAD + 'colour = "red"\n', "colour", "unknown key"),
    ("top-level typo", HEAD + "[[campain]]\nid = 'c'\n", "campain",
     "unknown key (did you mean 'campaign'?)"),
    ("missing currency", 'timezone = "UTC"\n', "currency", "is required"),
    ("unknown currency", 'currency = "XXX"\n', "currency", "unknown currency 'XXX'"),
    ("unknown timezone", 'currency = "CNY"\ntimezone = "Mars/Base"\n', "timezone",
     "unknown timezone 'Mars/Base'"),
    ("unknown jurisdiction", HEAD + 'jurisdiction = "us"\n', "jurisdiction",
     "must be one of cn, eu, none; got 'us'"),
    ("hint_within above 1", HEAD + 'hint_within = "2"\n', "hint_within",
     "must be at most 1, got 2"),
    ("promotion not a list", HEAD + '[promotion]\nid = "p"\n', "promotion",
     "must be a list of tables"),
    # ids
    ("duplicate promotion ids", HEAD + PERCENT + PERCENT, "promotion[1].id",
     "id 'p' is used twice (also promotion[0])"),
    ("duplicate campaign ids", HEAD + '[[campaign]]\nid = "c"\n[[campaign]]\nid = "c"\n',
     "campaign[1].id", "id 'c' is used twice (also campaign[0])"),
    ("promotion without id", HEAD + '[[promotion]]\nkind = "percent_off"\npercent = "5"\n',
     "promotion[0].id", "is required"),
    ("unknown campaign", HEAD + PERCENT + 'campaign = "d12"\n', "promotion[0].campaign",
     "no campaign with id 'd12'"),
    # kind, stage, base
    ("unknown kind", HEAD + '[[promotion]]\nid = "p"\nkind = "percent_of"\n',
     "promotion[0].kind", "unknown kind 'percent_of'; known: amount_off"),
    ("missing kind", HEAD + '[[promotion]]\nid = "p"\n', "promotion[0].kind", "is required"),
    ("unknown stage", HEAD + PERCENT + 'stage = "checkout"\n', "promotion[0].stage",
     "must be one of item, shop, platform, shipping; got 'checkout'"),
    ("base not stage/list", HEAD + PERCENT + 'base = "lst"\n', "promotion[0].base",
     "must be one of stage, list; got 'lst'"),
    ("base not a string", HEAD + PERCENT + "base = 1\n", "promotion[0].base",
     "must be a non-empty string"),
    ("unknown promotion key", HEAD + PERCENT + 'colour = "red"\n', "promotion[0].colour",
     "unknown key"),
    ("unknown scope key", HEAD + PERCENT + 'scope = { sku = ["A"] }\n', "promotion[0].scope.sku",
     "unknown key (did you mean 'skus'?)"),
    ("exclusive not a boolean", HEAD + PERCENT + 'exclusive = "yes"\n',
     "promotion[0].exclusive", "must be true or false"),
    ("priority not a number", HEAD + PERCENT + 'priority = "high"\n', "promotion[0].priority",
     "must be a whole number"),
    # money
    ("negative money", HEAD + '[[promotion]]\nid = "p"\nkind = "fixed_price"\nprice = "-1"\n',
     "promotion[0].price", "'-1' is negative"),
    ("malformed money", HEAD + '[[promotion]]\nid = "p"\nkind = "fixed_price"\nprice = "abc"\n',
     "promotion[0].price", "'abc' is not an amount of money"),
    ("float money", HEAD + '[[promotion]]\nid = "p"\nkind = "fixed_price"\nprice = 1.5\n',
     "promotion[0].price", 'must be a string such as "199.00", not float'),
    ("money with too many decimals",
     HEAD + '[[promotion]]\nid = "p"\nkind = "fixed_price"\nprice = "9.999"\n',
     "promotion[0].price", "'9.999' has more decimals than CNY allows (2)"),
    ("zero amount", HEAD + '[[promotion]]\nid = "p"\nkind = "amount_off"\namount = "0"\n',
     "promotion[0].amount", "must be > 0"),
    ("zero campaign budget", HEAD + '[[campaign]]\nid = "c"\nbudget = "0"\n',
     "campaign[0].budget", "must be > 0"),
    # percent
    ("percent 0", HEAD + PERCENT.replace('"5"', '"0"'), "promotion[0].percent",
     "must be in (0, 100], got 0"),
    ("percent 101", HEAD + PERCENT.replace('"5"', '"101"'), "promotion[0].percent",
     "must be in (0, 100], got 101"),
    ("percent -5", HEAD + PERCENT.replace('"5"', '"-5"'), "promotion[0].percent",
     "must be >= 0, got -5"),
    ("percent not a number", HEAD + PERCENT.replace('"5"', '"five"'), "promotion[0].percent",
     "'five' is not a number"),
    ("member tier percent 0",
     HEAD + '[[promotion]]\nid = "p"\nkind = "member_price"\npercent_by_tier = { gold = "0" }\n',
     "promotion[0].percent_by_tier.gold", "must be in (0, 100], got 0"),
    # tiers
    ("unsorted tiers",
     HEAD + TIERED + 'tiers = [ { spend = "500", off = "100" }, { spend = "300", off = "50" } ]\n',
     "promotion[0].tiers[1].spend", "spend must be above the previous tier's"),
    ("duplicate tier spends",
     HEAD + TIERED + 'tiers = [ { spend = "300", off = "50" }, { spend = "300", off = "60" } ]\n',
     "promotion[0].tiers[1].spend", "tiers overlap or are not in ascending order"),
    ("tiers mixing off and percent",
     HEAD + TIERED
     + 'tiers = [ { spend = "300", off = "50" }, { spend = "500", percent = "10" } ]\n',
     "promotion[0].tiers[1]", "mixes off and percent tiers"),
    ("tier with off and percent",
     HEAD + TIERED + 'tiers = [ { spend = "300", off = "50", percent = "5" } ]\n',
     "promotion[0].tiers[0]", "give either off (money) or percent, not both"),
    ("tier with neither off nor percent", HEAD + TIERED + 'tiers = [ { spend = "300" } ]\n',
     "promotion[0].tiers[0]", "needs off (money) or percent"),
    ("higher tier giving no more",
     HEAD + TIERED + 'tiers = [ { spend = "300", off = "50" }, { spend = "500", off = "50" } ]\n',
     "promotion[0].tiers[1]", "must give more than the previous tier"),
    ("every with two tiers",
     HEAD + TIERED + 'every = true\n'
     'tiers = [ { spend = "300", off = "50" }, { spend = "500", off = "100" } ]\n',
     "promotion[0].tiers", "every = true takes exactly one tier"),
    ("every with a percent tier",
     HEAD + TIERED + 'every = true\ntiers = [ { spend = "300", percent = "5" } ]\n',
     "promotion[0].tiers", "every = true takes an off amount, not a percent"),
    ("off above spend", HEAD + TIERED + 'tiers = [ { spend = "300", off = "400" } ]\n',
     "promotion[0].tiers[0].off", "is more than the tier's spend"),
    ("empty tiers", HEAD + TIERED + "tiers = []\n", "promotion[0].tiers", "must not be empty"),
    ("tier percent 101", HEAD + TIERED + 'tiers = [ { spend = "300", percent = "101" } ]\n',
     "promotion[0].tiers[0].percent", "must be in (0, 100], got 101"),
    # funding
    ("funding not adding to 1",
     HEAD + PERCENT + 'funding = { platform = "0.7", merchant = "0.2" }\n',
     "promotion[0].funding", "shares must add up to 1, they add up to 0.9"),
    ("campaign funding not adding to 1",
     HEAD + '[[campaign]]\nid = "c"\nfunding = { platform = "0.5", merchant = "0.6" }\n',
     "campaign[0].funding", "shares must add up to 1, they add up to 1.1"),
    ("empty funding", HEAD + PERCENT + "funding = {}\n", "promotion[0].funding",
     "must name at least one party"),
    # schedule
    ("start after end",
     HEAD + PERCENT + 'start = "2026-11-12T00:00:00"\nend = "2026-11-11T00:00:00"\n',
     "promotion[0].end", "must be after start (2026-11-12T00:00:00+08:00)"),
    ("start equal to end",
     HEAD + PERCENT + 'start = "2026-11-11T00:00:00"\nend = "2026-11-11T00:00:00"\n',
     "promotion[0].end", "must be after start"),
    ("campaign start after end",
     HEAD + '[[campaign]]\nid = "c"\nstart = "2026-11-12T00:00:00"\nend = "2026-11-11T00:00:00"\n',
     "campaign[0].end", "must be after start"),
    ("bad start", HEAD + PERCENT + 'start = "tomorrow"\n', "promotion[0].start",
     "'tomorrow' is not an ISO 8601 time"),
    ("start as a date", HEAD + PERCENT + "start = 2026-11-11\n", "promotion[0].start",
     "must be an ISO 8601 time"),
    ("window from == to", HEAD + PERCENT + 'windows = [ { from = "10:00", to = "10:00" } ]\n',
     "promotion[0].windows[0]", "from and to are equal"),
    ("bad window from", HEAD + PERCENT + 'windows = [ { from = "25:00", to = "02:00" } ]\n',
     "promotion[0].windows[0].from", "'25:00' is not a time of day (HH:MM)"),
    ("bad window to", HEAD + PERCENT + 'windows = [ { from = "10:00", to = "noon" } ]\n',
     "promotion[0].windows[0].to", "'noon' is not a time of day (HH:MM)"),
    ("window without to", HEAD + PERCENT + 'windows = [ { from = "10:00" } ]\n',
     "promotion[0].windows[0].to", "is required"),
    ("unknown window key",
     HEAD + PERCENT + 'windows = [ { from = "10:00", to = "12:00", until = "13:00" } ]\n',
     "promotion[0].windows[0].until", "unknown key"),
    # limits, codes
    ("limit 0", HEAD + PERCENT + "limits = { per_customer = 0 }\n",
     "promotion[0].limits.per_customer", "must be at least 1, got 0"),
    ("stock 0", HEAD + PERCENT + "limits = { stock = 0 }\n", "promotion[0].limits.stock",
     "must be at least 1, got 0"),
    ("unknown limit", HEAD + PERCENT + "limits = { per_user = 1 }\n",
     "promotion[0].limits.per_user", "unknown key"),
    ("codes empty list", HEAD + PERCENT + "codes = []\n", "promotion[0].codes",
     "must not be empty"),
    ("code listed twice", HEAD + PERCENT + 'codes = ["A", "A"]\n', "promotion[0].codes[1]",
     "'A' is listed twice"),
    # conditions
    ("unknown condition rule", HEAD + PERCENT + 'conditions = [ { rule = "weekday" } ]\n',
     "promotion[0].conditions[0].rule", "unknown condition 'weekday'; known: birthday"),
    ("condition without rule", HEAD + PERCENT + "conditions = [ {} ]\n",
     "promotion[0].conditions[0].rule", "is required"),
    ("all with empty of", HEAD + PERCENT + 'conditions = [ { rule = "all", of = [] } ]\n',
     "promotion[0].conditions[0].of", "must not be empty"),
    ("any without of", HEAD + PERCENT + 'conditions = [ { rule = "any" } ]\n',
     "promotion[0].conditions[0].of", "is required"),
    ("member_tier without in", HEAD + PERCENT + 'conditions = [ { rule = "member_tier" } ]\n',
     "promotion[0].conditions[0].in", "is required"),
    ("member_tier with empty in",
     HEAD + PERCENT + 'conditions = [ { rule = "member_tier", in = [] } ]\n',
     "promotion[0].conditions[0].in", "must not be empty"),
    ("nested condition problem",
     HEAD + PERCENT
     + 'conditions = [ { rule = "not", of = [ { rule = "dormant", days = 0 } ] } ]\n',
     "promotion[0].conditions[0].of[0].days", "must be at least 1, got 0"),
    ("unknown condition key",
     HEAD + PERCENT + 'conditions = [ { rule = "new_customer", days = 3 } ]\n',
     "promotion[0].conditions[0].days", "unknown key"),
]


@pytest.mark.parametrize(("text", "path", "message"), [case[1:] for case in BAD_FILES],
                         ids=[case[0] for case in BAD_FILES])
def test_bad_file_is_reported_by_path(registry: Registry, text: str, path: str,
                                      message: str) -> None:
    problems = problems_of(text, registry)
    assert [p for p, _ in problems] == [path]
    assert message in problems[0][1]


def test_misspelt_promotion_key_suggests_the_right_one(registry: Registry) -> None:
    text = HEAD + TIERED + 'tirs = [ { spend = "300", off = "50" } ]\n'
    assert problems_of(text, registry) == [
        ("promotion[0].tiers", "is required"),
        ("promotion[0].tirs", "unknown key (did you mean 'tiers'?)"),
    ]


def test_funding_share_above_one(registry: Registry) -> None:
    text = HEAD + PERCENT + 'funding = { platform = "1.5", merchant = "-0.5" }\n'
    problems = problems_of(text, registry)
    assert ("promotion[0].funding.platform", "must be at most 1, got 1.5") in problems
    assert ("promotion[0].funding.merchant", "must be >= 0, got -0.5") in problems


def test_window_time_with_an_offset_is_refused(registry: Registry) -> None:
    text = HEAD + PERCENT + 'windows = [ { from = "10:00+08:00", to = "12:00" } ]\n'
    assert [path for path, _ in problems_of(text, registry)] == ["promotion[0].windows[0].from"]


@pytest.mark.parametrize("text", ['priority = "--3"\n', 'limits = { per_customer = "²" }\n'])
def test_digit_like_integer_text_is_a_config_error(registry: Registry, text: str) -> None:
    with pytest.raises(ConfigError):
        parse(HEAD + PERCENT + text, registry)


def test_several_problems_in_one_file_are_reported_together(registry: Registry) -> None:
    text = """
currency = "XXX"
timezone = "Mars/Base"
colour = "red"

[[campaign]]
id = "c"
funding = { platform = "0.5" }

[[promotion]]
id = "p"
kind = "percent_off"
percent = "0"
stage = "checkout"

[[promotion]]
id = "p"
kind = "tiered_threshold"
tiers = [ { spend = "500", off = "100" }, { spend = "300", off = "50" } ]
limits = { per_customer = 0 }
conditions = [ { rule = "member_tier" } ]
"""
    with pytest.raises(ConfigError) as caught:
        parse(text, registry)
    assert [problem.path for problem in caught.value.problems] == [
        "currency",
        "timezone",
        "campaign[0].funding",
        "promotion[0].stage",
        "promotion[0].percent",
        "promotion[1].conditions[0].in",
        "promotion[1].limits.per_customer",
        "promotion[1].tiers[1].spend",
        "promotion[1].id",
        "colour",
    ]


def test_nothing_is_half_loaded(registry: Registry) -> None:
    text = HEAD + PERCENT + '[[promotion]]\nid = "q"\nkind = "percent_off"\npercent = "0"\n'
    with pytest.raises(ConfigError) as caught:
        parse(text, registry)
    assert [problem.path for problem in caught.value.problems] == ["promotion[1].percent"]


def test_config_error_lists_every_problem_in_its_message(registry: Registry) -> None:
    with pytest.raises(ConfigError) as caught:
        parse('currency = "XXX"\ncolour = 1\n', registry)
    text = str(caught.value)
    assert "invalid campaign file (2 problem(s))" in text
    assert "currency: unknown currency 'XXX'" in text
    assert "colour: unknown key" in text


# -- JSON, versions -------------------------------------------------------------------


def test_json_file_loads_like_the_equivalent_toml(tmp_path: Path, registry: Registry,
                                                  d11: CampaignSet) -> None:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    json_file = write(tmp_path, "d11.json", json.dumps(data, ensure_ascii=False))
    from_json = load_campaigns(json_file, registry)
    assert attrs.evolve(from_json, version="") == attrs.evolve(d11, version="")


def test_version_is_stable_for_the_same_rules(registry: Registry) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert parse(text, registry).version == parse(text, registry).version


def test_version_ignores_comments_layout_and_key_order(registry: Registry) -> None:
    one = HEAD + '[[promotion]]\nid = "p"\nkind = "percent_off"\npercent = "5"\n'
    two = ('# the same rules, written differently\n'
           'timezone = "Asia/Shanghai"\ncurrency   =   "CNY"\n\n'
           '[[promotion]]\npercent = "5"   # 95折\nkind = "percent_off"\nid = "p"\n')
    assert parse(one, registry).version == parse(two, registry).version


def test_version_is_a_sha256_hex_digest(d11: CampaignSet) -> None:
    assert len(d11.version) == 64
    assert set(d11.version) <= set("0123456789abcdef")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('percent_by_tier = { gold = "5", platinum = "8" }',
         'percent_by_tier = { gold = "6", platinum = "8" }'),
        ('{ spend = "500", off = "100" }', '{ spend = "500", off = "101" }'),
        ('scope = { skus = ["BLENDER-1"] }', 'scope = { skus = ["BLENDER-2"] }'),
        ('to = "02:00"', 'to = "03:00"'),
        ('end = "2026-11-11T23:59:59"', 'end = "2026-11-11T23:59:58"'),
        ('platform = "0.7", merchant = "0.3"', 'platform = "0.6", merchant = "0.4"'),
        ('limits = { per_customer = 3 }', 'limits = { per_customer = 2 }'),
        ('threshold = "99"', 'threshold = "99"\npriority = 1'),
        ('hint_within = "0.5"', 'hint_within = "0.4"'),
    ],
)
def test_version_changes_when_any_rule_changes(registry: Registry, d11: CampaignSet,
                                               old: str, new: str) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text
    changed = parse(text.replace(old, new, 1), registry)
    assert changed.version != d11.version


# -- files: merging, unreadable, syntax errors -------------------------------------------


def test_merging_two_files(tmp_path: Path, registry: Registry) -> None:
    first = write(tmp_path, "campaigns.toml", HEAD + '[[campaign]]\nid = "c"\n'
                  'funding = { platform = "1" }\n')
    second = write(tmp_path, "promotions.toml", HEAD + PERCENT + 'campaign = "c"\n')
    merged = load_campaigns([first, second], registry)
    assert [c.id for c in merged.campaigns] == ["c"]
    assert [p.id for p in merged.promotions] == ["p"]
    assert merged.promotions[0].funding == Funding(shares=(("platform", Decimal("1")),))


def test_merging_concatenates_promotions_in_file_order(tmp_path: Path,
                                                       registry: Registry) -> None:
    first = write(tmp_path, "a.toml", HEAD + PERCENT)
    second = write(tmp_path, "b.toml", HEAD + PERCENT.replace('id = "p"', 'id = "q"'))
    merged = load_campaigns([first, second], registry)
    assert [p.id for p in merged.promotions] == ["p", "q"]


def test_merging_reports_ids_used_in_both_files(tmp_path: Path, registry: Registry) -> None:
    first = write(tmp_path, "a.toml", HEAD + PERCENT)
    second = write(tmp_path, "b.toml", HEAD + PERCENT)
    with pytest.raises(ConfigError) as caught:
        load_campaigns([first, second], registry)
    assert [problem.path for problem in caught.value.problems] == ["promotion[1].id"]


@pytest.mark.parametrize(
    ("first_head", "second_head", "path"),
    [
        (HEAD, 'currency = "USD"\ntimezone = "Asia/Shanghai"\n', "currency"),
        (HEAD, 'currency = "CNY"\ntimezone = "Europe/Berlin"\n', "timezone"),
        (HEAD + 'jurisdiction = "cn"\n', HEAD + 'jurisdiction = "eu"\n', "jurisdiction"),
    ],
)
def test_conflicting_top_level_settings(tmp_path: Path, registry: Registry, first_head: str,
                                        second_head: str, path: str) -> None:
    first = write(tmp_path, "a.toml", first_head)
    second = write(tmp_path, "b.toml", second_head)
    with pytest.raises(ConfigError) as caught:
        load_campaigns([first, second], registry)
    (problem,) = caught.value.problems
    assert problem.path == path
    assert str(second) in problem.message
    assert "merged files must agree" in problem.message


def test_a_path_is_accepted_as_a_string(registry: Registry) -> None:
    assert load_campaigns(str(EXAMPLE), registry).currency.code == "CNY"


def test_unreadable_path_names_the_file(tmp_path: Path, registry: Registry) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as caught:
        load_campaigns(missing, registry)
    assert str(missing) in str(caught.value)
    assert caught.value.source == str(missing)
    (problem,) = caught.value.problems
    assert problem.message.startswith(f"cannot read {missing}")


def test_a_directory_is_unreadable(tmp_path: Path, registry: Registry) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_campaigns(tmp_path, registry)


def test_an_unreadable_file_among_several(tmp_path: Path, registry: Registry) -> None:
    good = write(tmp_path, "a.toml", HEAD)
    with pytest.raises(ConfigError) as caught:
        load_campaigns([good, tmp_path / "b.toml"], registry)
    assert caught.value.source == str(tmp_path / "b.toml")


def test_no_file_given(registry: Registry) -> None:
    with pytest.raises(ConfigError, match="no campaign file given"):
        load_campaigns([], registry)


def test_toml_syntax_error(tmp_path: Path, registry: Registry) -> None:
    broken = write(tmp_path, "broken.toml", 'currency = \n')
    with pytest.raises(ConfigError) as caught:
        load_campaigns(broken, registry)
    (problem,) = caught.value.problems
    assert problem.message.startswith("not valid toml")
    assert str(broken) in str(caught.value)


def test_toml_that_is_not_utf8(tmp_path: Path, registry: Registry) -> None:
    broken = tmp_path / "latin1.toml"
    broken.write_bytes('currency = "CNY"\nname = "caf\u00e9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="not valid toml"):
        load_campaigns(broken, registry)


def test_json_syntax_error(tmp_path: Path, registry: Registry) -> None:
    broken = write(tmp_path, "broken.json", '{"currency": }')
    with pytest.raises(ConfigError, match="not valid json"):
        load_campaigns(broken, registry)


def test_json_file_that_is_not_an_object(tmp_path: Path, registry: Registry) -> None:
    listed = write(tmp_path, "list.json", "[]")
    with pytest.raises(ConfigError, match="a campaign file must be a table"):
        load_campaigns(listed, registry)


def test_errors_from_a_file_name_the_file(tmp_path: Path, registry: Registry) -> None:
    bad = write(tmp_path, "bad.toml", 'currency = "XXX"\n')
    with pytest.raises(ConfigError) as caught:
        load_campaigns(bad, registry)
    assert caught.value.source == str(bad)
    assert str(bad) in str(caught.value)


def test_an_unknown_kind_does_not_also_report_its_keys_as_unknown(registry: Registry) -> None:
    text = HEAD + '[[promotion]]\nid = "p"\nkind = "percent_of"\npercent = "5"\n'
    with pytest.raises(ConfigError) as caught:
        parse(text, registry)
    assert [p.path for p in caught.value.problems] == ["promotion[0].kind"]


def test_an_invalid_campaign_does_not_cascade_to_its_promotions(registry: Registry) -> None:
    text = HEAD + '''
[[campaign]]
id = "c"
budget = "-1"

[[promotion]]
id = "p"
campaign = "c"
kind = "percent_off"
percent = "5"
'''
    with pytest.raises(ConfigError) as caught:
        parse(text, registry)
    assert [p.path for p in caught.value.problems] == ["campaign[0].budget"]


def test_an_invalid_funding_share_is_reported_once(registry: Registry) -> None:
    text = HEAD + '[[promotion]]\nid = "p"\nkind = "percent_off"\npercent = "5"\n' \
        'funding = { platform = "1.5" }\n'
    with pytest.raises(ConfigError) as caught:
        parse(text, registry)
    assert [str(p) for p in caught.value.problems] == [
        "promotion[0].funding.platform: must be at most 1, got 1.5"]


def test_a_promotion_entirely_outside_its_campaign_is_an_error(registry: Registry) -> None:
    text = HEAD + '''
[[campaign]]
id = "c"
start = "2026-11-10T20:00:00"
end = "2026-11-11T23:59:59"

[[promotion]]
id = "p"
campaign = "c"
kind = "percent_off"
percent = "5"
start = "2026-12-01T00:00:00"
'''
    with pytest.raises(ConfigError, match=r"promotion\[0\]: runs outside its campaign 'c'"):
        parse(text, registry)


def test_merged_files_must_agree_on_defaults_too(tmp_path: Path, registry: Registry) -> None:
    # a.toml leaves timezone at its default (UTC); b.toml says Asia/Shanghai: the same
    # offset-less time would mean two different instants, so the merge is refused.
    a = tmp_path / "a.toml"
    a.write_text('currency = "CNY"\n', encoding="utf-8")
    b = tmp_path / "b.toml"
    b.write_text('currency = "CNY"\ntimezone = "Asia/Shanghai"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_campaigns([a, b], registry)
    [problem] = caught.value.problems
    assert problem.path == "timezone" and "merged files must agree" in problem.message


@pytest.mark.parametrize(("scope", "path", "message"), [
    ('{ skus = [] }', "promotion[0].scope.skus", "must not be empty"),
    ('{ exclude_tags = [] }', "promotion[0].scope.exclude_tags", "must not be empty"),
    ('{ categories = ["apparel/"] }', "promotion[0].scope.categories[0]", "not a category path"),
    ('{ categories = ["/apparel"] }', "promotion[0].scope.categories[0]", "not a category path"),
    ('{ exclude_categories = ["a//b"] }', "promotion[0].scope.exclude_categories[0]",
     "not a category path"),
])
def test_scope_lists_that_would_silently_match_everything_or_nothing(
        registry: Registry, scope: str, path: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(HEAD + PERCENT + f"scope = {scope}\n", registry)
    [problem] = caught.value.problems
    assert problem.path == path and message in problem.message


def test_empty_channels_would_match_no_cart(registry: Registry) -> None:
    with pytest.raises(ConfigError, match=r"promotion\[0\]\.channels: must not be empty"):
        parse(HEAD + PERCENT + "channels = []\n", registry)
