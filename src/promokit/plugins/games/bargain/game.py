""":class:`BargainGame`, a bargain game bound to a store: start a bargain,
help, read, share and expire it."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from promokit.cart import Customer
from promokit.errors import GameError
from promokit.games import (
    DrawLog,
    Game,
    Step,
    dumps,
    is_token_shaped,
    sign_token,
    verify_token,
)
from promokit.stores import Change, Delta, JournalEntry, OrderRow

from .keys import BARGAIN_ID, bargain_code, bargain_key
from .plan import cached_cut_plan
from .values import BargainConfig, BargainState, HelpResult

#: How many times a start retries when a racing start of the same customer won.
_START_ATTEMPTS = 50
_HOUR = 3600


def _moment(epoch: int, like: datetime) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).astimezone(like.tzinfo)


class BargainGame(Game):
    """A bargain game bound to a store: :meth:`start_bargain`, :meth:`help`,
    :meth:`bargain`, :meth:`share`."""

    config: BargainConfig

    # -- starting -------------------------------------------------------------------

    def start_bargain(self, customer: Customer, *,
                      channel: str | None = None) -> BargainState:
        """Start a bargain for ``customer`` at the list price, open for
        ``window_hours``; its whole cut plan follows from the game's seed and its id.
        Refused with ``not_started``/``ended``, ``customer_required``,
        ``not_eligible:<rule>`` (the game's conditions), ``revealed`` or
        ``limit_reached`` (``max_bargains_per_customer``)."""
        self.check_channel(channel)
        now = self.now()
        self.check_running(now)
        self.check_customer(customer, now, channel=channel)
        owner = str(customer.id)
        seed = self._game_seed()
        config = self.config
        count_key = self.row_id("bargains", owner)
        started = int(now.timestamp())
        closes = started + config.window_hours * _HOUR
        buy_by = closes + config.buy_within_hours * _HOUR
        salt = ""
        for _ in range(_START_ATTEMPTS):
            number = self.store.read([count_key])[count_key] + 1
            if number > config.max_bargains_per_customer:
                raise GameError(
                    f"customer {owner!r} has started {number - 1} bargain(s) in game "
                    f"{self.id!r}; at most {config.max_bargains_per_customer} are allowed",
                    reason="limit_reached", game=self.id)
            code = hmac.new(bytes.fromhex(seed), f"bargain:{owner}:{number}{salt}".encode(),
                            hashlib.sha256).hexdigest()[:16]
            bargain_id = f"{self.id}.{code}"
            body = {"id": bargain_id, "owner": owner, "config_hash": self.spec.config_hash,
                    "price": config.price, "floor": config.floor, "helps": config.helps,
                    "bonus": config.new_helper_bonus, "started_at": started,
                    "closes_at": closes, "buy_by": buy_by, "cut": 0, "used": 0,
                    "log": []}
            announced: tuple[str, str | None, dict[str, Any]] = ("started", owner, {
                "bargain": bargain_id, "price": self._money(config.price),
                "floor": self._money(config.floor), "helps": config.helps,
                "closes_at": _moment(closes, now).isoformat()})
            outcome = self.store.apply(Change(
                order_id=self.row_id("bargain", code), revision=0, status="open",
                body=dumps(body), expires_at=float(closes),
                deltas=(Delta(count_key, 1, number),
                        Delta(bargain_key(self.id, code, "owner", owner), 1, 1),
                        Delta(bargain_key(self.id, code, "price"), config.price, config.price),
                        Delta(bargain_key(self.id, code, "buy_by"), buy_by, buy_by),
                        self.live_hold()),
                journal=self.outbox(self.row_id("bargain", code), 1, [announced])))
            if outcome.applied:
                self.emit(*announced)
                return self._state(body, "open", bought=False)
            self.raise_if_revealed(outcome.refused)
            if outcome.conflict:  # another bargain has this code (64 bits): salt it
                salt += "+"
            # else a start of the same customer raced this one and took the number: again
        raise GameError(f"game {self.id!r}: customer {owner!r} kept racing their own starts; "
                        "try again", reason="busy", game=self.id)

    # -- helping --------------------------------------------------------------------

    def help(self, bargain: str, helper: Customer, *,
             channel: str | None = None) -> HelpResult:
        """``helper`` helps the bargain ``bargain`` (its id, or a share token from
        :meth:`share`): the help makes the next planned cut, or the next
        ``new_helper_bonus`` of them for a new customer (``orders_count == 0``), never
        past the floor.

        Refused (:class:`GameError` ``.reason``) with ``not_found``, ``self_help``,
        ``already_helped``, ``limit_reached`` (``helps_per_day``), ``expired`` (the
        window closed), ``done`` (the floor is reached, or the bargain was bought),
        ``customer_required``, ``not_started``/``ended``, ``revealed``, and the token
        reasons ``token_invalid``/``token_other_game``/``token_expired``/
        ``secret_required``."""
        self.check_channel(channel, "friend_help")
        now = self.now()
        bargain_id = self._resolve(bargain, now)
        self.check_running(now)
        if helper.id is None:
            raise GameError(f"game {self.id!r} needs a signed-in helper (customer.id)",
                            reason="customer_required", game=self.id)
        helper_id = helper.id
        seed = self._game_seed()
        code = bargain_id.rpartition(".")[2]
        row_id = self.row_id("bargain", code)
        bought_key = bargain_key(self.id, code, "bought")
        cut_key = bargain_key(self.id, code, "cut")
        if self.store.read([bought_key])[bought_key]:
            raise GameError(f"bargain {bargain_id!r} has been bought; it takes no more helps",
                            reason="done", game=self.id)
        new_helper = helper.orders_count == 0
        daily_key = self.row_id("helps", helper_id, now.date().isoformat())
        cap = self.config.helps_per_day

        def build(row: OrderRow | None, body: dict[str, Any] | None,
                  refused: frozenset[str]) -> Step[HelpResult]:
            if row is None or body is None:
                raise GameError(f"no bargain {bargain_id!r} in game {self.id!r}",
                                reason="not_found", game=self.id)
            if body["owner"] == helper_id:
                raise GameError("the owner of a bargain cannot help it",
                                reason="self_help", game=self.id)
            if row.status == "done" or body["used"] >= body["helps"]:
                raise GameError(f"bargain {bargain_id!r} has reached its floor",
                                reason="done", game=self.id)
            if row.status == "expired" or now.timestamp() >= body["closes_at"]:
                raise GameError(f"bargain {bargain_id!r} closed at "
                                f"{_moment(body['closes_at'], now).isoformat()}",
                                reason="expired", game=self.id)
            if any(entry["helper"] == helper_id for entry in body["log"]):
                raise GameError(f"customer {helper_id!r} has already helped bargain "
                                f"{bargain_id!r}", reason="already_helped", game=self.id)
            self.raise_if_revealed(refused)
            if cut_key in refused:  # the counter says the floor is reached
                raise GameError(f"bargain {bargain_id!r} has reached its floor",
                                reason="done", game=self.id)
            if daily_key in refused:
                raise GameError(f"customer {helper_id!r} has given the {cap} help(s) a day "
                                f"game {self.id!r} allows today", reason="limit_reached",
                                game=self.id)
            return self._help_step(body, seed, helper_id, new_helper, now, daily_key)

        return self.transact(row_id, build)

    def _help_step(self, body: dict[str, Any], seed: str, helper_id: str, new_helper: bool,
                   now: datetime, daily_key: str) -> Step[HelpResult]:
        """The write of one help on a bargain that takes it."""
        total = body["price"] - body["floor"]
        plan = cached_cut_plan(seed, body["id"], total, body["helps"])
        index = body["used"]
        cuts = min(body["bonus"] if new_helper else 1, body["helps"] - index)
        cut = sum(plan[index:index + cuts])
        used, cut_total = index + cuts, body["cut"] + cut
        done = used == body["helps"]
        price = body["price"] - cut_total
        entry = {"helper": helper_id, "index": index, "cuts": cuts, "new": new_helper,
                 "cut": cut, "at": now.isoformat()}
        after = {**body, "cut": cut_total, "used": used, "log": [*body["log"], entry]}
        logged = {"bargain": body["id"], "owner": body["owner"], "helper": helper_id,
                  "index": index, "cuts": cuts, "new": new_helper, "cut": cut,
                  "cut_total": cut_total, "config_hash": body["config_hash"],
                  "at": now.isoformat()}
        deltas = [Delta(bargain_key(self.id, body["id"].rpartition(".")[2], "cut"), cut, total)]
        if self.config.helps_per_day is not None:
            deltas.append(Delta(daily_key, 1, self.config.helps_per_day))
        deltas.append(self.live_hold())
        result = HelpResult(bargain=body["id"], helper=helper_id, cut=cut, cuts=cuts,
                            new_helper=new_helper, price=price,
                            helps_left=body["helps"] - used, done=done)
        events: list[tuple[str, str | None, Mapping[str, Any]]] = [
            ("helped", body["owner"], {"bargain": body["id"], "helper": helper_id,
                                       "cut": self._money(cut), "cuts": cuts,
                                       "price": self._money(price),
                                       "helps_left": body["helps"] - used})]
        if done:
            events.append(("floor_reached", body["owner"], {
                "bargain": body["id"], "price": self._money(price),
                "helpers": [e["helper"] for e in after["log"]]}))
        return Step(status="done" if done else "open", body=after, result=result,
                    deltas=tuple(deltas), expires_at=None if done else float(body["closes_at"]),
                    journal=(JournalEntry(self.stream("helps"), dumps(logged)),),
                    events=tuple(events))

    # -- reading and sharing -------------------------------------------------------------

    def bargain(self, bargain_id: str) -> BargainState:
        """The bargain as it stands (``not_found`` if there is none)."""
        code = self._code_or_raise(bargain_id)
        row = self.store.order(self.row_id("bargain", code))
        if row is None:
            raise GameError(f"no bargain {bargain_id!r} in game {self.id!r}",
                            reason="not_found", game=self.id)
        bought_key = bargain_key(self.id, code, "bought")
        return self._state(json.loads(row.body), row.status,
                           bought=bool(self.store.read([bought_key])[bought_key]))

    def share(self, bargain_id: str, inviter_id: str) -> str:
        """A signed token inviting friends to help ``bargain_id`` on behalf of
        ``inviter_id`` (the owner, or a helper passing it on), valid until the
        window closes; :meth:`help` accepts it. Needs ``Engine(secret=…)``
        (``secret_required``); refused once the bargain is ``done`` or ``expired``."""
        secret = self._secret()
        state = self.bargain(bargain_id)
        if state.status != "open":
            raise GameError(f"bargain {bargain_id!r} is {state.status}; nothing to share",
                            reason=state.status, game=self.id)
        return sign_token(secret, game=self.id, subject=state.id, inviter=inviter_id,
                          expires=int(state.closes_at.timestamp()))

    def draw_log(self) -> DrawLog:
        """The audit record: every help from the ``helps`` journal (the seed only
        once revealed); check it with :func:`promokit.games.verify_log`."""
        body = self.start()
        entries = tuple(json.loads(text) for _, text in self.store.journal(self.stream("helps")))
        return DrawLog(game=self.id, kind=self.spec.kind, config=body["config"],
                       config_hash=body["config_hash"], currency=self.runtime.currency.code,
                       timezone=self.runtime.timezone, commitment=body["commitment"],
                       seed=body["seed"] if body["status"] == "revealed" else None,
                       entries=entries, configs=self.configs())

    def expire(self, row_id: str) -> bool:
        """Close a bargain whose window passed (``Engine.sweep``): status ``expired``,
        event ``expired``. The owner may still buy at the price reached until
        ``buy_by``."""
        if not row_id.startswith(self.row_id("bargain") + ":") or self.store.order(
                row_id) is None:
            return False
        now = self.now()

        def build(row: OrderRow | None, body: dict[str, Any] | None,
                  refused: frozenset[str]) -> Step[bool]:
            assert row is not None and body is not None
            if row.status != "open":
                return Step(status=row.status, body=body, result=False)
            if now.timestamp() < body["closes_at"]:
                return Step(status="open", body=body, result=False,
                            expires_at=float(body["closes_at"]))
            price = body["price"] - body["cut"]
            return Step(status="expired", body=body, result=True, events=(
                ("expired", body["owner"], {"bargain": body["id"], "price": self._money(price),
                                            "helps_left": body["helps"] - body["used"]}),))
        return self.transact(row_id, build)

    def act(self, action: str, customer: Customer, args: Mapping[str, str]) -> Any:
        """``start``; ``help`` (``bargain=…`` or ``token=…``); ``share``
        (``bargain=…``); ``state`` (``bargain=…``)."""
        allowed: dict[str, set[str]] = {"start": set(), "help": {"bargain", "token"},
                                        "share": {"bargain"}, "state": {"bargain"}}
        if action not in allowed:
            return super().act(action, customer, args)
        unknown = sorted(set(args) - allowed[action])
        if unknown:
            raise GameError(f"bargain action {action!r} takes no {', '.join(unknown)}",
                            reason="bad_argument", game=self.id)
        money = self.runtime.currency
        if action == "start":
            return self.start_bargain(customer).to_json(money)
        if action == "help":
            given = [args[key] for key in ("bargain", "token") if key in args]
            if len(given) != 1:
                raise GameError("help needs --set bargain=<id> or --set token=<token>",
                                reason="bad_argument", game=self.id)
            return self.help(given[0], customer).to_json(money)
        if "bargain" not in args:
            raise GameError(f"{action} needs --set bargain=<id>", reason="bad_argument",
                            game=self.id)
        if action == "share":
            if customer.id is None:
                raise GameError("share needs --customer (the inviter)",
                                reason="customer_required", game=self.id)
            return {"bargain": args["bargain"],
                    "token": self.share(args["bargain"], customer.id)}
        return self.bargain(args["bargain"]).to_json(money)

    # -- helpers -------------------------------------------------------------------

    def _game_seed(self) -> str:
        """The server seed (starting the game if needed); ``revealed`` after the reveal,
        since a bargain's plan would then be known in advance."""
        body = self.start()
        if body["status"] == "revealed":
            raise GameError(f"game {self.id!r} revealed its seed and takes no more bargains "
                            "or helps", reason="revealed", game=self.id)
        return str(body["seed"])

    def _secret(self) -> bytes:
        if self.runtime.secret is None:
            raise GameError("share tokens need Engine(secret=...)", reason="secret_required",
                            game=self.id)
        return self.runtime.secret

    def _code_or_raise(self, bargain_id: str) -> str:
        code = bargain_code(self.id, bargain_id)
        if code is None:
            raise GameError(f"{bargain_id!r} is not a bargain id of game {self.id!r} "
                            f"({self.id}.<16 hex digits>)", reason="not_found", game=self.id)
        return code

    def _resolve(self, target: str, now: datetime) -> str:
        """A bargain id, from an id or a share token."""
        if BARGAIN_ID.match(target) or not is_token_shaped(target):
            self._code_or_raise(target)  # an id, or not a token either: not_found
            return target
        token = verify_token(self._secret(), target, game=self.id, now=now.timestamp())
        self._code_or_raise(token.subject)
        return token.subject

    def _state(self, body: Mapping[str, Any], status: str, *, bought: bool) -> BargainState:
        now = self.now()
        if status == "open" and now.timestamp() >= body["closes_at"]:
            status = "expired"
        return BargainState(
            id=body["id"], game=self.id, owner=body["owner"], status=status,
            list_price=body["price"], floor=body["floor"], price=body["price"] - body["cut"],
            cut=body["cut"], helps=body["helps"], helps_left=body["helps"] - body["used"],
            helpers=tuple(entry["helper"] for entry in body["log"]),
            started_at=_moment(body["started_at"], now),
            closes_at=_moment(body["closes_at"], now), buy_by=_moment(body["buy_by"], now),
            bought=bought)

    def _money(self, minor: int) -> str:
        return self.runtime.currency.format(minor)
