"""How promokit writes times: ISO 8601 with an explicit offset (DESIGN §5).

One rule for every time promokit writes — order and refund JSON, the ledger's
CSV and JSON lines, game state, events, and the command line's text: the time
is in the campaign set's ``timezone`` and carries its offset
(``2026-11-11T00:30:00+08:00``). Checkout, commit, refunds and games stamp
their times in that timezone, so what they store already reads that way. A
time read back without an offset (stored before times carried one) is taken
to be UTC: :func:`aware` makes it so at the boundary where it is read.

Machine output keeps the time as stored (:func:`iso`, with microseconds when
there are any); text for people stops at the second (:func:`iso_text`)::

    >>> from datetime import datetime
    >>> iso(datetime(2026, 11, 10, 16, 30, 0, 250000))
    '2026-11-10T16:30:00.250000+00:00'
    >>> iso_text(datetime.fromisoformat("2026-11-11T00:30:00.250+08:00"))
    '2026-11-11T00:30:00+08:00'
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

__all__ = ["aware", "iso", "iso_text", "local"]


def aware(moment: datetime, tz: tzinfo = UTC) -> datetime:
    """``moment`` with an offset: a naive time is taken to be in ``tz`` (UTC unless
    given); an aware one is returned as it is."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def local(moment: datetime, tz: tzinfo) -> datetime:
    """``moment`` in ``tz`` (a naive time is taken to be in ``tz`` already)."""
    return aware(moment, tz).astimezone(tz)


def iso(moment: datetime) -> str:
    """``moment`` for JSON and CSV: ISO 8601 with its offset, naive read as UTC."""
    return aware(moment).isoformat()


def iso_text(moment: datetime) -> str:
    """``moment`` for people: ISO 8601 to the second, with its offset."""
    return aware(moment).isoformat(timespec="seconds")
