"""Campaigns compiled for look-up: promotions indexed by what their scope names.

A promotion is indexed under one dimension of its scope, the most selective
it lists (skus, then brands, tags, categories, shops); a promotion whose scope
lists nothing is indexed under "everywhere". :meth:`CompiledCampaigns.candidates`
returns the promotions that may touch a cart, so evaluation cost follows the
promotions that could apply, not all that exist.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from ..campaign import Promotion
from ..campaign_set import CampaignSet
from ..cart import Cart

__all__ = ["CompiledCampaigns"]

_DIMENSIONS = ("skus", "brands", "tags", "categories", "shops")


class CompiledCampaigns:
    """An immutable look-up structure over one :class:`CampaignSet`."""

    def __init__(self, campaigns: CampaignSet) -> None:
        self.campaigns = campaigns
        self._order = {p.id: n for n, p in enumerate(campaigns.promotions)}
        self._index: dict[str, dict[str, list[Promotion]]] = {
            dimension: defaultdict(list) for dimension in _DIMENSIONS}
        self._everywhere: list[Promotion] = []
        self._by_code: dict[str, list[Promotion]] = defaultdict(list)
        for promotion in campaigns.promotions:
            for code in promotion.codes:
                self._by_code[code].append(promotion)
            for scope in promotion.scopes():
                for dimension in _DIMENSIONS:
                    values = getattr(scope, dimension)
                    if values:
                        for value in values:
                            self._index[dimension][value].append(promotion)
                        break
                else:
                    self._everywhere.append(promotion)
        self.codes: frozenset[str] = frozenset(self._by_code)
        """Every code some promotion accepts."""

    def candidates(self, cart: Cart) -> list[tuple[Promotion, tuple[int, ...]]]:
        """Promotions whose scope may touch the cart, in file order, each with the
        indexes of the lines it may touch: a line none of its scopes' indexed values
        names cannot be in its scope. A promotion indexed "everywhere", or one a
        code in the cart names, may touch every line."""
        every = tuple(range(len(cart.lines)))
        found: dict[str, Promotion] = {p.id: p for p in self._everywhere}
        lines: dict[str, set[int] | None] = dict.fromkeys(found)
        skus, brands, tags, categories, shops = self._index.values()

        def add(promotions: Iterable[Promotion], index: int | None) -> None:
            for promotion in promotions:
                found.setdefault(promotion.id, promotion)
                if index is None:
                    lines[promotion.id] = None
                else:
                    hit = lines.setdefault(promotion.id, set())
                    if hit is not None:
                        hit.add(index)

        for i, line in enumerate(cart.lines):
            add(skus.get(line.sku, ()), i)
            if line.brand is not None:
                add(brands.get(line.brand, ()), i)
            for tag in line.tags:
                add(tags.get(tag, ()), i)
            for prefix in line.categories:
                add(categories.get(prefix, ()), i)
            if line.shop is not None:
                add(shops.get(line.shop, ()), i)
        for code in cart.codes:
            add(self._by_code.get(code, ()), None)
        return [(promotion, every if (hit := lines[promotion.id]) is None else tuple(sorted(hit)))
                for promotion in sorted(found.values(), key=lambda p: self._order[p.id])]
