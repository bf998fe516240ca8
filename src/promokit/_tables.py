"""Plain-text tables that stay aligned with Chinese, Japanese and Korean text.

A terminal draws East Asian wide and full-width characters (``雙``, ``１``)
two columns wide and combining marks zero wide, so padding by ``len()`` skews
every column after a CJK cell. :func:`display_width` counts columns the way a
terminal does, and :func:`render` pads by it::

    >>> print(render(["id", "name", "off"],
    ...              [["d11-300-50", "跨店滿減", "50.00"], ["gold-95", "金卡95折", "26.40"]],
    ...              right={2}))
    id          name        off
    ----------  --------  -----
    d11-300-50  跨店滿減  50.00
    gold-95     金卡95折  26.40

No dependencies beyond :mod:`unicodedata`; lines never end in spaces.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Sequence

__all__ = ["display_width", "pad", "render"]

_GAP = "  "


def display_width(text: str) -> int:
    """The number of terminal columns ``text`` takes.

    East Asian wide (``W``) and full-width (``F``) characters take two columns,
    combining marks and zero-width characters none, everything else one.
    Ambiguous-width characters (``A``: ``·``, ``…``, box drawing) count one, as
    in most Western terminal settings; keep them out of aligned columns.
    """
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def pad(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` columns (on the left if ``right``)."""
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


def render(headers: Sequence[str] | None, rows: Sequence[Sequence[str]], *,
           right: Collection[int] = (), indent: str = "") -> str:
    """Rows of cells as aligned text, one line per row, columns two spaces apart.

    ``headers`` (or ``None`` for none) are underlined with dashes; columns whose
    index is in ``right`` (money, quantities) are right-aligned. A cell holding
    ``"\\n"`` takes several lines, the other cells of its row continuing on the
    first. Short rows are padded with empty cells. An empty table renders as
    its header alone, or as ``""`` without headers. Every line starts with
    ``indent``; the result has no trailing newline.
    """
    columns = max([len(headers or ())] + [len(row) for row in rows])
    if columns == 0:
        return ""
    body: list[list[str]] = []
    for row in rows:
        cells = [str(cell).split("\n") for cell in row]
        cells += [[""]] * (columns - len(cells))
        for depth in range(max(len(cell) for cell in cells)):
            body.append([cell[depth] if depth < len(cell) else "" for cell in cells])
    head = list(headers or ())
    head += [""] * (columns - len(head))
    lines_in = ([head] if headers is not None else []) + body
    widths = [max(display_width(line[i]) for line in lines_in) for i in range(columns)]
    out: list[str] = []
    for number, line in enumerate(lines_in):
        out.append(_line(line, widths, right, indent))
        if number == 0 and headers is not None:
            out.append(_line(["-" * w for w in widths], widths, right, indent))
    return "\n".join(out)


def _line(cells: Sequence[str], widths: Sequence[int], right: Collection[int],
          indent: str) -> str:
    text = _GAP.join(pad(cell, width, right=i in right)
                     for i, (cell, width) in enumerate(zip(cells, widths, strict=True)))
    return (indent + text).rstrip()
