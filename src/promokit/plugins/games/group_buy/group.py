"""One group: its statuses, :class:`Member` and :class:`Group` as reported,
its code, and the row and counter names of a game's groups."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

import attrs

from promokit.money import Currency
from promokit.stores import key_part

#: Hex digits of a group code (derived from the leader's order id).
CODE_LENGTH = 12
_CODE = re.compile(f"[0-9a-f]{{{CODE_LENGTH}}}")
#: Statuses of a closed group, and the one of an open group.
OPEN, FULL, SUCCEEDED, VIRTUAL, EXPIRED = (
    "open", "full", "succeeded", "completed_virtually", "expired")


@attrs.frozen(kw_only=True)
class Member:
    """A real, paying member of a group."""

    customer: str
    order_id: str
    units: int
    """Units bought at the group price (from the engine's order, else 1)."""
    joined_at: datetime
    leader: bool = False
    invited_by: str | None = None
    refunded: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"customer": self.customer, "order_id": self.order_id, "units": self.units,
                "joined_at": self.joined_at.isoformat(), "leader": self.leader,
                "invited_by": self.invited_by, "refunded": self.refunded}


@attrs.frozen(kw_only=True)
class Group:
    """A group's state, as :meth:`GroupBuyGame.group` reports it."""

    group_id: str
    status: str
    """``open``, ``full``, ``succeeded`` (tiers: closed at the window's end with enough
    members), ``completed_virtually`` or ``expired`` (refunded)."""
    leader: str
    members: tuple[Member, ...]
    virtual_members: tuple[str, ...]
    """Places filled by ``auto_complete``: not buyers, never counted as such."""
    size: int
    needed: int
    opened_at: datetime
    ends_at: datetime
    closed_at: datetime | None
    price: int
    """The unit price members paid (minor units)."""
    final_price: int | None
    """The unit price the group closed at (tiers: may be lower than ``price``)."""
    currency: Currency = attrs.field(eq=False, repr=False)
    """The campaign file's currency (``price`` and ``final_price`` are its minor units)."""

    @property
    def real_members(self) -> int:
        """Paying members (virtual ones excluded)."""
        return len(self.members)

    @property
    def seats_left(self) -> int:
        """Places still open to join (0 once closed)."""
        return self.size - len(self.members) if self.status == OPEN else 0

    def to_json(self) -> dict[str, Any]:
        """JSON-ready state: prices as decimal strings (``"69.00"``), times ISO 8601
        with their offset."""
        def when(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment is not None else None

        money = self.currency

        return {"group_id": self.group_id, "status": self.status, "leader": self.leader,
                "members": [m.to_json() for m in self.members],
                "virtual_members": list(self.virtual_members),
                "real_members": self.real_members, "size": self.size, "needed": self.needed,
                "seats_left": self.seats_left, "opened_at": when(self.opened_at),
                "ends_at": when(self.ends_at), "closed_at": when(self.closed_at),
                "price": money.format(self.price),
                "final_price": None if self.final_price is None else money.format(
                    self.final_price)}


def group_code(game: str, order_id: str) -> str:
    return hashlib.sha256(f"{game}\n{order_id}".encode()).hexdigest()[:CODE_LENGTH]


def code_of(game: str, group_id: str | None) -> str | None:
    """The code of one of ``game``'s group ids, or ``None``."""
    prefix = game + "."
    if group_id is None or not group_id.startswith(prefix):
        return None
    code = group_id[len(prefix):]
    return code if _CODE.fullmatch(code) else None


class Keys:
    """Counter and row names of one game's groups."""

    def __init__(self, game: str) -> None:
        self.game = game

    def row(self, code: str) -> str:
        return f"game:{self.game}:group:{code}"

    def members(self, code: str) -> str:
        return f"{self.row(code)}:members"

    def ends(self, code: str) -> str:
        return f"{self.row(code)}:ends"

    def closed(self, code: str) -> str:
        return f"{self.row(code)}:closed"

    def member(self, code: str, customer: str) -> str:
        return f"{self.row(code)}:member:{key_part(customer)}"

    def groups(self, customer: str) -> str:
        return f"game:{self.game}:groups:{key_part(customer)}"
