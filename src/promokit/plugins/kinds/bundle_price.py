"""``bundle_price`` (組合價 / 套裝): a set of components sold together at one price.

Campaign keys: ``components``, a list of tables each with either ``sku`` or
``scope`` (a scope table) and a ``quantity`` (default 1); ``price``, the price
of one bundle. A promotion without a ``scope`` of its own covers exactly the
lines its components match.

A cart holds ``k`` bundles, as many as the components allow (a unit serves
only one component), and each component takes its dearest matching units (by
current net; equal units: the earlier line first). When components match
the same lines (two ``scope`` components, say), the bundles are filled with
the dearest units that can still be shared out among them, so that taking a
dear unit for one component never leaves another short. The bundled units
are consumed (no other quantity deal uses them again); the discount is their
net minus ``k × price``, spread over them by net. Units left over keep their
price. A bundle that costs no less than its parts does not apply
(``no_saving``); a cart without every component does not either
(``below_threshold``). 手機×2 + 耳機×3 with a 手機＋耳機 bundle: two bundles,
the third 耳機 at its price.

A unit's net is its line's available net spread over the line's units by
largest remainder (the earlier units take the odd cents), taken in order.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from promokit import hookimpl
from promokit.allocation import unit_runs, unit_share_sum
from promokit.kinds import Application, DiscountKind, NoDeal, Outcome, UnitDeal
from promokit.money import Currency
from promokit.params import Params
from promokit.terms import Scope
from promokit.text import Text


@attrs.frozen
class Component:
    scope: Scope
    quantity: int
    sku: str | None = None
    """The SKU when the component names one (for wording)."""


@attrs.frozen
class BundleParams:
    components: tuple[Component, ...]
    price: int
    currency: Currency


class BundlePrice(DiscountKind):
    name = "bundle_price"
    default_stage = "item"
    monotone = True
    quantity_deal = True

    def parse(self, params: Params) -> BundleParams:
        components = []
        skus: dict[str, int] = {}
        for index, cp in enumerate(params.tables("components", required=True,
                                                 non_empty=True) or []):
            has_sku, has_scope = cp.has("sku"), cp.has("scope")
            sku = None
            scope = Scope()
            if has_sku == has_scope:
                cp.problem("give either sku or scope, not both" if has_sku
                           else "needs sku or scope")
            elif has_sku:
                sku = cp.string("sku")
                if sku is not None:
                    scope = Scope(skus=[sku])
                    if sku in skus:
                        cp.problem(f"{sku!r} is also component {skus[sku]}; "
                                   "give that one a quantity instead", "sku")
                    skus.setdefault(sku, index)
            else:
                table = cp.table("scope")
                if table is not None:
                    scope = Scope.from_params(table)
                    if not scope.lists_anything:
                        cp.problem("must list the items of the component (skus, categories …)",
                                   "scope")
            quantity = cp.integer("quantity", required=False, minimum=1, default=1) or 1
            cp.finish()
            components.append(Component(scope=scope, quantity=quantity, sku=sku))
        price = params.money("price", positive=True) or 0
        return BundleParams(components=tuple(components), price=price,
                            currency=params.currency)

    def scopes(self, params: BundleParams) -> tuple[Scope, ...]:
        return tuple(component.scope for component in params.components)

    def compute(self, params: BundleParams, app: Application) -> Outcome:
        matching = [[p for p, view in enumerate(app.lines) if component.scope.matches(view.line)]
                    for component in params.components]
        bound = min(sum(app.lines[p].quantity for p in lines) // component.quantity
                    for component, lines in zip(params.components, matching, strict=True))
        # The units dearest first (ties: earlier line, earlier unit), as runs of equal
        # units: a line of a million units is two runs, not a million.
        runs = sorted((-share, position, first, count)
                      for position, view in enumerate(app.lines)
                      for share, first, count in unit_runs(view.net, view.quantity))
        bundles, taken = _most_bundles(params, runs, matching, bound, len(app.lines))
        if taken is None:
            return NoDeal("below_threshold", self._missing(params, app, matching))
        parts = sum(unit_share_sum(view.net, view.quantity, 0, count)
                    for view, count in zip(app.lines, taken, strict=True))
        amount = parts - bundles * params.price
        if amount <= 0:
            return NoDeal("no_saving", app.text.gettext("the bundle costs more than its parts"))
        return UnitDeal(amount, taken)

    def _missing(self, params: BundleParams, app: Application,
                 matching: Sequence[Sequence[int]]) -> str:
        short = []
        for component, lines in zip(params.components, matching, strict=True):
            have = sum(app.lines[p].quantity for p in lines)
            if have < component.quantity:
                short.append(f"{self._name(component, app.text)} ×{component.quantity - have}")
        text = app.text
        if not short:  # enough of each alone, not for all at once (shared lines)
            return text.gettext("not enough items to make up the bundle")
        return text.gettext("add {items} to make up the bundle",
                            items=_plus(text).join(short))

    @staticmethod
    def _name(component: Component, text: Text) -> str:
        return component.sku or text.gettext("selected items")

    def describe(self, params: BundleParams, text: Text) -> str:
        price = text.money(params.price, params.currency)
        parts = [f"{self._name(component, text)} ×{component.quantity}"
                 for component in params.components]
        return text.gettext("bundle of {items} for {price}", items=_plus(text).join(parts),
                            price=price)


def _plus(text: Text) -> str:
    """Between the components of a bundle: ``＋`` / `` + ``."""
    return text.pgettext("bundle", " + ")


Run = tuple[int, int, int, int]
"""Equal units, dearest first: ``(-share, line position, first unit, units)``."""


def _most_bundles(params: BundleParams, runs: Sequence[Run], matching: Sequence[Sequence[int]],
                  bound: int, lines: int) -> tuple[int, list[int] | None]:
    """The most bundles, up to ``bound``, that the units can fill, and the units taken
    from each line for them (``None`` if not even one fits). Components may share
    lines, so fewer than ``bound`` may fit; if ``k`` bundles fit, so do fewer, so
    the most is found by halving."""
    best: tuple[int, list[int] | None] = (0, None)
    low, high = 1, bound
    while low <= high:
        middle = (low + high) // 2
        taken = _assemble(params, runs, matching, middle, lines)
        if taken is None:
            high = middle - 1
        else:
            best = (middle, taken)
            low = middle + 1
    return best


def _assemble(params: BundleParams, runs: Sequence[Run], matching: Sequence[Sequence[int]],
              bundles: int, lines: int) -> list[int] | None:
    """Units taken from each line for ``bundles`` bundles, or ``None`` if they do not fit.

    The dearest units first, each kept if the units kept so far can still be
    shared out among the components (one unit serves one component). That
    greedy choice is the dearest set of units that fills the bundles, so the
    count never depends on the nets and a lower net never saves more (the kind
    is ``monotone``). When the components match different lines it is simply
    "each component takes its dearest units". A run of equal units is placed at
    once, as many as fit.
    """
    wanted = [bundles * component.quantity for component in params.components]
    serves = [set(matched) for matched in matching]
    # flow[c][p]: units of line p serving component c.
    flow = [[0] * lines for _ in params.components]
    filled = [0] * len(params.components)
    taken = [0] * lines
    full: set[int] = set()  # lines no further unit of which fits
    need = sum(wanted)
    for _, position, _, count in runs:
        if need == 0:
            break
        if position in full:
            continue
        asked = min(count, need)
        placed = _place(position, asked, serves, flow, filled, wanted)
        taken[position] += placed
        need -= placed
        if placed < asked:
            full.add(position)
    return taken if need == 0 else None


def _place(line: int, units: int, serves: Sequence[set[int]], flow: list[list[int]],
           filled: list[int], wanted: Sequence[int]) -> int:
    """Give up to ``units`` more units of ``line`` a component, moving units already
    placed between components where that makes room (augmenting paths, each
    carrying as many units as it can); how many were placed."""
    placed = 0
    while placed < units:
        moved = _augment(line, units - placed, serves, flow, filled, wanted)
        if moved == 0:
            break
        placed += moved
    return placed


def _augment(line: int, units: int, serves: Sequence[set[int]], flow: list[list[int]],
             filled: list[int], wanted: Sequence[int]) -> int:
    """One augmenting path from ``line`` to a component with room, carrying as many of
    ``units`` as every hop allows; how many it carried (0: no path)."""
    came_from: dict[int, tuple[int, int | None]] = {}  # component → (line, previous component)
    frontier: list[tuple[int, int | None]] = [(line, None)]
    seen_lines = {line}
    while frontier:
        next_frontier: list[tuple[int, int | None]] = []
        for at_line, via in frontier:
            for component, lines in enumerate(serves):
                if at_line not in lines or component in came_from:
                    continue
                came_from[component] = (at_line, via)
                if filled[component] < wanted[component]:
                    carried = min(units, wanted[component] - filled[component])
                    step: int | None = component
                    while step is not None:  # the path's narrowest hop
                        source, previous = came_from[step]
                        if previous is not None:
                            carried = min(carried, flow[previous][source])
                        step = previous
                    filled[component] += carried
                    step = component
                    while step is not None:  # walk back, shifting the units per hop
                        source, previous = came_from[step]
                        flow[step][source] += carried
                        if previous is not None:
                            flow[previous][source] -= carried
                        step = previous
                    return carried
                for other, count in enumerate(flow[component]):
                    if count and other not in seen_lines:
                        seen_lines.add(other)
                        next_frontier.append((other, component))
        frontier = next_frontier
    return 0


@hookimpl
def promokit_register_kinds() -> list[DiscountKind]:
    return [BundlePrice()]
