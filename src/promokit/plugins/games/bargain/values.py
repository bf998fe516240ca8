"""A bargain game's values: its config (:class:`BargainConfig`), a
bargain as it stands (:class:`BargainState`) and what one help did
(:class:`HelpResult`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from promokit.money import Currency


@attrs.frozen(kw_only=True)
class BargainConfig:
    """A bargain game's own keys, parsed (money in minor units)."""

    sku: str
    """The product bargained for."""
    price: int
    """The list price every bargain starts from."""
    floor: int
    """The lowest price helps can reach."""
    helps: int
    """N: exactly N helps take the price from ``price`` to ``floor``."""
    window_hours: int = 24
    """How long a bargain takes helps, from its start."""
    buy_within_hours: int = 24
    """How long after the window the owner may still buy at the price reached."""
    helps_per_day: int | None = None
    """Helps one customer may give a day (local days), across the game's bargains."""
    new_helper_bonus: int = 1
    """A new customer's help (``orders_count == 0``) makes this many planned cuts at once."""
    max_bargains_per_customer: int = 1
    """Bargains one customer may start in this game."""

    @property
    def total_cut(self) -> int:
        """What the helps cut together: price − floor."""
        return self.price - self.floor


@attrs.frozen(kw_only=True)
class BargainState:
    """One bargain as it stands. ``helps_left`` is exact: the planned cuts left,
    which is the most helps still needed (a new customer's help may take several)."""

    id: str
    game: str
    owner: str
    status: str
    """``open`` (taking helps), ``done`` (the floor is reached) or ``expired``."""
    list_price: int
    floor: int
    price: int
    """The price now: list price − cut."""
    cut: int
    helps: int
    """The planned cuts from the list price to the floor (N)."""
    helps_left: int
    helpers: tuple[str, ...]
    started_at: datetime
    closes_at: datetime
    """The end of the window (exclusive): helps are taken before it."""
    buy_by: datetime
    """The owner may buy at :attr:`price` before this time."""
    bought: bool

    def to_json(self, money: Currency) -> dict[str, Any]:
        """JSON-ready data, amounts as strings in ``money``'s minor unit."""
        return {"id": self.id, "game": self.game, "owner": self.owner,
                "status": self.status, "list_price": money.format(self.list_price),
                "floor": money.format(self.floor), "price": money.format(self.price),
                "cut": money.format(self.cut), "helps": self.helps,
                "helps_left": self.helps_left, "helpers": list(self.helpers),
                "started_at": self.started_at.isoformat(),
                "closes_at": self.closes_at.isoformat(), "buy_by": self.buy_by.isoformat(),
                "bought": self.bought}


@attrs.frozen(kw_only=True)
class HelpResult:
    """What one help did."""

    bargain: str
    helper: str
    cut: int
    """This help's cut, in minor units."""
    cuts: int
    """Planned cuts it made: 1, or up to ``new_helper_bonus`` for a new customer."""
    new_helper: bool
    price: int
    """The bargain's price after this help."""
    helps_left: int
    done: bool
    """This help reached the floor."""

    def to_json(self, money: Currency) -> dict[str, Any]:
        """JSON-ready data, amounts as strings in ``money``'s minor unit."""
        return {"bargain": self.bargain, "helper": self.helper, "cut": money.format(self.cut),
                "cuts": self.cuts, "new_helper": self.new_helper,
                "price": money.format(self.price), "helps_left": self.helps_left,
                "done": self.done}
