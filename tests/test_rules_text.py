"""The customer-facing rule text (活動規則) in every language (en, zh-CN, zh-TW, zh-HK).

The snapshots under ``tests/snapshots/`` are the rule text of
``examples/d11_rules.toml``; re-generate them after a deliberate change with
``PROMOKIT_UPDATE_SNAPSHOTS=1 pytest tests/test_rules_text.py`` and read the diff
as a customer would.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from promokit.campaign import Promotion
from promokit.campaign_set import CampaignSet
from promokit.cli import main
from promokit.loading import load_campaigns, parse_campaigns
from promokit.registry import Registry
from promokit.rules_text import Entry, Section, rules, rules_text
from promokit.text import LANGUAGES, Text

ROOT = Path(__file__).resolve().parent.parent
D11_RULES = ROOT / "examples" / "d11_rules.toml"
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE = os.environ.get("PROMOKIT_UPDATE_SNAPSHOTS") == "1"
HEADER = 'currency = "CNY"\ntimezone = "Asia/Shanghai"\n'


@pytest.fixture(scope="module")
def builtins() -> Registry:
    """Built-in plugins only: the snapshots must not depend on what else is installed."""
    return Registry.default(load_entry_points=False)


def load(source: str, registry: Registry) -> CampaignSet:
    text = source if "currency =" in source else HEADER + source
    return parse_campaigns(tomllib.loads(text), registry)


def only(source: str, registry: Registry) -> Promotion:
    [promotion] = load(source, registry).promotions
    return promotion


def describe(promotion: Promotion, lang: str) -> str:
    return promotion.kind_impl.describe(promotion.params, Text(lang, currency="CNY"))


def entries(campaigns: CampaignSet, lang: str, title_end: str) -> dict[str, str]:
    """The entries of the promotion section whose title ends with ``title_end``."""
    [section] = [s for s in rules(campaigns, lang) if s.level == 2
                 and s.title.endswith(title_end)]
    return {entry.label: entry.text for entry in section.entries}


# -- snapshots ----------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_d11_rule_text_matches_its_snapshot(lang: str, builtins: Registry) -> None:
    text = rules_text(load_campaigns(D11_RULES, builtins), lang)
    snapshot = SNAPSHOTS / f"d11_rules.{lang}.txt"
    if UPDATE:
        snapshot.parent.mkdir(exist_ok=True)
        snapshot.write_text(text, encoding="utf-8")
    assert snapshot.exists(), f"no snapshot; run with PROMOKIT_UPDATE_SNAPSHOTS=1: {snapshot}"
    assert text == snapshot.read_text(encoding="utf-8"), (
        f"rule text changed; if deliberate, re-run with PROMOKIT_UPDATE_SNAPSHOTS=1 and "
        f"read the diff of {snapshot.name}")


def test_the_example_loads_and_covers_every_builtin_kind(builtins: Registry) -> None:
    campaigns = load_campaigns(D11_RULES, builtins)
    assert {p.kind for p in campaigns.promotions} == set(builtins.kinds)


def test_sections_are_structured_and_deterministic(builtins: Registry) -> None:
    campaigns = load_campaigns(D11_RULES, builtins)
    first = rules(campaigns, "zh-CN")
    assert first == rules(campaigns, "zh-CN")
    assert first[0] == Section(
        title="2026雙11全民狂歡節 活动规则",
        paragraphs=("活动时间：2026年11月10日 20:00 至 2026年11月11日 23:59"
                    "（北京时间 / Asia/Shanghai）",))
    assert first[1].entries[0] == Entry(label="优惠", text="满¥300.00减¥50.00、满¥500.00减¥100.00")
    assert [s.title for s in first if s.level == 1] == [
        "2026雙11全民狂歡節 活动规则", "其他优惠", "优惠叠加说明"]


# -- what is never shown ------------------------------------------------------------

SECRETS = """
[[campaign]]
id = "c"
name = "秘密活動"
budget = "987654.32"
funding = { hidden-fund = "0.6", merchant = "0.4" }

