"""The names of the counters, in one place.

Every backend stores counters under these keys (a backend may add its own
prefix or namespace). ``evaluate`` reads them; the checkout layer changes them.
"""

from __future__ import annotations

from datetime import date

__all__ = ["counter_keys"]


class counter_keys:  # a namespace of key builders, read as counter_keys.stock(…)
    """Builders of counter keys."""

    @staticmethod
    def uses(promotion: str) -> str:
        """Orders that hold a use of a promotion, all customers."""
        return f"uses:{promotion}"

    @staticmethod
    def customer_uses(promotion: str, customer: str) -> str:
        """Orders of one customer that hold a use of a promotion."""
        return f"uses:{promotion}:c:{customer}"

    @staticmethod
    def customer_daily_uses(promotion: str, customer: str, day: date) -> str:
        """Uses by one customer on one local day (in the campaign file's timezone)."""
        return f"uses:{promotion}:c:{customer}:d:{day.isoformat()}"

    @staticmethod
    def stock(promotion: str) -> str:
        """Units of a promotion's stock held (discounted units, or gifts handed out)."""
        return f"stock:{promotion}"

    @staticmethod
    def spent(promotion: str) -> str:
        """Money (minor units) of a promotion's budget held."""
        return f"spent:{promotion}"

    @staticmethod
    def campaign_spent(campaign: str) -> str:
        """Money (minor units) of a campaign's budget held."""
        return f"spent:campaign:{campaign}"

    @staticmethod
    def code_uses(code: str) -> str:
        """Orders holding a use of one coupon code."""
        return f"code:{code}"

    @staticmethod
    def code_failures(customer: str, window: int) -> str:
        """Failed code attempts by one customer in one throttle window."""
        return f"fail:{customer}:{window}"
