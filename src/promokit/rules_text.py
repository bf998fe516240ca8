"""The customer-facing rule text (活動規則), generated from the config the engine runs.

:func:`rules` turns a :class:`~promokit.campaign.CampaignSet` into
:class:`Section` objects, :func:`rules_text` into plain text with Markdown
headings, in ``zh-CN`` or ``en``:

- per campaign: its name and period (in the file's timezone, which is named);
- per promotion: its name, the benefit in the kind's own words
  (:meth:`~promokit.kinds.DiscountKind.describe`), what its stage means for the
  customer, its own period and daily windows, the scope and every exclusion, the
  conditions (each condition's :meth:`~promokit.conditions.ConditionType.describe`),
  channels, whether a code is needed, stacking (``exclusive``, ``group``,
  ``base = "list"``) and limits;
- a closing section on how offers combine (stage order, what thresholds measure,
  best deal) and the timezone;
- per game (``[[game]]``): its disclosure, written by the game's kind from its
  config (prizes and their probabilities or quantities, how and when to draw
  and redeem, the organiser, group and bargain rules, deposits).

Internal matters are never shown: budgets, funding, priorities and the codes
themselves (only that one is needed). The text is deterministic: files order
campaigns and promotions, and sets are sorted.

>>> print(rules_text(campaigns, lang="en"))  # doctest: +SKIP
# 雙11全民狂歡: promotion rules
<BLANKLINE>
Period: 10 Nov 2026, 20:00 – 11 Nov 2026, 23:59 (China Time, Asia/Shanghai)
...
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import attrs

from .campaign import Promotion
from .campaign_set import CampaignSet
from .conditions import Condition
from .terms import STAGES, Scope
from .text import LIMITS, Lang, Text

__all__ = ["Entry", "Section", "rules", "rules_text"]


@attrs.frozen(kw_only=True)
class Entry:
    """One labelled fact of a promotion: ``優惠`` → ``滿¥300.00減¥50.00``."""

    label: str
    text: str


@attrs.frozen(kw_only=True)
class Section:
    """A heading (``level`` 1 for a campaign, 2 for a promotion), paragraphs, entries."""

    title: str
    level: int = 1
    paragraphs: tuple[str, ...] = ()
    entries: tuple[Entry, ...] = ()


def rules_text(campaigns: CampaignSet, lang: Lang | str = "zh-CN") -> str:
    """The 活動規則 of ``campaigns`` as plain text in ``lang`` (``zh-CN`` or ``en``);
    ``""`` when the set holds no campaign or promotion."""
    text = Text(lang, currency=campaigns.currency)
    colon = text.pick(": ", "：")
    blocks = []
    for section in rules(campaigns, lang):
        lines = [f"{'#' * section.level} {section.title}"]
        if section.paragraphs:
            lines.extend(["", *section.paragraphs])
        if section.entries:
            lines.append("")
            lines.extend(f"- {entry.label}{colon}{entry.text}" for entry in section.entries)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def rules(campaigns: CampaignSet, lang: Lang | str = "zh-CN") -> list[Section]:
    """The 活動規則 of ``campaigns`` as sections, for a UI to lay out itself."""
    return _Writer(campaigns, Text(lang, currency=campaigns.currency)).sections()


class _Writer:
    """Builds the sections of one campaign set in one language."""

    def __init__(self, campaigns: CampaignSet, text: Text) -> None:
        self.campaigns = campaigns
        self.text = text
        self.tz = campaigns.timezone

    def sections(self) -> list[Section]:
        text = self.text
        found: list[Section] = []
        # a game's price is told by the game's own disclosure, not as a promotion
        promotions = [p for p in self.campaigns.promotions if p.kind != "game_price"]
        for campaign in self.campaigns.campaigns:
            period = text.period(campaign.schedule.start, campaign.schedule.end, self.tz)
            found.append(Section(
                title=text.pick(f"{campaign.name}: promotion rules", f"{campaign.name} 活動規則"),
                paragraphs=(_label(text, "Period", "活動時間", period),) if period else ()))
            members = [p for p in promotions if p.campaign == campaign.id]
            found.extend(self.promotion(number, promotion)
                         for number, promotion in enumerate(members, 1))
        loose = [p for p in promotions if self.campaigns.campaign(p.campaign) is None]
        if loose:
            found.append(Section(title=text.pick("Other offers", "其他優惠")))
            found.extend(self.promotion(number, promotion)
                         for number, promotion in enumerate(loose, 1))
        if promotions:
            found.append(self.combining())
        if self.campaigns.games:
            found.append(Section(title=text.pick("Games", "互動活動")))
            found.extend(Section(title=f"{number}. {spec.name}", level=2,
                                 paragraphs=tuple(spec.kind_impl.disclosure(spec, text)))
                         for number, spec in enumerate(self.campaigns.games, 1))
        return found

    # -- one promotion -----------------------------------------------------------

    def promotion(self, number: int, promotion: Promotion) -> Section:
        text = self.text
        entries = [
            Entry(label=text.pick("Offer", "優惠"),
                  text=promotion.kind_impl.describe(promotion.params, text)),
        ]
        if promotion.kind_impl.benefit == "reward":
            kind_text = text.pick("reward (the price does not change; earned on what you pay)",
                                  "獎勵（不改變價格，按實付金額計算）")
        else:
            note = text.stage_note(promotion.stage)
            stage = text.stage(promotion.stage)
            kind_text = text.pick(f"{stage} ({note})", f"{stage}（{note}）") if note else stage
        entries.append(Entry(label=text.pick("Type", "類型"), text=kind_text))
        when = self.when(promotion)
        if when:
            entries.append(Entry(label=text.pick("When", "時間"), text=when))
        applies = self.applies_to(promotion)
        if applies:
            entries.append(Entry(label=text.pick("Applies to", "適用商品"), text=applies))
        excluded = self.excluded(promotion.scope)
        if excluded:
            entries.append(Entry(label=text.pick("Not included", "不參與"), text=excluded))
        conditions = self.conditions(promotion)
        if conditions:
            entries.append(Entry(label=text.pick("Conditions", "參與條件"), text=conditions))
        if promotion.codes:
            entries.append(Entry(label=text.pick("Code", "優惠碼"),
                                 text=text.pick("requires a promotion code, entered at checkout",
                                                "需使用優惠碼（下單時輸入）")))
        combining = self.stacking(promotion)
        if combining:
            entries.append(Entry(label=text.pick("Combining", "同享規則"), text=combining))
        limits = self.limits(promotion)
        if limits:
            entries.append(Entry(label=text.pick("Limits", "限制"), text=limits))
        return Section(title=f"{number}. {promotion.name}", level=2, entries=tuple(entries))

    def when(self, promotion: Promotion) -> str:
        """The promotion's own period, if it is not its campaign's, and its windows."""
        text = self.text
        schedule = promotion.schedule
        campaign = self.campaigns.campaign(promotion.campaign)
        parts = []
        if campaign is None or (schedule.start, schedule.end) != (campaign.schedule.start,
                                                                  campaign.schedule.end):
            period = text.period(schedule.start, schedule.end, self.tz)
            if period:
                parts.append(period)
        if schedule.windows:
            parts.append(text.windows(schedule.windows, self.tz))
        return text.pick("; ", "；").join(parts)

    def applies_to(self, promotion: Promotion) -> str:
        """The scope in words; ``""`` when only the kind's own scopes (a bundle's
        components, which its ``describe`` names) cover lines."""
        scope = promotion.scope
        if not scope.lists_lines:
            if promotion.kind_impl.scopes(promotion.params):
                return ""  # only the kind's scopes, minus any exclusions (Promotion.covers)
            return self.text.pick("all items", "全場商品")
        clauses = self.scope_clauses(scope.skus, scope.categories, scope.brands, scope.shops,
                                     scope.tags, "or")
        if self.text.zh:
            return "，且".join(clauses) + "的商品"
        return "items " + " and ".join(clauses)

    def excluded(self, scope: Scope) -> str:
        clauses = self.scope_clauses(scope.exclude_skus, scope.exclude_categories,
                                     scope.exclude_brands, scope.exclude_shops,
                                     scope.exclude_tags, "and")
        if self.text.zh:
            return "、".join(f"{clause}的商品" for clause in clauses)
        return ", ".join(f"items {clause}" for clause in clauses)

    def scope_clauses(self, skus: Iterable[str], categories: Iterable[str],
                      brands: Iterable[str], shops: Iterable[str], tags: Iterable[str],
                      conjunction: Literal["and", "or"]) -> list[str]:
        """``商品編號為A、B`` / ``with SKU A or B``, one per dimension that lists values."""
        text = self.text

        def listed(values: Iterable[str]) -> str:
            return text.join(sorted(values), conjunction)

        clauses = []
        if skus:
            clauses.append(text.pick(f"with SKU {listed(skus)}", f"商品編號為{listed(skus)}"))
        if categories:
            clauses.append(text.pick(f"in category {listed(categories)}",
                                     f"{listed(categories)}類目"))
        if brands:
            clauses.append(text.pick(f"of brand {listed(brands)}", f"{listed(brands)}品牌"))
        if shops:
            clauses.append(text.pick(f"from shop {listed(shops)}", f"{listed(shops)}店鋪"))
        if tags:
            clauses.append(text.pick(f"tagged {listed(tags)}", f"帶{listed(tags)}標記"))
        return clauses

    def conditions(self, promotion: Promotion) -> str:
        text = self.text
        parts = []
        if promotion.channels is not None:
            channels = text.join(sorted(promotion.channels), "or")
            parts.append(text.pick(f"only on {channels}", f"僅限{channels}下單"))
        parts.extend(self.condition(condition) for condition in promotion.conditions)
        return text.pick("; ", "；").join(parts)

    def condition(self, condition: Condition) -> str:
        """A condition's own ``describe``; ``all`` / ``any`` / ``not`` in words."""
        text = self.text
        if condition.type is not None:
            return condition.type.describe(condition.params, text)
        parts = [self.condition(child) for child in condition.children]
        if condition.rule == "any" and len(parts) > 1:
            return text.pick("; or ".join(parts) + " (any one is enough)",
                             "；或".join(parts) + "（滿足其一即可）")
        if condition.rule == "not":
            return text.pick("not when " + "; and ".join(parts),
                             "以下情況不適用：" + "；且".join(parts))
        return text.pick("; and ", "；且").join(parts)

    def stacking(self, promotion: Promotion) -> str:
        text = self.text
        parts = []
        if promotion.exclusive:
            others = text.stage(promotion.stage, plural=True)
            parts.append(text.pick(f"cannot be combined with other {others}",
                                   f"不與其他{others}同享"))
        if promotion.group is not None:
            rivals = [other.name for other in self.campaigns.promotions
                      if other.group == promotion.group and other.stage == promotion.stage
                      and other.id != promotion.id]
            if rivals:
                parts.append(self.group_rule(promotion.stage, rivals))
        if promotion.base == "list" and promotion.stage != "item":
            parts.append(text.pick("its threshold counts list prices, before other discounts",
                                   "門檻按商品原價計算（不扣除其他優惠）"))
        return text.pick("; ", "；").join(parts)

    def group_rule(self, stage: str, rivals: Sequence[str]) -> str:
        text = self.text
        if text.zh:
            names = "、".join(f"「{name}」" for name in rivals)
            where = {"item": "同一件商品", "shop": "同一店鋪"}.get(stage, "同一訂單")
            return f"與{names}不可在{where}同時使用"
        names = text.join((f"“{name}”" for name in rivals), "or")
        where = {"item": "on the same item", "shop": "in the same shop"}.get(
            stage, "in the same order")
        return f"cannot be used with {names} {where}"

    def limits(self, promotion: Promotion) -> str:
        text = self.text
        stock_of = promotion.kind_impl.stock_counts
        parts = [text.limit(name, value, stock_of=stock_of) for name in LIMITS
                 if (value := getattr(promotion.limits, name)) is not None]
        return text.pick("; ", "；").join(parts)

    # -- how offers combine ------------------------------------------------------

    def combining(self) -> Section:
        text = self.text
        present = [stage for stage in STAGES
                   if any(p.stage == stage and p.kind != "game_price"
                          for p in self.campaigns.promotions)]
        paragraphs = []
        if len(present) > 1:
            order = [text.stage(stage, plural=True) for stage in present]
            paragraphs.append(text.pick(
                f"Offers are worked out in this order: {', then '.join(order)}.",
                f"優惠按以下順序計算：{' → '.join(order)}。"))
        later = present[1:]  # stages whose thresholds measure what earlier ones left
        if later:
            names = text.join((text.stage(stage, plural=True) for stage in later), "and")
            paragraphs.append(text.pick(
                f"The thresholds of {names} count what is left after the discounts worked "
                "out before them, unless an offer says it counts list prices.",
                f"{names}的門檻，按此前各項優惠減去後的金額計算（註明按原價計算門檻的除外）。"))
        paragraphs.append(text.pick(
            "Offers that can be combined are combined automatically. Where offers cannot "
            "be combined, you get the combination that saves you the most.",
            "可同享的優惠自動疊加；不可同享的優惠，系統自動為你選擇最划算的組合。"))
        zone, key = text.timezone(self.tz, short=True), str(getattr(self.tz, "key", self.tz))
        zone = zone if zone == key else text.pick(f"{zone} ({key})", f"{zone}（{key}）")
        paragraphs.append(text.pick(f"All times are {zone}.", f"以上時間均為{zone}。"))
        return Section(title=text.pick("How offers combine", "優惠疊加說明"),
                       paragraphs=tuple(paragraphs))


def _label(text: Text, en: str, zh: str, value: str) -> str:
    return text.pick(f"{en}: {value}", f"{zh}：{value}")
