"""Readers of the tables a promotion, a campaign and a game share: schedules and
windows, funding, limits and condition trees. Each records problems with
their paths in the :class:`~promokit.params.Params` it is given."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..conditions import Condition
from ..params import Params
from ..registry import Registry
from ..terms import Funding, Limits, Schedule, Window

__all__ = ["read_conditions", "read_funding", "read_limits", "read_schedule", "zone"]

_LIMIT_KEYS = ("per_customer", "per_customer_daily", "total", "stock", "per_order_units")


def read_schedule(p: Params, tz: ZoneInfo, *, windows: bool) -> Schedule:
    """``start``, ``end`` and (with ``windows``) daily ``windows``."""
    start = p.datetime("start", tz)
    end = p.datetime("end", tz)
    if start is not None and end is not None and end <= start:
        p.problem(f"must be after start ({start.isoformat()})", "end")
    parsed: list[Window] = []
    for wp in (p.tables("windows") or []) if windows else []:
        begin, finish = wp.clock("from"), wp.clock("to")
        wp.finish()
        if begin is None or finish is None:
            continue
        if begin == finish:
            wp.problem("from and to are equal: an empty window (leave windows out for all day)")
            continue
        parsed.append(Window(start=begin, end=finish))
    return Schedule(start=start, end=end, windows=tuple(parsed))


def read_funding(p: Params) -> Funding | None:
    """The ``funding`` table: shares adding up to 1, in file order."""
    table = p.table("funding")
    if table is None:
        return None
    shares: list[tuple[str, Decimal]] = []
    for party in list(table):
        share = table.decimal(party, maximum=Decimal(1))
        if share is not None:
            shares.append((party, share))
    table.finish()
    if not table.data:
        table.problem("must name at least one party")
        return None
    if len(shares) < len(table.data):
        return None  # a share was invalid and is reported already
    total = sum((share for _, share in shares), Decimal(0))
    if total != 1:
        table.problem(f"shares must add up to 1, they add up to {total}")
        return None
    return Funding(shares=tuple(shares))


def read_limits(p: Params) -> Limits:
    """The ``limits`` table."""
    table = p.table("limits")
    if table is None:
        return Limits()
    values = {key: table.integer(key, required=False, minimum=1) for key in _LIMIT_KEYS}
    table.finish()
    return Limits(**values)


def read_conditions(p: Params, key: str, registry: Registry) -> tuple[Condition, ...]:
    """The condition trees under ``key``, leaves bound to the registered conditions."""
    parsed = []
    for cp in p.tables(key) or []:
        condition = _condition(cp, registry)
        if condition is not None:
            parsed.append(condition)
    return tuple(parsed)


def _condition(p: Params, registry: Registry) -> Condition | None:
    rule = p.string("rule")
    if rule is None:
        p.finish()
        return None
    if rule in ("all", "any", "not"):
        tables = p.tables("of", required=True, non_empty=True) or []
        children = tuple(c for c in (_condition(cp, registry) for cp in tables) if c is not None)
        p.finish()
        return Condition(rule=rule, children=children)
    impl = registry.conditions.get(rule)
    if impl is None:
        p.problem(f"unknown condition {rule!r}; known: {', '.join(sorted(registry.conditions))}",
                  "rule")
        p.finish()
        return None
    params = impl.parse(p)
    p.finish()
    return Condition(rule=rule, params=params, type=impl)


def zone(name: str) -> ZoneInfo | None:
    """The IANA timezone ``name`` (``Asia/Shanghai``), or ``None`` if there is none
    of that name (``Asia`` is a folder of the database, not a zone)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