[[promotion]]
id = "secret-coupon"
campaign = "c"
name = "內部券"
kind = "order_amount_off"
amount = "10"
codes = ["ZZ-TOP-SECRET-1", "ZZ-TOP-SECRET-2"]
budget = "4321.00"
funding = { secret-brand-fund = "1" }
priority = 77
"""


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_funding_budgets_and_code_values_never_appear(lang: str, builtins: Registry) -> None:
    text = rules_text(load(SECRETS, builtins), lang)
    for secret in ("hidden-fund", "secret-brand-fund", "merchant", "987654", "987,654",
                   "4321", "4,321", "ZZ-TOP", "SECRET", "0.6", "77", "secret-coupon"):
        assert secret not in text
    assert ("需使用优惠码" if lang == "zh-CN" else "requires a promotion code") in text


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_d11_example_shows_no_budget_funding_or_codes(lang: str,
                                                          builtins: Registry) -> None:
    text = rules_text(load_campaigns(D11_RULES, builtins), lang)
    for secret in ("5,000,000", "3,000,000", "2,000,000", "NEW20-", "funding", "budget",
                   "brand = ", "资金", "预算", "补贴"):
        assert secret not in text


# -- times and timezones --------------------------------------------------------------


def test_windows_across_midnight_say_next_day(builtins: Registry) -> None:
    campaigns = load("""
[[promotion]]
id = "night"
kind = "percent_off"
percent = "10"
windows = [ { from = "23:00", to = "02:00" }, { from = "12:00", to = "00:00" } ]
""", builtins)
    assert entries(campaigns, "zh-CN", "night")["时间"] == (
        "每天23:00至次日02:00、12:00–24:00（北京时间）")
    assert entries(campaigns, "en", "night")["When"] == (
        "daily 23:00 to 02:00 the next day and 12:00–24:00 (China Time)")


def test_the_timezone_is_named_and_times_are_shown_in_it(builtins: Registry) -> None:
    campaigns = load("""
currency = "EUR"
timezone = "Europe/Berlin"

[[campaign]]
id = "bf"
name = "Black Friday"
start = "2026-11-27T00:00:00"
end = "2026-11-30T07:00:00+08:00"

[[promotion]]
id = "p"
campaign = "bf"
kind = "amount_off"
amount = "5"
windows = [ { from = "09:00", to = "18:00" } ]
""", builtins)
    zh, en = rules_text(campaigns, "zh-CN"), rules_text(campaigns, "en")
    # 07:00 at +08:00 is midnight in Berlin (UTC+1 in November)
    assert "活动时间：2026年11月27日 00:00 至 2026年11月30日 00:00（Europe/Berlin）" in zh
    assert "每天09:00–18:00（Europe/Berlin）" in zh
    assert "以上时间均为Europe/Berlin。" in zh
    assert ("Period: 27 Nov 2026, 00:00 – 30 Nov 2026, 00:00 "
            "(Central European Time, Europe/Berlin)") in en
    assert "daily 09:00–18:00 (Central European Time)" in en
    assert "€5.00 off each item" in en


def test_a_promotion_period_of_its_own_is_shown_once_a_day(builtins: Registry) -> None:
    campaigns = load_campaigns(D11_RULES, builtins)
    assert entries(campaigns, "zh-CN", "LUMEN品牌日 全場85折")["时间"] == (
        "2026年11月11日 00:00 至 23:59（北京时间 / Asia/Shanghai）")
    assert entries(campaigns, "en", "LUMEN品牌日 全場85折")["When"] == (
        "11 Nov 2026, 00:00–23:59 (China Time, Asia/Shanghai)")
    # the same period as the campaign's is not repeated
    assert "时间" not in entries(campaigns, "zh-CN", "跨店滿300減50、滿500減100")


def test_open_ended_periods(builtins: Registry) -> None:
    campaigns = load("""
[[promotion]]
id = "from"
kind = "percent_off"
percent = "10"
start = "2026-11-01T10:00:00"

