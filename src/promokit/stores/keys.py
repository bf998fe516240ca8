"""The names of the counters, in one place.

Every backend stores counters under these keys (a backend may add its own
prefix or namespace). ``evaluate`` reads them; the checkout layer changes them.

A key is made of fixed words and ids joined by ``:``. Every id is escaped with
:func:`key_part` (``%`` → ``%25``, ``:`` → ``%3A``), so an id can never bring
colons of its own: customer ``alice:d:2026-11-11`` cannot name alice's counter
for that day, nor promotion ``campaign:d11`` the budget of campaign ``d11``. Keys
are unambiguous by construction.
"""

from __future__ import annotations

from datetime import date

__all__ = ["counter_keys", "key_part"]


def key_part(value: str) -> str:
    """``value`` as one part of a key or row id: ``%`` and ``:`` escaped, so the parts
    of a key can always be told apart."""
    return value.replace("%", "%25").replace(":", "%3A")


class counter_keys:  # a namespace of key builders, read as counter_keys.stock(…)
    """Builders of counter keys."""

    @staticmethod
    def uses(promotion: str) -> str:
        """Orders that hold a use of a promotion, all customers."""
        return f"uses:{key_part(promotion)}"

    @staticmethod
    def customer_uses(promotion: str, customer: str) -> str:
        """Orders of one customer that hold a use of a promotion."""
        return f"uses:{key_part(promotion)}:c:{key_part(customer)}"

    @staticmethod
    def customer_daily_uses(promotion: str, customer: str, day: date) -> str:
        """Uses by one customer on one local day (in the campaign file's timezone)."""
        return (f"uses:{key_part(promotion)}:c:{key_part(customer)}"
                f":d:{day.isoformat()}")

    @staticmethod
    def stock(promotion: str) -> str:
        """Units of a promotion's stock held (discounted units, or gifts handed out)."""
        return f"stock:{key_part(promotion)}"

    @staticmethod
    def spent(promotion: str) -> str:
        """Money (minor units) of a promotion's budget held."""
        return f"spent:{key_part(promotion)}"

    @staticmethod
    def campaign_spent(campaign: str) -> str:
        """Money (minor units) of a campaign's budget held."""
        return f"spent:campaign:{key_part(campaign)}"

    @staticmethod
    def code_uses(code: str) -> str:
        """Orders holding a use of one coupon code."""
        return f"code:{key_part(code)}"

    @staticmethod
    def code_failures(customer: str, window: int) -> str:
        """One customer's code throttle in one window (numbered from the epoch in
        windows of the engine's ``code_attempts[1]`` seconds): the count of distinct
        wrong coupon codes, read like any counter, and the set of those codes
        beside it (:meth:`Store.check_codes <promokit.stores.Store.check_codes>`)."""
        return f"fail:{key_part(customer)}:{window}"
