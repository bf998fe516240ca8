"""API keys: hashed at rest, scoped, compared in constant time.

A keys file (TOML or JSON) lists each key by the SHA-256 of its text, never the
text itself::

    [[key]]
    id = "web-shop"                     # named in logs, never secret
    sha256 = "9f86d081884c7d65…"       # printf %s "$KEY" | sha256sum
    scopes = ["price", "checkout"]

Scopes: ``price`` (evaluate, rule text, coupon checks, game rules: read-only
pricing), ``checkout`` (orders, refunds, playing games) and ``admin`` (sweep,
ledger, replay, validate, coupon generation and import, game reveal and log).
``admin`` grants the other two and ``checkout`` grants ``price``.

A request names its key in ``Authorization: Bearer KEY`` or ``X-API-Key: KEY``.
:meth:`KeyRing.find` hashes it and compares the digest with every key's, each
comparison with :func:`hmac.compare_digest`, so the time taken says nothing of
which key, or how much of one, matched.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from ..errors import InputError, Problem

__all__ = ["SCOPES", "ApiKey", "KeyRing", "KeysError", "hash_key", "load_keys"]

#: Every scope, and the scopes each one grants.
SCOPES: dict[str, frozenset[str]] = {
    "price": frozenset({"price"}),
    "checkout": frozenset({"price", "checkout"}),
    "admin": frozenset({"price", "checkout", "admin"}),
}

_HEX = re.compile(r"[0-9a-f]{64}")


class KeysError(InputError):
    """A keys file is unreadable or invalid; ``.problems`` lists every problem."""

    what = "keys file"


def hash_key(key: str) -> str:
    """The SHA-256 hex digest of a key's text: what a keys file holds."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@attrs.frozen(kw_only=True)
class ApiKey:
    """One key of a keys file: its id, digest and the scopes it grants."""

    id: str
    digest: bytes = attrs.field(repr=False)
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return any(scope in SCOPES[granted] for granted in self.scopes)


@attrs.frozen
class KeyRing:
    """The keys a service accepts."""

    keys: tuple[ApiKey, ...]

    def find(self, presented: str | None) -> ApiKey | None:
        """The key whose digest matches ``presented``'s, or ``None``. Compares with
        every key, whatever matched, each in constant time."""
        if not presented:
            return None
        digest = hashlib.sha256(presented.encode("utf-8", "surrogatepass")).digest()
        found: ApiKey | None = None
        for key in self.keys:
            if hmac.compare_digest(digest, key.digest) and found is None:
                found = key
        return found


def load_keys(path: str | Path) -> KeyRing:
    """Read a keys file (TOML, or JSON if it ends in ``.json``); :class:`KeysError`
    lists every problem."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise KeysError([Problem(path="", message=f"cannot read {source}: {error}")],
                        source=source) from None
    try:
        data: Any = json.loads(text) if source.endswith(".json") else tomllib.loads(text)
    except ValueError as error:
        raise KeysError([Problem(path="", message=f"not valid "
                                 f"{'JSON' if source.endswith('.json') else 'TOML'}: {error}")],
                        source=source) from None
    return KeyRing(tuple(_keys(data, source)))


def _keys(data: Any, source: str) -> list[ApiKey]:
    problems: list[Problem] = []
    tables = data.get("key") if isinstance(data, dict) else None
    if not isinstance(tables, list) or not tables:
        raise KeysError([Problem(path="key", message="list at least one [[key]] table")],
                        source=source)
    keys: list[ApiKey] = []
    seen: set[str] = set()
    for index, table in enumerate(tables):
        where = f"key[{index}]"
        if not isinstance(table, dict):
            problems.append(Problem(path=where, message="must be a table"))
            continue
        for unknown in sorted(set(table) - {"id", "sha256", "scopes"}):
            problems.append(Problem(path=f"{where}.{unknown}", message="unknown key"))
        key_id, digest, scopes = table.get("id"), table.get("sha256"), table.get("scopes")
        if not isinstance(key_id, str) or not key_id:
            problems.append(Problem(path=f"{where}.id", message="must be a non-empty string"))
        elif key_id in seen:
            problems.append(Problem(path=f"{where}.id", message=f"{key_id!r} is used twice"))
        else:
            seen.add(key_id)
        if not isinstance(digest, str) or not _HEX.fullmatch(digest.lower()):
            problems.append(Problem(path=f"{where}.sha256", message="must be the 64 hex "
                                    "digits of the key's SHA-256 (not the key itself)"))
        if (not isinstance(scopes, list) or not scopes
                or not all(isinstance(s, str) and s in SCOPES for s in scopes)):
            problems.append(Problem(path=f"{where}.scopes", message="must list scopes of: "
                                    + ", ".join(SCOPES)))
        if isinstance(key_id, str) and isinstance(digest, str) and isinstance(scopes, list):
            keys.append(ApiKey(id=key_id, digest=bytes.fromhex(digest)
                               if _HEX.fullmatch(digest.lower()) else b"",
                               scopes=frozenset(_strings(scopes))))
    if problems:
        raise KeysError(problems, source=source)
    return keys


def _strings(values: Iterable[Any]) -> Iterable[str]:
    return (value for value in values if isinstance(value, str))
