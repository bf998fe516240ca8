"""Canonical JSON: the exact bytes the audit hashes (RFC 8785, JCS).

A draw log is checked by recomputing hashes of configs, log entries and draw
inputs, in any language, so what is hashed must be one byte string per value.
It is the value's **JSON Canonicalization Scheme** form (RFC 8785), encoded in
UTF-8, for the values the audit uses:

- ``null``, ``true``, ``false``;
- integers from −(2⁵³ − 1) to 2⁵³ − 1, in plain decimal (``-7``, ``0``, ``42``);
- strings of Unicode scalar values (no lone surrogates), written as themselves
  except ``"`` → ``\\"``, ``\\`` → ``\\\\``, U+0008 → ``\\b``, U+0009 → ``\\t``,
  U+000A → ``\\n``, U+000C → ``\\f``, U+000D → ``\\r`` and every other character
  below U+0020 as ``\\u00xx`` (lower-case hex);
- arrays, in order; objects, with their members sorted by name compared as
  UTF-16 code units (names are unique);
- no whitespace anywhere outside strings.

Floats are refused, not rounded: the audit never hashes one (money is written
as a decimal string, ``"59.00"``). On these values RFC 8785 and this module give
the same bytes, so any RFC 8785 library checks them.

>>> canonical_json({"b": [1, True, None], "a": "雙11\\n"})
'{"a":"雙11\\\\n","b":[1,true,null]}'
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["MAX_SAFE_INTEGER", "canonical_bytes", "canonical_json", "sha256_hex"]

#: The largest integer JSON numbers hold exactly everywhere (RFC 7493, I-JSON).
MAX_SAFE_INTEGER = 2**53 - 1

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
            "\r": "\\r"}


def canonical_json(value: Any) -> str:
    """The RFC 8785 text of ``value`` (see the module docstring); ``ValueError`` for
    what it cannot hold: a float, an integer past 2⁵³ − 1, a lone surrogate, a
    non-string object key, or another type."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def canonical_bytes(value: Any) -> bytes:
    """:func:`canonical_json` as UTF-8: what the audit hashes."""
    return canonical_json(value).encode("utf-8")


def sha256_hex(value: Any) -> str:
    """SHA-256 of the value's canonical bytes, as 64 lower-case hex digits."""
    return hashlib.sha256(canonical_bytes(value)).hexdigest()


def _write(value: Any, parts: list[str]) -> None:
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError(f"integer {value} is beyond ±(2**53 - 1): canonical JSON "
                             "cannot hold it exactly")
        parts.append(str(int(value)))
    elif isinstance(value, str):
        parts.append(_string(value))
    elif isinstance(value, Mapping):
        names = list(value)
        if not all(isinstance(name, str) for name in names):
            raise ValueError("canonical JSON object names must be strings")
        parts.append("{")
        for index, name in enumerate(sorted(names, key=_utf16)):
            if index:
                parts.append(",")
            parts.append(_string(name))
            parts.append(":")
            _write(value[name], parts)
        parts.append("}")
    elif isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            _write(item, parts)
        parts.append("]")
    elif isinstance(value, float):
        raise ValueError(f"float {value!r} in canonical JSON: write money and ratios as "
                         "decimal strings")
    else:
        raise ValueError(f"{type(value).__name__} is not a JSON value")


def _utf16(name: str) -> bytes:
    """Sort key: the name as big-endian UTF-16 code units (RFC 8785, section 3.2.3)."""
    return name.encode("utf-16-be", "surrogatepass")


def _string(text: str) -> str:
    out = ['"']
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif code < 0x20:
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:
            raise ValueError(f"lone surrogate U+{code:04X} in a string: not valid Unicode")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)
