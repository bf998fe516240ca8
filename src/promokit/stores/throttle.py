"""The rule of :meth:`Store.check_codes <promokit.stores.Store.check_codes>`, for
backends that run it in Python while they hold the throttle's lock.

A backend reads, inside its atomic step, the throttle's count and which of the
codes are already in its set of wrong codes, and gives :func:`check_in_order` a
callable that looks codes up in that same step. The function decides, code by
code in the order given, which are found, counted or throttled, and looks up
only the codes the rule lets through: in one call when the throttle has room
for every new code, in a few more when found codes leave room for codes after
them. The backend then writes ``counted`` to the set and ``failures`` to the
count before it ends the step. (The Redis backend runs the same rule in a Lua
script.)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

from .base import CheckedCodes, CodeRow

__all__ = ["check_in_order"]


def check_in_order(codes: Sequence[str], *, wrong: Collection[str], failures: int,
                   limit: int, find: Callable[[Sequence[str]], Mapping[str, CodeRow]]
                   ) -> CheckedCodes:
    """Apply the rule of ``check_codes`` to ``codes`` (each taken once, in order).

    ``wrong`` holds the codes among ``codes`` already in the throttle's set and
    ``failures`` the set's size; ``find`` returns the registered codes among
    those it is given. A code is looked up only if it is in ``wrong`` or the set
    had room for it at its turn, so a code that would be refused never reaches
    ``find``."""
    pending = list(dict.fromkeys(codes))
    found: dict[str, CodeRow] = {}
    throttled: list[str] = []
    counted: list[str] = []
    count = failures
    at = 0
    while at < len(pending):
        room = limit - count
        batch: list[str] = []
        fresh = 0
        while at < len(pending):
            code = pending[at]
            if code not in wrong:
                if room <= 0:
                    throttled.append(code)
                    at += 1
                    continue
                if fresh == room:
                    break  # whether the next one fits depends on what this batch finds
                fresh += 1
            batch.append(code)
            at += 1
        if batch:
            rows = find(batch)
            for code in batch:
                row = rows.get(code)
                if row is not None:
                    found[code] = row
                elif code not in wrong:
                    counted.append(code)
                    count += 1
    return CheckedCodes(found={code: found[code] for code in pending if code in found},
                        throttled=throttled, counted=counted, failures=count)
