"""Text tables that stay aligned with CJK text."""

from __future__ import annotations

from promokit.tables import display_width, pad, render


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
