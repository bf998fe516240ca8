"""promokit's message catalogs (``src/promokit/locale``, docs/translations.md).

Every message the code words has a translation in every language, with the
placeholders the code fills; the compiled ``.mo`` files are the ``.po`` files
as they stand; the template holds exactly the messages in the code; zh-CN is
written in Simplified characters and zh-TW / zh-HK in Traditional ones.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Iterator
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from promokit.loading import load_campaigns
from promokit.money import currency
from promokit.registry import Registry
from promokit.rules_text import rules_text
from promokit.terms import Window
from promokit.text import DOMAIN, LANGUAGES, LIMITS, LOCALE_DIR, Text

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
#: The catalog of each language that has one (English is the msgids).
LOCALES = {"zh-CN": "zh_Hans_CN", "zh-TW": "zh_Hant_TW", "zh-HK": "zh_Hant_HK"}
#: The command docs/translations.md gives for re-extracting the template.
EXTRACT = ["pybabel", "extract", "-F", "babel.cfg", "-c", "Translators:", "--no-location",
           "--sort-output", "--project", "promokit"]

#: Characters only Traditional Chinese writes (the Simplified has another): none may
#: appear in zh-CN text. Those of promokit's own wording, and common ones besides.
TRADITIONAL_ONLY = set(
    "並佈併個債僅價優兌內別則動務勵區協參員單國圍團場實帶幣幫幾庫張後從應戶搶擇擬敗數於時"
    "暫會條標機檻權歲歷殺決沒況減湊滿為無獎獲現當疊發監確碼種積範籤級終組結給統經編總續與"
    "舖虛號補裝規訂計記設註試該誤說調請諾證護變買費賞購贈車輸辦這連進運過達適遲選還釋銷錄"
    "錯鐘長門開間階隨隱雙雜韓頁項順須預題額類顧顯餘驗點鋪郵鏈們來對於樣麼氣書")
#: Characters only Simplified Chinese writes: none may appear in zh-TW or zh-HK text.
SIMPLIFIED_ONLY = set(
    "与个为买于仅从价优会余债兑内决况减几则别办务动励区协单历参双发变叠号员团围国场奖实岁"
    "币带帮库应开张当录总户抢护拟择数无时显暂杀权条标槛没满现监码确种积签类级组终经结给统"
    "续编范获虚补装规计订记设证试该误说请诺调败购费赏赠车输达过运还这进连迟适选邮释钟铺链"
    "销错长门间阶随隐韩页项顺须顾预题额验们来对样么气书")


def _catalog(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file)


def _messages(catalog: Catalog) -> Iterator[Message]:
    return (message for message in catalog if message.id)


def _key(message: Message) -> tuple[str | None, str]:
    msgid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
    context = message.context
    if isinstance(context, bytes):  # read_mo leaves contexts undecoded
        context = context.decode("utf-8")
    return context, str(msgid)


def _strings(message: Message) -> list[str]:
    found = message.string
    return list(found) if isinstance(found, (list, tuple)) else [str(found or "")]


def _placeholders(text: str) -> set[str]:
    """The field names of ``text`` as :meth:`str.format` reads it."""
    return {field.split(".")[0].split("[")[0] for _, field, _, _ in string.Formatter().parse(text)
            if field is not None}


def _po(lang: str) -> Path:
    return LOCALE_DIR / LOCALES[lang] / "LC_MESSAGES" / f"{DOMAIN}.po"


@pytest.fixture(scope="module")
def template() -> Catalog:
    return _catalog(TEMPLATE)


# -- completeness ---------------------------------------------------------------------


def test_every_language_but_english_has_a_catalog() -> None:
    assert set(LANGUAGES) - set(LOCALES) == {"en"}
    for lang in LOCALES:
        assert _po(lang).is_file() and _po(lang).with_suffix(".mo").is_file()


@pytest.mark.parametrize("lang", LOCALES)
def test_every_message_has_a_translation_in_every_language(lang: str, template: Catalog) -> None:
    catalog = _catalog(_po(lang))
    wanted = {_key(message) for message in _messages(template)}
    have = {_key(message): message for message in _messages(catalog)}
    assert sorted(wanted - set(have), key=str) == [], f"missing in {_po(lang).name} ({lang}): " \
        "run the update command of docs/translations.md and translate them"
    assert sorted(set(have) - wanted, key=str) == [], f"obsolete in {lang}: remove them"
    untranslated = [key for key, message in have.items()
                    if message.fuzzy or not all(s.strip() for s in _strings(message))]
    assert untranslated == [], f"fuzzy or empty in {lang}"
    assert not catalog.obsolete, f"obsolete entries (#~) in {lang}"


@pytest.mark.parametrize("lang", LOCALES)
def test_the_compiled_catalogs_are_the_po_files(lang: str) -> None:
    """The .mo files ship in the package: they must say what the .po files say
    (``pybabel compile -d src/promokit/locale -D promokit``)."""
    po = {_key(m): _strings(m) for m in _messages(_catalog(_po(lang))) if not m.fuzzy}
    with _po(lang).with_suffix(".mo").open("rb") as file:
        mo = {_key(m): _strings(m) for m in _messages(read_mo(file))}
    assert mo == po, f"{lang}: the .mo is stale; run pybabel compile (docs/translations.md)"


@pytest.mark.parametrize("lang", LOCALES)
def test_placeholders_match_between_message_and_translation(lang: str) -> None:
    """A translation uses the placeholders of its message, no other (the code fills
    only those); it may leave one out, or use another the code also fills, only
    where the message's ``Translators:`` comment names it."""
    wrong = []
    for message in _messages(_catalog(_po(lang))):
        ids = message.id if isinstance(message.id, (list, tuple)) else [message.id]
        wanted = set().union(*(_placeholders(str(msgid)) for msgid in ids))
        named = set().union(set(), *(_placeholders(comment) for comment in message.auto_comments
                                     if "{" in comment))
        for translation in _strings(message):
            used = _placeholders(translation)
            if used - wanted - named or wanted - used - named:
                wrong.append(f"{_key(message)}: {sorted(used)} for {sorted(wanted)} "
                             f"(named in comments: {sorted(named)})")
    assert wrong == []


