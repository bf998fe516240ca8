"""Money: Decimal amounts in a currency, rounded half-up to its minor unit.

Inside the engine every amount is an ``int`` of the currency's minor units
(fen for CNY, yen for JPY); :class:`Currency` converts at the edges. Floats
are refused everywhere: ``Currency.parse(0.1)`` raises ``TypeError``.

>>> cny = currency("CNY")
>>> cny.to_minor(Decimal("59.90") * Decimal("0.05"))
300
>>> cny.format(300)
'3.00'
>>> currency("JPY").format(1990)
'1990'
"""

from __future__ import annotations

import re
from decimal import (
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)

import attrs

__all__ = [
    "MAX_AMOUNT",
    "MONEY_CONTEXT",
    "Currency",
    "Money",
    "currency",
    "known_currencies",
    "percent_of",
    "round_half_up",
]

# ISO 4217 minor units of the currencies a shop is likely to price in.
_MINOR_UNITS: dict[str, int] = {
    "AED": 2, "AUD": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CLP": 0, "CNY": 2,
    "CZK": 2, "DKK": 2, "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2,
    "INR": 2, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "MOP": 2, "MXN": 2,
    "MYR": 2, "NOK": 2, "NZD": 2, "OMR": 3, "PHP": 2, "PLN": 2, "RUB": 2, "SAR": 2,
    "SEK": 2, "SGD": 2, "THB": 2, "TND": 3, "TRY": 2, "TWD": 2, "UAH": 2, "USD": 2,
    "VND": 0, "ZAR": 2,
}

_AMOUNT = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")

#: The arithmetic context of every money operation, independent of the caller's
#: ``decimal.getcontext()``: wide enough to be exact for any amount promokit
#: accepts, and trapping rather than rounding silently.
MONEY_CONTEXT = Context(prec=60, rounding=ROUND_HALF_UP,
                        traps=[InvalidOperation, DivisionByZero, Overflow])

#: The largest amount accepted, in major units (a quadrillion).
MAX_AMOUNT = Decimal(10) ** 15

_HUNDRED = Decimal(100)


def round_half_up(value: Decimal) -> int:
    """Round a Decimal to the nearest integer, halves away from zero."""
    return int(value.to_integral_value(rounding=ROUND_HALF_UP, context=MONEY_CONTEXT))


def percent_of(minor: int, percent: Decimal) -> int:
    """``minor × percent / 100``, rounded half-up to a whole minor unit.

    >>> percent_of(5990, Decimal("5"))
    300
    """
    product = MONEY_CONTEXT.multiply(Decimal(minor), percent)
    return round_half_up(MONEY_CONTEXT.divide(product, _HUNDRED))


def known_currencies() -> tuple[str, ...]:
    """ISO codes promokit knows the minor unit of, sorted."""
    return tuple(sorted(_MINOR_UNITS))


