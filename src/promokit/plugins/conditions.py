"""The built-in eligibility conditions (``conditions = [ { rule = … } ]``).

Each condition reads these keys of its table (``rule`` is read by the loader;
any other key is reported as unknown):

``member_tier``
    ``in``: the member tiers that qualify (a non-empty list).
``new_customer``
    No keys. Holds for a customer with no earlier order (``orders_count = 0``);
    an unknown order count does not qualify.
``dormant``
    ``days`` (≥ 1): the customer has ordered before and the last order was at
    least that many days (of 24 hours) before now. An unknown last order time
    does not qualify; a last order time without offset is taken in the
    evaluation time's timezone.
``customer_tag``
    Exactly one of ``any`` (a list: the customer has at least one of the tags)
    or ``all`` (a list: the customer has every one).
``region``
    ``in`` and/or ``not_in``: region codes matched by prefix on whole
    ``-``-separated segments, so ``"CN"`` covers ``"CN-31"`` but ``"CN-3"``
    does not. A customer without a region qualifies only when there is no
    ``in`` list.
``channel``
    ``in``: the channels that qualify (``"app"``, ``"miniprogram"`` …).
``birthday``
    ``within_days`` (≥ 0): today is at most that many days before or after the
    customer's birthday, across year ends; 29 February counts as 28 February
    in other years. An unknown birthday does not qualify.
``min_spend``
    ``amount`` (money, > 0): the promotion's scope adds up to at least this
    at the stage's base. The only built-in condition that reads amounts.
``min_quantity``
    ``quantity`` (≥ 1): the promotion's scope holds at least this many units.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Literal

import attrs

from promokit import hookimpl
from promokit.conditions import ConditionContext, ConditionType
from promokit.money import Currency
from promokit.params import Params
from promokit.text import Text

__all__ = [
    "Birthday",
    "Channel",
    "CustomerTag",
    "Dormant",
    "MemberTier",
    "MinQuantity",
    "MinSpend",
    "NewCustomer",
    "Region",
    "RegionRule",
    "SpendRule",
    "TagRule",
    "region_matches",
]


def _either(items: Iterable[str], conjunction: str = "or") -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    words = list(items)
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


# -- who the customer is ------------------------------------------------------


class MemberTier(ConditionType):
    """``member_tier``: the customer's tier is one of ``in``."""

    name = "member_tier"
    uses_amounts = False

    def parse(self, params: Params) -> tuple[str, ...] | None:
        return params.strings("in", required=True, non_empty=True)

    def check(self, params: tuple[str, ...], ctx: ConditionContext) -> bool:
        return ctx.customer.tier is not None and ctx.customer.tier in params

    def message(self, params: tuple[str, ...]) -> str:
        return f"only for members of tier {_either(params)}"

    def describe(self, params: tuple[str, ...], text: Text) -> str:
        """``仅限gold、platinum会员`` / ``only for members of tier gold or platinum``."""
        return text.gettext("only for members of tier {tiers}", tiers=text.join(params, "or"))


class NewCustomer(ConditionType):
    """``new_customer``: the customer has no earlier order."""

    name = "new_customer"
    uses_amounts = False

    def parse(self, params: Params) -> None:
        return None

    def check(self, params: None, ctx: ConditionContext) -> bool:
        return ctx.customer.orders_count == 0

    def message(self, params: None) -> str:
        return "only for customers with no earlier order"

    def describe(self, params: None, text: Text) -> str:
        """``仅限新客（首单）`` / ``only for customers with no earlier order``."""
        return text.gettext("only for customers with no earlier order")


