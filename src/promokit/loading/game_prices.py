"""How a game's price reaches the cart: a line's ``group_id`` / ``bargain_id``.

For every game whose kind sets prices (``GameKind.price_field``), the loader
adds a promotion of kind ``game_price`` with the game's id, name, campaign,
schedule and funding. It acts at the ``item`` stage on the lines that carry
this game's group or bargain, taking each down to the price the game's state
gives (read from the store's counters with the other promotions' counters, so
``evaluate`` stays free of other I/O), and at checkout it holds what the game
says an order holds (a bargain is bought once). It is an ordinary promotion
from there on: it stacks, it is allocated, funded, explained and ledgered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from ..campaign import Promotion
from ..cart import Customer, Line
from ..games import GameSpec
from ..kinds import Application, DiscountKind, NoDeal, Outcome, PerLine
from ..params import Params
from ..stores.base import Delta
from ..terms import Scope
from ..text import Text

__all__ = ["GamePrice", "game_promotion"]


@attrs.frozen
class GamePriceParams:
    spec: GameSpec = attrs.field(eq=False)
    scope: Scope


class GamePrice(DiscountKind):
    """The price a game gives the lines that carry its group or bargain."""

    name = "game_price"
    default_stage = "item"

    def parse(self, params: Params) -> Any:
        params.problem("game_price promotions come from [[game]] tables, not [[promotion]]",
                       "kind")

    def scopes(self, params: GamePriceParams) -> tuple[Scope, ...]:
        return (params.scope,)

    def describe(self, params: GamePriceParams, text: Text) -> str:
        return params.spec.name

    def _mine(self, params: GamePriceParams, line: Line) -> bool:
        spec = params.spec
        return spec.kind_impl.covers(spec, line)

    def counter_keys(self, params: GamePriceParams, lines: Sequence[Line],
                     customer: Customer) -> list[str]:
        spec = params.spec
        keys: list[str] = []
        for line in lines:
            if self._mine(params, line):
                keys.extend(spec.kind_impl.price_keys(spec, line, customer))
                keys.extend(d.key for d in spec.kind_impl.price_holds(spec, line, customer))
        return keys

    def holds(self, params: GamePriceParams, lines: Sequence[Line],
              customer: Customer) -> list[Delta]:
        spec = params.spec
        return [delta for line in lines if self._mine(params, line)
                for delta in spec.kind_impl.price_holds(spec, line, customer)]

    def precheck(self, params: GamePriceParams, app: Application) -> NoDeal | None:
        if not any(self._mine(params, view.line) for view in app.lines):
            field = params.spec.kind_impl.price_field
            text = app.text
            if field == "group_id":
                message = text.gettext("no line carries a group_id of this game")
            elif field == "bargain_id":
                message = text.gettext("no line carries a bargain_id of this game")
            else:
                message = text.gettext("no line carries a {field} of this game", field=field)
            return NoDeal("no_lines_in_scope", message)
        return None

    def compute(self, params: GamePriceParams, app: Application) -> Outcome:
        spec = params.spec
        amounts = []
        refused: NoDeal | None = None
        for view in app.lines:
            if not self._mine(params, view.line):
                amounts.append(0)
                continue
            holds = spec.kind_impl.price_holds(spec, view.line, app.customer)
            if any(d.refuses(app.counters.get(d.key, 0)) for d in holds):
                refused = refused or NoDeal("limit_reached", app.text.reason("limit_reached"))
                amounts.append(0)
                continue
            price = spec.kind_impl.unit_price(spec, view.line, app.customer, app.counters,
                                              app.now, app.text)
            if isinstance(price, NoDeal):
                refused = refused or price
                amounts.append(0)
                continue
            units = min(view.quantity, spec.kind_impl.price_units(spec, view.line))
            amounts.append(min(max(view.unit_price - price, 0) * units, view.net))
        if not any(amounts):
            return refused or NoDeal("no_saving", app.text.reason("no_saving"))
        return PerLine(amounts)


GAME_PRICE = GamePrice()


def game_promotion(spec: GameSpec) -> Promotion:
    """The promotion that prices lines carrying this game's group or bargain."""
    scope = spec.kind_impl.price_scope(spec)
    return Promotion(id=spec.id, name=spec.name, kind=GAME_PRICE.name, stage="item",
                     params=GamePriceParams(spec, scope), kind_impl=GAME_PRICE,
                     campaign=spec.campaign, scope=scope, schedule=spec.schedule,
                     conditions=spec.conditions, funding=spec.funding, priority=1000,
                     source=dict(spec.source))
