"""Bargain ids (``<game id>.<code>``) and the store names of a bargain's
counters."""

from __future__ import annotations

import re

from promokit.stores import key_part

#: A bargain id: ``<game id>.<code>``, the code 16 hex digits.
BARGAIN_ID = re.compile(r"^(?P<game>[A-Za-z0-9_-]+)\.(?P<code>[0-9a-f]{16})$")


def bargain_code(game_id: str, bargain_id: str | None) -> str | None:
    """The code of one of ``game_id``'s bargain ids, or ``None``."""
    found = BARGAIN_ID.match(bargain_id or "")
    if found is None or found["game"] != game_id:
        return None
    return found["code"]


def bargain_key(game_id: str, code: str, *parts: str) -> str:
    """A counter of one bargain: ``game:<game>:bargain:<code>:<part>…``, the parts
    escaped (a part may be a customer id)."""
    return ":".join(("game", game_id, "bargain", code, *(key_part(part) for part in parts)))
