""":class:`GroupBuy`, the ``group_buy`` game kind: parsing, the disclosure,
config changes, and the group price of a line (from counters only)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from promokit.cart import Customer, Line
from promokit.conditions import ConditionContext, condition_message, failed_condition
from promokit.games import ConfigChange, GameKind, GameRuntime, GameSpec, compare
from promokit.kinds import NoDeal
from promokit.params import Params
from promokit.terms import Scope
from promokit.text import Text

from .config import GroupBuyConfig, Tier, read_tiers
from .game import GroupBuyGame
from .group import Keys, code_of


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
            tiers = read_tiers(tables)
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
        size, needed = text.number(config.size), text.number(config.needed)
        if not config.tiered:
            lines = [text.gettext(
                "{game}: group buy of {sku} at {price} per unit when {size} people buy "
                "together.", game=spec.name, sku=sku, price=price, size=size)]
        else:
            steps = text.join(text.gettext("{size} people {price}", size=text.number(t.size),
                                           price=text.amount(t.price))
                              for t in config.tiers)
            lines = [text.gettext(
                "{game}: group buy of {sku}; the price falls as the group grows: {steps}. A "
                "group succeeds with {needed} people and takes at most {size}.",
                game=spec.name, sku=sku, steps=steps, needed=needed, size=size),
                text.gettext(
                "Everyone pays {price} per unit up front; when the group closes larger, the "
                "difference to the final price is refunded to each member.", price=price)]
        start, end = spec.schedule.start, spec.schedule.end
        moment = start or end
        if moment is not None and moment.tzinfo is not None:
            period = text.period(start, end, moment.tzinfo)
            lines.append(text.gettext("Groups may be opened and joined {period}.",
                                      period=period))
        until_end = text.gettext(" (closing at the latest when the game ends)"
                                 ) if spec.schedule.end else ""
        lines.append(text.gettext(
            "The leader opens a group by paying at the group price; the group stays open for "
            "{hours} hours{until_end}. Others join through the leader's share link, each "
            "after paying.", hours=text.number(config.window_hours), until_end=until_end))
        who = text.gettext("Anyone may open a group; only new customers (no earlier order) "
                           "may join one.") if config.new_customers_only else text.gettext(
            "Anyone may open or join a group.")
        lines.append(who + text.gettext(" Nobody joins the same group twice."))
        if spec.conditions:
            needs = text.gettext("; ").join(condition_message(c, text)
                                           for c in spec.conditions)
            lines.append(text.gettext("To take part: {conditions}.", conditions=needs))
        limits = [text.ngettext("{count} unit per member at the group price",
                                "{count} units per member at the group price",
                                config.max_units, count=text.number(config.max_units))]
        if config.max_groups_per_customer is not None:
            most = config.max_groups_per_customer
            limits.append(text.ngettext(
                "each customer may open or join at most {count} group (an expired group does "
                "not count)",
                "each customer may open or join at most {count} groups (an expired group does "
                "not count)", most, count=text.number(most)))
        lines.append(text.gettext("Limits: {limits}.", limits=text.gettext("; ").join(limits)))
        if config.auto_complete:
            lines.append(text.gettext(
                "If a group has fewer than {needed} members when its window ends, the shop "
                "fills the missing places with virtual members (系統模擬成團) and the group "
                "succeeds: virtual members are not real buyers.", needed=needed))
        else:
            lines.append(text.gettext(
                "If a group has fewer than {needed} members when its window ends, it fails "
                "and every member's payment is refunded in full.", needed=needed))
        if spec.organiser:
            lines.append(text.pgettext("group_buy", "Organiser: {organiser}.",
                                       organiser=spec.organiser))
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
        keys = Keys(spec.id)
        found = [keys.groups(customer.id)] if customer.id is not None else []
        code = code_of(spec.id, line.group_id)
        if code is not None:
            found += [keys.members(code), keys.ends(code), keys.closed(code)]
            if customer.id is not None:
                found.append(keys.member(code, customer.id))
        return found

    def unit_price(self, spec: GameSpec, line: Line, customer: Customer,
                   counters: Mapping[str, int], now: datetime, text: Text) -> int | NoDeal:
        """The group price, or why the line cannot have it (from counters only)."""
        config: GroupBuyConfig = spec.config
        keys = Keys(spec.id)
        if customer.id is None:
            return NoDeal("not_eligible:customer_required", text.gettext(
                "a group buy needs a signed-in customer"))
        # The kernel's game promotion carries no conditions, and this hook sees no cart
        # channel: check the game's customer conditions here, leaving channel rules to
        # open_group / join.
        failed = failed_condition([c for c in spec.conditions if c.rule != "channel"],
                                  ConditionContext(customer=customer, channel=None, now=now,
                                                   currency=config.currency, lines=()),
                                  amounts=False)
        if failed is not None:
            return NoDeal(f"not_eligible:{failed.rule}", condition_message(failed, text))
        limit = config.max_groups_per_customer
        if limit is not None and counters.get(keys.groups(customer.id), 0) >= limit:
            return NoDeal("limit_reached", text.gettext(
                "a customer may open or join at most {count} group(s) of this game",
                count=text.number(limit)))
        if line.group_id == spec.id:
            return config.price  # the leader opens a new group
        code = code_of(spec.id, line.group_id)
        if code is None or not counters.get(keys.ends(code), 0):
            return NoDeal("not_eligible:group_unknown", text.gettext(
                "no group {group!r}", group=line.group_id))
        if counters.get(keys.member(code, customer.id), 0):
            return NoDeal("not_eligible:group_member", text.gettext(
                "you are in this group already"))
        if config.new_customers_only and customer.orders_count != 0:
            return NoDeal("not_eligible:new_customer", text.gettext(
                "only new customers may join"))
        if counters.get(keys.members(code), 0) >= config.size:
            return NoDeal("not_eligible:group_full", text.gettext("the group is full"))
        if now.timestamp() >= counters[keys.ends(code)] or counters.get(keys.closed(code)):
            return NoDeal("ended", text.gettext("the group's window has ended"))
        return config.price

    def price_units(self, spec: GameSpec, line: Line) -> int:
        """At most ``max_units`` units of a line get the group price."""
        return min(line.quantity, int(spec.config.max_units))

