"""The promokit exception tree.

Every error promokit raises on purpose is a :class:`PromokitError`::

    PromokitError
    ├── ConfigError        a campaign file is invalid (``.problems``)
    ├── CartError          a cart is invalid (``.problems``)
    ├── PluginError        a plugin misbehaved or clashed (``.plugin_name``, ``.hook``)
    ├── StoreError         the counter store failed or is unreachable
    ├── GameError          a promotion game refused an operation
    └── AdapterError       a channel adapter failed (``.status_code``)

``ConfigError`` and ``CartError`` carry every problem found, each with the path
of the offending value (``promotion[2].tiers[0].spend``), so a bad file is
reported whole and nothing is half-loaded.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

__all__ = [
    "AdapterError",
    "CartError",
    "ConfigError",
    "GameError",
    "PluginError",
    "Problem",
    "PromokitError",
    "StoreError",
]


@attrs.frozen(kw_only=True)
class Problem:
    """One thing wrong with an input, and where."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class PromokitError(Exception):
    """Root of every exception promokit raises on purpose."""


class _ProblemsError(PromokitError):
    """An input rejected whole, with every problem listed by path."""

    what = "input"

    def __init__(self, problems: Iterable[Problem], *, source: str | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.source = source
        head = f"invalid {self.what}" + (f" {source}" if source else "")
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{head} ({len(self.problems)} problem(s)):\n{lines}")


class ConfigError(_ProblemsError):
    """A campaign file (TOML or JSON) is invalid; ``.problems`` lists each problem."""

    what = "campaign file"


class CartError(_ProblemsError):
    """A cart is invalid; ``.problems`` lists each problem."""

    what = "cart"


class PluginError(PromokitError):
    """A plugin clashed with another or raised inside a hook."""

    def __init__(self, message: str, *, plugin_name: str | None = None,
                 hook: str | None = None) -> None:
        self.plugin_name = plugin_name
        self.hook = hook
        super().__init__(message)


class StoreError(PromokitError):
    """The counter store failed, is misconfigured or cannot be reached."""


class GameError(PromokitError):
    """A promotion game refused an operation."""


class AdapterError(PromokitError):
    """A channel adapter failed; ``.status_code`` is the HTTP status if any."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        self.status_code = status_code
        super().__init__(message)
