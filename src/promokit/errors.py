"""The promokit exception tree.

Every error promokit raises on purpose is a :class:`PromokitError`::

    PromokitError
    ├── InputError         an input is invalid (``.problems``, ``.what``)
    │   ├── ConfigError        a campaign file
    │   ├── CartError          a cart
    │   └── RefundError        the units of a refund (``.order_id``)
    ├── PluginError        a plugin misbehaved or clashed (``.plugin_name``, ``.hook``)
    ├── StoreError         the store failed
    │   ├── StoreUnavailable   it cannot be reached (CLI exit code 3)
    │   └── StoreURLError      a store URL no backend can use
    ├── OrderError         a checkout operation does not fit the order's state
    ├── GameError          a promotion game refused an operation
    ├── DeliveryError      a sink gave up on an outbox event (``.attempts``, ``.status_code``)
    └── AdapterError       a channel adapter failed (``.status_code``)
        ├── PayloadError       a channel's payload is malformed (``.problems``, ``.path``)
        └── SignatureError     a channel's webhook signature does not verify

An ``InputError`` carries every problem found, each with the path of the
offending value (``promotion[2].tiers[0].spend``), so a bad input is reported
whole and nothing is half-loaded; ``.what`` names the input (``campaign
file``, ``cart``, ``refund``, ``customer``, ``draw log`` …).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

__all__ = [
    "AdapterError",
    "CartError",
    "ConfigError",
    "DeliveryError",
    "GameError",
    "InputError",
    "OrderError",
    "PayloadError",
    "PluginError",
    "Problem",
    "PromokitError",
    "RefundError",
    "SignatureError",
    "StoreError",
    "StoreURLError",
    "StoreUnavailable",
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


class InputError(PromokitError):
    """An input rejected whole, with every problem listed by path; ``.what`` names
    the input and ``.source`` where it came from (a file name), if known."""

    what = "input"

    def __init__(self, problems: Iterable[Problem], *, source: str | None = None,
                 what: str | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.source = source
        if what is not None:
            self.what = what
        head = f"invalid {self.what}" + (f" {source}" if source else "")
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{head} ({len(self.problems)} problem(s)):\n{lines}")


class ConfigError(InputError):
    """A campaign file (TOML or JSON) is invalid; ``.problems`` lists each problem."""

    what = "campaign file"


class CartError(InputError):
    """A cart is invalid; ``.problems`` lists each problem."""

    what = "cart"


class RefundError(InputError):
    """The units of a refund do not fit the order (a line it does not have, more units
    than are left to refund); ``.problems`` lists each, ``.order_id`` names the order
    when known."""

    what = "refund"

    def __init__(self, problems: Iterable[Problem], *, order_id: str | None = None) -> None:
        self.order_id = order_id
        super().__init__(problems)


class PluginError(PromokitError):
    """A plugin clashed with another or raised inside a hook."""

    def __init__(self, message: str, *, plugin_name: str | None = None,
                 hook: str | None = None) -> None:
        self.plugin_name = plugin_name
        self.hook = hook
        super().__init__(message)


class StoreError(PromokitError):
    """The store failed, is misconfigured or cannot be reached."""


class StoreUnavailable(StoreError):
    """The store's server cannot be reached or did not answer in time."""


class StoreURLError(StoreError):
    """A store URL is malformed, names an unknown scheme or option, or needs a
    client library that is not installed."""


class OrderError(PromokitError):
    """A checkout operation that does not fit the order: an unknown order id, an
    order id reused for another cart, a commit after the reservation lapsed, a
    refund of more units than were bought. ``.order_id`` names the order."""

    def __init__(self, message: str, *, order_id: str) -> None:
        self.order_id = order_id
        super().__init__(message)


class GameError(PromokitError):
    """A promotion game refused an operation.

    ``.reason`` is a stable code (``not_started``, ``group_full``,
    ``limit_reached``, ``token_expired`` …) and ``.game`` the game's id."""

    def __init__(self, message: str, *, reason: str = "refused",
                 game: str | None = None) -> None:
        self.reason = reason
        self.game = game
        super().__init__(message)


class DeliveryError(PromokitError):
    """A sink gave up delivering an outbox event: its retries ran out, or the receiver
    refused it for good. ``.attempts`` is how many were made, ``.status_code`` the
    last HTTP status if any. The dispatcher writes a dead-letter record."""

    def __init__(self, message: str, *, attempts: int = 1,
                 status_code: int | None = None) -> None:
        self.attempts = attempts
        self.status_code = status_code
        super().__init__(message)


class AdapterError(PromokitError):
    """A channel adapter failed; ``.status_code`` is the HTTP status if any."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        self.status_code = status_code
        super().__init__(message)


class PayloadError(AdapterError):
    """A channel's cart or order payload is malformed: ``.problems`` lists every
    problem with its path in the payload (``goods_list[1].price``), ``.path`` is the
    first one's. HTTP status 400."""

    def __init__(self, problems: Iterable[Problem], *, channel: str) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.channel = channel
        self.path = self.problems[0].path if self.problems else ""
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"invalid {channel} payload ({len(self.problems)} problem(s)):\n"
                         f"{lines}", status_code=400)


class SignatureError(AdapterError):
    """A channel's inbound webhook signature is missing, wrong or too old (a replay);
    ``.channel`` names the channel. HTTP status 401."""

    def __init__(self, message: str, *, channel: str) -> None:
        self.channel = channel
        super().__init__(message, status_code=401)
