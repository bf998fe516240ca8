"""The stable reason codes of DESIGN §7; their wording lives in :mod:`promokit.text`."""

from __future__ import annotations

__all__ = ["REASON_CODES"]

REASON_CODES: tuple[str, ...] = (
    "out_of_window", "not_started", "ended", "channel", "currency", "not_eligible:<rule>",
    "no_lines_in_scope", "below_threshold", "no_saving", "code_missing", "code_invalid",
    "code_used", "limit_reached", "budget_exhausted", "stock_exhausted",
    "excluded_by:<promotion id>", "not_best", "guard:<guard name>",
    # Added with the stores (docs/semantics.md): the store could not be read and the
    # engine was told to price without the promotions that need it; too many failed
    # code attempts by this customer.
    "store_unavailable", "code_throttled",
    # Added with the channel profiles (docs/channels.md): the profile of the cart's
    # channel forbids the promotion's kind or game (wechat_h5: friend-help bargaining).
    "channel_forbidden",
)

