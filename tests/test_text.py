"""Customer-facing wording in every language (en, zh-CN, zh-TW, zh-HK)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from hypothesis import given, settings
from hypothesis import strategies as st

from promokit.money import currency
from promokit.text import _SYMBOLS, LANGUAGES, Text

CNY = currency("CNY")


@pytest.mark.parametrize(("percent", "zh", "en"), [
    ("5", "95折", "5% off"), ("10", "9折", "10% off"), ("15", "85折", "15% off"),
    ("12", "88折", "12% off"), ("2.5", "9.75折", "2.5% off"), ("95", "0.5折", "95% off"),
    ("100", "免费", "100% off"),
])
def test_percent_off_reads_the_way_shops_write_it(percent: str, zh: str, en: str) -> None:
    assert Text("zh-CN").percent_off(Decimal(percent)) == zh
    assert Text("zh-TW").percent_off(Decimal(percent)) == zh.replace("免费", "免費")
    assert Text("zh-HK").percent_off(Decimal(percent)) == zh.replace("免费", "免費")
    assert Text("en").percent_off(Decimal(percent)) == en


def test_hint_in_both_languages() -> None:
    assert Text("zh-CN").hint(3180, 5000, CNY) == "再买¥31.80可减¥50.00"
    assert Text("en").hint(3180, 5000, CNY) == "Add ¥31.80 more to save ¥50.00"
    assert Text("zh-TW").hint(3180, 5000, CNY) == "再買¥31.80可減¥50.00"
    assert Text("zh-HK").hint(3180, 5000, CNY) == "再買¥31.80可減¥50.00"


@pytest.mark.parametrize(("lang", "locale"), [
    ("en", "en"), ("zh-CN", "zh_Hans_CN"), ("zh-TW", "zh_Hant_TW"), ("zh-HK", "zh_Hant_HK")])
def test_each_language_formats_with_its_babel_locale(lang: str, locale: str) -> None:
    text = Text(lang)
    assert (text.lang, text.locale) == (lang, locale)
    assert text.zh == (lang != "en")
    assert text.number(1336) == "1,336"


@pytest.mark.parametrize(("minor", "code", "text"), [
    (123456, "CNY", "¥1,234.56"), (1990, "JPY", "¥1,990"), (1230, "USD", "$12.30"),
    (999, "KWD", "KWD0.999"),
])
def test_money_uses_the_customers_symbol(minor: int, code: str, text: str) -> None:
    assert Text("en").money(minor, code) == text


def test_reasons_with_details() -> None:
    zh = Text("zh-CN")
    assert zh.reason("excluded_by:x", other="金卡95折") == "不可与「金卡95折」同时使用"
    assert zh.reason("not_eligible:new_customer") == "不符合参与条件（new_customer）"
    assert Text("en").reason("stock_exhausted") == "sold out"


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        Text("fr")


@settings(max_examples=300, deadline=None)
@given(minor=st.integers(-10**12, 10**15), code=st.sampled_from(["CNY", "JPY", "USD", "EUR",
                                                                 "HKD", "TWD", "GBP"]),
       lang=st.sampled_from(LANGUAGES))
def test_money_is_what_babel_writes(minor: int, code: str, lang: str) -> None:
    text = Text(lang)
    money = currency(code)
    written = text.money(minor, money)
    symbol = _SYMBOLS[code]
    digits = "#,##0" + ("." + "0" * money.exponent if money.exponent else "")
    sign = "-" if minor < 0 else ""  # before the symbol: -¥6.45, as tables write refunds
    assert written == sign + symbol + format_decimal(money.to_decimal(abs(minor)),
                                                     format=digits, locale=text.locale)
