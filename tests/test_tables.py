"""Text tables that stay aligned with CJK text."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest

from promokit.result import Applied, LineDiscount, LineResult, PriceResult
from promokit.tables import display_width, money_text, pad, render, render_result, use_color


def test_display_width_counts_wide_and_fullwidth_as_two() -> None:
    assert display_width("abc") == 3
    assert display_width("雙11") == 4  # 雙 is wide (W)
    assert display_width("ＡＢ") == 4  # full-width Latin (F)
    assert display_width("，") == 2  # full-width comma
    assert display_width("¥99") == 3  # the yen sign is narrow
    assert display_width("e\u0301") == 1  # a combining accent takes no column
    assert display_width("") == 0


def test_pad_left_and_right() -> None:
    assert pad("金卡", 6) == "金卡  "
    assert pad("金卡", 6, right=True) == "  金卡"
    assert pad("toolong", 3) == "toolong"


def test_columns_line_up_with_cjk_cells() -> None:
    text = render(["id", "name", "amount"],
                  [["gold-95", "金卡會員95折", "26.40"],
                   ["ship-free-99", "滿99包郵", "12.00"],
                   ["x", "ascii only", "300.00"]],
                  right={2})
    lines = text.splitlines()
    assert lines == [
        "id            name          amount",
        "------------  ------------  ------",
        "gold-95       金卡會員95折   26.40",
        "ship-free-99  滿99包郵       12.00",
        "x             ascii only    300.00",
    ]
    # every amount ends in the same terminal column, whatever the CJK before it
    assert len({display_width(line) for line in lines}) == 1


def test_money_columns_are_right_aligned() -> None:
    lines = render(["amount"], [["5.00"], ["1234.56"]], right={0}).splitlines()
    assert lines == [" amount", "-------", "   5.00", "1234.56"]


def test_empty_table_renders_its_header_only() -> None:
    assert render(["promotion", "reason"], []) == "promotion  reason\n---------  ------"


def test_empty_table_without_headers_is_empty() -> None:
    assert render(None, []) == ""
    assert render([], []) == ""


def test_no_headers_no_rule() -> None:
    assert render(None, [["subtotal", "528.00"], ["total", "1.00"]], right={1}) == (
        "subtotal  528.00\ntotal       1.00")


def test_multiline_cells_and_short_rows() -> None:
    text = render(["a", "b", "c"], [["1", "x\nyy"], ["22", "z", "3"]])
    assert text.splitlines() == [
        "a   b   c",
        "--  --  -",
        "1   x",
        "    yy",
        "22  z   3",
    ]


def test_indent_and_no_trailing_spaces() -> None:
    text = render(["k", "v"], [["a", ""], ["b", "2"]], indent="  ")
    assert all(line.startswith("  ") for line in text.splitlines())
    assert all(line == line.rstrip() for line in text.splitlines())


# -- on rich (issue 13, fault 9) ----------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Terminal(io.StringIO):
    """An output that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_plain_unless_colour_is_asked_for() -> None:
    rows = [["gold-95", "金卡會員95折", "¥26.40"], ["x", "ascii", "¥300.00"]]
    plain = render(["id", "name", "amount"], rows, right={2})
    assert "\x1b" not in plain
    coloured = render(["id", "name", "amount"], rows, right={2}, color=True)
    assert "\x1b[1m" in coloured  # a bold header
    # the same layout under the colour: stripped of its escape codes, the plain text
    assert [line.rstrip() for line in ANSI.sub("", coloured).splitlines()] == (
        plain.splitlines())


def test_the_width_never_follows_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "20")  # a narrow terminal: rich would wrap to it
    long = "跨店滿300減50、滿500減100 " * 4
    text = render(["promotion", "name", "amount"], [["d11-300-50", long.strip(), "¥50.00"]],
                  right={2})
    assert text.splitlines()[2] == f"d11-300-50  {long.strip()}  ¥50.00"


def test_control_characters_in_a_cell_cannot_move_the_cursor() -> None:
    # a promotion name from a campaign file holding an escape sequence or a tab
    text = render(None, [["a\x1b[2Jb", "c\td"]])
    assert text == "a\ufffd[2Jb  c\ufffdd"


def test_use_color_only_for_a_terminal_without_no_color(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert use_color(Terminal()) is True
    assert use_color(io.StringIO()) is False  # a pipe, a file, a test's capture
    monkeypatch.setenv("NO_COLOR", "1")  # https://no-color.org
    assert use_color(Terminal()) is False
    monkeypatch.setenv("NO_COLOR", "")  # set but empty: no effect
    assert use_color(Terminal()) is True
    monkeypatch.setenv("TERM", "dumb")
    assert use_color(Terminal()) is False


def test_money_text_is_one_format_for_every_amount() -> None:
    assert money_text("CNY", Decimal("300")) == "¥300.00"
    assert money_text("CNY", Decimal("3999.00")) == "¥3,999.00"
    assert money_text("CNY", Decimal("-6.45")) == "-¥6.45"  # the sign before the symbol
    assert money_text("CNY", Decimal("0.125")) == "¥0.13"  # half-up to the fen
    assert money_text("JPY", Decimal("1990")) == "¥1,990"
    assert money_text("USD", Decimal("12.3")) == "$12.30"


def test_a_priced_cart_right_aligns_its_money_columns() -> None:
    # two lines, one of them four digits: every amount ends in its column's last place
    result = PriceResult(
        currency="CNY", subtotal=Decimal("1239.56"), discount_total=Decimal("50.00"),
        shipping_discount=Decimal(0), shipping=Decimal(0), total=Decimal("1189.56"),
        balance_due=Decimal("1189.56"),
        lines=(LineResult(id="l1", sku="茶葉", quantity=1, unit_price=Decimal("5.00"),
                          subtotal=Decimal("5.00"), discounts=(), total=Decimal("5.00")),
               LineResult(id="l2", sku="TEAPOT", quantity=12, unit_price=Decimal("102.463"),
                          subtotal=Decimal("1234.56"),
                          discounts=(LineDiscount(promotion="d11", amount=Decimal("50.00")),),
                          total=Decimal("1184.56"))),
        applied=(Applied(promotion="d11", stage="platform", amount=Decimal("50.00"),
                         funding=(("platform", Decimal("35.00")),
                                  ("merchant", Decimal("15.00")))),))
    text = render_result(result, names={"d11": "跨店滿減"})
    assert text.split("\n\n") == [
        "line  sku / discount  qty  unit price   subtotal  discount      total\n"
        "----  --------------  ---  ----------  ---------  --------  ---------\n"
        "l1    茶葉              1       ¥5.00      ¥5.00     ¥0.00      ¥5.00\n"
        "l2    TEAPOT           12     ¥102.46  ¥1,234.56   -¥50.00  ¥1,184.56\n"
        "        d11" + " " * 40 + "-¥50.00",
        "subtotal     ¥1,239.56\n"
        "discounts      -¥50.00\n"
        "shipping         ¥0.00\n"
        "total        ¥1,189.56\n"
        "balance due  ¥1,189.56",
        "applied, saving ¥50.00 in all:\n"
        "  promotion  name      stage     amount  funded by\n"
        "  ---------  --------  --------  ------  ---------  ------\n"
        "  d11        跨店滿減  platform  ¥50.00  platform   ¥35.00\n"
        "                                         merchant   ¥15.00",
    ]