[[promotion]]
id = "until"
kind = "percent_off"
percent = "10"
end = "2026-11-11T23:59:59"
""", builtins)
    assert entries(campaigns, "zh-CN", "from")["时间"] == (
        "2026年11月1日 10:00起（北京时间 / Asia/Shanghai）")
    assert entries(campaigns, "en", "until")["When"] == (
        "until 11 Nov 2026, 23:59 (China Time, Asia/Shanghai)")


# -- kinds ------------------------------------------------------------------------


@pytest.mark.parametrize(("table", "zh", "en"), [
    ('kind = "percent_off"\npercent = "10"', "9折", "10% off"),
    ('kind = "percent_off"\npercent = "5"\nmax_off = "100"',
     "95折，最多减¥100.00", "5% off, up to ¥100.00 off"),
    ('kind = "amount_off"\namount = "20"', "每件直降¥20.00", "¥20.00 off each item"),
    ('kind = "fixed_price"\nprice = "99"', "秒杀价¥99.00", "flash price ¥99.00"),
    ('kind = "member_price"\npercent_by_tier = { gold = "5", platinum = "8" }',
     "gold会员95折、platinum会员92折", "gold members 5% off, platinum members 8% off"),
    ('kind = "order_amount_off"\namount = "20"', "无门槛减¥20.00", "¥20.00 off, no minimum"),
    ('kind = "tiered_threshold"\ntiers = [ { spend = "300", off = "50" }, '
     '{ spend = "500", off = "100" } ]',
     "满¥300.00减¥50.00、满¥500.00减¥100.00",
     "¥50.00 off orders from ¥300.00; ¥100.00 off from ¥500.00"),
    ('kind = "tiered_threshold"\nevery = true\ntiers = [ { spend = "300", off = "50" } ]\n'
     'cap = "150"',
     "每满¥300.00减¥50.00，最多减¥150.00", "¥50.00 off every ¥300.00, up to ¥150.00 off"),
    ('kind = "tiered_threshold"\ntiers = [ { spend = "500", percent = "10" }, '
     '{ spend = "800", percent = "15" } ]',
     "满¥500.00打9折、满¥800.00打85折", "10% off orders from ¥500.00; 15% off from ¥800.00"),
    ('kind = "tiered_threshold"\ntiers = [ { spend = "1000", percent = "100" } ]',
     "满¥1,000.00免单", "100% off orders from ¥1,000.00"),
    ('kind = "tiered_threshold"\ntiers = [ { spend = "300", off = "50" }, '
     '{ spend = "600", off = "120" } ]\ncap = "100"',
     "满¥300.00减¥50.00、满¥600.00减¥120.00，最多减¥100.00",
     "¥50.00 off orders from ¥300.00; ¥120.00 off from ¥600.00, up to ¥100.00 off"),
    ('kind = "free_shipping"\nthreshold = "99"', "满¥99.00包邮", "free shipping from ¥99.00"),
    ('kind = "free_shipping"', "包邮", "free shipping"),
    ('kind = "free_shipping"\nthreshold = "59"\nmax_off = "10"',
     "满¥59.00运费最多减¥10.00", "up to ¥10.00 off shipping from ¥59.00"),
])
def test_kind_describe(table: str, zh: str, en: str, builtins: Registry) -> None:
    promotion = only(f'[[promotion]]\nid = "p"\n{table}\n', builtins)
    assert describe(promotion, "zh-CN") == zh
    assert describe(promotion, "en") == en


def test_describe_uses_the_files_currency(builtins: Registry) -> None:
    campaigns = load('currency = "JPY"\n[[promotion]]\nid = "p"\nkind = "amount_off"\n'
                     'amount = "500"\n', builtins)
    assert "每件直降¥500" in rules_text(campaigns, "zh-CN")
    assert "¥500 off each item" in rules_text(campaigns, "en")


def test_a_kind_without_describe_still_renders(registry: Registry) -> None:
    """The test plugin's ``round_down`` has no ``describe``: its name stands in."""
    campaigns = load('[[promotion]]\nid = "p"\nname = "抹零"\nkind = "round_down"\n'
                     'conditions = [ { rule = "weekday", in = [3] } ]\n', registry)
    zh = entries(campaigns, "zh-CN", "抹零")
    assert zh["优惠"] == "round_down"
    assert zh["类型"] == "跨店/平台优惠（不同店铺的参与商品合并计算）"
    assert zh["参与条件"] == "需满足「weekday」条件"  # ConditionType's generic default
    assert entries(campaigns, "en", "抹零")["Conditions"] == "only on weekdays 3"


