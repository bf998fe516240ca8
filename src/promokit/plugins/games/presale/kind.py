""":class:`Presale`, the ``presale`` game kind: parsing, the schedule check,
the disclosure and config changes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar

from promokit.games import ConfigChange, GameKind, GameRuntime, GameSpec, compare
from promokit.params import Params
from promokit.text import Text

from .config import WINDOWS, PresaleConfig, check_windows
from .disclosure import rules
from .game import PresaleGame


class Presale(GameKind):
    """The ``presale`` game kind (預售, 定金膨脹)."""

    name = "presale"
    actions: ClassVar[Mapping[str, str]] = {
        "reserve": "put down a deposit (--customer, --set order_id=… --set quantity=…)",
        "pay": "the deposit was paid (--set order_id=…)",
        "cancel": "cancel an unpaid deposit (--set order_id=…)",
        "balance": "print the balance cart line as JSON (--set order_id=… [line_id=…])",
        "settle": "the balance was paid (--set order_id=… --set balance_order_id=…)",
        "state": "a deposit as it stands (--set order_id=…), or the stock left",
    }

    def parse(self, params: Params, spec: GameSpec) -> PresaleConfig | None:
        """Read and check every presale key (see the module docstring)."""
        sku = params.string("sku")
        price = params.money("presale_price", positive=True)
        deposit = params.money("deposit", positive=True)
        times = {key: params.datetime(key, None, required=True) for key in WINDOWS}
        stock = params.integer("stock", minimum=1)
        pay_within = params.integer("pay_within_minutes", required=False, minimum=1,
                                    default=30)
        per_customer = params.integer("max_units_per_customer", required=False, minimum=1)
        promotion = params.string("promotion", required=False)
        category = params.string("category", required=False, default="")
        brand = params.string("brand", required=False)
        shop = params.string("shop", required=False)
        if price is not None and deposit is not None and deposit * 5 > price:
            money = params.currency
            params.problem(f"{money.format(deposit)} is more than 20% of the presale price "
                           f"{money.format(price)}: at most {money.format(price // 5)} "
                           "(《民法典》第五百八十六條: 定金的數額不得超過主合同標的額的百分之二十)",
                           "deposit")
        check_windows(params, times)
        if (sku is None or price is None or deposit is None or stock is None
                or pay_within is None or any(t is None for t in times.values())):
            return None
        return PresaleConfig(
            sku=sku, presale_price=price, deposit=deposit, stock=stock,
            pay_within_minutes=pay_within, max_units_per_customer=per_customer,
            promotion=promotion, category=category or "", brand=brand, shop=shop,
            **times)  # type: ignore[arg-type]  # None ruled out above

    def check(self, spec: GameSpec, jurisdiction: str, params: Params) -> None:
        """Refuse the shared ``start``/``end``: the windows are the schedule."""
        for key in ("start", "end"):
            if key in spec.source:
                params.problem("a presale runs by deposit_start … balance_end; leave "
                               f"{key} out", key)

    def disclosure(self, spec: GameSpec, text: Text) -> list[str]:
        """The rules from the config alone (the bound game adds the promotion's terms)."""
        return rules(spec, spec.config, text, tz=spec.timezone)

    def changes(self, old: GameSpec, new: GameSpec) -> list[ConfigChange]:
        """Higher deposit or price, shorter windows, less stock, less time to pay, a
        lower limit, a lost promotion: worse. (The promotion's multiplier and cap
        are compared when the game is bound: :meth:`PresaleGame.check_promotion`.)"""
        a, b = old.config, new.config
        changes = [
            *compare("sku", a.sku, b.sku, better="same"),
            *compare("presale_price", a.presale_price, b.presale_price, better="lower"),
            *compare("deposit", a.deposit, b.deposit, better="lower"),
            *_when("deposit_start", a.deposit_start, b.deposit_start, better="lower"),
            *_when("deposit_end", a.deposit_end, b.deposit_end, better="higher"),
            *_when("balance_start", a.balance_start, b.balance_start, better="lower"),
            *_when("balance_end", a.balance_end, b.balance_end, better="higher"),
            *compare("stock", a.stock, b.stock, better="higher"),
            *compare("pay_within_minutes", a.pay_within_minutes, b.pay_within_minutes,
                     better="higher"),
            *compare("max_units_per_customer", a.max_units_per_customer,
                     b.max_units_per_customer, better="higher"),
            *compare("category", a.category, b.category, better="neutral"),
            *compare("brand", a.brand, b.brand, better="neutral"),
            *compare("shop", a.shop, b.shop, better="neutral"),
        ]
        if a.promotion != b.promotion:
            lost = a.promotion is not None and b.promotion is None
            changes.append(ConfigChange("promotion", str(a.promotion or "none"),
                                        str(b.promotion or "none"), lost))
        return changes

    def bind(self, spec: GameSpec, runtime: GameRuntime) -> PresaleGame:
        """The playable presale; checks its ``promotion`` (``bad_promotion``,
        ``config_worse``)."""
        game = PresaleGame(spec, runtime)
        game.check_promotion()
        return game


def _when(path: str, before: datetime, after: datetime, *, better: str) -> list[ConfigChange]:
    """Compare two window times (a naive and an aware one cannot be ordered: any
    change of that kind is taken as worse)."""
    if (before.tzinfo is None) != (after.tzinfo is None):
        return [ConfigChange(path, before.isoformat(), after.isoformat(), True)]
    return compare(path, before, after, better=better)
