"""Errors as RFC 9457 problem documents (``application/problem+json``).

Every refusal of the service is one document::

    {"type": "https://promokit.dev/problems/invalid-cart", "title": "Invalid cart",
     "status": 422, "detail": "invalid cart (1 problem)", "reason": "invalid_cart",
     "problems": [{"path": "lines[0].quantity", "message": "must be …"}]}

``reason`` is a stable code (a game's refusal carries the game's own, as the CLI
prints it); ``problems`` are the paths and messages the CLI prints, one per
problem. :func:`problem_of` maps promokit's exception tree to them, once, here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from ..errors import (
    GameError,
    InputError,
    OrderError,
    PluginError,
    Problem,
    PromokitError,
    StoreError,
    StoreUnavailable,
)

__all__ = ["PROBLEM_TYPE", "ProblemDocument", "ProblemItem", "ServiceProblem", "problem_of"]

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE = "https://promokit.dev/problems/"

#: Game refusals that mean the request itself is wrong, not the game's state.
_BAD_GAME_REQUEST = frozenset({"unknown_action", "bad_argument"})


@attrs.frozen(kw_only=True)
class ProblemItem:
    """One problem of an input, at its path (``lines[0].quantity``)."""

    path: str
    message: str


@attrs.frozen(kw_only=True)
class ProblemDocument:
    """An RFC 9457 problem document, with promokit's ``reason`` and ``problems``."""

    type: str
    title: str
    status: int
    detail: str
    reason: str
    problems: list[ProblemItem] = attrs.field(factory=list)


class ServiceProblem(Exception):
    """A refusal the service answers with a problem document."""

    def __init__(self, status: int, reason: str, detail: str, *,
                 problems: Sequence[Problem] = (), title: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.reason = reason
        self.detail = detail
        self.problems = tuple(problems)
        self.title = title or reason.replace("_", " ").capitalize()
        self.headers = headers or {}
        super().__init__(detail)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": PROBLEM_TYPE + self.reason.replace("_", "-").replace(":", "-"),
            "title": self.title, "status": self.status, "detail": self.detail,
            "reason": self.reason,
            "problems": [{"path": p.path, "message": p.message} for p in self.problems],
        }


def problem_of(error: PromokitError) -> ServiceProblem:
    """The problem document of an error promokit raised on purpose: invalid input
    422 (every problem by path), an order that does not fit 409 (an unknown one is
    404), a game's refusal 409 with the game's reason, the store 503."""
    if isinstance(error, InputError):
        what = error.what
        head = f"invalid {what}" + (f" {error.source}" if error.source else "")
        count = len(error.problems)
        return ServiceProblem(422, f"invalid_{what.replace(' ', '_')}",
                              f"{head} ({count} problem{'s' if count != 1 else ''})",
                              problems=error.problems, title=f"Invalid {what}")
    if isinstance(error, OrderError):
        return ServiceProblem(409, "order_conflict", str(error), title="Order conflict")
    if isinstance(error, GameError):
        if error.reason == "unknown_game":
            return ServiceProblem(404, error.reason, str(error), title="Unknown game")
        status = 400 if error.reason in _BAD_GAME_REQUEST else 409
        return ServiceProblem(status, error.reason, str(error), title="Game refused")
    if isinstance(error, StoreUnavailable):
        return ServiceProblem(503, "store_unavailable", f"store unavailable: {error}",
                              title="Store unavailable")
    if isinstance(error, StoreError):
        return ServiceProblem(503, "store_error", f"store error: {error}",
                              title="Store error")
    if isinstance(error, PluginError):
        return ServiceProblem(500, "plugin_error", f"plugin error: {error}",
                              title="Plugin error")
    return ServiceProblem(422, "invalid_input", str(error), title="Invalid input")
