"""The redemption ledger as files: CSV and JSON lines for settlement and reports.

Stores keep :class:`~promokit.stores.LedgerEntry` records (``Store.ledger``
lists them); these functions write them out. A reversal's amounts are negative,
so summing a column over any selection gives what was spent on it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

from .stores import LedgerEntry

__all__ = ["CSV_COLUMNS", "ledger_csv", "ledger_jsonl"]

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
        data = entry.to_json()
        funding = dict(entry.funding)
        writer.writerow([*("" if data[c] is None else data[c] for c in CSV_COLUMNS),
                         *(str(funding[p]) if p in funding else "" for p in parties)])
    return out.getvalue()


def ledger_jsonl(entries: Iterable[LedgerEntry]) -> str:
    """The entries as JSON lines (one :meth:`LedgerEntry.to_json` object per line)."""
    return "".join(json.dumps(entry.to_json(), ensure_ascii=False) + "\n" for entry in entries)
