"""Coupon codes: batches, generation, typo checks and import.

A generated code is an optional batch prefix, 12 random characters from an
alphabet without look-alikes (no 0, 1, I, O) drawn with :mod:`secrets`
(32¹² = 2⁶⁰ possibilities) and a Luhn mod 32 check character, written in
groups: ``D11-7KQ2-XM9P-4TRW-H``. The check character catches every single
mistyped character and most swapped neighbours, so a typo is rejected without
a store lookup. Codes are compared in canonical form: upper case, without
spaces or dashes.

>>> code = generate_code("D11")
>>> is_well_formed(code), is_well_formed(code[:-1] + ("2" if code[-1] != "2" else "3"))
(True, False)
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime

import attrs

__all__ = [
    "ALPHABET",
    "BODY_LENGTH",
    "CodeCheck",
    "CouponBatch",
    "check_character",
    "format_code",
    "generate_code",
    "generate_codes",
    "is_well_formed",
    "normalize_code",
    "read_codes_csv",
    "write_codes_csv",
]

#: 32 characters without look-alikes: no 0/O, no 1/I.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_INDEX = {char: index for index, char in enumerate(ALPHABET)}
#: Random characters per code: 12 × 5 bits = 60 bits.
BODY_LENGTH = 12


@attrs.frozen(kw_only=True)
class CouponBatch:
    """A ``[[coupon]]`` table: codes that unlock one promotion.

    ``uses`` is how many orders one code may serve; ``count`` how many codes
    ``promokit coupons generate`` makes; ``external`` batches hold imported codes
    of any form (they carry no check character)."""

    id: str
    promotion: str
    uses: int = 1
    count: int | None = None
    prefix: str = ""
    external: bool = False
    start: datetime | None = None
    end: datetime | None = None

    def window_reason(self, now: datetime) -> str | None:
        """``not_started`` or ``ended`` if ``now`` is outside the batch's validity."""
        if self.start is not None and now < self.start:
            return "not_started"
        if self.end is not None and now > self.end:
            return "ended"
        return None


@attrs.frozen(kw_only=True)
class CodeCheck:
    """The answer to a code a customer typed (``Engine.try_code``): ``ok`` with the
    promotions it unlocks, or the reason it is refused (``code_invalid``,
    ``code_used``, ``not_started``, ``ended``, ``code_throttled``)."""

    code: str
    ok: bool
    reason: str | None = None
    message: str = ""
    promotions: tuple[str, ...] = ()
    failures: int = 0
    """Failed attempts counted against the customer in the current window."""


def normalize_code(code: str) -> str:
    """The canonical form: upper case, spaces and dashes removed."""
    return "".join(code.split()).replace("-", "").upper()


def check_character(body: str) -> str:
    """The Luhn mod 32 check character of ``body`` (characters of :data:`ALPHABET`)."""
    total = 0
    for position, char in enumerate(reversed(body)):
        value = _INDEX[char] * (2 if position % 2 == 0 else 1)
        total += value // 32 + value % 32
    return ALPHABET[-total % 32]


def is_well_formed(code: str) -> bool:
    """Whether ``code`` (any spacing or case) ends in 12 alphabet characters and a
    correct check character: the test a generated code passes and a typo fails."""
    canonical = normalize_code(code)
    tail = canonical[-(BODY_LENGTH + 1):]
    if len(tail) != BODY_LENGTH + 1 or any(char not in _INDEX for char in tail):
        return False
    return check_character(tail[:-1]) == tail[-1]


def format_code(canonical: str, prefix: str = "") -> str:
    """A canonical code in groups of four after its prefix: ``D11-7KQ2-XM9P-4TRW-H``."""
    tail = canonical[len(prefix):]
    groups = [tail[i:i + 4] for i in range(0, len(tail), 4)]
    return "-".join(([prefix] if prefix else []) + groups)


def generate_code(prefix: str = "") -> str:
    """One new code in canonical form (prefix, 12 random characters, check)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return f"{prefix}{body}{check_character(body)}"


def generate_codes(count: int, prefix: str = "", *, avoid: Iterable[str] = ()) -> list[str]:
    """``count`` distinct new codes, none of them in ``avoid``."""
    if count < 1:
        raise ValueError(f"count must be at least 1, not {count}")
    taken = set(avoid)
    codes: list[str] = []
    while len(codes) < count:
        code = generate_code(prefix)
        if code not in taken:
            taken.add(code)
            codes.append(code)
    return codes


CSV_FIELDS = ("code", "batch", "promotion", "uses", "valid_from", "valid_to")


def write_codes_csv(batch: CouponBatch, codes: Sequence[str]) -> str:
    """The codes of a batch as CSV text with a header row (codes in display form)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    start = batch.start.isoformat() if batch.start else ""
    end = batch.end.isoformat() if batch.end else ""
    for code in codes:
        shown = code if batch.external else format_code(code, batch.prefix)
        writer.writerow((shown, batch.id, batch.promotion, batch.uses, start, end))
    return out.getvalue()


def read_codes_csv(text: str) -> list[tuple[int, str]]:
    """``(line number, canonical code)`` for each row of a CSV file whose header
    has a ``code`` column, or of a file with one code per line."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return []
    header = [cell.strip().lower() for cell in rows[0]]
    column, start = (header.index("code"), 1) if "code" in header else (0, 0)
    found = []
    for number, row in enumerate(rows[start:], start=start + 1):
        if not row or not any(cell.strip() for cell in row):
            continue
        cell = row[column] if column < len(row) else ""
        found.append((number, normalize_code(cell)))
    return found
