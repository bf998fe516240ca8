"""The lottery's config: :class:`Prize`, :class:`LotteryConfig` and the
parsing helpers :meth:`Lottery.parse` uses."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import attrs

from promokit.games.audit import MAX_TOTAL_WEIGHT
from promokit.money import Currency
from promokit.params import Params

#: What a prize can be (``none`` only for the fallback: 謝謝參與).
PRIZE_KINDS = ("cash", "coupon", "goods", "points", "none")
#: Actions that can earn entry tickets, in the order the disclosure lists them.
TICKET_ACTIONS = ("purchase", "share", "quiz")
_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_DIGITS = re.compile(r"^[0-9]{1,30}$")


@attrs.frozen(kw_only=True)
class Prize:
    """One prize of a lottery."""

    id: str
    name: str
    kind: str
    """``cash``, ``coupon``, ``goods``, ``points`` or ``none``."""
    weight: int
    """Its share of the draw: probability = weight / total weight (the weights add up to
    at most :data:`~promokit.games.audit.MAX_TOTAL_WEIGHT`)."""
    value: int | None = None
    """Cash amount or declared market value, in minor units."""
    stock: int | None = None
    """How many can be won in the whole game; ``None`` only for the fallback."""
    locked_until: int | None = None
    """Cannot be won until the game has had this many draws."""
    fallback: bool = False

    def locked(self, draws_before: int) -> bool:
        """Whether it is still locked when the game has had ``draws_before`` draws."""
        return self.locked_until is not None and draws_before < self.locked_until

    def to_json(self, money: Currency) -> dict[str, Any]:
        """The prize as a customer sees it, its value a decimal string in ``money``'s
        minor unit (``"50.00"``; ``None`` for a prize without one)."""
        return {"id": self.id, "name": self.name, "kind": self.kind,
                "value": None if self.value is None else money.format(self.value),
                "fallback": self.fallback}


@attrs.frozen(kw_only=True)
class LotteryConfig:
    """A lottery's parsed keys (see the module docstring)."""

    prizes: tuple[Prize, ...]
    draws_per_day: int | None = None
    free_draws_per_day: int = 1
    max_wins: int | None = None
    guarantee_every: int | None = None
    tickets: tuple[tuple[str, int], ...] = ()
    """``(action, tickets granted)`` for each action that earns tickets."""
    max_tickets_per_day: int | None = None
    draw_time: str | None = None
    redeem: str | None = None

    @property
    def weights(self) -> tuple[int, ...]:
        return tuple(prize.weight for prize in self.prizes)

    @property
    def fallback(self) -> Prize:
        return next(prize for prize in self.prizes if prize.fallback)

    @property
    def paid(self) -> tuple[Prize, ...]:
        """Every prize but the fallback."""
        return tuple(prize for prize in self.prizes if not prize.fallback)

    def prize(self, prize_id: str) -> Prize | None:
        return next((prize for prize in self.prizes if prize.id == prize_id), None)

    def tickets_for(self, action: str) -> int | None:
        return dict(self.tickets).get(action)

    def probability(self, prize: Prize) -> Decimal:
        """The prize's share of the total weight as a percentage, to 2 decimals."""
        share = Decimal(prize.weight * 100) / Decimal(sum(self.weights))
        return share.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# -- parsing helpers -----------------------------------------------------------------------


def parse_prize(p: Params) -> Prize | None:
    before = len(p.problems)
    prize_id = p.string("id")
    if prize_id is not None and not _ID.match(prize_id):
        p.problem("may hold only letters, digits, '-' and '_' (it names a counter)", "id")
    name = p.string("name")
    kind = p.string("kind", choices=PRIZE_KINDS)
    weight = p.integer("weight", minimum=1)
    fallback = p.boolean("fallback")
    value = p.money("value", required=kind in ("cash", "goods"), positive=True)
    stock = p.integer("stock", required=False, minimum=0)
    locked_until = p.integer("locked_until", required=False, minimum=1)
    p.finish()
    if kind == "none" and p.has("value"):
        p.problem("a prize of kind none has no value", "value")
    if kind == "none" and not fallback:
        p.problem("only the fallback prize may be kind none (謝謝參與)", "kind")
    if fallback and p.has("stock"):
        p.problem("the fallback prize is unlimited: remove stock", "stock")
    if not fallback and not p.has("stock"):
        p.problem("is required (only the fallback prize is unlimited)", "stock")
    if fallback and locked_until is not None:
        p.problem("the fallback prize cannot be locked", "locked_until")
    if len(p.problems) > before or prize_id is None or name is None or kind is None \
            or weight is None:
        return None
    return Prize(id=prize_id, name=name, kind=kind, weight=weight, value=value, stock=stock,
                 locked_until=locked_until, fallback=fallback)


def check_prizes(params: Params, tables: Sequence[Params]) -> None:
    """Rules across the prizes (checked on the tables as written, so that one bad
    prize does not hide them)."""
    seen: set[str] = set()
    for index, table in enumerate(tables):
        prize_id = table.data.get("id")
        if not isinstance(prize_id, str):
            continue  # reported by parse_prize
        if prize_id in seen:
            params.problem(f"prize id {prize_id!r} is used twice", f"prizes[{index}].id")
        seen.add(prize_id)
    total = sum(weight for table in tables if (weight := _whole(table.data.get("weight"))))
    if total > MAX_TOTAL_WEIGHT:
        params.problem(f"the prizes' weights add up to {total:,}, more than "
                       f"{MAX_TOTAL_WEIGHT:,}: a draw picks ⌊u·W/2⁶⁴⌋ among the total W, "
                       "which must stay at most that for every prize to get its share",
                       "prizes")
    fallbacks = sum(table.data.get("fallback") is True for table in tables)
    if fallbacks != 1:
        params.problem(f"exactly one prize must be the fallback (fallback = true: 謝謝參與 or "
                       f"a small coupon); found {fallbacks}", "prizes")
    if fallbacks == len(tables):
        params.problem("needs at least one prize besides the fallback", "prizes")


def _whole(value: Any) -> int | None:
    """A weight as :meth:`Params.integer` reads it (a whole number, or its digits),
    or ``None``."""
    if isinstance(value, str) and _DIGITS.match(value.strip()):
        return int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None
