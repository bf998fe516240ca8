"""The terms of the ``deposit_multiplier`` promotion that prices the balance
(:class:`Terms`), and how a change to them is judged (:func:`terms_changes`)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from promokit.games import ConfigChange, compare
from promokit.money import MONEY_CONTEXT, round_half_up


@attrs.frozen
class Terms:
    """How the ``deposit_multiplier`` promotion values the deposit (定金膨脹)."""

    promotion: str
    multiplier: Decimal
    cap: int | None
    """The most the expansion takes off one line, in minor units."""

    def worth(self, deposit: int, price: int) -> int:
        """What a one-unit deposit counts as against ``price``."""
        extra = round_half_up(MONEY_CONTEXT.multiply(Decimal(deposit),
                                                     self.multiplier - 1))
        if self.cap is not None:
            extra = min(extra, self.cap)
        return deposit + max(0, min(extra, price - deposit))

    def to_json(self) -> dict[str, Any]:
        return {"promotion": self.promotion, "multiplier": str(self.multiplier),
                "cap": self.cap}


def terms_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[ConfigChange]:
    """How the promotion's terms changed (JSON of :meth:`Terms.to_json`)."""
    if before.get("promotion") is None or after.get("promotion") is None:
        if before.get("promotion") == after.get("promotion"):
            return []
        return [ConfigChange("promotion", str(before.get("promotion") or "none"),
                             str(after.get("promotion") or "none"),
                             after.get("promotion") is None)]
    return [
        *compare("promotion", before["promotion"], after["promotion"], better="neutral"),
        *compare("promotion.multiplier", Decimal(before["multiplier"]),
                 Decimal(after["multiplier"]), better="higher"),
        *compare("promotion.cap", before["cap"], after["cap"], better="higher"),
    ]
