"""A presale's config: :class:`PresaleConfig`, the 20% deposit cap and the
window checks :meth:`Presale.parse` uses."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from decimal import Decimal

import attrs

from promokit.params import Params

#: The largest share of the price a deposit may be: 《民法典》第五百八十六條.
DEPOSIT_CAP_SHARE = Decimal("0.2")
WINDOWS = ("deposit_start", "deposit_end", "balance_start", "balance_end")


@attrs.frozen(kw_only=True)
class PresaleConfig:
    """A presale's keys, money in minor units. Window times are as written:
    naive ones are in the campaign file's timezone (see :meth:`localized`)."""

    sku: str
    presale_price: int
    deposit: int
    deposit_start: datetime
    deposit_end: datetime
    balance_start: datetime
    balance_end: datetime
    stock: int
    pay_within_minutes: int = 30
    max_units_per_customer: int | None = None
    promotion: str | None = None
    category: str = ""
    brand: str | None = None
    shop: str | None = None

    def localized(self, tz: tzinfo) -> PresaleConfig:
        """The config with naive window times placed in ``tz``."""
        return attrs.evolve(self, deposit_start=aware(self.deposit_start, tz),
                            deposit_end=aware(self.deposit_end, tz),
                            balance_start=aware(self.balance_start, tz),
                            balance_end=aware(self.balance_end, tz))

    @property
    def deposit_cap(self) -> int:
        """The largest deposit allowed: 20% of the presale price, rounded down."""
        return self.presale_price // 5


def aware(moment: datetime, tz: tzinfo) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def check_windows(params: Params, times: Mapping[str, datetime | None]) -> None:
    """The four window times: written alike (all with or all without an offset) and
    in order."""
    given = {key: value for key, value in times.items() if value is not None}
    if len({value.tzinfo is None for value in given.values()}) > 1:
        params.problem("write the four window times alike: all with an offset or all "
                       "without (then they are in the file's timezone)", "deposit_start")
        return
    pairs = (("deposit_start", "deposit_end", "be after"),
             ("deposit_end", "balance_start", "be at or after"),
             ("balance_start", "balance_end", "be after"))
    for first, second, rule in pairs:
        a, b = given.get(first), given.get(second)
        if a is None or b is None:
            continue
        if b < a or (b == a and rule == "be after"):
            what = "the balance must start once deposits close" if second == "balance_start" \
                else "a window must end after it starts"
            params.problem(f"must {rule} {first} ({a.isoformat()}), got {b.isoformat()}: "
                           f"{what}", second)
