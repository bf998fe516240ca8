"""A blind box's config: :class:`Tier`, :class:`Item`, :class:`LastPrize`,
:class:`Pity`, :class:`BlindBoxConfig` (which also picks a draw's item), the ``cn``
age limits and the parsing helpers :meth:`BlindBox.parse` uses."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from promokit.games import pick_weighted
from promokit.games.audit import MAX_TOTAL_WEIGHT
from promokit.money import Currency
from promokit.params import Params

#: Jurisdiction ``cn``: no blind boxes below this age …
CN_MIN_AGE = 8
#: … and a guardian's consent below this one.
CN_CONSENT_AGE = 18


@attrs.frozen(kw_only=True)
class Tier:
    """A rarity tier (普通款, 稀有款 …); tiers are listed common first."""

    id: str
    name: str


@attrs.frozen(kw_only=True)
class Item:
    """One item of the series: its declared market value and how likely it is
    (``weight`` in a fixed pool, released ``quantity`` in a finite one)."""

    id: str
    name: str
    tier: str
    value: int
    weight: int | None = None
    quantity: int | None = None
    hidden: bool = False


@attrs.frozen(kw_only=True)
class LastPrize:
    """What whoever draws the last box of a finite pool gets besides the item."""

    name: str
    value: int


@attrs.frozen(kw_only=True)
class Pity:
    """保底: an item of ``tier`` or rarer at least once in every ``within`` draws."""

    tier: str
    within: int


@attrs.frozen(kw_only=True)
class BlindBoxConfig:
    """A blind box game's own keys, validated."""

    series: str
    price: int
    pool: str
    tiers: tuple[Tier, ...]
    items: tuple[Item, ...]
    currency: Currency
    last_prize: LastPrize | None = None
    pity: Pity | None = None
    draws_per_day: int | None = None
    spend_per_day: int | None = None
    min_age: int | None = None

    @property
    def finite(self) -> bool:
        """Whether the pool is finite (drawn without replacement)."""
        return self.pool == "finite"

    def rank(self, tier: str) -> int:
        """0 for the commonest tier, up to ``len(tiers) - 1`` for the rarest."""
        return next(index for index, t in enumerate(self.tiers) if t.id == tier)

    def tier(self, tier: str) -> Tier:
        """The tier with this id."""
        return self.tiers[self.rank(tier)]

    def item(self, item: str) -> Item | None:
        """The item with this id, if there is one."""
        return next((i for i in self.items if i.id == item), None)

    def counts(self, drawn: Mapping[str, int] | None = None) -> dict[str, int]:
        """Each item's share of the next draw: its weight, or in a finite pool what
        is left of its quantity after ``drawn``."""
        if not self.finite:
            return {item.id: item.weight or 0 for item in self.items}
        drawn = drawn or {}
        return {item.id: max(0, (item.quantity or 0) - drawn.get(item.id, 0))
                for item in self.items}

    def released(self) -> int:
        """Boxes in a finite pool (0 for a fixed one)."""
        return sum(item.quantity or 0 for item in self.items)

    def pity_due(self, since: int) -> bool:
        """Whether a draw after ``since`` draws without the pity tier must hit it."""
        return self.pity is not None and since + 1 >= self.pity.within

    def counts_for_pity(self, item: Item) -> bool:
        """Whether ``item`` is of the pity tier or rarer."""
        return self.pity is not None and self.rank(item.tier) >= self.rank(self.pity.tier)

    def wins(self, item: Item) -> bool:
        """A hidden item or one of the rarest tier (event ``won``)."""
        return item.hidden or self.rank(item.tier) == len(self.tiers) - 1

    def pick(self, digest: bytes, counts: Mapping[str, int], since: int) -> tuple[Item, str]:
        """The item ``digest`` draws among ``counts`` and why: ``draw``, ``pity``
        (due and picked among the pity tier or rarer), or ``pity_unavailable`` (due,
        but a finite pool holds nothing of that tier any more)."""
        candidates = [item for item in self.items if counts.get(item.id, 0) > 0]
        reason = "draw"
        if self.pity_due(since):
            eligible = [item for item in candidates if self.counts_for_pity(item)]
            reason = "pity" if eligible else "pity_unavailable"
            candidates = eligible or candidates
        index = pick_weighted(digest, [counts[item.id] for item in candidates])
        return candidates[index], reason

    def amount(self, minor: int) -> str:
        """Minor units as a decimal string (``"59.00"``), as the journal keeps money."""
        return str(self.currency.to_decimal(minor))


