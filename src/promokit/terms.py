"""The plain values a promotion's terms are made of: the stage it acts at, the
lines it covers (:class:`Scope`), when it runs (:class:`Schedule`, daily
:class:`Window`), how much of it there is (:class:`Limits`) and who pays for it
(:class:`Funding`).

They hold no plugin objects, so everything above them (the plugin interfaces,
the loader, pricing) may use them.
"""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal
from typing import Any, Literal

import attrs

from .cart import Line
from .params import Params

__all__ = [
    "STAGES",
    "Funding",
    "Limits",
    "Schedule",
    "Scope",
    "Stage",
    "Window",
]

SCOPE_KEYS = ("skus", "categories", "brands", "shops", "tags")
"""What a scope may list (each also as ``exclude_<key>``)."""

Stage = Literal["item", "shop", "platform", "shipping"]
"""Where a promotion acts: on items, per shop, over the order, on shipping."""
STAGES: tuple[Stage, ...] = ("item", "shop", "platform", "shipping")
"""The stages in the order they run."""


def _frozen(values: Any) -> frozenset[str]:
    return frozenset(values or ())


@attrs.frozen(kw_only=True)
class Scope:
    """Which lines a promotion covers.

    A line is in scope when, for every dimension that lists values, it matches
    one of them (categories by path prefix: ``apparel`` covers
    ``apparel/shoes``), and it matches no ``exclude_*`` value. A scope that
    lists nothing covers every line.
    """

    skus: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)
    categories: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)
    brands: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)
    shops: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)
    tags: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)
    exclude_skus: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)
    exclude_categories: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)
    exclude_brands: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)
    exclude_shops: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)
    exclude_tags: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)

    @classmethod
    def from_params(cls, table: Params) -> Scope:
        """A scope table (``{ skus = [...], exclude_tags = [...] }``) as a
        :class:`Scope`, every problem recorded in ``table`` with its path. The
        loader reads a promotion's ``scope`` with it; kinds read scopes of their
        own with it (``get_scope``, a bundle component's ``scope``)."""
        values: dict[str, tuple[str, ...]] = {}
        for key in SCOPE_KEYS:
            for name in (key, f"exclude_{key}"):
                listed = table.strings(name)
                if listed == ():
                    table.problem("must not be empty (leave it out to cover every line)"
                                  if name == key else "must not be empty (leave it out)", name)
                values[name] = listed or ()
        for name in ("categories", "exclude_categories"):
            for index, path in enumerate(values[name]):
                if path.startswith("/") or path.endswith("/") or "//" in path:
                    table.problem(f"{path!r} is not a category path such as 'apparel/shoes' "
                                  "(no leading, trailing or double slash)", f"{name}[{index}]")
        table.finish()
        return cls(**values)

    @property
    def lists_anything(self) -> bool:
        """Whether any dimension, positive or excluded, lists a value."""
        return any(getattr(self, field.name) for field in attrs.fields(Scope))

    @property
    def lists_lines(self) -> bool:
        """Whether any positive dimension (not an ``exclude_*``) lists a value."""
        return bool(self.skus or self.categories or self.brands or self.shops or self.tags)

    def excludes(self, line: Line) -> bool:
        """Whether an ``exclude_*`` value matches ``line``."""
        return bool(
            line.sku in self.exclude_skus
            or (self.exclude_categories
                and _in_categories(line, self.exclude_categories))
            or (line.brand is not None and line.brand in self.exclude_brands)
            or (line.shop is not None and line.shop in self.exclude_shops)
            or (self.exclude_tags & line.tags))

    def matches(self, line: Line) -> bool:
        """Whether ``line`` is in this scope."""
        if self.skus and line.sku not in self.skus:
            return False
        if self.categories and not _in_categories(line, self.categories):
            return False
        if self.brands and line.brand not in self.brands:
            return False
        if self.shops and line.shop not in self.shops:
            return False
        if self.tags and not (self.tags & line.tags):
            return False
        return not self.excludes(line)


def _in_categories(line: Line, wanted: frozenset[str]) -> bool:
    return not wanted.isdisjoint(line.categories)


@attrs.frozen(kw_only=True)
class Window:
    """A daily window, start inclusive, end exclusive; may cross midnight."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        """Whether a local time of day falls in the window."""
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@attrs.frozen(kw_only=True)
class Schedule:
    """When a promotion runs: an inclusive ``start``/``end`` and daily windows."""

    start: datetime | None = None
    end: datetime | None = None
    windows: tuple[Window, ...] = ()

    def reason_at(self, now: datetime) -> str | None:
        """``None`` if running at ``now`` (local time), else the reason code."""
        if self.start is not None and now < self.start:
            return "not_started"
        if self.end is not None and now > self.end:
            return "ended"
        if self.windows:
            moment = now.timetz().replace(tzinfo=None)
            if not any(window.contains(moment) for window in self.windows):
                return "out_of_window"
        return None


@attrs.frozen(kw_only=True)
class Limits:
    """Caps on a promotion's use; ``None`` means unlimited."""

    per_customer: int | None = None
    per_customer_daily: int | None = None
    total: int | None = None
    stock: int | None = None
    per_order_units: int | None = None


@attrs.frozen(kw_only=True)
class Funding:
    """Who pays a discount: ``(party, share)`` pairs adding up to 1, in file order."""

    shares: tuple[tuple[str, Decimal], ...]
