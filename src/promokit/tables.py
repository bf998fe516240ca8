"""Tables for the command line, aligned with Chinese, Japanese and Korean text,
and a priced cart as such tables (:func:`render_result`; the CLI and the demo
print it).

:func:`render` lays rows out with `rich <https://rich.readthedocs.io>`_, which
counts terminal columns the way a terminal draws them (``雙`` and ``１`` take
two, a combining accent none), so every column after a CJK cell still lines
up. Columns whose index is in ``right`` (money, quantities) are right-aligned::

    >>> print(render(["id", "name", "off"],
    ...              [["d11-300-50", "跨店滿減", "¥50.00"], ["gold-95", "金卡95折", "¥26.40"]],
    ...              right={2}))
    id          name         off
    ----------  --------  ------
    d11-300-50  跨店滿減  ¥50.00
    gold-95     金卡95折  ¥26.40

The text is plain unless ``color=True``: no escape codes, no trailing spaces,
and as wide as the table needs (never wrapped to a terminal's width), so
what a pipe, a file or a test sees is the same on every machine. The command
line asks for colour (a bold header, a dim rule) only when its output is a
terminal: :func:`use_color`.

Money in text is written one way, :func:`money_text` (``¥1,234.56``,
``-¥6.45``), as :meth:`promokit.text.Text.money` writes it in messages.
"""

from __future__ import annotations

import io
import os
import sys
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from datetime import tzinfo
from decimal import Decimal
from typing import TextIO

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text as RichText

from .cart import Cart
from .money import currency
from .result import PriceResult
from .text import Text
from .times import local

__all__ = ["count_of", "display_width", "money_text", "pad", "render", "render_result",
           "use_color"]

#: Columns between two columns of a table.
_GAP = 2


def display_width(text: str) -> int:
    """The number of terminal columns ``text`` takes.

    East Asian wide (``W``) and full-width (``F``) characters take two columns,
    combining marks and zero-width characters none, everything else one.
    Ambiguous-width characters (``A``: ``·``, ``…``, box drawing) count one, as
    in most Western terminal settings; keep them out of aligned columns.
    """
    return cell_len(text)