def _utc(moment: datetime, tz_for_naive: tzinfo | None) -> datetime:
    """``moment`` in UTC, a naive one taken in ``tz_for_naive`` (naive if that is ``None``)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz_for_naive)
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment


class Dormant(ConditionType):
    """``dormant``: the customer ordered before, but not in the last ``days`` days."""

    name = "dormant"
    uses_amounts = False

    def parse(self, params: Params) -> int | None:
        return params.integer("days", minimum=1)

    def check(self, params: int, ctx: ConditionContext) -> bool:
        # A known last order time means the customer has ordered before; orders
        # without a known last order time cannot be measured, so do not qualify.
        last_order_at = ctx.customer.last_order_at
        if last_order_at is None:
            return False
        # A naive side is taken in the other side's timezone; both are then
        # compared in UTC, so a "day" is always 24 hours, across DST changes.
        now = _utc(ctx.now, last_order_at.tzinfo)
        last = _utc(last_order_at, ctx.now.tzinfo)
        return now - last >= timedelta(days=params)

    def message(self, params: int) -> str:
        days = "1 day" if params == 1 else f"{params} days"
        return f"only for customers whose last order was at least {days} ago"

    def describe(self, params: int, text: Text) -> str:
        """``仅限近30天未下单的老客`` / ``only for customers whose last order was at
        least 30 days ago``."""
        return text.ngettext("only for customers whose last order was at least {days} day ago",
                             "only for customers whose last order was at least {days} days ago",
                             params, days=text.number(params))


@attrs.frozen
class TagRule:
    """Parsed ``customer_tag``: ``mode`` is the key given, ``tags`` its list."""

    mode: Literal["any", "all"]
    tags: tuple[str, ...]


class CustomerTag(ConditionType):
    """``customer_tag``: the customer has ``any`` / ``all`` of the tags."""

    name = "customer_tag"
    uses_amounts = False

    def parse(self, params: Params) -> TagRule | None:
        given = [key for key in ("any", "all") if params.has(key)]
        if len(given) != 1:
            params.problem("needs exactly one of 'any' or 'all' (a list of tags)")
            return None
        mode: Literal["any", "all"] = "any" if given[0] == "any" else "all"
        tags = params.strings(mode, required=True, non_empty=True)
        return None if tags is None else TagRule(mode=mode, tags=tags)

    def check(self, params: TagRule, ctx: ConditionContext) -> bool:
        have = ctx.customer.tags
        if params.mode == "any":
            return any(tag in have for tag in params.tags)
        return all(tag in have for tag in params.tags)

    def message(self, params: TagRule) -> str:
        conjunction = "or" if params.mode == "any" else "and"
        return f"only for customers tagged {_either(params.tags, conjunction)}"

    def describe(self, params: TagRule, text: Text) -> str:
        """``仅限带有student或teacher标签的顾客`` (``any``), ``仅限同时带有student和vip标签的
        顾客`` (``all``) / ``only for customers tagged student or teacher``."""
        tags = _tags(text, params)
        if params.mode == "all" and len(params.tags) > 1:
            return text.pgettext("every tag", "only for customers tagged {tags}", tags=tags)
        return text.gettext("only for customers tagged {tags}", tags=tags)


def _tags(text: Text, rule: TagRule) -> str:
    """The tags with the conjunction of their mode: ``student或teacher`` /
    ``student, teacher or vip``."""
    tags = rule.tags
    if len(tags) <= 1:
        return "".join(tags)
    if rule.mode == "any":
        # Translators: between tags of which a customer needs one ("a, b or c").
        head = text.pgettext("any tag", ", ").join(tags[:-1])
        return text.pgettext("any tag", "{head} or {last}", head=head, last=tags[-1])
    # Translators: between tags a customer needs all of ("a, b and c").
    head = text.pgettext("every tag", ", ").join(tags[:-1])
    return text.pgettext("every tag", "{head} and {last}", head=head, last=tags[-1])


def region_matches(code: str, region: str) -> bool:
    """Whether region ``code`` covers ``region``: its segments are a prefix of
    ``region``'s (``"CN"`` covers ``"CN-31"``; ``"CN-3"`` does not)."""
    want = code.split("-")
    return region.split("-")[: len(want)] == want


@attrs.frozen
class RegionRule:
    """Parsed ``region``: ``None`` for a list that was not given."""

    within: tuple[str, ...] | None
    outside: tuple[str, ...] | None


class Region(ConditionType):
    """``region``: the customer's region code is covered by ``in`` and not by ``not_in``."""

    name = "region"
    uses_amounts = False

    def parse(self, params: Params) -> RegionRule | None:
        if not params.has("in") and not params.has("not_in"):
            params.problem("needs 'in', 'not_in' or both (lists of region codes such as CN-31)")
            return None
        within = self._codes(params, "in")
        outside = self._codes(params, "not_in")
        if (within is None and params.has("in")) or (outside is None and params.has("not_in")):
            return None
        return RegionRule(within=within, outside=outside)

    @staticmethod
    def _codes(params: Params, key: str) -> tuple[str, ...] | None:
        codes = params.strings(key, non_empty=True)
        if codes is None:
            return None
        bad = False
        for index, code in enumerate(codes):
            if not all(code.split("-")):
                params.problem(f"{code!r} is not a region code ('-'-separated segments, "
                               "such as CN-31)", f"{key}[{index}]")
                bad = True
        return None if bad else codes

    def check(self, params: RegionRule, ctx: ConditionContext) -> bool:
        region = ctx.customer.region
        if region is None:
            return params.within is None
        if params.within is not None and not any(region_matches(c, region)
                                                 for c in params.within):
            return False
        return not any(region_matches(c, region) for c in params.outside or ())

    def message(self, params: RegionRule) -> str:
        if params.within is None:
            return f"not for customers in {_either(params.outside or ())}"
        text = f"only for customers in {_either(params.within)}"
        if params.outside:
            text += f", except {_either(params.outside)}"
        return text

    def describe(self, params: RegionRule, text: Text) -> str:
        """``仅限CN-31地区``, ``不含CN-54、CN-65地区``, ``仅限CN地区（不含CN-54）`` /
        ``only for customers in CN, except CN-54``."""
        outside = text.join(params.outside or (), "or")
        if params.within is None:
            return text.gettext("not for customers in {regions}", regions=outside)
        within = text.join(params.within, "or")
        if params.outside:
            return text.gettext("only for customers in {regions}, except {others}",
                                regions=within, others=outside)
        return text.gettext("only for customers in {regions}", regions=within)


