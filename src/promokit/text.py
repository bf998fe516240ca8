"""Customer-facing wording in zh-CN and en: money, discounts, reasons, hints,
and the pieces of the 活動規則 (times, windows, stages, limits).

One :class:`Text` per language is handed to kinds and conditions (through
``Application.text`` and ``describe``), to the engine for reason messages and
hints, and to :mod:`promokit.rules_text` for the 活動規則. Numbers, money,
dates and times are formatted with Babel. A ``Text`` may carry the campaign
file's currency, so that ``describe`` can write amounts with :meth:`Text.amount`.

>>> Text("zh-CN").hint(3180, 5000, currency("CNY"))
'再買¥31.80可減¥50.00'
>>> Text("en").hint(3180, 5000, currency("CNY"))
'Add ¥31.80 more to save ¥50.00'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_time, get_timezone_name
from babel.numbers import (
    format_currency,
    format_decimal,
    get_decimal_symbol,
    get_group_symbol,
)

from .money import Currency, currency
from .terms import Window

__all__ = ["LANGUAGES", "LIMITS", "Lang", "Text"]

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
    "code_throttled": {"en": "too many wrong codes; try again later",
                       "zh-CN": "優惠碼錯誤次數過多，請稍後再試"},
    "store_unavailable": {"en": "cannot be checked right now (the promotion store is "
                                "unavailable)", "zh-CN": "暫時無法核驗此優惠（系統繁忙）"},
    "limit_reached": {"en": "the usage limit has been reached", "zh-CN": "已達到使用次數上限"},
    "budget_exhausted": {"en": "the promotion's budget is used up",
                         "zh-CN": "活動預算已用完"},
    "stock_exhausted": {"en": "sold out", "zh-CN": "已搶光"},
    "not_best": {"en": "another combination saves more", "zh-CN": "其他優惠組合更划算"},
    "not_eligible": {"en": "the {rule} condition is not met", "zh-CN": "不符合參與條件（{rule}）"},
    "excluded_by": {"en": "cannot be combined with {other}", "zh-CN": "不可與「{other}」同時使用"},
    "guard": {"en": "blocked by the {guard} guard", "zh-CN": "因「{guard}」規則不可使用"},
}

#: Date-time patterns (Babel/CLDR syntax): 2026年11月10日 20:00 / 10 Nov 2026, 20:00.
_DATETIME = {"en": "d MMM y, HH:mm", "zh-CN": "y年M月d日 HH:mm"}
#: Chinese names customers use for the timezones a Chinese shop is likely to run in
#: (Babel's Chinese names are in simplified characters and name regions, not cities).
_ZH_ZONES = {
    "Asia/Shanghai": "北京時間", "Asia/Chongqing": "北京時間", "Asia/Harbin": "北京時間",
    "PRC": "北京時間", "Asia/Hong_Kong": "香港時間", "Asia/Macau": "澳門時間",
    "Asia/Taipei": "台北時間", "Asia/Tokyo": "日本時間", "Asia/Seoul": "韓國時間",
    "Asia/Singapore": "新加坡時間", "UTC": "協調世界時", "Etc/UTC": "協調世界時",
}
_STAGES: dict[str, tuple[str, str]] = {  # stage: (en, zh)
    "item": ("item discount", "單品優惠"),
    "shop": ("shop offer", "店鋪優惠"),
    "platform": ("cross-shop offer", "跨店/平台優惠"),
    "shipping": ("shipping offer", "運費優惠"),
}
_STAGE_NOTES: dict[str, tuple[str, str]] = {
    "item": ("taken off each item's price", "直接減在每件商品上"),
    "shop": ("counted for each shop separately", "每家店鋪分別計算"),
    "platform": ("eligible items from all shops count together", "不同店鋪的參與商品合併計算"),
    "shipping": ("taken off the shipping charge", "減免運費"),
}
#: The ``limits`` keys :meth:`Text.limit` words, in the order rule text lists them.
LIMITS = ("per_customer", "per_customer_daily", "total", "stock", "per_order_units")


class Text:
    """Wording and number formats for one language (``"en"`` or ``"zh-CN"``)."""

    def __init__(self, lang: Lang | str = "en", *,
                 currency: Currency | str | None = None) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
        self.lang: Lang = "zh-CN" if lang == "zh-CN" else "en"
        self.locale = _LOCALES[self.lang]
        self._plain_digits = (get_decimal_symbol(self.locale) == "."
                              and get_group_symbol(self.locale) == ",")
        """The locale writes 1,234.50: Python's own grouping formats amounts alike."""
        self.currency: Currency = _currency(currency)
        """The currency of :meth:`amount` (the campaign file's; CNY if not given)."""

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
        if self._plain_digits:  # what babel gives for these locales, without its cost
            return symbol + format(amount, f",.{money.exponent}f")
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

    # -- for describe() and the rule text ------------------------------------------

    def amount(self, minor: int) -> str:
        """An amount in this text's currency: ``¥300.00``."""
        return self.money(minor, self.currency)

    def join(self, items: Iterable[str], conjunction: Literal["and", "or"] = "and") -> str:
        """A list in a sentence: ``gold、platinum`` / ``gold, silver and platinum``
        (``or`` with ``conjunction="or"``; Chinese uses 、 for both)."""
        words = list(items)
        if self.zh:
            return "、".join(words)
        if len(words) <= 1:
            return "".join(words)
        return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"

    def times(self, count: int) -> str:
        """``3次`` / ``once``, ``twice``, ``3 times``."""
        if self.zh:
            return f"{self.number(count)}次"
        return {1: "once", 2: "twice"}.get(count, f"{self.number(count)} times")

    def datetime(self, moment: dt.datetime) -> str:
        """``2026年11月10日 20:00`` / ``10 Nov 2026, 20:00``, in ``moment``'s own
        timezone (convert it first with ``astimezone``)."""
        return str(format_datetime(moment, _DATETIME[self.lang], tzinfo=moment.tzinfo,
                                   locale=self.locale))

    def clock(self, moment: dt.time) -> str:
        """A time of day: ``20:00``."""
        return str(format_time(moment, "HH:mm", locale=self.locale))

    def timezone(self, tz: dt.tzinfo, *, short: bool = False) -> str:
        """The timezone for customers: ``北京時間 / Asia/Shanghai`` (``北京時間`` if
        ``short``) / ``China Time, Asia/Shanghai`` (``China Time``). A zone without a
        customer name is given by its IANA key alone."""
        key = tz.key if isinstance(tz, ZoneInfo) else str(tz)
        if self.zh:
            name = _ZH_ZONES.get(key)
        else:
            name = str(get_timezone_name(tz, locale=self.locale))
            if "Unknown" in name or key in ("UTC", "Etc/UTC"):
                name = "UTC" if key in ("UTC", "Etc/UTC") else None
        if name is None or name == key:
            return key
        if short:
            return name
        return f"{name} / {key}" if self.zh else f"{name}, {key}"

    def period(self, start: dt.datetime | None, end: dt.datetime | None,
               tz: dt.tzinfo) -> str | None:
        """``2026年11月10日 20:00 至 2026年11月11日 23:59（北京時間 / Asia/Shanghai）`` /
        ``10 Nov 2026, 20:00 – 11 Nov 2026, 23:59 (China Time, Asia/Shanghai)``, shown
        in ``tz``. Within one day the date is written once (``2026年11月11日 00:00 至
        23:59`` / ``11 Nov 2026, 00:00–23:59``); an open end reads ``…起`` / ``from …``
        and ``至…止`` / ``until …``; ``None`` without either."""
        local = [moment.astimezone(tz) if moment is not None else None
                 for moment in (start, end)]
        first, last = (self.datetime(m) if m is not None else None for m in local)
        if local[0] is not None and local[1] is not None and local[0].date() == local[1].date():
            last = self.clock(local[1].time())
            span = f"{first} 至 {last}" if self.zh else f"{first}–{last}"
        elif first and last:
            span = self.pick(f"{first} – {last}", f"{first} 至 {last}")
        elif first:
            span = self.pick(f"from {first}", f"{first}起")
        elif last:
            span = self.pick(f"until {last}", f"至{last}止")
        else:
            return None
        zone = self.timezone(tz)
        return f"{span}（{zone}）" if self.zh else f"{span} ({zone})"

    def time_window(self, window: Window) -> str:
        """A daily window: ``00:00–02:00``; across midnight ``23:00至次日02:00`` /
        ``23:00 to 02:00 the next day``; an end at midnight reads ``24:00``."""
        start = self.clock(window.start)
        if window.end == dt.time(0, 0):
            return f"{start}–24:00"
        end = self.clock(window.end)
        if window.end > window.start:
            return f"{start}–{end}"
        return f"{start}至次日{end}" if self.zh else f"{start} to {end} the next day"

    def windows(self, windows: Sequence[Window], tz: dt.tzinfo) -> str:
        """Daily windows with the timezone: ``每天00:00–02:00、20:00–22:00（北京時間）`` /
        ``daily 00:00–02:00 and 20:00–22:00 (China Time)``."""
        spans = self.join((self.time_window(window) for window in windows), "and")
        zone = self.timezone(tz, short=True)
        return f"每天{spans}（{zone}）" if self.zh else f"daily {spans} ({zone})"

    def stage(self, stage: str, *, plural: bool = False) -> str:
        """A stage in customer words: ``單品優惠`` / ``item discount`` (``item
        discounts`` with ``plural``); an unknown stage is returned as given."""
        en, zh = _STAGES.get(stage, (stage, stage))
        if self.zh:
            return zh
        return f"{en}s" if plural and stage in _STAGES else en

    def stage_note(self, stage: str) -> str:
        """What a stage means for the customer: ``每家店鋪分別計算`` /
        ``counted for each shop separately``; ``""`` for an unknown stage."""
        en, zh = _STAGE_NOTES.get(stage, ("", ""))
        return self.pick(en, zh)

    def limit(self, name: str, value: int, *, stock_of: str = "units") -> str:
        """One of :data:`LIMITS` in customer words: ``每人限用3次`` /
        ``up to 3 times per customer`` (``once per customer``). ``stock_of`` is the
        kind's ``stock_counts``: ``units`` (限量500件) or ``own`` (gifts: 限量500份)."""
        count = self.number(value)
        up_to = "" if value == 1 else "up to "
        if name == "per_customer":
            return self.pick(f"{up_to}{self.times(value)} per customer",
                             f"每人限用{self.times(value)}")
        if name == "per_customer_daily":
            return self.pick(f"{up_to}{self.times(value)} a day per customer",
                             f"每人每天限用{self.times(value)}")
        if name == "total":
            return self.pick(f"{count} {'use' if value == 1 else 'uses'} in total, "
                             "while they last", f"共限{self.times(value)}，用完即止")
        if name == "stock":
            if stock_of == "units":
                unit = "unit" if value == 1 else "units"
                return self.pick(f"{count} {unit} only, while stocks last",
                                 f"限量{count}件，售完即止")
            return self.pick(f"limited to {count}, while they last", f"限量{count}份，送完即止")
        if name == "per_order_units":
            unit = "unit" if value == 1 else "units"
            return self.pick(f"{up_to}{count} discounted {unit} per order",
                             f"每單限{count}件享優惠")
        raise ValueError(f"unknown limit {name!r}; known: {', '.join(LIMITS)}")


def _currency(value: Currency | str | None) -> Currency:
    """The currency named by ``value`` (CNY when ``None``)."""
    if isinstance(value, Currency):
        return value
    return currency(value or "CNY")