# -- conditions -------------------------------------------------------------------


@pytest.mark.parametrize(("condition", "zh", "en"), [
    ('{ rule = "member_tier", in = ["gold", "platinum"] }', "仅限gold、platinum会员",
     "only for members of tier gold or platinum"),
    ('{ rule = "new_customer" }', "仅限新客（首单）", "only for customers with no earlier order"),
    ('{ rule = "dormant", days = 90 }', "仅限近90天未下单的老客",
     "only for customers whose last order was at least 90 days ago"),
    ('{ rule = "customer_tag", any = ["student", "teacher"] }',
     "仅限带有student或teacher标签的顾客", "only for customers tagged student or teacher"),
    ('{ rule = "customer_tag", all = ["student", "vip"] }',
     "仅限同时带有student和vip标签的顾客", "only for customers tagged student and vip"),
    ('{ rule = "region", in = ["CN-31"] }', "仅限CN-31地区", "only for customers in CN-31"),
    ('{ rule = "region", not_in = ["CN-54", "CN-65"] }', "不含CN-54、CN-65地区",
     "not for customers in CN-54 or CN-65"),
    ('{ rule = "region", in = ["CN"], not_in = ["CN-54"] }', "仅限CN地区（不含CN-54）",
     "only for customers in CN, except CN-54"),
    ('{ rule = "channel", in = ["app", "miniprogram"] }', "仅限app、miniprogram下单",
     "only on app or miniprogram"),
    ('{ rule = "birthday", within_days = 7 }', "仅限生日前后7天内",
     "only within 7 days of the customer's birthday"),
    ('{ rule = "birthday", within_days = 0 }', "仅限生日当天",
     "only on the customer's birthday"),
    ('{ rule = "min_spend", amount = "300" }', "参与商品满¥300.00",
     "spend at least ¥300.00 on eligible items"),
    ('{ rule = "min_quantity", quantity = 3 }', "参与商品满3件", "buy at least 3 eligible items"),
])
def test_condition_describe(condition: str, zh: str, en: str, builtins: Registry) -> None:
    promotion = only(f'[[promotion]]\nid = "p"\nkind = "percent_off"\npercent = "5"\n'
                     f'conditions = [ {condition} ]\n', builtins)
    [leaf] = promotion.conditions
    assert leaf.type is not None
    assert leaf.type.describe(leaf.params, Text("zh-CN")) == zh
    assert leaf.type.describe(leaf.params, Text("en")) == en


def test_combinators_in_words(builtins: Registry) -> None:
    campaigns = load("""
[[promotion]]
id = "p"
kind = "percent_off"
percent = "5"
channels = ["app"]
conditions = [
  { rule = "any", of = [ { rule = "new_customer" }, { rule = "member_tier", in = ["gold"] } ] },
  { rule = "not", of = [ { rule = "region", in = ["CN-54"] } ] },
  { rule = "all", of = [ { rule = "min_quantity", quantity = 2 },
                         { rule = "min_spend", amount = "100" } ] },
]
""", builtins)
    assert entries(campaigns, "zh-CN", "p")["参与条件"] == (
        "仅限app下单；仅限新客（首单）；或仅限gold会员（满足其一即可）；"
        "以下情况不适用：仅限CN-54地区；参与商品满2件；且参与商品满¥100.00")
    assert entries(campaigns, "en", "p")["Conditions"] == (
        "only on app; only for customers with no earlier order; or only for members of tier "
        "gold (any one is enough); not when only for customers in CN-54; "
        "buy at least 2 eligible items; and spend at least ¥100.00 on eligible items")


