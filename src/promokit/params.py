"""Reading user input while collecting every problem with its path.

The loader, the cart parser and every plugin (kinds and conditions parse
their own parameters) read tables through :class:`Params`. Each accessor
returns the typed value, or ``None`` after recording a :class:`Problem` at the
value's path. When a table is finished, :meth:`Params.finish` reports every key
nobody read as an unknown key, so a typo in a promotion rule is an error and
never a silent no-op.

>>> problems = []
>>> p = Params({"percent": "120", "tirs": []}, "promotion[0]", problems, currency("CNY"))
>>> p.percent("percent"), p.finish()
(None, None)
>>> [str(x) for x in problems]
['promotion[0].percent: must be in (0, 100], got 120', 'promotion[0].tirs: unknown key']
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from .errors import Problem
from .inputs import (
    DEFAULT_LIMITS,
    MAX_INTEGER,
    InputLimits,
    bad_identifier,
    bad_text,
    bad_time,
)
from .money import Currency, currency

__all__ = ["MAX_DIGITS", "Params"]

_MISSING = object()
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_WHOLE = re.compile(r"^-?[0-9]+$")
#: Significant digits a decimal parameter may have (a percent, a multiplier, a share).
MAX_DIGITS = 18


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Params:
    """A table of user input read with typed accessors; problems go to a shared list."""

    def __init__(self, data: Mapping[str, Any], path: str, problems: list[Problem],
                 money_currency: Currency | None = None, *,
                 limits: InputLimits = DEFAULT_LIMITS) -> None:
        self.data = data
        self.path = path
        self.problems = problems
        self.currency = money_currency or currency("CNY")
        self.limits = limits
        """The bounds ids are held to (:meth:`identifier`)."""
        self._read: set[str] = set()

    # -- bookkeeping -------------------------------------------------------

    def path_of(self, key: str | int) -> str:
        """The path of ``key`` inside this table."""
        return _join(self.path, key)

    def problem(self, message: str, key: str | int | None = None) -> None:
        """Record a problem at this table, or at ``key`` inside it."""
        self.problems.append(Problem(path=self.path if key is None else self.path_of(key),
                                     message=message))

    def has(self, key: str) -> bool:
        """Whether ``key`` is present (and mark it read)."""
        self._read.add(key)
        return key in self.data

    def raw(self, key: str, default: Any = None) -> Any:
        """The value as given, unchecked (marks it read)."""
        self._read.add(key)
        return self.data.get(key, default)

    def _get(self, key: str, required: bool) -> Any:
        self._read.add(key)
        value = self.data.get(key, _MISSING)
        if value is _MISSING and required:
            self.problem("is required", key)
        return value

    def finish(self) -> None:
        """Report every key of the table that was never read as unknown."""
        for key in self.data:
            if key not in self._read:
                close = difflib.get_close_matches(str(key), sorted(self._read), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.problem(f"unknown key{hint}", str(key))

    # -- scalars -----------------------------------------------------------

    def string(self, key: str, *, required: bool = True, default: str | None = None,
               choices: tuple[str, ...] | None = None) -> str | None:
        """A non-empty string, optionally one of ``choices``."""
        value = self._get(key, required)
        if value is _MISSING:
            return default
        if not isinstance(value, str) or not value.strip():
            self.problem("must be a non-empty string", key)
            return None
        why = bad_text(value)
        if why is not None:
            self.problem(why, key)
            return None
        if choices is not None and value not in choices:
            self.problem(f"must be one of {', '.join(choices)}; got {value!r}", key)
            return None
        return value

    def identifier(self, key: str, *, required: bool = True) -> str | None:
        """An id: a non-empty string of at most ``limits.max_id_length`` characters,
        without control characters (ids name store rows and are printed)."""
        value = self.string(key, required=required)
        if value is None:
            return None
        why = bad_identifier(value, self.limits)
        if why is not None:
            self.problem(why, key)
            return None
        return value

    def boolean(self, key: str, *, default: bool = False) -> bool:
        """``true`` or ``false``."""
        value = self._get(key, False)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.problem("must be true or false", key)
            return default
        return value

    def integer(self, key: str, *, required: bool = True, minimum: int | None = None,
                maximum: int = MAX_INTEGER, default: int | None = None) -> int | None:
        """A whole number from ``minimum`` to ``maximum``, given as a number or as a
        string of digits (``3`` or ``"3"``)."""
        value = self._get(key, required)
        if value is _MISSING:
            return default
        if isinstance(value, str) and _WHOLE.match(value.strip()) \
                and len(value.strip().lstrip("-")) <= len(str(maximum)):
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem("must be a whole number", key)
            return None
        if minimum is not None and value < minimum:
            self.problem(f"must be at least {minimum}, got {value}", key)
            return None
        if value > maximum:
            self.problem(f"must be at most {maximum:,}, got {value:,}", key)
            return None
        return value

    def decimal(self, key: str, *, required: bool = True, positive: bool = False,
                maximum: Decimal | None = None) -> Decimal | None:
        """A decimal number given as a string or an int (floats are refused)."""
        value = self._get(key, required)
        if value is _MISSING:
            return None
        return self._decimal(value, key, positive=positive, maximum=maximum)

    def _decimal(self, value: Any, key: str | int, *, positive: bool,
                 maximum: Decimal | None) -> Decimal | None:
        if isinstance(value, (bool, float)):
            self.problem(f'must be a string such as "0.5", not {value!r}', key)
            return None
        number = None
        if isinstance(value, int) or (isinstance(value, str) and _NUMBER.match(value.strip())):
            number = Decimal(value)
        if number is None or not number.is_finite():
            self.problem(f"{value!r} is not a number", key)
            return None
        if len(number.normalize().as_tuple().digits) > MAX_DIGITS or abs(number) > MAX_INTEGER:
            self.problem(f"{value!r} has too many digits (at most {MAX_DIGITS}, and at most "
                         f"{MAX_INTEGER:,})", key)
            return None
        if number < 0 or (positive and number == 0):
            self.problem(f"must be {'> 0' if positive else '>= 0'}, got {value}", key)
            return None
        if maximum is not None and number > maximum:
            self.problem(f"must be at most {maximum}, got {value}", key)
            return None
        return number

    def percent(self, key: str, *, required: bool = True) -> Decimal | None:
        """A percentage in (0, 100]: ``"5"`` is 5% off (95折)."""
        value = self._get(key, required)
        if value is _MISSING:
            return None
        return self.percent_value(value, key)

    def percent_value(self, value: Any, key: str | int) -> Decimal | None:
        """Check an already-fetched value as a percentage in (0, 100]."""
        number = self._decimal(value, key, positive=False, maximum=None)
        if number is None:
            return None
        if not Decimal(0) < number <= Decimal(100):
            self.problem(f"must be in (0, 100], got {value}", key)
            return None
        return number

    def money(self, key: str, *, required: bool = True, positive: bool = False) -> int | None:
        """An amount of money in the file's currency, as minor units."""
        value = self._get(key, required)
        if value is _MISSING:
            return None
        return self.money_value(value, key, positive=positive)

    def money_value(self, value: Any, key: str | int, *, positive: bool = False) -> int | None:
        """Check an already-fetched value as money; minor units or ``None``."""
        try:
            minor = self.currency.parse(value)
        except (TypeError, ValueError) as error:
            self.problem(str(error), key)
            return None
        if positive and minor == 0:
            self.problem("must be > 0", key)
            return None
        return minor

    def datetime(self, key: str, tz: Any, *, required: bool = False) -> datetime | None:
        """An ISO 8601 time; without an offset it is in ``tz``."""
        value = self._get(key, required)
        if value is _MISSING:
            return None
        if isinstance(value, datetime):  # TOML has native datetimes
            moment = value
        elif isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                self.problem(f"{value!r} is not an ISO 8601 time", key)
                return None
        else:
            self.problem("must be an ISO 8601 time such as 2026-11-11T00:00:00+08:00", key)
            return None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=tz)
        why = bad_time(moment)
        if why is not None:
            self.problem(f"{value!r} {why}", key)
            return None
        return moment

    def date(self, key: str, *, required: bool = False) -> date | None:
        """A calendar date, ``YYYY-MM-DD``."""
        value = self._get(key, required)
        if value is _MISSING:
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.problem(f"{value!r} is not a date (YYYY-MM-DD)", key)
        return None

    def clock(self, key: str) -> time | None:
        """A time of day, ``HH:MM`` or ``HH:MM:SS``."""
        value = self._get(key, True)
        if value is _MISSING:
            return None
        moment: time | None = value if isinstance(value, time) else None
        if isinstance(value, str):
            try:
                moment = time.fromisoformat(value)
            except ValueError:
                moment = None
        if moment is None:
            self.problem(f"{value!r} is not a time of day (HH:MM)", key)
            return None
        if moment.tzinfo is not None:
            self.problem(f"{value!r} has an offset; daily times are in the file's timezone", key)
            return None
        return moment

    # -- collections ------------------------------------------------------

    def strings(self, key: str, *, required: bool = False,
                non_empty: bool = False) -> tuple[str, ...] | None:
        """A list of non-empty strings, without repeats."""
        value = self._get(key, required)
        if value is _MISSING:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.problem("must be a list of non-empty strings", key)
            return None
        if non_empty and not value:
            self.problem("must not be empty", key)
            return None
        seen: set[str] = set()
        broken = False
        for index, item in enumerate(value):
            why = bad_text(item)
            if why is not None:
                self.problem(why, _join(key, index))
                broken = True
            elif item in seen:
                self.problem(f"{item!r} is listed twice", _join(key, index))
            seen.add(item)
        return None if broken else tuple(value)

    def table(self, key: str, *, required: bool = False) -> Params | None:
        """A nested table, read with its own :class:`Params`."""
        value = self._get(key, required)
        if value is _MISSING:
            return None
        if not isinstance(value, Mapping):
            self.problem("must be a table", key)
            return None
        return Params(value, self.path_of(key), self.problems, self.currency,
                      limits=self.limits)

    def tables(self, key: str, *, required: bool = False,
               non_empty: bool = False) -> list[Params] | None:
        """A list of tables, each read with its own :class:`Params`."""
        value = self._get(key, required)
        if value is _MISSING:
            return None
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            self.problem("must be a list of tables", key)
            return None
        if non_empty and not value:
            self.problem("must not be empty", key)
            return None
        base = self.path_of(key)
        return [Params(item, _join(base, i), self.problems, self.currency, limits=self.limits)
                for i, item in enumerate(value)]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)