def pad(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` columns (on the left if ``right``)."""
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


def use_color(file: TextIO | None = None) -> bool:
    """Whether text written to ``file`` (standard output if ``None``) may be coloured:
    only when it is a terminal, ``NO_COLOR`` is unset or empty (https://no-color.org)
    and ``TERM`` is not ``dumb``."""
    stream = file if file is not None else sys.stdout
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False
    return (terminal and not os.environ.get("NO_COLOR")
            and os.environ.get("TERM", "").lower() != "dumb")


def render(headers: Sequence[str] | None, rows: Sequence[Sequence[str]], *,
           right: Collection[int] = (), indent: str = "", color: bool = False) -> str:
    """Rows of cells as aligned text, one line per row, columns two spaces apart.

    ``headers`` (or ``None`` for none) are underlined with dashes; columns whose
    index is in ``right`` (money, quantities) are right-aligned, their headers
    too. A cell holding ``"\\n"`` takes several lines, the other cells of its
    row continuing on the first. Short rows are padded with empty cells. An
    empty table renders as its header alone, or as ``""`` without headers.
    Every line starts with ``indent`` and none ends in a space; the result has
    no trailing newline. ``color`` adds terminal escape codes (a bold header, a
    dim rule): pass :func:`use_color` of where the text goes.
    """
    columns = max([len(headers or ())] + [len(row) for row in rows])
    if columns == 0:
        return ""
    body = [[_clean(cell) for cell in row] + [""] * (columns - len(row)) for row in rows]
    head = [_clean(cell) for cell in headers or ()]
    head += [""] * (columns - len(head))
    lines = ([head] if headers is not None else []) + body
    widths = [max(cell_len(part) for line in lines for part in line[i].split("\n"))
              for i in range(columns)]
    table = Table(box=None, show_header=headers is not None, show_edge=False,
                  padding=(0, _GAP // 2), pad_edge=False, header_style="bold" if color else "")
    for i, title in enumerate(head):
        table.add_column(RichText(title), justify="right" if i in right else "left",
                         no_wrap=True, overflow="fold", min_width=widths[i])
    if headers is not None:
        table.add_row(*(RichText("-" * width, style="dim" if color else "")
                        for width in widths))
    for row in body:
        table.add_row(*(RichText(cell) for cell in row))
    out = io.StringIO()
    console = Console(file=out, width=sum(widths) + _GAP * (columns - 1),
                      force_terminal=color, no_color=not color,
                      color_system="standard" if color else None, highlight=False,
                      emoji=False, markup=False, soft_wrap=False, legacy_windows=False)
    console.print(table)
    return "\n".join((indent + line).rstrip() for line in out.getvalue().splitlines())


def _clean(cell: object) -> str:
    """A cell's text, with control characters but the line break made visible
    (``\\t`` and an escape would otherwise move the cursor, not fill a column)."""
    text = str(cell)
    if text.isprintable():
        return text
    return "".join("\ufffd" if c != "\n" and unicodedata.category(c) == "Cc" else c
                   for c in text)


# -- a priced cart as text ---------------------------------------------------------


def money_text(code: str, amount: Decimal) -> str:
    """``amount`` for people, in sentences and table cells alike: ``¥48.40``,
    ``¥3,999.00``, ``-¥6.45``, ``$12.30``, ``KWD0.999`` (rounded half-up to the
    currency's minor unit)."""
    money = currency(code)
    return Text("en").money(money.to_minor(amount), money)


def render_result(result: PriceResult, *, names: Mapping[str, str] | None = None,
                  cart: Cart | None = None, timezone: tzinfo | None = None,
                  color: bool = False) -> str:
    """A priced cart as readable text: lines with their discounts, totals,
    applied promotions with funding, promotions not applied and why, hints,
    rejected codes, and a note when the best deal is not proven optimal.

    ``names`` maps promotion ids to their names; ``cart`` adds a line about the
    channel, customer and time, the time shown in ``timezone`` (the campaign
    set's; a cart's time without an offset is in it) when given. Amounts are
    written by :func:`money_text`, right-aligned in their columns; ``color`` as
    in :func:`render`.
    """
    names = names or {}
    code = result.currency

    def fmt(amount: Decimal) -> str:
        return money_text(code, amount)

    def neg(amount: Decimal) -> str:
        return money_text(code, -amount)

    parts: list[str] = []
    if cart is not None:
        parts.append(_cart_context(cart, timezone))
    rows: list[list[str]] = []
    for line in result.lines:
        rows.append([line.id, line.sku, str(line.quantity), fmt(line.unit_price),
                     fmt(line.subtotal), neg(line.discount), fmt(line.total)])
        rows.extend(["", f"  {d.promotion}", "", "", "", neg(d.amount), ""]
                    for d in line.discounts)
    parts.append(render(["line", "sku / discount", "qty", "unit price", "subtotal",
                         "discount", "total"], rows, right={2, 3, 4, 5, 6}, color=color))

    line_discounts = result.discount_total - result.shipping_discount
    totals = [["subtotal", fmt(result.subtotal)], ["discounts", neg(line_discounts)],
              ["shipping", fmt(result.shipping + result.shipping_discount)]]
    if result.shipping_discount:
        totals.append(["shipping discount", neg(result.shipping_discount)])
    totals.append(["total", fmt(result.total)])
    deposits = result.total - result.balance_due
    if deposits:
        totals.append(["deposits paid", neg(deposits)])
    totals.append(["balance due", fmt(result.balance_due)])
    parts.append(render(None, totals, right={1}, color=color))

    if result.applied:
        rows = [[a.promotion, names.get(a.promotion, ""), a.stage, fmt(a.amount),
                 "\n".join(party for party, _ in a.funding),
                 "\n".join(fmt(share) for _, share in a.funding)]
                for a in result.applied]
        parts.append(f"applied, saving {fmt(result.discount_total)} in all:\n"
                     + render(["promotion", "name", "stage", "amount", "funded by", ""], rows,
                              right={3, 5}, indent="  ", color=color))
    else:
        parts.append("applied: none")
    if result.not_applied:
        rows = [[n.promotion, n.reason, n.message] for n in result.not_applied]
        parts.append("not applied:\n" + render(["promotion", "reason", "why"], rows,
                                               indent="  ", color=color))
    if result.hints:
        hint_lines = []
        for hint in result.hints:
            where = f" (shop {hint.shop})" if hint.shop else ""
            hint_lines.append(f"  {hint.promotion}{where}: {hint.message}")
        parts.append("hints (凑单):\n" + "\n".join(hint_lines))
    if result.rewards:
        parts.append("rewards:\n" + "\n".join(
            f"  {r.promotion}: {r.amount} {r.kind}" for r in result.rewards))
    if result.gifts:
        parts.append("gifts:\n" + "\n".join(
            f"  {g.promotion}: {g.quantity} x {g.sku} {g.name} (worth "
            f"{fmt(g.value)} each)" for g in result.gifts))
    if result.rejected_codes:
        parts.append("rejected codes:\n" + "\n".join(
            f"  {c.code}: {c.reason} ({c.message})" for c in result.rejected_codes))
    if not result.optimal:
        parts.append("note: too many competing promotions to try every combination; this is "
                     "the best deal\n      the heuristic found, not proven optimal")
    return "\n\n".join(parts)


def _cart_context(cart: Cart, timezone: tzinfo | None) -> str:
    customer = cart.customer
    about = [f"tier {customer.tier}"] if customer.tier else []
    if customer.orders_count is not None:
        about.append(count_of(customer.orders_count, "earlier order"))
    who = (customer.id or "anonymous") + (f" ({', '.join(about)})" if about else "")
    if cart.now is None:
        when = "now"
    else:
        moment = local(cart.now, timezone) if timezone is not None else cart.now
        when = moment.isoformat(timespec="seconds")
    text = f"{cart.currency} cart on {cart.channel or 'no channel'}: customer {who}, {when}"
    if cart.codes:
        text += f", codes {', '.join(cart.codes)}"
    return text


def count_of(number: int, noun: str) -> str:
    """``1 promotion``, ``2 promotions``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"
