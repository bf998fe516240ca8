"""Plain-text tables that stay aligned with Chinese, Japanese and Korean text, and
a priced cart as such a table (:func:`render_result`; the CLI and the demo print
it).

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

Widths need nothing beyond :mod:`unicodedata`; lines never end in spaces.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal

from .cart import Cart
from .money import currency
from .result import PriceResult
from .text import Text

__all__ = ["count_of", "display_width", "money_text", "pad", "render", "render_result"]

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


# -- a priced cart as text ---------------------------------------------------------


def money_text(code: str, amount: Decimal) -> str:
    """``amount`` for a sentence: ``¥48.40``, ``$12.30``, ``KWD0.999``."""
    money = currency(code)
    return Text("en").money(money.to_minor(amount), money)


def _fmt(code: str, amount: Decimal) -> str:
    money = currency(code)
    return money.format(money.to_minor(amount))


def render_result(result: PriceResult, *, names: Mapping[str, str] | None = None,
                  cart: Cart | None = None) -> str:
    """A priced cart as readable text: lines with their discounts, totals,
    applied promotions with funding, promotions not applied and why, hints,
    rejected codes, and a note when the best deal is not proven optimal.

    ``names`` maps promotion ids to their names; ``cart`` adds a line about the
    channel, customer and time.
    """
    names = names or {}
    code = result.currency

    def fmt(amount: Decimal) -> str:
        return _fmt(code, amount)

    def neg(amount: Decimal) -> str:
        return "-" + fmt(amount) if amount else fmt(amount)

    parts: list[str] = []
    if cart is not None:
        parts.append(_cart_context(cart))
    rows: list[list[str]] = []
    for line in result.lines:
        rows.append([line.id, line.sku, str(line.quantity), fmt(line.unit_price),
                     fmt(line.subtotal), neg(line.discount), fmt(line.total)])
        rows.extend(["", f"  {d.promotion}", "", "", "", neg(d.amount), ""]
                    for d in line.discounts)
    parts.append(render(["line", "sku / discount", "qty", "unit price", "subtotal",
                         "discount", "total"], rows, right={2, 3, 4, 5, 6}))

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
    parts.append(render(None, totals, right={1}))

    if result.applied:
        rows = [[a.promotion, names.get(a.promotion, ""), a.stage, fmt(a.amount),
                 "\n".join(f"{party} {fmt(share)}" for party, share in a.funding)]
                for a in result.applied]
        parts.append(f"applied, saving {money_text(code, result.discount_total)} in all:\n"
                     + render(["promotion", "name", "stage", "amount", "funded by"], rows,
                              right={3}, indent="  "))
    else:
        parts.append("applied: none")
    if result.not_applied:
        rows = [[n.promotion, n.reason, n.message] for n in result.not_applied]
        parts.append("not applied:\n" + render(["promotion", "reason", "why"], rows,
                                               indent="  "))
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
            f"{money_text(code, g.value)} each)" for g in result.gifts))
    if result.rejected_codes:
        parts.append("rejected codes:\n" + "\n".join(
            f"  {c.code}: {c.reason} ({c.message})" for c in result.rejected_codes))
    if not result.optimal:
        parts.append("note: too many competing promotions to try every combination; this is "
                     "the best deal\n      the heuristic found, not proven optimal")
    return "\n\n".join(parts)


def _cart_context(cart: Cart) -> str:
    customer = cart.customer
    about = [f"tier {customer.tier}"] if customer.tier else []
    if customer.orders_count is not None:
        about.append(count_of(customer.orders_count, "earlier order"))
    who = (customer.id or "anonymous") + (f" ({', '.join(about)})" if about else "")
    when = cart.now.isoformat(sep=" ", timespec="minutes") if cart.now else "now"
    text = f"{cart.currency} cart on {cart.channel or 'no channel'}: customer {who}, {when}"
    if cart.codes:
        text += f", codes {', '.join(cart.codes)}"
    return text


def count_of(number: int, noun: str) -> str:
    """``1 promotion``, ``2 promotions``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"
