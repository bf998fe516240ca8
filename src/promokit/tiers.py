"""Reading tier lists (``tiers = [{ spend, off }, …]``) for kinds with tiers.

滿減 (``tiered_threshold``) measures spend, 滿N件 (``quantity_tiered``) units; both
read their tiers here, and a plugin kind with tiers can too.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import attrs

from .params import Params

__all__ = ["Tier", "read_tiers"]


@attrs.frozen
class Tier:
    """One tier: reached ``at`` a spend (minor units) or a number of units, giving
    ``off`` (minor units) or ``percent``."""

    at: int
    off: int | None = None
    percent: Decimal | None = None


def read_tiers(params: Params, measure: str, *,
               unit: Literal["money", "count"]) -> tuple[list[Tier], int]:
    """Read ``tiers``: a non-empty list of ``{ <measure>, off }`` or
    ``{ <measure>, percent }`` tables, strictly ascending by ``measure``, each
    giving more than the one before, not mixing ``off`` and ``percent``; with
    ``unit = "money"`` an ``off`` may not exceed its tier's spend.

    Returns the valid tiers and the number of tables given. Problems are
    recorded with their paths.
    """
    tiers: list[Tier] = []
    tables = params.tables("tiers", required=True, non_empty=True) or []
    for tp in tables:
        at = (tp.money(measure, positive=True) if unit == "money"
              else tp.integer(measure, minimum=1))
        has_off, has_percent = tp.has("off"), tp.has("percent")
        off = percent = None
        if has_off == has_percent:
            tp.problem("give either off (money) or percent, not both" if has_off
                       else "needs off (money) or percent")
        elif has_off:
            off = tp.money("off", positive=True)
            if unit == "money" and off is not None and at is not None and off > at:
                tp.problem(f"is more than the tier's {measure}", "off")
        else:
            percent = tp.percent("percent")
        tp.finish()
        if at is None or (off is None and percent is None):
            continue
        tier = Tier(at=at, off=off, percent=percent)
        if tiers:
            previous = tiers[-1]
            if (previous.off is None) != (tier.off is None):
                tp.problem("mixes off and percent tiers")
            elif tier.at <= previous.at:
                tp.problem(f"{measure} must be above the previous tier's "
                           "(tiers overlap or are not in ascending order)", measure)
            elif (tier.off or tier.percent or 0) <= (previous.off or previous.percent or 0):
                tp.problem("must give more than the previous tier")
        tiers.append(tier)
    return tiers, len(tables)
