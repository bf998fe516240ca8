"""``group_buy`` (拼團): a product sold at a group price when enough people buy it
together within a window.

A leader pays at the group price and opens a group (:meth:`GroupBuyGame.open_group`);
friends join through the group id or a signed share link
(:meth:`GroupBuyGame.join`), each after paying. The group is ``full`` when its
members reach ``size``; when its window ends short of that, every paid member
is refunded exactly once (``expired``), or with ``auto_complete`` the missing
places are filled with virtual members, disclosed as such and never counted
as buyers (``completed_virtually``). With ``tiers`` the price falls as the group
grows: members pay the first tier's price up front, the group succeeds at the
smallest tier and the difference to the final tier is owed back to each member.

Campaign keys: ``sku``; ``price`` (per unit) or ``tiers = [{ size, price }]``;
``size`` (members needed; with tiers the largest tier's size, optional);
``window_hours`` (24); ``new_customers_only`` (joiners must have no earlier
order); ``max_groups_per_customer`` (groups a customer may lead or join);
``auto_complete`` (false); ``max_units`` (units per member at the group price, 1).

Rows: ``game:<id>:group:<code>`` per group (its ``expires_at`` is the window's
end while open or while refunds are owed). Counters, written with the row so
that pricing reads only counters: ``game:<id>:group:<code>:members``,
``…:ends`` (epoch seconds), ``…:closed`` (0/1), ``…:member:<customer>`` (0/1),
and ``game:<id>:groups:<customer>`` (groups led or joined; given back when a
group expires).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

import attrs

from promokit import hookimpl
from promokit.campaign import Scope
from promokit.cart import Customer, Line
from promokit.conditions import ConditionContext
from promokit.errors import GameError, OrderError
from promokit.games import ConfigChange, Game, GameKind, GameSpec, sign_token, verify_token
from promokit.games.base import GameRuntime, Step
from promokit.games.changes import compare
from promokit.kinds import NoDeal
from promokit.money import Currency
from promokit.params import Params
from promokit.pipeline import condition_message, failed_condition
from promokit.stores.base import Delta, OrderRow
from promokit.text import Text

__all__ = ["Group", "GroupBuy", "GroupBuyConfig", "GroupBuyGame", "Member", "Tier"]

#: Hex digits of a group code (derived from the leader's order id).
CODE_LENGTH = 12
_CODE = re.compile(f"[0-9a-f]{{{CODE_LENGTH}}}")
#: Statuses of a closed group, and the one of an open group.
OPEN, FULL, SUCCEEDED, VIRTUAL, EXPIRED = (
    "open", "full", "succeeded", "completed_virtually", "expired")
_ENGLISH = Text("en")
T = TypeVar("T")


@attrs.frozen
class Tier:
    """The unit price of a group of at least ``size`` members."""

    size: int
    price: int


@attrs.frozen(kw_only=True)
class GroupBuyConfig:
    """A group buy's own keys, parsed. Without ``tiers`` in the file, ``tiers`` holds
    one tier: ``(size, price)``."""

    sku: str
    tiers: tuple[Tier, ...]
    currency: Currency
    """The campaign file's currency (prices are its minor units)."""
    tiered: bool = False
    window_hours: int = 24
    new_customers_only: bool = False
    max_groups_per_customer: int | None = None
    auto_complete: bool = False
    max_units: int = 1

    @property
    def size(self) -> int:
        """Members that fill a group (the largest tier's size)."""
        return self.tiers[-1].size

    @property
    def needed(self) -> int:
        """Members a group needs to succeed at its window's end (the smallest tier)."""
        return self.tiers[0].size

    @property
    def price(self) -> int:
        """The unit price paid up front (the first tier's)."""
        return self.tiers[0].price

    def price_at(self, members: int) -> int | None:
        """The unit price of a group of ``members``; ``None`` below the smallest tier."""
        prices = [tier.price for tier in self.tiers if tier.size <= members]
        return prices[-1] if prices else None


@attrs.frozen(kw_only=True)
class Member:
    """A real, paying member of a group."""

    customer: str
    order_id: str
    units: int
    """Units bought at the group price (from the engine's order, else 1)."""
    joined_at: datetime
    leader: bool = False
    invited_by: str | None = None
    refunded: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"customer": self.customer, "order_id": self.order_id, "units": self.units,
                "joined_at": self.joined_at.isoformat(), "leader": self.leader,
                "invited_by": self.invited_by, "refunded": self.refunded}


