"""Comparing two versions of a game's config once it has started.

A change that is worse for customers (a lower prize, a lower probability or
stock, a new condition, a shorter window) is rejected once the game has
started; a change in their favour is accepted. Both are journalled. Kinds
describe their own keys with :func:`compare`; the shared keys are compared
by :func:`shared_changes`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .base import ConfigChange, GameSpec

__all__ = ["compare", "shared_changes"]


def compare(path: str, before: Any, after: Any, *, better: str) -> list[ConfigChange]:
    """One value's change. ``better`` says which way helps customers: ``"higher"``,
    ``"lower"``, ``"same"`` (any change is worse, e.g. a new condition) or
    ``"neutral"`` (no change is worse, e.g. the organiser's phone number).
    ``None`` stands for "unlimited" on the ``higher`` side (no cap is best)."""
    if before == after:
        return []
    if better == "neutral":
        worse = False
    elif better == "same":
        worse = True
    elif before is None or after is None:
        # None is "no limit": losing it is worse when higher is better
        worse = (after is not None) if better == "higher" else (after is None)
    else:
        worse = after < before if better == "higher" else after > before
    return [ConfigChange(path, _show(before), _show(after), worse)]


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def shared_changes(old: GameSpec, new: GameSpec) -> list[ConfigChange]:
    """Changes to the keys every game shares."""
    changes: list[ConfigChange] = []
    # a later end is better; an earlier (or a new) end is worse
    old_end, new_end = old.schedule.end, new.schedule.end
    if old_end != new_end:
        worse = new_end is not None and (old_end is None or new_end < old_end)
        changes.append(ConfigChange("end", _show(old_end), _show(new_end), worse))
    old_start, new_start = old.schedule.start, new.schedule.start
    if old_start != new_start:
        worse = new_start is not None and (old_start is None or new_start > old_start)
        changes.append(ConfigChange("start", _show(old_start), _show(new_start), worse))
    changes.extend(_conditions(old, new))
    changes.extend(compare("organiser", old.organiser, new.organiser, better="neutral"))
    changes.extend(compare("name", old.name, new.name, better="neutral"))
    return changes


def _conditions(old: GameSpec, new: GameSpec) -> Iterable[ConfigChange]:
    before = [c for c in old.source.get("conditions", [])]
    after = [c for c in new.source.get("conditions", [])]
    for index, condition in enumerate(after):
        if condition not in before:
            yield ConfigChange(f"conditions[{index}]", "none", _show(condition), True)
    for condition in before:
        if condition not in after:
            yield ConfigChange("conditions", _show(condition), "removed", False)