# -- scope, stacking, limits --------------------------------------------------------


def test_scope_and_every_exclusion(builtins: Registry) -> None:
    campaigns = load("""
[[promotion]]
id = "p"
kind = "percent_off"
percent = "5"
[promotion.scope]
shops = ["acme"]
categories = ["apparel/shoes"]
exclude_skus = ["S-9"]
exclude_categories = ["apparel/shoes/kids"]
exclude_brands = ["zed"]
exclude_shops = ["outlet"]
exclude_tags = ["no-promo", "clearance"]
""", builtins)
    zh = entries(campaigns, "zh-CN", "p")
    assert zh["适用商品"] == "apparel/shoes类目，且acme店铺的商品"
    assert zh["不参与"] == ("商品编号为S-9的商品、apparel/shoes/kids类目的商品、zed品牌的商品、"
                          "outlet店铺的商品、带clearance、no-promo标记的商品")
    en = entries(campaigns, "en", "p")
    assert en["Applies to"] == "items in category apparel/shoes and from shop acme"
    assert en["Not included"] == (
        "items with SKU S-9, items in category apparel/shoes/kids, items of brand zed, "
        "items from shop outlet, items tagged clearance and no-promo")


def test_stacking_words(builtins: Registry) -> None:
    campaigns = load("""
[[promotion]]
id = "a"
name = "A券"
kind = "order_amount_off"
amount = "10"
group = "g"

[[promotion]]
id = "b"
name = "B券"
kind = "tiered_threshold"
tiers = [ { spend = "100", off = "15" } ]
group = "g"
base = "list"

[[promotion]]
id = "c"
name = "C 專享"
kind = "percent_off"
percent = "5"
exclusive = true
""", builtins)
    assert entries(campaigns, "zh-CN", "A券")["同享规则"] == "与「B券」不可在同一店铺同时使用"
    assert entries(campaigns, "zh-CN", "B券")["同享规则"] == (
        "与「A券」不可在同一店铺同时使用；门槛按商品原价计算（不扣除其他优惠）")
    assert entries(campaigns, "zh-CN", "C 專享")["同享规则"] == "不与其他单品优惠同享"
    assert entries(campaigns, "en", "A券")["Combining"] == (
        "cannot be used with “B券” in the same shop")
    assert entries(campaigns, "en", "C 專享")["Combining"] == (
        "cannot be combined with other item discounts")
    zh = rules_text(campaigns, "zh-CN")
    assert "优惠按以下顺序计算：单品优惠 → 店铺优惠。" in zh
    assert "店铺优惠的门槛，按此前各项优惠减去后的金额计算（注明按原价计算门槛的除外）。" in zh


@pytest.mark.parametrize(("limits", "zh", "en"), [
    ("per_customer = 3", "每人限用3次", "up to 3 times per customer"),
    ("per_customer = 1", "每人限用1次", "once per customer"),
    ("per_customer_daily = 2", "每人每天限用2次", "up to twice a day per customer"),
    ("total = 5000", "共限5,000次，用完即止", "5,000 uses in total, while they last"),
    ("stock = 500", "限量500件，售完即止", "500 units only, while stocks last"),
    ("per_order_units = 1", "每单限1件享优惠", "1 discounted unit per order"),
    ("stock = 500, per_customer = 1, per_order_units = 2",
     "每人限用1次；限量500件，售完即止；每单限2件享优惠",
     "once per customer; 500 units only, while stocks last; up to 2 discounted units per order"),
])
def test_limits_in_words(limits: str, zh: str, en: str, builtins: Registry) -> None:
    campaigns = load(f'[[promotion]]\nid = "p"\nkind = "fixed_price"\nprice = "9"\n'
                     f'limits = {{ {limits} }}\n', builtins)
    assert entries(campaigns, "zh-CN", "p")["限制"] == zh
    assert entries(campaigns, "en", "p")["Limits"] == en