@attrs.frozen(kw_only=True)
class Group:
    """A group's state, as :meth:`GroupBuyGame.group` reports it."""

    group_id: str
    status: str
    """``open``, ``full``, ``succeeded`` (tiers: closed at the window's end with enough
    members), ``completed_virtually`` or ``expired`` (refunded)."""
    leader: str
    members: tuple[Member, ...]
    virtual_members: tuple[str, ...]
    """Places filled by ``auto_complete``: not buyers, never counted as such."""
    size: int
    needed: int
    opened_at: datetime
    ends_at: datetime
    closed_at: datetime | None
    price: int
    """The unit price members paid (minor units)."""
    final_price: int | None
    """The unit price the group closed at (tiers: may be lower than ``price``)."""

    @property
    def real_members(self) -> int:
        """Paying members (virtual ones excluded)."""
        return len(self.members)

    @property
    def seats_left(self) -> int:
        """Places still open to join (0 once closed)."""
        return self.size - len(self.members) if self.status == OPEN else 0

    def to_json(self) -> dict[str, Any]:
        """JSON-ready state (amounts in minor units)."""
        def when(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment is not None else None

        return {"group_id": self.group_id, "status": self.status, "leader": self.leader,
                "members": [m.to_json() for m in self.members],
                "virtual_members": list(self.virtual_members),
                "real_members": self.real_members, "size": self.size, "needed": self.needed,
                "seats_left": self.seats_left, "opened_at": when(self.opened_at),
                "ends_at": when(self.ends_at), "closed_at": when(self.closed_at),
                "price": self.price, "final_price": self.final_price}


def _group_code(game: str, order_id: str) -> str:
    return hashlib.sha256(f"{game}\n{order_id}".encode()).hexdigest()[:CODE_LENGTH]


def _code_of(game: str, group_id: str | None) -> str | None:
    """The code of one of ``game``'s group ids, or ``None``."""
    prefix = game + "."
    if group_id is None or not group_id.startswith(prefix):
        return None
    code = group_id[len(prefix):]
    return code if _CODE.fullmatch(code) else None


class _Keys:
    """Counter and row names of one game's groups."""

    def __init__(self, game: str) -> None:
        self.game = game

    def row(self, code: str) -> str:
        return f"game:{self.game}:group:{code}"

    def members(self, code: str) -> str:
        return f"{self.row(code)}:members"

    def ends(self, code: str) -> str:
        return f"{self.row(code)}:ends"

    def closed(self, code: str) -> str:
        return f"{self.row(code)}:closed"

    def member(self, code: str, customer: str) -> str:
        return f"{self.row(code)}:member:{customer}"

    def groups(self, customer: str) -> str:
        return f"game:{self.game}:groups:{customer}"


# -- the kind -------------------------------------------------------------------------------


class GroupBuy(GameKind):
    """The ``group_buy`` kind: parses, discloses, compares and prices group buys."""

    name = "group_buy"
    price_field = "group_id"
    actions: ClassVar[Mapping[str, str]] = {
        "open": "open a group after the leader paid (--customer, --set order_id=…)",
        "join": "join after paying (--customer, --set group=… or --set token=…, "
                "--set order_id=…)",
        "share": "a signed share link for a member (--customer, --set group=…, "
                 "optional --set ttl_seconds=…)",
        "group": "a group's state (--set group=…)",
    }

    def parse(self, params: Params, spec: GameSpec) -> GroupBuyConfig | None:
        """Read the keys listed in the module docstring; problems go to ``params``."""
        sku = params.string("sku")
        price = params.money("price", required=False, positive=True)
        tables = params.tables("tiers", required=False, non_empty=True)
        size = params.integer("size", required=tables is None and params.has("price"),
                              minimum=2)
        window = params.integer("window_hours", required=False, minimum=1, default=24)
        new_only = params.boolean("new_customers_only")
        max_groups = params.integer("max_groups_per_customer", required=False, minimum=1)
        auto = params.boolean("auto_complete")
        max_units = params.integer("max_units", required=False, minimum=1, default=1)
        tiers: tuple[Tier, ...] | None = None
        if params.has("price") and params.has("tiers"):
            params.problem("give either price or tiers, not both", "tiers")
        elif not params.has("price") and not params.has("tiers"):
            params.problem('is required (or tiers = [{ size = 3, price = "69.00" }, …])',
                           "price")
        elif tables is not None:
            tiers = _read_tiers(tables)
            if tiers is not None and size is not None and size != tiers[-1].size:
                params.problem(f"with tiers, size is the largest tier's size "
                               f"({tiers[-1].size}), got {size}", "size")
        elif price is not None and size is not None:
            tiers = (Tier(size, price),)
        if sku is None or tiers is None or window is None or max_units is None:
            return None
        return GroupBuyConfig(sku=sku, tiers=tiers, currency=params.currency,
                              tiered=tables is not None,
                              window_hours=window, new_customers_only=new_only,
                              max_groups_per_customer=max_groups, auto_complete=auto,
                              max_units=max_units)

    def disclosure(self, spec: GameSpec, text: Text) -> list[str]:
        """Product, price or tiers, size, window, who may join, limits, expiry."""
        config: GroupBuyConfig = spec.config
        price, sku = text.amount(config.price), config.sku
        if not config.tiered:
            lines = [text.pick(
                f"{spec.name}: group buy of {sku} at {price} per unit when {config.size} "
                "people buy together.",
                f"{spec.name}：{sku} 拼團價{price}/件，{config.size}人成團。")]
        else:
            steps = text.join(text.pick(f"{t.size} people {text.amount(t.price)}",
                                        f"{t.size}人團{text.amount(t.price)}")
                              for t in config.tiers)
            lines = [text.pick(
                f"{spec.name}: group buy of {sku}; the price falls as the group grows: "
                f"{steps}. A group succeeds with {config.needed} people and takes at most "
                f"{config.size}.",
                f"{spec.name}：{sku} 階梯拼團價：{steps}；{config.needed}人即成團，"
                f"每團最多{config.size}人。"), text.pick(
                f"Everyone pays {price} per unit up front; when the group closes larger, "
                "the difference to the final price is refunded to each member.",
                f"參團時按{price}/件支付，成團人數更多時，按最終階梯價退還差價。")]
        start, end = spec.schedule.start, spec.schedule.end
        moment = start or end
        if moment is not None and moment.tzinfo is not None:
            period = text.period(start, end, moment.tzinfo)
            lines.append(text.pick(f"Groups may be opened and joined {period}.",
                                   f"開團及參團時間：{period}。"))
        until_end = text.pick(" (closing at the latest when the game ends)", "（最遲至活動結束）"
                              ) if spec.schedule.end else ""
        lines.append(text.pick(
            f"The leader opens a group by paying at the group price; the group stays open "
            f"for {config.window_hours} hours{until_end}. Others join through the leader's "
            "share link, each after paying.",
            f"團長支付後開團，拼團有效期{config.window_hours}小時{until_end}；"
            "好友通過分享連結支付後參團。"))
        who = text.pick("Anyone may open a group; only new customers (no earlier order) may "
                        "join one.", "任何人可開團；僅新用戶（無歷史訂單）可參團。"
                        ) if config.new_customers_only else text.pick(
            "Anyone may open or join a group.", "任何人均可開團或參團。")
        lines.append(who + text.pick(" Nobody joins the same group twice.",
                                     "同一團每人限參一次。"))
        if spec.conditions:
            needs = text.pick("; ", "；").join(condition_message(c, text)
                                              for c in spec.conditions)
            lines.append(text.pick(f"To take part: {needs}.", f"參與條件：{needs}。"))
        limits = [text.pick(f"{_count(config.max_units, 'unit')} per member at the group price",
                            f"每人限{config.max_units}件享拼團價")]
        if config.max_groups_per_customer is not None:
            limits.append(text.pick(
                "each customer may open or join at most "
                f"{_count(config.max_groups_per_customer, 'group')} (an expired group does not "
                "count)",
                f"每人最多開團或參團{config.max_groups_per_customer}次（未成團不計）"))
        lines.append(text.pick("Limits: ", "限制：") + text.pick("; ", "；").join(limits)
                     + text.pick(".", "。"))
        if config.auto_complete:
            lines.append(text.pick(
                f"If a group has fewer than {config.needed} members when its window ends, "
                "the shop fills the missing places with virtual members (系統模擬成團) and "
                "the group succeeds: virtual members are not real buyers.",
                f"有效期結束時未滿{config.needed}人的團，由系統以虛擬成員補足並成團"
                "（虛擬成員非真實買家）。"))
        else:
            lines.append(text.pick(
                f"If a group has fewer than {config.needed} members when its window ends, "
                "it fails and every member's payment is refunded in full.",
                f"有效期結束時未滿{config.needed}人的團拼團失敗，已付款全額原路退回。"))
        if spec.organiser:
            lines.append(text.pick(f"Organiser: {spec.organiser}.",
                                   f"活動主辦方：{spec.organiser}。"))
        return lines

    def changes(self, old: GameSpec, new: GameSpec) -> list[ConfigChange]:
        """Higher prices, larger groups, a shorter window, new-customers-only switched
        on, fewer groups or units per customer, or auto-completion switched off are
        worse for customers; the opposite is better."""
        before: GroupBuyConfig = old.config
        after: GroupBuyConfig = new.config

        def money(minor: int | None) -> Decimal | None:
            return after.currency.to_decimal(minor) if minor is not None else None

        found = compare("sku", before.sku, after.sku, better="same")
        if not before.tiered and not after.tiered:
            found += compare("price", money(before.price), money(after.price), better="lower")
        else:
            for members in sorted({t.size for t in (*before.tiers, *after.tiers)}):
                found += compare(f"tiers[size={members}].price", money(before.price_at(members)),
                                 money(after.price_at(members)), better="lower")
            found += compare("price (paid up front)", money(before.price), money(after.price),
                             better="lower")
        found += compare("size", before.size, after.size, better="lower")
        if before.needed != before.size or after.needed != after.size:
            found += compare("tiers[0].size (to succeed)", before.needed, after.needed,
                             better="lower")
        found += compare("window_hours", before.window_hours, after.window_hours,
                         better="higher")
        found += compare("new_customers_only", before.new_customers_only,
                         after.new_customers_only, better="lower")
        found += compare("max_groups_per_customer", before.max_groups_per_customer,
                         after.max_groups_per_customer, better="higher")
        found += compare("max_units", before.max_units, after.max_units, better="higher")
        found += compare("auto_complete", before.auto_complete, after.auto_complete,
                         better="higher")
        return found

    def bind(self, spec: GameSpec, runtime: GameRuntime) -> GroupBuyGame:
        """The playable group buy on ``runtime``'s store."""
        return GroupBuyGame(spec, runtime)

    # -- pricing: a line's group_id ------------------------------------------------------

    def price_scope(self, spec: GameSpec) -> Scope:
        """The group's product."""
        return Scope(skus=frozenset({spec.config.sku}))

    def covers(self, spec: GameSpec, line: Line) -> bool:
        """``group_id = "<game id>"`` opens a group; ``"<game id>.<code>"`` joins one."""
        group_id = line.group_id
        return group_id is not None and (group_id == spec.id
                                         or group_id.startswith(spec.id + "."))

    def price_keys(self, spec: GameSpec, line: Line, customer: Customer) -> Sequence[str]:
        """The customer's group count and, for a join, the group's mirrored state."""
        keys = _Keys(spec.id)
        found = [keys.groups(customer.id)] if customer.id is not None else []
        code = _code_of(spec.id, line.group_id)
        if code is not None:
            found += [keys.members(code), keys.ends(code), keys.closed(code)]
            if customer.id is not None:
                found.append(keys.member(code, customer.id))
        return found

    def unit_price(self, spec: GameSpec, line: Line, customer: Customer,
                   counters: Mapping[str, int], now: datetime) -> int | NoDeal:
        """The group price, or why the line cannot have it (from counters only)."""
        config: GroupBuyConfig = spec.config
        keys = _Keys(spec.id)
        if customer.id is None:
            return NoDeal("not_eligible:customer_required",
                          "a group buy needs a signed-in customer")
        # The kernel's game promotion carries no conditions, and this hook sees no cart
        # channel: check the game's customer conditions here, leaving channel rules to
        # open_group / join.
        failed = failed_condition([c for c in spec.conditions if c.rule != "channel"],
                                  ConditionContext(customer=customer, channel=None, now=now,
                                                   currency=config.currency, lines=()),
                                  amounts=False)
        if failed is not None:
            return NoDeal(f"not_eligible:{failed.rule}", condition_message(failed, _ENGLISH))
        limit = config.max_groups_per_customer
        if limit is not None and counters.get(keys.groups(customer.id), 0) >= limit:
            return NoDeal("limit_reached", f"a customer may open or join at most {limit} "
                          "group(s) of this game")
        if line.group_id == spec.id:
            return config.price  # the leader opens a new group
        code = _code_of(spec.id, line.group_id)
        if code is None or not counters.get(keys.ends(code), 0):
            return NoDeal("not_eligible:group_unknown", f"no group {line.group_id!r}")
        if counters.get(keys.member(code, customer.id), 0):
            return NoDeal("not_eligible:group_member", "you are in this group already")
        if config.new_customers_only and customer.orders_count != 0:
            return NoDeal("not_eligible:new_customer", "only new customers may join")
        if counters.get(keys.members(code), 0) >= config.size:
            return NoDeal("not_eligible:group_full", "the group is full")
        if now.timestamp() >= counters[keys.ends(code)] or counters.get(keys.closed(code)):
            return NoDeal("ended", "the group's window has ended")
        return config.price

    def price_units(self, spec: GameSpec, line: Line) -> int:
        """At most ``max_units`` units of a line get the group price."""
        return min(line.quantity, int(spec.config.max_units))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _read_tiers(tables: list[Params]) -> tuple[Tier, ...] | None:
    tiers: list[Tier] = []
    for table in tables:
        size = table.integer("size", minimum=2)
        price = table.money("price", positive=True)
        table.finish()
        if size is None or price is None:
            return None
        if tiers and size <= tiers[-1].size:
            table.problem(f"sizes must increase from tier to tier ({tiers[-1].size} before)",
                          "size")
            return None
        if tiers and price >= tiers[-1].price:
            table.problem("a larger group must have a lower price than "
                          f"{table.currency.format(tiers[-1].price)}", "price")
            return None
        tiers.append(Tier(size, price))
    return tuple(tiers)


# -- the bound game ---------------------------------------------------------------------------


class GroupBuyGame(Game):
    """A group buy bound to a store: open, join, share, look up and expire groups."""

    config: GroupBuyConfig

    def __init__(self, spec: GameSpec, runtime: GameRuntime) -> None:
        super().__init__(spec, runtime)
        self.keys = _Keys(spec.id)

    # -- playing ---------------------------------------------------------------------------

    def open_group(self, leader: Customer, order_id: str) -> Group:
        """Open a group for the leader's paid order; idempotent per order id (the code
        is derived from it). Raises :class:`GameError`: ``not_started``, ``ended``,
        ``customer_required``, ``not_eligible:<rule>``, ``limit_reached``,
        ``not_paid``, ``order_used``, ``order_mismatch``, ``bad_argument``."""
        _check_order_id(order_id, self.id)
        code = _group_code(self.id, order_id)
        row_id = self.keys.row(code)
        existing = self._lookup(row_id)
        if existing is not None and leader.id is not None:
            return self._repeat_open(existing, leader.id, order_id)  # a repeated call
        self.check_running()
        self.check_customer(leader)
        assert leader.id is not None
        leader_id = leader.id
        units = self._paid_units(leader_id, order_id, self.id)
        self.start()  # keeps the config the game starts with (config changes are checked)
        config, keys = self.config, self.keys

        def build(row: OrderRow | None, body: dict[str, Any] | None,
                  refused: frozenset[str]) -> Step[dict[str, Any]]:
            if body is not None:
                raise _NoChange(body)
            if refused:
                raise self._limit(leader_id)
            now = self.now()
            ends = self._window_end(now)
            group_id = f"{self.id}.{code}"
            member = {"customer": leader_id, "order_id": order_id, "units": units,
                      "joined_at": now.isoformat(), "leader": True, "invited_by": None,
                      "refund": None}
            state = {"group_id": group_id, "leader": leader_id, "status": OPEN,
                     "opened_at": now.isoformat(), "ends": ends, "members": [member],
                     "virtual": [], "closed_at": None, "final_price": None}
            return Step(status=OPEN, body=state, result=state, expires_at=ends, deltas=(
                Delta(keys.members(code), 1, config.size), Delta(keys.ends(code), ends),
                Delta(keys.member(code, leader_id), 1, 1),
                Delta(keys.groups(leader_id), 1, config.max_groups_per_customer)),
                events=(("opened", leader_id, {
                    "group_id": group_id, "order_id": order_id, "size": config.size,
                    "ends_at": self._at(ends).isoformat()}),))
        return self._repeat_open(self._transact(row_id, build), leader_id, order_id)

    def join(self, group: str, customer: Customer, order_id: str) -> Group:
        """Join ``group`` (a group id or a share token) with a paid order; idempotent
        per (group, customer, order). Raises :class:`GameError`: ``not_found``,
        ``already_member``, ``group_full``, ``expired``, ``not_eligible:new_customer``,
        ``limit_reached``, ``not_paid``, ``order_used``, ``order_mismatch``,
        ``token_*``, ``secret_required``, ``not_started``, ``ended``."""
        group_id, inviter = self._resolve(group)
        code = self._code(group_id)
        _check_order_id(order_id, self.id)
        row_id = self.keys.row(code)
        known = self._lookup(row_id)
        if known is not None and customer.id is not None \
                and _member(known, order_id, customer.id) is not None:
            return self.group(group_id)  # a repeated call
        self.check_running()
        self.check_customer(customer)
        assert customer.id is not None
        units = self._paid_units(customer.id, order_id, group_id)
        config, keys, joiner = self.config, self.keys, customer.id

        def build(row: OrderRow | None, body: dict[str, Any] | None,
                  refused: frozenset[str]) -> Step[bool]:
            if row is None or body is None:
                raise self._not_found(group_id)
            now = self.now()
            if body["status"] == OPEN and now.timestamp() >= body["ends"]:
                return self._close(row, body, now)  # closed first; the caller tries again
            if _member(body, order_id, joiner) is not None:
                raise _NoChange(False)
            if any(m["order_id"] == order_id for m in body["members"]):
                raise GameError(f"order {order_id!r} is another member's", reason="order_used",
                                game=self.id)
            if any(m["customer"] == joiner for m in body["members"]):
                raise GameError(f"{joiner!r} is in group {group_id!r} already",
                                reason="already_member", game=self.id)
            if body["status"] == FULL or keys.members(code) in refused:
                raise GameError(f"group {group_id!r} is full", reason="group_full",
                                game=self.id)
            if body["status"] != OPEN:
                raise GameError(f"group {group_id!r} has ended ({body['status']})",
                                reason="expired", game=self.id)
            if config.new_customers_only and customer.orders_count != 0:
                raise GameError(f"only new customers may join group buy {self.id!r}; "
                                f"{joiner!r} has orders ({customer.orders_count})",
                                reason="not_eligible:new_customer", game=self.id)
            if keys.groups(joiner) in refused:
                raise self._limit(joiner)
            if keys.member(code, joiner) in refused:
                raise GameError(f"{joiner!r} is in group {group_id!r} already",
                                reason="already_member", game=self.id)
            members = [*body["members"], {
                "customer": joiner, "order_id": order_id, "units": units,
                "joined_at": now.isoformat(), "leader": False, "invited_by": inviter,
                "refund": None}]
            state = {**body, "members": members}
            deltas = [Delta(keys.members(code), 1, config.size),
                      Delta(keys.member(code, joiner), 1, 1),
                      Delta(keys.groups(joiner), 1, config.max_groups_per_customer)]
            events: list[tuple[str, str | None, Mapping[str, Any]]] = [("joined", joiner, {
                "group_id": group_id, "order_id": order_id, "invited_by": inviter,
                "members": len(members), "seats_left": config.size - len(members)})]
            if len(members) < config.size:
                return Step(status=OPEN, body=state, result=False, deltas=tuple(deltas),
                            expires_at=row.expires_at, events=tuple(events))
            state = {**state, "status": FULL, "closed_at": now.isoformat(),
                     "final_price": config.price_at(len(members))}
            deltas.append(Delta(keys.closed(code), 1, 1))
            events.append(("full", None, self._success_data(state)))
            return Step(status=FULL, body=state, result=False, deltas=tuple(deltas),
                        events=tuple(events))

        while self._transact(row_id, build):  # True: the window had ended; it is closed now
            self._settle(row_id)
        return self.group(group_id)

    def share(self, group_id: str, inviter_id: str, *, ttl_seconds: int | None = None) -> str:
        """A signed share link's token inviting to an open group on behalf of one of
        its members; it expires at the group's window end (or ``ttl_seconds`` from
        now, if sooner). Needs ``Engine(secret=…)``."""
        secret = self.runtime.secret
        if secret is None:
            raise GameError("share links need Engine(secret=…)", reason="secret_required",
                            game=self.id)
        if ttl_seconds is not None and ttl_seconds < 1:
            raise GameError(f"ttl_seconds must be at least 1, got {ttl_seconds}",
                            reason="bad_argument", game=self.id)
        group = self.group(group_id)
        if group.status != OPEN:
            reason = "group_full" if group.status == FULL else "expired"
            raise GameError(f"group {group_id!r} is {group.status}; nobody can join it",
                            reason=reason, game=self.id)
        if inviter_id not in {m.customer for m in group.members}:
            raise GameError(f"{inviter_id!r} is not a member of group {group_id!r}",
                            reason="not_member", game=self.id)
        expires = int(group.ends_at.timestamp())
        if ttl_seconds is not None:
            expires = min(expires, int(self.now().timestamp()) + ttl_seconds)
        return sign_token(secret, game=self.id, subject=group_id, inviter=inviter_id,
                          expires=expires)

    def group(self, group_id: str) -> Group:
        """The group's state (closing it first if its window has ended).
        :class:`GameError` ``not_found`` for an unknown group."""
        row_id = self.keys.row(self._code(group_id))
        self._close_if_due(row_id)
        body = self._lookup(row_id)
        if body is None:
            raise self._not_found(group_id)
        return self._state(body)

    def expire(self, row_id: str) -> bool:
        """``Engine.sweep``: close a group whose window ended and refund its members
        (or complete it virtually); finish refunds an earlier sweep left owed."""
        if not row_id.startswith(self.keys.row("")):
            return False
        return self._close_if_due(row_id)

    def act(self, action: str, customer: Customer, args: Mapping[str, str]) -> Any:
        """``open``, ``join``, ``share`` and ``group`` from the command line."""
        allowed = {"open": {"order_id"}, "join": {"group", "token", "order_id"},
                   "share": {"group", "ttl_seconds"}, "group": {"group"}}
        if action not in allowed:
            return super().act(action, customer, args)
        unknown = sorted(set(args) - allowed[action])
        if unknown:
            raise GameError(f"{action} takes no {', '.join(unknown)} (it takes "
                            f"{', '.join(sorted(allowed[action]))})", reason="bad_argument",
                            game=self.id)

        def need(key: str) -> str:
            value = args.get(key)
            if not value:
                raise GameError(f"{action} needs --set {key}=…", reason="bad_argument",
                                game=self.id)
            return value

        if action == "open":
            return self.open_group(customer, need("order_id")).to_json()
        if action == "join":
            target = args.get("group") or args.get("token") or need("group")
            return self.join(target, customer, need("order_id")).to_json()
        if action == "share":
            ttl = args.get("ttl_seconds")
            if ttl is not None and not ttl.isdigit():
                raise GameError(f"ttl_seconds must be a whole number, got {ttl!r}",
                                reason="bad_argument", game=self.id)
            if customer.id is None:
                raise GameError("share needs --customer (the inviting member)",
                                reason="customer_required", game=self.id)
            group_id = need("group")
            token = self.share(group_id, customer.id,
                               ttl_seconds=int(ttl) if ttl is not None else None)
            return {"group_id": group_id, "inviter": customer.id, "token": token}
        return self.group(need("group")).to_json()

    # -- closing ---------------------------------------------------------------------------

    def _close_if_due(self, row_id: str) -> bool:
        """Close an open group past its window; finish owed refunds. Whether this call
        changed anything."""
        row = self.store.order(row_id)
        if row is None:
            return False
        changed = False
        due = row.expires_at is not None and self.now().timestamp() >= row.expires_at
        if row.status == OPEN and due:
            def build(row: OrderRow | None, body: dict[str, Any] | None,
                      refused: frozenset[str]) -> Step[bool]:
                assert row is not None and body is not None
                now = self.now()
                if body["status"] != OPEN or now.timestamp() < body["ends"]:
                    raise _NoChange(False)
                return self._close(row, body, now)
            changed = self._transact(row_id, build)
        return self._settle(row_id) or changed

    def _close(self, row: OrderRow, body: dict[str, Any], now: datetime) -> Step[bool]:
        """The step that closes an open group whose window has ended."""
        config = self.config
        group_id, members = body["group_id"], body["members"]
        code = group_id.rpartition(".")[2]
        closed = {**body, "closed_at": now.isoformat()}
        done = Delta(self.keys.closed(code), 1, 1)
        if len(members) >= config.needed:  # tiers: enough for the smallest
            state = {**closed, "status": SUCCEEDED,
                     "final_price": config.price_at(len(members))}
            return Step(status=SUCCEEDED, body=state, result=True, deltas=(done,),
                        events=(("succeeded", None, self._success_data(state)),))
        if config.auto_complete:
            virtual = [f"virtual-{n}" for n in range(1, config.needed - len(members) + 1)]
            state = {**closed, "status": VIRTUAL, "virtual": virtual,
                     "final_price": config.price}
            return Step(status=VIRTUAL, body=state, result=True, deltas=(done,),
                        events=(("completed_virtually", None, {
                            **self._success_data(state), "virtual_members": virtual}),))
        state = {**closed, "status": EXPIRED,
                 "members": [{**m, "refund": "pending"} for m in members]}
        give_back = tuple(Delta(self.keys.groups(m["customer"]), -1) for m in members)
        return Step(status=EXPIRED, body=state, result=True, deltas=(done, *give_back),
                    expires_at=row.expires_at,  # due until every member is refunded
                    events=(("expired", None, {
                        "group_id": group_id, "real_members": len(members),
                        "needed": config.needed,
                        "orders": [m["order_id"] for m in members]}),))

    def _settle(self, row_id: str) -> bool:
        """Refund each member of an expired group still owed one, exactly once."""
        changed = False
        while True:
            body = self._lookup(row_id)
            if body is None or body["status"] != EXPIRED:
                return changed
            owed = [m for m in body["members"] if m["refund"] == "pending"]
            if not owed:
                return changed
            member = owed[0]
            outcome = self._refund_order(body["group_id"], member)

            def build(row: OrderRow | None, body: dict[str, Any] | None,
                      refused: frozenset[str], member: dict[str, Any] = member,
                      outcome: dict[str, Any] = outcome) -> Step[bool]:
                assert row is not None and body is not None
                mine = [m for m in body["members"] if m["order_id"] == member["order_id"]]
                if mine[0]["refund"] != "pending":
                    raise _NoChange(False)
                members = [{**m, "refund": "done"} if m is mine[0] else m
                           for m in body["members"]]
                left = any(m["refund"] == "pending" for m in members)
                return Step(status=EXPIRED, body={**body, "members": members}, result=True,
                            expires_at=row.expires_at if left else None,
                            events=(("refunded", member["customer"], {
                                "group_id": body["group_id"],
                                "order_id": member["order_id"], **outcome}),))
            changed = self._transact(row_id, build) or changed

    def _refund_order(self, group_id: str, member: Mapping[str, Any]) -> dict[str, Any]:
        """Refund the member's group lines through the engine's checkout, if the order
        is there (idempotent per refund id ``group:<group id>``)."""
        engine = self.runtime.engine
        order = engine.order(member["order_id"]) if engine is not None else None
        if engine is None or order is None:
            return {"refund_id": None}
        refund_id = f"group:{group_id}"
        earlier = order.refund(refund_id)
        if earlier is not None:
            return {"refund_id": refund_id, "amount": str(earlier.amount)}
        target = self.id if member["leader"] else group_id
        done = order.refunded_units
        lines = [line for line in order.cart.lines if line.group_id == target]
        units = {line.id: line.quantity - done.get(line.id, 0) for line in lines}
        units = {line_id: count for line_id, count in units.items() if count > 0}
        if lines and not units:
            return {"refund_id": None, "refund_error": "the group's lines of order "
                    f"{member['order_id']!r} were refunded already"}
        try:
            refund = engine.refund(member["order_id"], refund_id, units or None)
        except OrderError as error:  # not committed, or refunded in full by the shop
            return {"refund_id": None, "refund_error": str(error)}
        return {"refund_id": refund_id, "amount": str(refund.amount)}

    # -- helpers ---------------------------------------------------------------------------

    def _transact(self, row_id: str,
                  build: Callable[[OrderRow | None, dict[str, Any] | None, frozenset[str]],
                                  Step[T]]) -> T:
        """:meth:`transact`, where a step may raise :class:`_NoChange` to write nothing."""
        try:
            return self.transact(row_id, build)
        except _NoChange as nothing:
            result: T = nothing.result
            return result

    def _window_end(self, now: datetime) -> int:
        """Epoch seconds at which a group opened at ``now`` closes: the window, cut at
        the game's (inclusive) end."""
        ends = int(now.timestamp()) + self.config.window_hours * 3600
        if self.spec.schedule.end is not None:
            ends = min(ends, int(self.spec.schedule.end.timestamp()) + 1)
        return ends

    def _at(self, epoch: int) -> datetime:
        return datetime.fromtimestamp(epoch, self.now().tzinfo)

    def _lookup(self, row_id: str) -> dict[str, Any] | None:
        return self.read(row_id)[1]

    def _code(self, group_id: str) -> str:
        code = _code_of(self.id, group_id)
        if code is None:
            raise self._not_found(group_id)
        return code

    def _not_found(self, group_id: str) -> GameError:
        return GameError(f"no group {group_id!r} in game {self.id!r}", reason="not_found",
                         game=self.id)

    def _limit(self, customer: str) -> GameError:
        return GameError(f"{customer!r} may open or join at most "
                         f"{self.config.max_groups_per_customer} group(s) of game {self.id!r}",
                         reason="limit_reached", game=self.id)

    def _resolve(self, group: str) -> tuple[str, str | None]:
        """A group id, or a share token's group and inviter."""
        if _code_of(self.id, group) is not None:
            return group, None
        secret = self.runtime.secret
        if secret is None:
            raise GameError("share links need Engine(secret=…)", reason="secret_required",
                            game=self.id)
        token = verify_token(secret, group, game=self.id, now=self.now().timestamp())
        return token.subject, token.inviter

    def _paid_units(self, customer: str, order_id: str, target: str) -> int:
        """Units bought at the group price by the order (1 if checkout does not know
        it); refuses an unpaid order, another customer's, or one for another group."""
        engine = self.runtime.engine
        order = engine.order(order_id) if engine is not None else None
        if order is None:
            return 1
        if order.status != "committed":
            raise GameError(f"order {order_id!r} is {order.status}, not paid",
                            reason="not_paid", game=self.id)
        if order.cart.customer.id not in (None, customer):
            raise GameError(f"order {order_id!r} is {order.cart.customer.id!r}'s, not "
                            f"{customer!r}'s", reason="order_used", game=self.id)
        units = sum(min(line.quantity, self.config.max_units) for line in order.cart.lines
                    if line.group_id == target)
        if not units:
            raise GameError(f"order {order_id!r} has no line with group_id {target!r}",
                            reason="order_mismatch", game=self.id)
        return units

    def _repeat_open(self, body: dict[str, Any], leader: str, order_id: str) -> Group:
        if body["members"][0]["order_id"] != order_id or body["leader"] != leader:
            raise GameError(f"order {order_id!r} opened another group already",
                            reason="order_used", game=self.id)
        return self.group(body["group_id"])

    def _success_data(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """Event data of a group that succeeded: each member's refund due (tiers)."""
        money = self.runtime.currency
        final = state["final_price"]
        paid = self.config.price
        return {"group_id": state["group_id"], "real_members": len(state["members"]),
                "price": str(money.to_decimal(paid)),
                "final_price": str(money.to_decimal(final)),
                "members": [{"customer": m["customer"], "order_id": m["order_id"],
                             "units": m["units"], "paid": str(money.to_decimal(paid * m["units"])),
                             "refund_due": str(money.to_decimal((paid - final) * m["units"]))}
                            for m in state["members"]]}

    def _state(self, body: Mapping[str, Any]) -> Group:
        def when(text: str | None) -> datetime | None:
            return datetime.fromisoformat(text) if text is not None else None

        opened = when(body["opened_at"])
        assert opened is not None
        return Group(
            group_id=body["group_id"], status=body["status"], leader=body["leader"],
            members=tuple(Member(customer=m["customer"], order_id=m["order_id"],
                                 units=m["units"], joined_at=datetime.fromisoformat(
                                     m["joined_at"]), leader=m["leader"],
                                 invited_by=m["invited_by"], refunded=m["refund"] == "done")
                          for m in body["members"]),
            virtual_members=tuple(body["virtual"]), size=self.config.size,
            needed=self.config.needed, opened_at=opened, ends_at=self._at(body["ends"]),
            closed_at=when(body["closed_at"]), price=self.config.price,
            final_price=body["final_price"])


def _check_order_id(order_id: object, game: str) -> None:
    if not isinstance(order_id, str) or not order_id.strip() or len(order_id) > 200 \
            or order_id.startswith("game:"):
        raise GameError(f"{order_id!r} is not an order id", reason="bad_argument", game=game)


def _member(body: Mapping[str, Any], order_id: str, customer: str) -> dict[str, Any] | None:
    """The member entry of this (order, customer), if the call was made before."""
    return next((m for m in body["members"]
                 if m["order_id"] == order_id and m["customer"] == customer), None)


class _NoChange(Exception):
    """Raised by a transaction step that has nothing to write; carries the result."""

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result


@hookimpl
def promokit_register_games() -> list[GameKind]:
    return [GroupBuy()]