def test_the_template_holds_every_message_in_the_code(
        template: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Re-extract with the command of docs/translations.md and compare."""
    monkeypatch.chdir(ROOT)
    fresh = tmp_path / "promokit.pot"
    CommandLineInterface().run([*EXTRACT, "-o", str(fresh), "."])
    extracted = _catalog(fresh)
    code = {_key(m): (m.id, sorted(m.auto_comments)) for m in _messages(extracted)}
    kept = {_key(m): (m.id, sorted(m.auto_comments)) for m in _messages(template)}
    assert sorted(set(code) - set(kept), key=str) == [], \
        "new messages: re-extract, update and translate (docs/translations.md)"
    assert sorted(set(kept) - set(code), key=str) == [], \
        "messages no longer in the code: re-extract and update"
    assert code == kept, "plural forms or translator comments changed: re-extract"
    assert len(code) > 250


# -- scripts ------------------------------------------------------------------------------


def _hanzi(text: str) -> set[str]:
    return {char for char in text if "\u4e00" <= char <= "\u9fff"}


@pytest.mark.parametrize(("lang", "forbidden"), [
    ("zh-CN", TRADITIONAL_ONLY), ("zh-TW", SIMPLIFIED_ONLY), ("zh-HK", SIMPLIFIED_ONLY)])
def test_every_translation_is_in_its_script(lang: str, forbidden: set[str]) -> None:
    wrong = {_key(m): sorted(_hanzi(text) & forbidden) for m in _messages(_catalog(_po(lang)))
             for text in _strings(m) if _hanzi(text) & forbidden}
    assert wrong == {}


def _values(document: Any) -> Iterator[str]:
    """Every string of a parsed TOML document: the shop's own words."""
    if isinstance(document, str):
        yield document
    elif isinstance(document, dict):
        for value in document.values():
            yield from _values(value)
    elif isinstance(document, list):
        for value in document:
            yield from _values(value)


def _words(lang: str) -> str:
    """What promokit writes in ``lang``, without the shop's own words: the rule text of
    the examples (every kind, condition and game) and the pieces of :class:`Text`."""
    registry = Registry.default(load_entry_points=False)
    written = []
    for names in (["d11_rules.toml"], ["d11.toml", "d11_games.toml"]):
        paths = [ROOT / "examples" / name for name in names]
        text = rules_text(load_campaigns(paths, registry), lang)
        own = {value for path in paths
               for value in _values(tomllib.loads(path.read_text(encoding="utf-8")))}
        for value in sorted(own, key=len, reverse=True):
            text = text.replace(value, "")
        written.append(text)
    words = Text(lang, currency="CNY")
    shanghai = ZoneInfo("Asia/Shanghai")
    start, end = datetime(2026, 11, 10, 20, tzinfo=shanghai), datetime(2026, 11, 11, 23, 59,
                                                                      tzinfo=shanghai)
    written += [words.hint(3180, 5000, currency("CNY")), words.period(start, end, shanghai) or "",
                words.period(start, None, shanghai) or "", words.period(None, end, shanghai) or "",
                words.windows([Window(start=time(23), end=time(2)),
                               Window(start=time(9), end=time(18))], shanghai),
                words.percent_off(Decimal("5")), words.percent_off(Decimal("100")),
                words.join(["a", "b", "c"], "or"), words.ordinal(2), words.times(3)]
    written += [words.reason(code) for code in (
        "out_of_window", "not_started", "ended", "channel", "currency", "no_lines_in_scope",
        "below_threshold", "no_saving", "code_missing", "code_invalid", "code_used",
        "code_throttled", "store_unavailable", "limit_reached", "budget_exhausted",
        "stock_exhausted", "not_best", "not_eligible:x", "excluded_by:x", "guard:x")]
    written += [words.limit(name, value) for name in LIMITS for value in (1, 3)]
    written += [words.stage(stage, plural=plural) + words.stage_note(stage)
                for stage in ("item", "shop", "platform", "shipping") for plural in (False, True)]
    written += [words.timezone(ZoneInfo(key)) for key in (
        "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Macau", "Asia/Taipei", "Asia/Tokyo",
        "Asia/Seoul", "Asia/Singapore", "UTC")]
    return "\n".join(written)


@pytest.mark.parametrize(("lang", "forbidden"), [
    ("zh-CN", TRADITIONAL_ONLY), ("zh-TW", SIMPLIFIED_ONLY), ("zh-HK", SIMPLIFIED_ONLY)])
def test_what_promokit_writes_is_in_the_languages_script(lang: str, forbidden: set[str]) -> None:
    words = _words(lang)
    assert len(_hanzi(words)) > 300  # the text is there, in Chinese
    assert sorted(_hanzi(words) & forbidden) == []


def test_the_three_chinese_texts_differ_only_where_they_should() -> None:
    simplified, taiwan, hong_kong = Text("zh-CN"), Text("zh-TW"), Text("zh-HK")
    assert simplified.reason("code_invalid") == "优惠码无效"
    assert taiwan.reason("code_invalid") == hong_kong.reason("code_invalid") == "優惠碼無效"
    taipei, shanghai = ZoneInfo("Asia/Taipei"), ZoneInfo("Asia/Shanghai")
    assert taiwan.timezone(taipei, short=True) == "台北時間"
    assert simplified.timezone(shanghai, short=True) == "北京时间"
    assert hong_kong.timezone(ZoneInfo("Asia/Hong_Kong"), short=True) == "香港時間"
    assert simplified.gettext("free shipping") == "包邮"
    assert taiwan.gettext("free shipping") == "免運"
    assert hong_kong.gettext("free shipping") == "免運費"
    assert {text.locale for text in (simplified, taiwan, hong_kong)} == set(LOCALES.values())


# -- loading ----------------------------------------------------------------------------


def test_english_is_the_messages_themselves() -> None:
    text = Text("en")
    assert text.gettext("free shipping") == "free shipping"
    assert text.gettext("{amount} off each item", amount="¥1.00") == "¥1.00 off each item"
    assert text.ngettext("{count} use in total, while they last",
                         "{count} uses in total, while they last", 2, count="2") == (
        "2 uses in total, while they last")
    assert text.gettext("a {brace} without fill") == "a {brace} without fill"


def test_a_message_unknown_to_the_catalogs_reads_in_english() -> None:
    assert Text("zh-CN").gettext("spend {x} on a plugin", x="¥1") == "spend ¥1 on a plugin"


def _plugin_catalog(root: Path, locale: str, domain: str, messages: dict[str, str]) -> None:
    catalog = Catalog(locale=locale, domain=domain)
    for msgid, msgstr in messages.items():
        catalog.add(msgid, msgstr)
    folder = root / locale / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / f"{domain}.mo").open("wb") as file:
        write_mo(file, catalog)


