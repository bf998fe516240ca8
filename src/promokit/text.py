"""Customer-facing wording in en, zh-CN, zh-TW and zh-HK: money, discounts, reasons,
hints, and the pieces of the 活動規則 (times, windows, stages, limits).

One :class:`Text` per language is handed to kinds and conditions (through
``Application.text`` and ``describe``), to the engine for reason messages and
hints, and to :mod:`promokit.rules_text` for the 活動規則. Numbers, money,
dates and times are formatted with Babel. A ``Text`` may carry the campaign
file's currency, so that ``describe`` can write amounts with :meth:`Text.amount`.

Words come from gettext catalogs: the source strings (msgids) are the English,
translated in ``promokit/locale/<locale>/LC_MESSAGES/promokit.po`` (compiled to
``.mo``) for ``zh_Hans_CN`` (zh-CN, Simplified), ``zh_Hant_TW`` (zh-TW) and
``zh_Hant_HK`` (zh-HK, both Traditional). :meth:`Text.gettext`,
:meth:`Text.ngettext` and :meth:`Text.pgettext` translate and fill ``{name}``
placeholders; a plugin adds a catalog of its own with :meth:`Text.with_catalog`
(docs/writing-a-kind.md). Re-extract, update and compile the catalogs after
changing a message: see docs/translations.md.

>>> Text("zh-CN").hint(3180, 5000, currency("CNY"))
'再买¥31.80可减¥50.00'
>>> Text("zh-TW").hint(3180, 5000, currency("CNY"))
'再買¥31.80可減¥50.00'
>>> Text("en").hint(3180, 5000, currency("CNY"))
'Add ¥31.80 more to save ¥50.00'
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import gettext as _gettext
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import attrs
from babel.dates import format_datetime, format_time, get_timezone_name
from babel.numbers import (
    format_currency,
    format_decimal,
    get_decimal_symbol,
    get_group_symbol,
)

from .money import Currency, currency
from .terms import Window

__all__ = ["DOMAIN", "LANGUAGES", "LIMITS", "LOCALE_DIR", "N_", "Lang", "Text"]

Lang = Literal["en", "zh-CN", "zh-TW", "zh-HK"]
LANGUAGES: tuple[Lang, ...] = ("en", "zh-CN", "zh-TW", "zh-HK")
#: The gettext domain of promokit's own messages, and where its catalogs are.
DOMAIN = "promokit"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


@attrs.frozen(kw_only=True)
class _Language:
    """How one language is written: its Babel locale (also the name of its catalog's
    folder), whether it has a catalog (English is the msgids themselves), and two
    conventions CLDR does not give."""

    locale: str
    catalog: bool
    tenths: bool
    """Discounts are written as the price paid in tenths (95折 for 5% off)."""
    babel_zone_names: bool
    """Timezones are named by Babel (``China Time``); otherwise by the catalog,
    for the zones it names (``北京时间``), and by their IANA key for the others."""


_LANGUAGES: dict[str, _Language] = {
    "en": _Language(locale="en", catalog=False, tenths=False, babel_zone_names=True),
    "zh-CN": _Language(locale="zh_Hans_CN", catalog=True, tenths=True, babel_zone_names=False),
    "zh-TW": _Language(locale="zh_Hant_TW", catalog=True, tenths=True, babel_zone_names=False),
    "zh-HK": _Language(locale="zh_Hant_HK", catalog=True, tenths=True, babel_zone_names=False),
}


def N_(message: str) -> str:  # the name gettext tools look for
    """Mark ``message`` for extraction without translating it (a table of wordings
    translated later with :meth:`Text.gettext`)."""
    return message


# Symbols customers of these currencies read, in every language (Babel's English
# "CN¥" is for telling currencies apart, which a shop's own customers do not need).
_SYMBOLS = {"CNY": "¥", "JPY": "¥", "HKD": "HK$", "TWD": "NT$", "USD": "$", "EUR": "€",
            "GBP": "£", "KRW": "₩"}

_REASONS: dict[str, str] = {
    "out_of_window": N_("only runs during its daily hours"),
    "not_started": N_("has not started yet"),
    "ended": N_("has ended"),
    "channel": N_("not available on this channel"),
    # Translators: {what} is what the channel forbids and {profile} the rules that
    # forbid it, both as the channel profile (a plugin) writes them.
    "channel_forbidden": N_("{what} is not allowed on {channel} ({profile})"),
    "currency": N_("priced in another currency than the cart"),
    "no_lines_in_scope": N_("no item in the cart qualifies"),
    "below_threshold": N_("the threshold is not met"),
    "no_saving": N_("would not lower the price"),
    "code_missing": N_("needs a promotion code"),
    "code_invalid": N_("no promotion accepts this code"),
    "code_used": N_("this code has already been used"),
    "code_throttled": N_("too many wrong codes; try again later"),
    "store_unavailable": N_("cannot be checked right now (the promotion store is "
                            "unavailable)"),
    "limit_reached": N_("the usage limit has been reached"),
    "budget_exhausted": N_("the promotion's budget is used up"),
    "stock_exhausted": N_("sold out"),
    "not_best": N_("another combination saves more"),
    # Translators: {rule} is the name of a condition, as the campaign file writes it.
    "not_eligible": N_("the {rule} condition is not met"),
    # Translators: {other} is the name of another promotion.
    "excluded_by": N_("cannot be combined with {other}"),
    # Translators: {guard} is the name of a guard (a rule the shop added).
    "guard": N_("blocked by the {guard} guard"),
}

#: Names customers use for the timezones a Chinese shop is likely to run in
#: (Babel's Chinese names name regions, not cities), in languages that do not
#: take Babel's.
_ZONES: dict[str, str] = {
    "Asia/Shanghai": N_("Beijing Time"), "Asia/Chongqing": N_("Beijing Time"),
    "Asia/Harbin": N_("Beijing Time"), "PRC": N_("Beijing Time"),
    "Asia/Hong_Kong": N_("Hong Kong Time"), "Asia/Macau": N_("Macau Time"),
    "Asia/Taipei": N_("Taipei Time"), "Asia/Tokyo": N_("Japan Time"),
    "Asia/Seoul": N_("Korea Time"), "Asia/Singapore": N_("Singapore Time"),
    "UTC": N_("Coordinated Universal Time"), "Etc/UTC": N_("Coordinated Universal Time"),
}
_STAGES: dict[str, tuple[str, str]] = {  # stage: (one, several)
    "item": (N_("item discount"), N_("item discounts")),
    "shop": (N_("shop offer"), N_("shop offers")),
    "platform": (N_("cross-shop offer"), N_("cross-shop offers")),
    "shipping": (N_("shipping offer"), N_("shipping offers")),
}
_STAGE_NOTES: dict[str, str] = {
    "item": N_("taken off each item's price"),
    "shop": N_("counted for each shop separately"),
    "platform": N_("eligible items from all shops count together"),
    "shipping": N_("taken off the shipping charge"),
}
#: The ``limits`` keys :meth:`Text.limit` words, in the order rule text lists them.
LIMITS = ("per_customer", "per_customer_daily", "total", "stock", "per_order_units")


@functools.cache
def _catalog(lang: str) -> _gettext.NullTranslations:
    """promokit's compiled catalog for ``lang`` (English: the msgids), loaded once;
    a missing one is an error, never a silent fall back to English."""
    language = _LANGUAGES[lang]
    if not language.catalog:
        return _gettext.NullTranslations()
    return _gettext.translation(DOMAIN, LOCALE_DIR, languages=[language.locale],
                                fallback=False)


@functools.cache
def _chained(lang: str, catalogs: tuple[tuple[str, str], ...]) -> _gettext.NullTranslations:
    """``catalogs`` (``(domain, folder)`` pairs, first asked first) in front of
    promokit's own for ``lang``. A plugin without a catalog for ``lang`` is skipped,
    so its messages read in English."""
    found = _catalog(lang)
    language = _LANGUAGES[lang]
    if not language.catalog:
        return found
    for domain, folder in reversed(catalogs):
        try:
            own = _gettext.translation(domain, folder, languages=[language.locale],
                                       fallback=False)
        except FileNotFoundError:
            continue
        own.add_fallback(found)  # a fresh copy, made for this chain alone
        found = own
    return found


class Text:
    """Wording and number formats for one of :data:`LANGUAGES`."""

    def __init__(self, lang: Lang | str = "en", *,
                 currency: Currency | str | None = None) -> None:
        if lang not in _LANGUAGES:
            raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
        self.lang: Lang = next(code for code in LANGUAGES if code == lang)
        self._language = _LANGUAGES[lang]
        self.locale = self._language.locale
        """The Babel locale, and the name of the language's catalog folder
        (``zh_Hans_CN``, ``zh_Hant_TW``, ``zh_Hant_HK``; ``en``)."""
        self._catalogs: tuple[tuple[str, str], ...] = ()
        self._translations = _catalog(self.lang)
        self._plain_digits = (get_decimal_symbol(self.locale) == "."
                              and get_group_symbol(self.locale) == ",")
        """The locale writes 1,234.50: Python's own grouping formats amounts alike."""
        self.currency: Currency = _currency(currency)
        """The currency of :meth:`amount` (the campaign file's; CNY if not given)."""

    # -- translation -----------------------------------------------------------------

    def with_catalog(self, domain: str, localedir: str | Path) -> Text:
        """This text, also translating from a plugin's own catalog: ``domain``'s
        ``.mo`` files under ``localedir`` (``<localedir>/<locale>/LC_MESSAGES/
        <domain>.mo``, ``<locale>`` as :attr:`locale` names it). Its messages are
        looked up there first, then in promokit's; a language it has no catalog for
        reads its own messages in English. Catalogs are loaded once per process."""
        text = copy.copy(self)
        text._catalogs = ((domain, str(localedir)), *self._catalogs)
        text._translations = _chained(self.lang, text._catalogs)
        return text

    def gettext(self, message: str, /, **fill: object) -> str:
        """``message`` (English) in this language, its ``{name}`` placeholders filled
        from ``fill`` with :meth:`str.format` (only when ``fill`` is given: a message
        with braces and no placeholders needs no escaping then).

        >>> Text("zh-CN").gettext("{head} and {last}", head="a", last="b")
        'a、b'
        """
        return _filled(self._translations.gettext(message), fill)

    def ngettext(self, singular: str, plural: str, n: int, /, **fill: object) -> str:
        """The form of ``singular`` / ``plural`` for ``n`` in this language, filled
        like :meth:`gettext` (``n`` is not filled in by itself: pass it)."""
        return _filled(self._translations.ngettext(singular, plural, n), fill)

    def pgettext(self, context: str, message: str, /, **fill: object) -> str:
        """:meth:`gettext` of ``message`` in ``context``, for an English message that
        translates differently elsewhere."""
        return _filled(self._translations.pgettext(context, message), fill)

    @property
    def zh(self) -> bool:
        """Whether this is Chinese (any of zh-CN, zh-TW, zh-HK)."""
        return self.lang.startswith("zh")

    def pick(self, en: str, zh: str) -> str:
        """The English or the Chinese of two wordings, for code that words its own
        Chinese without a catalog: one Chinese for zh-CN, zh-TW and zh-HK alike.
        Prefer :meth:`gettext` with a catalog (:meth:`with_catalog`)."""
        return zh if self.zh else en

    # -- numbers and money ---------------------------------------------------------

    def money(self, minor: int, money: Currency | str) -> str:
        """``¥31.80`` (every language for CNY), ``$12.30``, ``¥1,990`` …; a negative
        amount puts its sign before the symbol (``-¥6.45``)."""
        money = currency(money) if isinstance(money, str) else money
        if minor < 0 and money.code in _SYMBOLS:
            return "-" + self.money(-minor, money)
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
        """``5% off`` / ``95折``; ``10`` → ``9折``, ``15`` → ``85折``, ``100`` → ``免费``."""
        written = f"{self.number(percent)}%"
        if percent == 100:
            # Translators: the whole price off; {percent} is "100%", which a translation
            # may leave out (免费).
            return self.pgettext("100%", "{percent} off", percent=written)
        if not self._language.tenths:
            return self.gettext("{percent} off", percent=written)
        rate = ((Decimal(100) - percent) / Decimal(10)).normalize()
        paid = format(rate, "f")
        whole, _, tenths = paid.partition(".")
        if len(tenths) == 1 and whole != "0":
            paid = whole + tenths  # 9.5 → 95折, the way shops write it
        # Translators: {percent} is "5%". In languages that write a discount as the
        # price paid in tenths, {tenths} is that price as shops write it ("95" for 5%
        # off, "9" for 10% off, "9.75" for 2.5% off), and {percent} is left out: 95折.
        return self.gettext("{percent} off", percent=written, tenths=paid)

    def ordinal(self, number: int) -> str:
        """``2nd`` / ``第2``."""
        n = self.number(number)
        if 10 <= number % 100 <= 20:
            return self.gettext("{n}th", n=n)
        form = number % 10
        if form == 1:
            return self.gettext("{n}st", n=n)
        if form == 2:
            return self.gettext("{n}nd", n=n)
        if form == 3:
            return self.gettext("{n}rd", n=n)
        return self.gettext("{n}th", n=n)

    def reason(self, code: str, **details: str) -> str:
        """The default message of a reason code; ``not_eligible:x`` and the like
        take their detail from ``details`` (``rule``, ``other``, ``guard``)."""
        head, _, rest = code.partition(":")
        wording = _REASONS.get(head)
        if wording is None:
            return code
        fill = {"rule": rest, "other": rest, "guard": rest} | details
        return self.gettext(wording, **fill)

    def hint(self, missing: int, saving: int, money: Currency) -> str:
        """湊單提示: ``再买¥31.80可减¥50.00`` / ``Add ¥31.80 more to save ¥50.00``."""
        return self.gettext("Add {missing} more to save {saving}",
                            missing=self.money(missing, money), saving=self.money(saving, money))

    # -- for describe() and the rule text ------------------------------------------

    def amount(self, minor: int) -> str:
        """An amount in this text's currency: ``¥300.00``."""
        return self.money(minor, self.currency)

    def join(self, items: Iterable[str], conjunction: Literal["and", "or"] = "and") -> str:
        """A list in a sentence: ``gold、platinum`` / ``gold, silver and platinum``
        (``or`` with ``conjunction="or"``; Chinese uses 、 for both)."""
        words = list(items)
        if len(words) <= 1:
            return "".join(words)
        # Translators: between the items of a list but the last two ("a, b and c").
        head = self.pgettext("list", ", ").join(words[:-1])
        if conjunction == "or":
            return self.gettext("{head} or {last}", head=head, last=words[-1])
        return self.gettext("{head} and {last}", head=head, last=words[-1])

    def times(self, count: int) -> str:
        """``3次`` / ``once``, ``twice``, ``3 times``."""
        if count == 1:
            return self.gettext("once")
        if count == 2:
            return self.gettext("twice")
        return self.gettext("{count} times", count=self.number(count))

    def datetime(self, moment: dt.datetime) -> str:
        """``2026年11月10日 20:00`` / ``10 Nov 2026, 20:00``, in ``moment``'s own
        timezone (convert it first with ``astimezone``)."""
        # Translators: a date and time in CLDR pattern syntax (d day, M month, MMM its
        # abbreviation, y year, HH:mm the time): 2026年11月10日 20:00.
        pattern = self.gettext("d MMM y, HH:mm")
        return str(format_datetime(moment, pattern, tzinfo=moment.tzinfo, locale=self.locale))

    def clock(self, moment: dt.time) -> str:
        """A time of day: ``20:00``."""
        return str(format_time(moment, "HH:mm", locale=self.locale))

    def timezone(self, tz: dt.tzinfo, *, short: bool = False) -> str:
        """The timezone for customers: ``北京时间 / Asia/Shanghai`` (``北京时间`` if
        ``short``) / ``China Time, Asia/Shanghai`` (``China Time``). A zone without a
        customer name is given by its IANA key alone."""
        key = tz.key if isinstance(tz, ZoneInfo) else str(tz)
        name: str | None
        if not self._language.babel_zone_names:
            message = _ZONES.get(key)
            name = None if message is None else self.gettext(message)
        elif key in ("UTC", "Etc/UTC"):
            name = "UTC"
        else:
            name = str(get_timezone_name(tz, locale=self.locale))
            if "Unknown" in name:
                name = None
        if name is None or name == key:
            return key
        if short:
            return name
        return self.gettext("{zone}, {key}", zone=name, key=key)

    def period(self, start: dt.datetime | None, end: dt.datetime | None,
               tz: dt.tzinfo) -> str | None:
        """``2026年11月10日 20:00 至 2026年11月11日 23:59（北京时间 / Asia/Shanghai）`` /
        ``10 Nov 2026, 20:00 – 11 Nov 2026, 23:59 (China Time, Asia/Shanghai)``, shown
        in ``tz``. Within one day the date is written once (``2026年11月11日 00:00 至
        23:59`` / ``11 Nov 2026, 00:00–23:59``); an open end reads ``…起`` / ``from …``
        and ``至…止`` / ``until …``; ``None`` without either."""
        local = [moment.astimezone(tz) if moment is not None else None
                 for moment in (start, end)]
        first, last = (self.datetime(m) if m is not None else None for m in local)
        if local[0] is not None and local[1] is not None and local[0].date() == local[1].date():
            span = self.pgettext("within one day", "{start}–{end}", start=first,
                                 end=self.clock(local[1].time()))
        elif first and last:
            span = self.gettext("{start} – {end}", start=first, end=last)
        elif first:
            span = self.gettext("from {start}", start=first)
        elif last:
            span = self.gettext("until {end}", end=last)
        else:
            return None
        return self.gettext("{text} ({note})", text=span, note=self.timezone(tz))

    def time_window(self, window: Window) -> str:
        """A daily window: ``00:00–02:00``; across midnight ``23:00至次日02:00`` /
        ``23:00 to 02:00 the next day``; an end at midnight reads ``24:00``."""
        start = self.clock(window.start)
        if window.end == dt.time(0, 0):
            return f"{start}–24:00"
        end = self.clock(window.end)
        if window.end > window.start:
            return f"{start}–{end}"
        return self.gettext("{start} to {end} the next day", start=start, end=end)

    def windows(self, windows: Sequence[Window], tz: dt.tzinfo) -> str:
        """Daily windows with the timezone: ``每天00:00–02:00、20:00–22:00（北京时间）`` /
        ``daily 00:00–02:00 and 20:00–22:00 (China Time)``."""
        spans = self.join((self.time_window(window) for window in windows), "and")
        return self.gettext("daily {windows} ({zone})", windows=spans,
                            zone=self.timezone(tz, short=True))

    def stage(self, stage: str, *, plural: bool = False) -> str:
        """A stage in customer words: ``单品优惠`` / ``item discount`` (``item
        discounts`` with ``plural``); an unknown stage is returned as given."""
        words = _STAGES.get(stage)
        if words is None:
            return stage
        return self.gettext(words[1] if plural else words[0])

    def stage_note(self, stage: str) -> str:
        """What a stage means for the customer: ``每家店铺分别计算`` /
        ``counted for each shop separately``; ``""`` for an unknown stage."""
        note = _STAGE_NOTES.get(stage)
        return "" if note is None else self.gettext(note)

    def limit(self, name: str, value: int, *, stock_of: str = "units") -> str:
        """One of :data:`LIMITS` in customer words: ``每人限用3次`` /
        ``up to 3 times per customer`` (``once per customer``). ``stock_of`` is the
        kind's ``stock_counts``: ``units`` (限量500件) or ``own`` (gifts: 限量500份)."""
        count = self.number(value)
        times = self.times(value)
        if name == "per_customer":
            if value == 1:
                return self.gettext("once per customer")
            return self.gettext("up to {times} per customer", times=times)
        if name == "per_customer_daily":
            if value == 1:
                return self.gettext("once a day per customer")
            return self.gettext("up to {times} a day per customer", times=times)
        if name == "total":
            return self.ngettext("{count} use in total, while they last",
                                 "{count} uses in total, while they last", value, count=count)
        if name == "stock":
            if stock_of == "units":
                return self.ngettext("{count} unit only, while stocks last",
                                     "{count} units only, while stocks last", value,
                                     count=count)
            return self.gettext("limited to {count}, while they last", count=count)
        if name == "per_order_units":
            return self.ngettext("{count} discounted unit per order",
                                 "up to {count} discounted units per order", value, count=count)
        raise ValueError(f"unknown limit {name!r}; known: {', '.join(LIMITS)}")


def _filled(message: str, fill: dict[str, object]) -> str:
    """``message`` with its placeholders filled, if there is anything to fill."""
    return message.format_map(fill) if fill else message


def _currency(value: Currency | str | None) -> Currency:
    """The currency of ``value`` (CNY when ``None``)."""
    if isinstance(value, Currency):
        return value
    return currency(value or "CNY")