class Birthday(ConditionType):
    """``birthday``: today is within ``within_days`` of the customer's birthday."""

    name = "birthday"
    uses_amounts = False

    def parse(self, params: Params) -> int | None:
        return params.integer("within_days", minimum=0)

    def check(self, params: int, ctx: ConditionContext) -> bool:
        birthday = ctx.customer.birthday
        if birthday is None:
            return False
        today = ctx.now.date()
        return min(abs((_birthday_in(birthday, year) - today).days)
                   for year in (today.year - 1, today.year, today.year + 1)) <= params

    def message(self, params: int) -> str:
        if params == 0:
            return "only on the customer's birthday"
        days = "1 day" if params == 1 else f"{params} days"
        return f"only within {days} of the customer's birthday"

    def describe(self, params: int, text: Text) -> str:
        """``仅限生日当天``, ``仅限生日前后7天内`` / ``only within 7 days of the
        customer's birthday``."""
        if params == 0:
            return text.gettext("only on the customer's birthday")
        return text.ngettext("only within {days} day of the customer's birthday",
                             "only within {days} days of the customer's birthday", params,
                             days=text.number(params))


def _birthday_in(birthday: date, year: int) -> date:
    """The birthday's date in ``year``; 29 February is 28 February in other years."""
    if birthday.month == 2 and birthday.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, birthday.month, birthday.day)


# -- the context ------------------------------------------------------------------


class Channel(ConditionType):
    """``channel``: the cart comes through one of the channels ``in``."""

    name = "channel"
    uses_amounts = False

    def parse(self, params: Params) -> tuple[str, ...] | None:
        return params.strings("in", required=True, non_empty=True)

    def check(self, params: tuple[str, ...], ctx: ConditionContext) -> bool:
        return ctx.channel is not None and ctx.channel in params

    def message(self, params: tuple[str, ...]) -> str:
        return f"only on {_either(params)}"

    def describe(self, params: tuple[str, ...], text: Text) -> str:
        """``仅限app、miniprogram下单`` / ``only on app or miniprogram``."""
        return text.gettext("only on {channels}", channels=text.join(params, "or"))


# -- what is in scope -----------------------------------------------------------


@attrs.frozen
class SpendRule:
    """Parsed ``min_spend``: ``amount`` in minor units of ``currency`` (kept for the message)."""

    amount: int
    currency: Currency


class MinSpend(ConditionType):
    """``min_spend``: the lines in scope add up to at least ``amount`` (at or above)."""

    name = "min_spend"
    uses_amounts = True

    def parse(self, params: Params) -> SpendRule | None:
        amount = params.money("amount", positive=True)
        return None if amount is None else SpendRule(amount=amount, currency=params.currency)

    def check(self, params: SpendRule, ctx: ConditionContext) -> bool:
        return ctx.spend >= params.amount

    def message(self, params: SpendRule) -> str:
        money = Text("en").money(params.amount, params.currency)
        return f"spend at least {money} on eligible items"

    def describe(self, params: SpendRule, text: Text) -> str:
        """``参与商品满¥300.00`` / ``spend at least ¥300.00 on eligible items``, the
        amount formatted with Babel in the rule's currency."""
        return text.gettext("spend at least {amount} on eligible items",
                            amount=text.money(params.amount, params.currency))

    def threshold_between(self, params: SpendRule, low: int, high: int) -> bool:
        return low < params.amount <= high


class MinQuantity(ConditionType):
    """``min_quantity``: the lines in scope hold at least ``quantity`` units."""

    name = "min_quantity"
    uses_amounts = False

    def parse(self, params: Params) -> int | None:
        return params.integer("quantity", minimum=1)

    def check(self, params: int, ctx: ConditionContext) -> bool:
        return ctx.quantity >= params

    def message(self, params: int) -> str:
        items = "1 eligible item" if params == 1 else f"{params} eligible items"
        return f"buy at least {items}"

    def describe(self, params: int, text: Text) -> str:
        """``参与商品满3件`` / ``buy at least 3 eligible items``."""
        return text.ngettext("buy at least {count} eligible item",
                             "buy at least {count} eligible items", params,
                             count=text.number(params))


@hookimpl
def promokit_register_conditions() -> list[ConditionType]:
    return [MemberTier(), NewCustomer(), Dormant(), CustomerTag(), Region(), Channel(),
            Birthday(), MinSpend(), MinQuantity()]
