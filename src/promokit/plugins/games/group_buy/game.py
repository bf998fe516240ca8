""":class:`GroupBuyGame`, a group buy bound to a store: open, join, share,
look up, close and expire groups, refunding expired ones once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from promokit.cart import Customer
from promokit.errors import GameError, OrderError
from promokit.games import (
    Game,
    GameRuntime,
    GameSpec,
    Step,
    is_token_shaped,
    sign_token,
    verify_token,
)
from promokit.stores import Delta, OrderRow

from .config import GroupBuyConfig
from .group import (
    EXPIRED,
    FULL,
    OPEN,
    SUCCEEDED,
    VIRTUAL,
    Group,
    Keys,
    Member,
    code_of,
    group_code,
)

T = TypeVar("T")


class GroupBuyGame(Game):
    """A group buy bound to a store: open, join, share, look up and expire groups."""

    config: GroupBuyConfig

    def __init__(self, spec: GameSpec, runtime: GameRuntime) -> None:
        super().__init__(spec, runtime)
        self.keys = Keys(spec.id)

    # -- playing ---------------------------------------------------------------------------

    def open_group(self, leader: Customer, order_id: str, *,
                   channel: str | None = None) -> Group:
        """Open a group for the leader's paid order; idempotent per order id (the code
        is derived from it). Raises :class:`GameError`: ``not_started``, ``ended``,
        ``customer_required``, ``not_eligible:<rule>``, ``limit_reached``,
        ``not_paid``, ``order_used``, ``order_mismatch``, ``bad_argument``."""
        self.check_channel(channel)
        _check_order_id(order_id, self.id)
        code = group_code(self.id, order_id)
        row_id = self.keys.row(code)
        existing = self._lookup(row_id)
        if existing is not None and leader.id is not None:
            return self._repeat_open(existing, leader.id, order_id)  # a repeated call
        self.check_running()
        self.check_customer(leader, channel=channel)
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

    def join(self, group: str, customer: Customer, order_id: str, *,
             channel: str | None = None) -> Group:
        """Join ``group`` (a group id or a share token) with a paid order; idempotent
        per (group, customer, order). Raises :class:`GameError`: ``not_found``,
        ``already_member``, ``group_full``, ``expired``, ``not_eligible:new_customer``,
        ``limit_reached``, ``not_paid``, ``order_used``, ``order_mismatch``,
        ``token_*``, ``secret_required``, ``not_started``, ``ended``."""
        self.check_channel(channel)
        group_id, inviter = self._resolve(group)
        code = self._code(group_id)
        _check_order_id(order_id, self.id)
        row_id = self.keys.row(code)
        known = self._lookup(row_id)
        if known is not None and customer.id is not None \
                and _member(known, order_id, customer.id) is not None:
            return self.group(group_id)  # a repeated call
        self.check_running()
        self.check_customer(customer, channel=channel)
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
        """Refund the member's group lines through checkout, if the order
        is there (idempotent per refund id ``group:<group id>``)."""
        orders = self.runtime.orders
        order = orders.order(member["order_id"]) if orders is not None else None
        if orders is None or order is None:
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
            refund = orders.refund(member["order_id"], refund_id, units or None)
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
        code = code_of(self.id, group_id)
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
        if code_of(self.id, group) is not None:
            return group, None
        if not is_token_shaped(group):  # neither a group id nor a token: say which is wanted
            raise self._not_found(group)
        secret = self.runtime.secret
        if secret is None:
            raise GameError("share links need Engine(secret=…)", reason="secret_required",
                            game=self.id)
        token = verify_token(secret, group, game=self.id, now=self.now().timestamp())
        return token.subject, token.inviter

    def _paid_units(self, customer: str, order_id: str, target: str) -> int:
        """Units bought at the group price by the order (1 if checkout does not know
        it); refuses an unpaid order, another customer's, or one for another group."""
        orders = self.runtime.orders
        order = orders.order(order_id) if orders is not None else None
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
            final_price=body["final_price"], currency=self.runtime.currency)


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
