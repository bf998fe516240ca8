"""The redemption ledger: its entries, and the ledger as files for settlement and
reports.

An order's commit writes a redemption per applied promotion
(:func:`redemptions`); a refund writes a reversal per promotion whose discount
it gives back (:func:`reversals`), in the same store write. Stores keep the
:class:`~promokit.stores.LedgerEntry` records (``Store.ledger`` lists them);
:func:`ledger_csv` and :func:`ledger_jsonl` write them out, amounts as
strings in the currency's minor unit and ``at`` as ISO 8601 with its offset
(an entry stored without one is read as UTC; :mod:`promokit.times`). A
reversal's amounts are negative, so summing a column over any selection gives
what was spent on it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..allocation import allocate
from ..money import Currency
from ..order import Order, Refund
from ..stores import LedgerEntry, key_part
from ..times import iso

__all__ = ["CSV_COLUMNS", "ledger_csv", "ledger_jsonl", "redemptions", "reversals"]

#: The CSV columns, in order; funding is one column per party found.
CSV_COLUMNS = ("entry_id", "at", "order_id", "kind", "refund_id", "promotion", "campaign",
               "customer", "code", "currency", "amount", "units", "campaign_version")


def ledger_csv(entries: Iterable[LedgerEntry]) -> str:
    """The entries as CSV with a header; each funding party gets a
    ``funding_<party>`` column (parties in order of first appearance)."""
    entries = list(entries)
    parties: dict[str, None] = {}
    for entry in entries:
        for party, _ in entry.funding:
            parties.setdefault(party, None)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, *(f"funding_{party}" for party in parties)])
    for entry in entries:
        data = _json(entry)
        funding = dict(entry.funding)
        writer.writerow([*("" if data[c] is None else data[c] for c in CSV_COLUMNS),
                         *(str(funding[p]) if p in funding else "" for p in parties)])
    return out.getvalue()


def ledger_jsonl(entries: Iterable[LedgerEntry]) -> str:
    """The entries as JSON lines (one :meth:`LedgerEntry.to_json` object per line,
    ``at`` with its offset)."""
    return "".join(json.dumps(_json(entry), ensure_ascii=False) + "\n" for entry in entries)


def _json(entry: LedgerEntry) -> dict[str, Any]:
    """:meth:`LedgerEntry.to_json`, its time with an offset whatever the store kept."""
    return {**entry.to_json(), "at": iso(entry.at)}


def redemptions(order: Order, at: datetime, money: Currency) -> tuple[LedgerEntry, ...]:
    """The ledger's redemptions of a committed order: one per applied promotion."""
    applied = {a.promotion: a for a in order.result.applied}
    entries = []
    for number, use in enumerate(order.uses):
        item = applied.get(use.promotion)
        entries.append(LedgerEntry(
            entry_id=f"{key_part(order.order_id)}:r:{number}", order_id=order.order_id,
            kind="redemption", promotion=use.promotion, campaign=use.campaign,
            customer=order.cart.customer.id, currency=order.result.currency,
            amount=money.to_decimal(use.amount),
            funding=item.funding if item is not None else (),
            units=use.units, at=at, campaign_version=order.campaign_version,
            code=use.code))
    return tuple(entries)


def reversals(order: Order, refund: Refund, money: Currency) -> tuple[LedgerEntry, ...]:
    """The ledger's reversals of a refund: each promotion's discount given back,
    its funding split like the redemption's."""
    applied = {a.promotion: a for a in order.result.applied}
    uses = {u.promotion: u for u in order.uses}
    entries = []
    for number, (promotion, amount) in enumerate(refund.reversals):
        if not amount:
            continue
        item = applied.get(promotion)
        minor = money.to_minor(amount)
        funding: tuple[tuple[str, Decimal], ...] = ()
        if item is not None and item.funding:
            parts = allocate(minor, [money.to_minor(share) for _, share in item.funding]) \
                if any(share for _, share in item.funding) else [minor]
            funding = tuple((party, -money.to_decimal(part))
                            for (party, _), part in zip(item.funding, parts, strict=False))
        use = uses.get(promotion)
        touched = {line.id for line in order.result.lines
                   if any(d.promotion == promotion for d in line.discounts)}
        entries.append(LedgerEntry(
            entry_id=f"{key_part(order.order_id)}:f:{key_part(refund.refund_id)}:{number}",
            order_id=order.order_id, kind="reversal", promotion=promotion,
            campaign=use.campaign if use else None, customer=order.cart.customer.id,
            currency=order.result.currency, amount=-amount, funding=funding,
            units=sum(count for line_id, count in refund.units if line_id in touched),
            at=refund.at,
            campaign_version=order.campaign_version,
            code=use.code if use else None, refund_id=refund.refund_id))
    return tuple(entries)
