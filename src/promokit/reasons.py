"""The stable reason codes of DESIGN §7 and their default English messages."""

from __future__ import annotations

__all__ = ["REASON_CODES", "message"]

REASON_CODES: tuple[str, ...] = (
    "out_of_window", "not_started", "ended", "channel", "currency", "not_eligible:<rule>",
    "no_lines_in_scope", "below_threshold", "no_saving", "code_missing", "code_invalid",
    "code_used", "limit_reached", "budget_exhausted", "stock_exhausted",
    "excluded_by:<promotion id>", "not_best", "guard:<guard name>",
)

_MESSAGES: dict[str, str] = {
    "out_of_window": "only runs during its daily hours",
    "not_started": "has not started yet",
    "ended": "has ended",
    "channel": "not available on this channel",
    "currency": "priced in another currency than the cart",
    "no_lines_in_scope": "no item in the cart qualifies",
    "below_threshold": "the spend threshold is not met",
    "no_saving": "would not lower the price",
    "code_missing": "needs a promotion code",
    "code_invalid": "no promotion accepts this code",
    "code_used": "this code has already been used",
    "limit_reached": "the usage limit has been reached",
    "budget_exhausted": "the promotion's budget is used up",
    "stock_exhausted": "sold out",
    "not_best": "another combination saves more",
}


def message(reason: str, *, other: str | None = None) -> str:
    """The default message for a reason code; ``other`` names the promotion
    behind ``excluded_by:``."""
    if reason.startswith("excluded_by:"):
        return f"cannot be combined with {other or reason.split(':', 1)[1]}"
    if reason.startswith("not_eligible:"):
        return f"the {reason.split(':', 1)[1]} condition is not met"
    if reason.startswith("guard:"):
        return f"blocked by the {reason.split(':', 1)[1]} guard"
    return _MESSAGES.get(reason, reason)