@attrs.frozen
class Currency:
    """An ISO 4217 currency and the number of decimals of its minor unit."""

    code: str
    exponent: int

    @property
    def scale(self) -> int:
        """Minor units per major unit (100 for CNY, 1 for JPY)."""
        return int(10**self.exponent)

    def to_minor(self, amount: Decimal) -> int:
        """Round ``amount`` (in major units) half-up to whole minor units."""
        return round_half_up(amount.scaleb(self.exponent, context=MONEY_CONTEXT))

    def to_decimal(self, minor: int) -> Decimal:
        """Minor units as a Decimal in major units with the currency's decimals."""
        return Decimal(minor).scaleb(-self.exponent, context=MONEY_CONTEXT)

    def format(self, minor: int) -> str:
        """The contract's string form: ``'199.00'`` for CNY, ``'1990'`` for JPY."""
        return str(self.to_decimal(minor))

    def text(self, amount: Decimal) -> str:
        """``amount`` (major units) in the contract's string form, rounded half-up to
        the minor unit; an amount already in the currency's decimals (as results and
        carts hold them) is written as it is.

        >>> currency("CNY").text(Decimal("199.00")), currency("CNY").text(Decimal("0.125"))
        ('199.00', '0.13')
        """
        if amount.as_tuple().exponent == -self.exponent:
            return str(amount)
        return self.format(self.to_minor(amount))

    def parse(self, value: object, *, allow_negative: bool = False) -> int:
        """Parse a money value (a string, an int or a Decimal) into minor units.

        Raises ``TypeError`` for floats and other types, ``ValueError`` for
        malformed text, negative amounts (unless allowed) and amounts with more
        decimals than the currency has.
        """
        if isinstance(value, (bool, float)):
            raise TypeError(f'must be a string such as "199.00", not {type(value).__name__}')
        if isinstance(value, int):
            amount = Decimal(value)
        elif isinstance(value, Decimal):
            amount = value
        elif isinstance(value, str):
            text = value.strip()
            if not _AMOUNT.match(text):
                raise ValueError(f"{value!r} is not an amount of money")
            amount = Decimal(text)
        else:
            raise TypeError(f'must be a string such as "199.00", not {type(value).__name__}')
        if not amount.is_finite():
            raise ValueError(f"{value!r} is not an amount of money")
        if amount < 0 and not allow_negative:
            raise ValueError(f"{value!r} is negative")
        if abs(amount) > MAX_AMOUNT:
            raise ValueError(f"{value!r} is too large (at most {MAX_AMOUNT:,} {self.code})")
        scaled = amount.scaleb(self.exponent, context=MONEY_CONTEXT)
        if scaled != scaled.to_integral_value():
            raise ValueError(
                f"{value!r} has more decimals than {self.code} allows ({self.exponent})"
            )
        return int(scaled)


def currency(code: str) -> Currency:
    """The :class:`Currency` for an ISO code; ``ValueError`` if unknown."""
    try:
        return Currency(code, _MINOR_UNITS[code])
    except (KeyError, TypeError):
        raise ValueError(f"unknown currency {code!r}") from None


def _amount(value: object) -> Decimal:
    if isinstance(value, (bool, float)):
        raise TypeError("Money takes a Decimal, an int or a string, never a float")
    try:
        amount = Decimal(value)  # type: ignore[arg-type]  # checked just above
    except (InvalidOperation, TypeError):
        raise ValueError(f"{value!r} is not an amount of money") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not an amount of money")
    return amount


@attrs.frozen(order=False)
class Money:
    """An amount in a currency; arithmetic refuses mixed currencies and floats.

    >>> Money("59.90", "CNY") + Money("0.10", "CNY")
    Money(amount=Decimal('60.00'), currency='CNY')
    >>> str(Money("1990", "JPY"))
    '1990 JPY'
    """

    amount: Decimal = attrs.field(converter=_amount)
    currency: str = attrs.field()

    @currency.validator
    def _known(self, _: attrs.Attribute[str], value: str) -> None:
        currency(value)

    @classmethod
    def from_minor(cls, minor: int, code: str) -> Money:
        """Money from whole minor units."""
        return cls(currency(code).to_decimal(minor), code)

    @property
    def minor(self) -> int:
        """The amount in minor units, rounded half-up."""
        return currency(self.currency).to_minor(self.amount)

    def quantize(self) -> Money:
        """This amount rounded half-up to the currency's minor unit."""
        return Money.from_minor(self.minor, self.currency)

    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")
        return other

    def __add__(self, other: object) -> Money:
        return Money(MONEY_CONTEXT.add(self.amount, self._same(other).amount), self.currency)

    def __sub__(self, other: object) -> Money:
        return Money(MONEY_CONTEXT.subtract(self.amount, self._same(other).amount),
                     self.currency)

    def __lt__(self, other: object) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: object) -> bool:
        return self.amount <= self._same(other).amount

    def __str__(self) -> str:
        return f"{currency(self.currency).format(self.minor)} {self.currency}"