def test_a_plugin_adds_its_own_catalog(tmp_path: Path) -> None:
    _plugin_catalog(tmp_path, "zh_Hant_TW", "acme_plugin",
                    {"a coupon for {amount}": "{amount}折價券", "free shipping": "運費全免"})
    taiwan = Text("zh-TW", currency="CNY").with_catalog("acme_plugin", tmp_path)
    assert taiwan.gettext("a coupon for {amount}", amount="¥5.00") == "¥5.00折價券"
    assert taiwan.gettext("free shipping") == "運費全免"  # the plugin's own wording first
    assert taiwan.gettext("sold out") == "已搶光"  # then promokit's
    assert taiwan.currency.code == "CNY" and taiwan.lang == "zh-TW"
    # no catalog for zh-CN: the plugin's messages read in English, promokit's in Chinese
    simplified = Text("zh-CN").with_catalog("acme_plugin", tmp_path)
    assert simplified.gettext("a coupon for {amount}", amount="¥5.00") == "a coupon for ¥5.00"
    assert simplified.gettext("free shipping") == "包邮"
    assert Text("en").with_catalog("acme_plugin", tmp_path).gettext("free shipping") == (
        "free shipping")
    # the text it came from is unchanged
    assert Text("zh-TW").gettext("free shipping") == "免運"


def test_catalogs_load_once_and_stay_as_they_are() -> None:
    first, second = Text("zh-HK"), Text("zh-HK")
    assert first._translations is second._translations
    assert first.gettext("sold out") == "已搶光"
