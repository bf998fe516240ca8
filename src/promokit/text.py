"""Customer-facing wording in zh-CN and en: money, discounts, reasons, hints.

One :class:`Text` per language is handed to kinds and conditions (through
``Application.text`` and ``describe``), to the engine for reason messages and
hints, and to :mod:`promokit.rules_text` for the 活動規則. Numbers are
formatted with Babel.

>>> Text("zh-CN").hint(3180, 5000, currency("CNY"))
'再買¥31.80可減¥50.00'
>>> Text("en").hint(3180, 5000, currency("CNY"))
'Add ¥31.80 more to save ¥50.00'
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from babel.numbers import format_currency, format_decimal

from .money import Currency, currency

__all__ = ["LANGUAGES", "Lang", "Text"]

Lang = Literal["en", "zh-CN"]
LANGUAGES: tuple[Lang, ...] = ("en", "zh-CN")
_LOCALES = {"en": "en", "zh-CN": "zh_Hans_CN"}
# Symbols customers of these currencies read, in either language (Babel's English
# "CN¥" is for telling currencies apart, which a shop's own customers do not need).
_SYMBOLS = {"CNY": "¥", "JPY": "¥", "HKD": "HK$", "TWD": "NT$", "USD": "$", "EUR": "€",
            "GBP": "£", "KRW": "₩"}

_REASONS: dict[str, dict[str, str]] = {
    "out_of_window": {"en": "only runs during its daily hours", "zh-CN": "不在活動時段內"},
    "not_started": {"en": "has not started yet", "zh-CN": "活動尚未開始"},
    "ended": {"en": "has ended", "zh-CN": "活動已結束"},
    "channel": {"en": "not available on this channel", "zh-CN": "當前渠道不參與此活動"},
    "currency": {"en": "priced in another currency than the cart",
                 "zh-CN": "活動幣種與購物車不同"},
    "no_lines_in_scope": {"en": "no item in the cart qualifies",
                          "zh-CN": "購物車中沒有參與活動的商品"},
    "below_threshold": {"en": "the threshold is not met", "zh-CN": "未達到活動門檻"},
    "no_saving": {"en": "would not lower the price", "zh-CN": "不會使價格更低"},
    "code_missing": {"en": "needs a promotion code", "zh-CN": "需要輸入優惠碼"},
    "code_invalid": {"en": "no promotion accepts this code", "zh-CN": "優惠碼無效"},
    "code_used": {"en": "this code has already been used", "zh-CN": "優惠碼已被使用"},
    "limit_reached": {"en": "the usage limit has been reached", "zh-CN": "已達到使用次數上限"},
    "budget_exhausted": {"en": "the promotion's budget is used up",
                         "zh-CN": "活動預算已用完"},
    "stock_exhausted": {"en": "sold out", "zh-CN": "已搶光"},
    "not_best": {"en": "another combination saves more", "zh-CN": "其他優惠組合更划算"},
    "not_eligible": {"en": "the {rule} condition is not met", "zh-CN": "不符合參與條件（{rule}）"},
    "excluded_by": {"en": "cannot be combined with {other}", "zh-CN": "不可與「{other}」同時使用"},
    "guard": {"en": "blocked by the {guard} guard", "zh-CN": "因「{guard}」規則不可使用"},
}


class Text:
    """Wording and number formats for one language (``"en"`` or ``"zh-CN"``)."""

    def __init__(self, lang: Lang | str = "en") -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
        self.lang: Lang = "zh-CN" if lang == "zh-CN" else "en"
        self.locale = _LOCALES[self.lang]

    @property
    def zh(self) -> bool:
        """Whether this is Chinese."""
        return self.lang == "zh-CN"

    def pick(self, en: str, zh: str) -> str:
        """The English or the Chinese of two wordings."""
        return zh if self.zh else en

    def money(self, minor: int, money: Currency | str) -> str:
        """``¥31.80`` (both languages for CNY), ``$12.30``, ``¥1,990`` …"""
        money = currency(money) if isinstance(money, str) else money
        amount = money.to_decimal(minor)
        symbol = _SYMBOLS.get(money.code)
        if symbol is None:
            return str(format_currency(amount, money.code, locale=self.locale))
        digits = "#,##0" + ("." + "0" * money.exponent if money.exponent else "")
        return symbol + str(format_decimal(amount, format=digits, locale=self.locale))

    def number(self, value: Decimal | int) -> str:
        """A plain number with grouping (``1,336``)."""
        return str(format_decimal(value, locale=self.locale))

    def percent_off(self, percent: Decimal) -> str:
        """``5% off`` / ``95折``; ``10`` → ``9折``, ``15`` → ``85折``, ``100`` → ``免費``."""
        if not self.zh:
            return f"{self.number(percent)}% off"
        rate = ((Decimal(100) - percent) / Decimal(10)).normalize()
        if rate == 0:
            return "免費"
        text = format(rate, "f")
        whole, _, tenths = text.partition(".")
        if len(tenths) == 1 and whole != "0":
            return f"{whole}{tenths}折"  # 9.5 → 95折, the way shops write it
        return f"{text}折"

    def reason(self, code: str, **details: str) -> str:
        """The default message of a reason code; ``not_eligible:x`` and the like
        take their detail from ``details`` (``rule``, ``other``, ``guard``)."""
        head, _, rest = code.partition(":")
        wording = _REASONS.get(head)
        if wording is None:
            return code
        fill = {"rule": rest, "other": rest, "guard": rest} | details
        return wording[self.lang].format(**fill)

    def hint(self, missing: int, saving: int, money: Currency) -> str:
        """湊單提示: ``再買¥31.80可減¥50.00`` / ``Add ¥31.80 more to save ¥50.00``."""
        if self.zh:
            return f"再買{self.money(missing, money)}可減{self.money(saving, money)}"
        return f"Add {self.money(missing, money)} more to save {self.money(saving, money)}"
