"""The customer-facing rule text (活動規則), generated from the config the engine runs.

:func:`rules` turns a :class:`~promokit.campaign.CampaignSet` into
:class:`Section` objects, :func:`rules_text` into plain text with Markdown
headings, in any of :data:`~promokit.text.LANGUAGES`:

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
    """One labelled fact of a promotion: ``优惠`` → ``满¥300.00减¥50.00``."""

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
    """The 活動規則 of ``campaigns`` as plain text in ``lang`` (one of
    :data:`~promokit.text.LANGUAGES`); ``""`` when the set holds no campaign or
    promotion."""
    text = Text(lang, currency=campaigns.currency)
    blocks = []
    for section in rules(campaigns, lang):
        lines = [f"{'#' * section.level} {section.title}"]
        if section.paragraphs:
            lines.extend(["", *section.paragraphs])
        if section.entries:
            lines.append("")
            lines.extend("- " + _label(text, entry.label, entry.text)
                         for entry in section.entries)
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
                title=text.gettext("{campaign}: promotion rules", campaign=campaign.name),
                paragraphs=(_label(text, text.gettext("Period"), period),) if period else ()))
            members = [p for p in promotions if p.campaign == campaign.id]
            found.extend(self.promotion(number, promotion)
                         for number, promotion in enumerate(members, 1))
        loose = [p for p in promotions if self.campaigns.campaign(p.campaign) is None]
        if loose:
            found.append(Section(title=text.gettext("Other offers")))
            found.extend(self.promotion(number, promotion)
                         for number, promotion in enumerate(loose, 1))
        if promotions:
            found.append(self.combining())
        if self.campaigns.games:
            found.append(Section(title=text.gettext("Games")))
            found.extend(Section(title=f"{number}. {spec.name}", level=2,
                                 paragraphs=tuple(spec.kind_impl.disclosure(spec, text)))
                         for number, spec in enumerate(self.campaigns.games, 1))
        return found

    # -- one promotion -----------------------------------------------------------

    def promotion(self, number: int, promotion: Promotion) -> Section:
        text = self.text
        entries = [
            Entry(label=text.gettext("Offer"),
                  text=promotion.kind_impl.describe(promotion.params, text)),
        ]
        if promotion.kind_impl.benefit == "reward":
            kind_text = text.gettext("reward (the price does not change; earned on what you "
                                     "pay)")
        else:
            note = text.stage_note(promotion.stage)
            stage = text.stage(promotion.stage)
            kind_text = text.gettext("{text} ({note})", text=stage, note=note) if note else stage
        entries.append(Entry(label=text.gettext("Type"), text=kind_text))
        when = self.when(promotion)
        if when:
            entries.append(Entry(label=text.gettext("When"), text=when))
        applies = self.applies_to(promotion)
        if applies:
            entries.append(Entry(label=text.gettext("Applies to"), text=applies))
        excluded = self.excluded(promotion.scope)
        if excluded:
            entries.append(Entry(label=text.gettext("Not included"), text=excluded))
        conditions = self.conditions(promotion)
        if conditions:
            entries.append(Entry(label=text.gettext("Conditions"), text=conditions))
        if promotion.codes:
            entries.append(Entry(label=text.gettext("Code"), text=text.gettext(
                "requires a promotion code, entered at checkout")))
        combining = self.stacking(promotion)
        if combining:
            entries.append(Entry(label=text.gettext("Combining"), text=combining))
        limits = self.limits(promotion)
        if limits:
            entries.append(Entry(label=text.gettext("Limits"), text=limits))
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
        return _clauses(text, parts)

    def applies_to(self, promotion: Promotion) -> str:
        """The scope in words; ``""`` when only the kind's own scopes (a bundle's
        components, which its ``describe`` names) cover lines."""
        scope = promotion.scope
        if not scope.lists_lines:
            if promotion.kind_impl.scopes(promotion.params):
                return ""  # only the kind's scopes, minus any exclusions (Promotion.covers)
            return self.text.gettext("all items")
        clauses = self.scope_clauses(scope.skus, scope.categories, scope.brands, scope.shops,
                                     scope.tags, "or")
        # Translators: between the clauses of one scope ("items with SKU A and in
        # category b").
        joined = self.text.pgettext("scope", " and ").join(clauses)
        return self.text.gettext("items {clauses}", clauses=joined)

    def excluded(self, scope: Scope) -> str:
        clauses = self.scope_clauses(scope.exclude_skus, scope.exclude_categories,
                                     scope.exclude_brands, scope.exclude_shops,
                                     scope.exclude_tags, "and")
        text = self.text
        return text.pgettext("list", ", ").join(
            text.gettext("items {clauses}", clauses=clause) for clause in clauses)

    def scope_clauses(self, skus: Iterable[str], categories: Iterable[str],
                      brands: Iterable[str], shops: Iterable[str], tags: Iterable[str],
                      conjunction: Literal["and", "or"]) -> list[str]:
        """``商品编号为A、B`` / ``with SKU A or B``, one per dimension that lists values."""
        text = self.text

        def listed(values: Iterable[str]) -> str:
            return text.join(sorted(values), conjunction)

        clauses = []
        if skus:
            clauses.append(text.gettext("with SKU {values}", values=listed(skus)))
        if categories:
            clauses.append(text.gettext("in category {values}", values=listed(categories)))
        if brands:
            clauses.append(text.gettext("of brand {values}", values=listed(brands)))
        if shops:
            clauses.append(text.gettext("from shop {values}", values=listed(shops)))
        if tags:
            clauses.append(text.gettext("tagged {values}", values=listed(tags)))
        return clauses

    def conditions(self, promotion: Promotion) -> str:
        text = self.text
        parts = []
        if promotion.channels is not None:
            channels = text.join(sorted(promotion.channels), "or")
            parts.append(text.gettext("only on {channels}", channels=channels))
        parts.extend(self.condition(condition) for condition in promotion.conditions)
        return _clauses(text, parts)

    def condition(self, condition: Condition) -> str:
        """A condition's own ``describe``; ``all`` / ``any`` / ``not`` in words."""
        text = self.text
        if condition.type is not None:
            return condition.type.describe(condition.params, text)
        parts = [self.condition(child) for child in condition.children]
        if condition.rule == "any" and len(parts) > 1:
            return text.gettext("{conditions} (any one is enough)",
                                conditions=text.pgettext("any", "; or ").join(parts))
        every = text.pgettext("all", "; and ").join(parts)
        if condition.rule == "not":
            return text.gettext("not when {conditions}", conditions=every)
        return every

    def stacking(self, promotion: Promotion) -> str:
        text = self.text
        parts = []
        if promotion.exclusive:
            others = text.stage(promotion.stage, plural=True)
            parts.append(text.gettext("cannot be combined with other {offers}", offers=others))
        if promotion.group is not None:
            rivals = [other.name for other in self.campaigns.promotions
                      if other.group == promotion.group and other.stage == promotion.stage
                      and other.id != promotion.id]
            if rivals:
                parts.append(self.group_rule(promotion.stage, rivals))
        if promotion.base == "list" and promotion.stage != "item":
            parts.append(text.gettext("its threshold counts list prices, before other "
                                      "discounts"))
        return _clauses(text, parts)

    def group_rule(self, stage: str, rivals: Sequence[str]) -> str:
        text = self.text
        names = text.join((text.gettext("“{name}”", name=name) for name in rivals), "or")
        if stage == "item":
            return text.gettext("cannot be used with {names} on the same item", names=names)
        if stage == "shop":
            return text.gettext("cannot be used with {names} in the same shop", names=names)
        return text.gettext("cannot be used with {names} in the same order", names=names)

    def limits(self, promotion: Promotion) -> str:
        text = self.text
        stock_of = promotion.kind_impl.stock_counts
        parts = [text.limit(name, value, stock_of=stock_of) for name in LIMITS
                 if (value := getattr(promotion.limits, name)) is not None]
        return _clauses(text, parts)

    # -- how offers combine ------------------------------------------------------

    def combining(self) -> Section:
        text = self.text
        present = [stage for stage in STAGES
                   if any(p.stage == stage and p.kind != "game_price"
                          for p in self.campaigns.promotions)]
        paragraphs = []
        if len(present) > 1:
            order = [text.stage(stage, plural=True) for stage in present]
            paragraphs.append(text.gettext(
                "Offers are worked out in this order: {stages}.",
                stages=text.pgettext("order", ", then ").join(order)))
        later = present[1:]  # stages whose thresholds measure what earlier ones left
        if later:
            names = text.join((text.stage(stage, plural=True) for stage in later), "and")
            paragraphs.append(text.gettext(
                "The thresholds of {stages} count what is left after the discounts worked "
                "out before them, unless an offer says it counts list prices.", stages=names))
        paragraphs.append(text.gettext(
            "Offers that can be combined are combined automatically. Where offers cannot "
            "be combined, you get the combination that saves you the most."))
        zone, key = text.timezone(self.tz, short=True), str(getattr(self.tz, "key", self.tz))
        zone = zone if zone == key else text.gettext("{text} ({note})", text=zone, note=key)
        paragraphs.append(text.gettext("All times are {zone}.", zone=zone))
        return Section(title=text.gettext("How offers combine"), paragraphs=tuple(paragraphs))


def _label(text: Text, label: str, value: str) -> str:
    """``优惠：满¥300.00减¥50.00`` / ``Offer: ¥50.00 off orders from ¥300.00``."""
    return text.gettext("{label}: {value}", label=label, value=value)


def _clauses(text: Text, parts: Iterable[str]) -> str:
    """Clauses of one fact, one after another: ``a；b`` / ``a; b``."""
    # Translators: between the clauses of one fact of a promotion (its limits, its
    # conditions).
    return text.gettext("; ").join(parts)