def _unique(key: str, tables: list[Params], ids: list[str | None]) -> None:
    """Report an id listed twice at the second table naming it."""
    seen: set[str] = set()
    for table, found in zip(tables, ids, strict=True):
        if found is not None and found in seen:
            table.problem(f"{found!r} is listed twice in {key}", "id")
        if found is not None:
            seen.add(found)


def read_tiers(params: Params) -> tuple[Tier, ...]:
    tables = params.tables("tiers", required=True, non_empty=True) or []
    tiers = []
    ids = []
    for table in tables:
        tier_id, name = table.string("id"), table.string("name")
        table.finish()
        ids.append(tier_id)
        if tier_id is not None and name is not None:
            tiers.append(Tier(id=tier_id, name=name))
    _unique("tiers", tables, ids)
    return tuple(tiers) if len(tiers) == len(tables) and len(set(ids)) == len(ids) else ()


def read_items(params: Params, pool: str | None, tiers: tuple[Tier, ...]) -> tuple[Item, ...]:
    tables = params.tables("items", required=True, non_empty=True) or []
    tier_ids = [tier.id for tier in tiers]
    items, ids = [], []
    for table in tables:
        item_id, name, tier = table.string("id"), table.string("name"), table.string("tier")
        if tier is not None and tiers and tier not in tier_ids:
            table.problem(f"unknown tier {tier!r}; tiers: {', '.join(tier_ids)}", "tier")
            tier = None
        value = table.money("value", required=False, positive=True)
        if "value" not in table.data:
            table.problem("is required: the item's declared market value (it counts toward "
                          "the top prize and the disclosure's value range)", "value")
        weight = quantity = None
        if pool == "fixed":
            weight = table.integer("weight", minimum=1)
            if table.has("quantity"):
                table.problem('only a finite pool (pool = "finite") has quantities; a fixed '
                              "pool draws by weight", "quantity")
        elif pool == "finite":
            quantity = table.integer("quantity", minimum=1)
            if table.has("weight"):
                table.problem("a finite pool draws by the quantities left; weight is for "
                              'pool = "fixed"', "weight")
        else:  # an invalid pool was reported; these keys are not unknown
            table.raw("weight")
            table.raw("quantity")
        hidden = table.boolean("hidden")
        table.finish()
        ids.append(item_id)
        if (item_id is not None and name is not None and tier is not None
                and value is not None and (weight or quantity)):
            items.append(Item(id=item_id, name=name, tier=tier, value=value, weight=weight,
                              quantity=quantity, hidden=hidden))
    _unique("items", tables, ids)
    total = sum(item.weight or item.quantity or 0 for item in items)
    if total > MAX_TOTAL_WEIGHT:
        key = "weight" if pool == "fixed" else "quantity"
        params.problem(f"the items' {key}s add up to {total:,}, more than "
                       f"{MAX_TOTAL_WEIGHT:,}: a draw picks ⌊u·W/2⁶⁴⌋ among the total W, "
                       "which must stay at most that for every item to get its share",
                       "items")
    for index, tier_ in enumerate(tiers):
        if tables and not any(table.data.get("tier") == tier_.id for table in tables):
            params.problem(f"tier {tier_.id!r} has no items", f"tiers[{index}]")
    complete = len(items) == len(tables) and len(set(ids)) == len(ids)
    return tuple(items) if complete else ()


def read_pity(params: Params, tiers: tuple[Tier, ...]) -> Pity | None:
    table = params.table("pity")
    if table is None:
        return None
    tier, within = table.string("tier"), table.integer("within", minimum=1)
    table.finish()
    tier_ids = [t.id for t in tiers]
    if tier is not None and tiers and tier not in tier_ids:
        table.problem(f"unknown tier {tier!r}; tiers: {', '.join(tier_ids)}", "tier")
        return None
    if tier is None or within is None:
        return None
    return Pity(tier=tier, within=within)
