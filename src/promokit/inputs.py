"""Bounds on what promokit reads, and reading documents within them.

Every document from outside (a cart, a campaign file, a draw log, a customer
given on the command line) is read here before anything else looks at it: its
size, how deeply it nests, how long its numbers are and what its text holds are
checked, and a document that breaks a bound is refused with a problem naming
the bound, never with a ``RecursionError`` or a ``MemoryError``.
:class:`InputLimits` holds the bounds; an engine takes its own
(``Engine(input_limits=…)``), everything else uses :data:`DEFAULT_LIMITS`.

>>> decode_json('{"a": [1, 2]}', error=CartError)
{'a': [1, 2]}
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from .errors import InputError, Problem

__all__ = [
    "DEFAULT_LIMITS",
    "MAX_INTEGER",
    "RECORD_LIMITS",
    "InputLimits",
    "bad_identifier",
    "bad_text",
    "bad_time",
    "check_document",
    "decode_json",
    "decode_toml",
]

#: The largest whole number a document may hold anywhere (counts, limits, stock,
#: priorities): 10^15, like the largest amount of money.
MAX_INTEGER = 10**15

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


@attrs.frozen(kw_only=True)
class InputLimits:
    """The bounds on input; the defaults suit a shop, every one can be raised.

    A bound that is broken is a clear error naming it (and its path), never a
    slow or failed evaluation."""

    max_document_bytes: int = 1 << 20
    """A cart, or any JSON document but a campaign file: 1 MiB."""
    max_campaign_bytes: int = 64 << 20
    """A campaign file: 64 MiB (100,000 promotions take about 20 MiB)."""
    max_depth: int = 32
    """Tables and lists nested in one another."""
    max_lines: int = 1_000
    """Lines in one cart."""
    max_quantity: int = 1_000_000
    """Units on one line."""
    max_codes: int = 10
    """Coupon codes one cart carries."""
    max_id_length: int = 200
    """Characters in an id (a line, sku, customer, order, refund, promotion …)."""

    def __attrs_post_init__(self) -> None:
        for field in attrs.fields(InputLimits):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{field.name} must be a positive whole number, "
                                 f"not {value!r}")


#: The bounds used where no others are given.
DEFAULT_LIMITS = InputLimits()

#: The bounds of records promokit wrote itself (a stored order's cart): only the
#: depth. An order an engine with larger limits checked out stays readable by one
#: with the defaults, so it can always be released, expired and refunded.
RECORD_LIMITS = InputLimits(max_document_bytes=1 << 62, max_campaign_bytes=1 << 62,
                            max_depth=64, max_lines=1 << 62, max_quantity=MAX_INTEGER,
                            max_codes=1 << 62, max_id_length=1 << 62)


def bad_identifier(value: str, limits: InputLimits = DEFAULT_LIMITS) -> str | None:
    """Why ``value`` cannot be an id (too long, a control character), or ``None``."""
    if len(value) > limits.max_id_length:
        return f"is {len(value):,} characters long; at most {limits.max_id_length:,}"
    if _CONTROL.search(value):
        return "holds a control character"
    return _text_problem(value)


def decode_json(text: str | bytes, *, error: type[InputError],
                limits: InputLimits = DEFAULT_LIMITS, max_bytes: int | None = None,
                source: str | None = None, syntax: str = "JSON") -> Any:
    """A JSON document within ``limits``; ``error`` (a
    :class:`~promokit.errors.InputError`) naming every problem if it is not one:
    too large, nested too deeply, not JSON, or holding what
    :func:`check_document` refuses."""
    size = max_bytes if max_bytes is not None else limits.max_document_bytes
    return _decode(json.loads, text, error=error, limits=limits, max_bytes=size,
                   source=source, syntax=syntax)


def decode_toml(text: str, *, error: type[InputError], limits: InputLimits = DEFAULT_LIMITS,
                source: str | None = None, syntax: str = "TOML") -> dict[str, Any]:
    """A TOML document (a campaign file) within ``limits``; ``error`` naming every
    problem if it is not one."""
    data: dict[str, Any] = _decode(tomllib.loads, text, error=error, limits=limits,
                                   max_bytes=limits.max_campaign_bytes, source=source,
                                   syntax=syntax)
    return data


def _decode(parse: Callable[[Any], Any], text: str | bytes, *, error: type[InputError],
            limits: InputLimits, max_bytes: int, source: str | None, syntax: str) -> Any:
    too_big = _size_problem(text, error.what, max_bytes)
    if too_big:
        raise error([Problem(path="", message=too_big)], source=source)
    try:
        data = parse(text)
    except RecursionError:
        raise error([Problem(path="", message=_too_deep(error.what, limits))],
                    source=source) from None
    except ValueError as failure:  # not the syntax, not UTF-8, an integer past 4,300 digits
        raise error([Problem(path="", message=f"not valid {syntax}: {failure}")],
                    source=source) from None
    problems = check_document(data, limits)
    if problems:
        raise error(problems, source=source)
    return data


def check_document(data: Any, limits: InputLimits = DEFAULT_LIMITS) -> list[Problem]:
    """Every place in decoded ``data`` that no reader should see: nesting deeper
    than ``max_depth``, text with a NUL or a lone surrogate (they cannot be stored),
    a whole number past :data:`MAX_INTEGER`, a float that is not finite."""
    problems: list[Problem] = []
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, (Mapping, list)):
            if depth >= limits.max_depth:
                problems.append(Problem(path=path, message=f"nested more than "
                                        f"{limits.max_depth} deep"))
                continue
            items = (value.items() if isinstance(value, Mapping)
                     else enumerate(value))
            for key, item in items:
                if isinstance(key, str):
                    why = _text_problem(key)
                    if why:
                        problems.append(Problem(path=path, message=f"a key {why}"))
                        continue
                    child = f"{path}.{key}" if path else key
                else:
                    child = f"{path}[{key}]"
                stack.append((item, child, depth + 1))
        elif isinstance(value, str):
            why = _text_problem(value)
            if why:
                problems.append(Problem(path=path, message=why))
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int):
            if abs(value) > MAX_INTEGER:
                problems.append(Problem(path=path, message=f"{_digits(value)} is too large "
                                        f"(at most {MAX_INTEGER:,})"))
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append(Problem(path=path, message="is not a finite number"))
    problems.reverse()
    return problems


_EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
_LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def bad_time(moment: datetime) -> str | None:
    """Why an aware ``moment`` cannot be used (a day of it in some timezone falls
    outside the calendar, years 1 to 9999), or ``None``."""
    try:
        inside = _EARLIEST <= moment.astimezone(UTC) <= _LATEST
    except OverflowError:
        inside = False
    return None if inside else "is out of the range of times (years 1 to 9999 in every timezone)"


def bad_text(text: str) -> str | None:
    """Why ``text`` cannot be stored (a NUL, a lone surrogate), or ``None``."""
    return _text_problem(text)


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "holds a NUL character"
    if _SURROGATE.search(text):
        return "holds a lone surrogate (not valid Unicode text)"
    return None


def _digits(value: int) -> str:
    text = str(abs(value))
    return f"a {len(text)}-digit number" if len(text) > 24 else str(value)


def _too_deep(what: str, limits: InputLimits) -> str:
    return f"the {what} is nested too deeply (more than {limits.max_depth} levels)"


def _size_problem(text: str | bytes, what: str, max_bytes: int) -> str | None:
    # A str is at least as many bytes as characters: only a long one is encoded.
    size = len(text)
    if isinstance(text, str) and size * 4 > max_bytes:
        size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        return f"the {what} is {size:,} bytes; at most {max_bytes:,}"
    return None