def test_an_empty_set_has_no_rules(builtins: Registry) -> None:
    assert rules(load("", builtins), "en") == []
    assert rules_text(load("", builtins), "zh-CN") == ""


# -- the command --------------------------------------------------------------------


@pytest.mark.parametrize(("args", "lang"), [([], "zh-CN"), (["--lang", "en"], "en"),
                                            (["--lang", "zh-CN"], "zh-CN")])
def test_cli_rules_prints_the_snapshot(args: list[str], lang: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", str(D11_RULES), "--no-plugins", *args]) == 0
    out, err = capsys.readouterr()
    assert out == (SNAPSHOTS / f"d11_rules.{lang}.txt").read_text(encoding="utf-8")
    assert err == ""


def test_cli_rules_invalid_file_lists_every_problem(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(HEADER + '[[promotion]]\nid = "p"\nkind = "percent_off"\npercent = "150"\n'
                   'scop = {}\n\n[[promotion]]\nid = "q"\nkind = "nope"\n', encoding="utf-8")
    assert main(["rules", str(bad)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == f"promokit: invalid campaign file {bad} (3 problems)"
    assert f"{bad}: promotion[0].percent: must be in (0, 100], got 150" in lines
    assert any(line.startswith(f"{bad}: promotion[0].scop: unknown key") for line in lines)
    assert any(line.startswith(f"{bad}: promotion[1].kind: unknown kind 'nope'")
               for line in lines)


def test_cli_rules_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.toml"
    assert main(["rules", str(missing)]) == 1
    assert capsys.readouterr().err == (
        f"promokit: cannot read {missing}: No such file or directory\n")


@pytest.mark.parametrize("args", [["rules", str(D11_RULES), "--lang", "fr"], ["rules"]])
def test_cli_rules_usage_errors(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    assert "usage: promokit rules" in capsys.readouterr().err


def test_cli_rules_help_is_listed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "rules" in capsys.readouterr().out


def test_a_bundle_scoped_only_by_exclusions_names_its_components_not_all_items(
        registry: Registry) -> None:
    # The promotion covers the components minus no-promo lines (Promotion.covers), so
    # the text must not say "all items"; the exclusion gets its own entry.
    campaigns = load('[[promotion]]\nid = "set"\nname = "套裝"\nkind = "bundle_price"\n'
                     'components = [ { sku = "PHONE-1" }, { sku = "BUDS-1" } ]\n'
                     'price = "5299"\nscope = { exclude_tags = ["no-promo"] }\n', registry)
    zh = entries(campaigns, "zh-CN", "套裝")
    assert "适用商品" not in zh
    assert zh["不参与"] == "带no-promo标记的商品"


def test_the_rule_text_prints_every_games_disclosure_from_the_files_alone() -> None:
    examples = Path(__file__).resolve().parent.parent / "examples"
    campaigns = load_campaigns([examples / "d11.toml", examples / "d11_games.toml"],
                               Registry.default(load_entry_points=False))
    en = rules_text(campaigns, "en")
    zh = rules_text(campaigns, "zh-CN")
    games = en[en.index("# Games"):]
    for title in ("## 1. 雙11 分享抽錦鯉", "## 2. 生肖盲盒（限量15盒）", "## 3. 雙11 水壺3人團",
                  "## 4. 電飯煲砍到¥99", "## 5. voltmart 65吋電視預售"):
        assert title in games, title
    # the game prices are told by their games, not listed again as promotions
    assert "kettle-pin" not in en[:en.index("# Games")]
    # jurisdiction cn: the blind box's age rule; every time in the file's timezone
    assert "Not sold to customers under 8; customers under 18 need their guardian's consent." \
        in games
    assert "不向未满8周岁者销售；未满18周岁者须经监护人同意。" in zh
    assert "local time" not in games and "当地时间" not in zh
    assert "錦鯉大禮包 (goods, market value ¥50,000.00): 1 in total, probability 0.10%" in games
