"""``bargain`` (砍價): friends' helps cut a product's price down to a floor.

Adds the game kind ``bargain``. A customer starts a bargain on one product at
its list price; other customers help, each help cutting the price, and
exactly ``helps`` helps reach the floor price. The cuts are planned when the
bargain starts, from the game's secret server seed and the bargain id
(:func:`cut_plan`), so the number of helps still needed is always an exact
integer (never "0.9% left" forever), the cuts sum to the list price minus the
floor to the minor unit, and after :meth:`~promokit.games.Game.reveal` anyone
can recompute every cut (:meth:`Bargain.verify`). The owner buys at the price
reached, once, through a cart line carrying ``bargain_id = "<game id>.<code>"``.

Campaign keys, besides the shared ones: ``sku``, ``price``, ``floor``,
``helps``, ``window_hours`` (24), ``buy_within_hours`` (= ``window_hours``),
``helps_per_day`` (no cap), ``new_helper_bonus`` (1),
``max_bargains_per_customer`` (1). See ``docs/games/bargain.md``.

What it keeps in the store (``G`` is the game id, ``C`` the bargain's code):

- row ``game:G:bargain:C``: the bargain's terms, cut total and helps (every
  help is one transaction on it), expiring at the end of the window;
- counters ``game:G:bargain:C:cut`` (the cut total, limited to price − floor),
  ``…:price`` (the list price it started from), ``…:buy_by`` (seconds since the
  epoch until which the owner may buy), ``…:owner:<customer>`` (1),
  ``…:bought`` (held by the order that buys it, limit 1),
  ``game:G:bargains:<customer>`` (bargains started, limit
  ``max_bargains_per_customer``) and ``game:G:helps:<helper>:<YYYY-MM-DD>``
  (helps a day, limit ``helps_per_day``);
- journal ``game:G:helps``: one entry per help, for the audit.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import attrs

from promokit import hookimpl
from promokit.campaign import Scope
from promokit.cart import Customer, Line
from promokit.errors import GameError
from promokit.games.audit import DrawLog, below, seed_stream
from promokit.games.base import (
    ConfigChange,
    Game,
    GameKind,
    GameRuntime,
    GameSpec,
    Step,
    dumps,
)
from promokit.games.changes import compare
from promokit.games.tokens import sign_token, verify_token
from promokit.kinds import NoDeal
from promokit.money import Currency
from promokit.params import Params
from promokit.stores.base import Change, Delta, JournalEntry, OrderRow
from promokit.text import Text

__all__ = ["Bargain", "BargainConfig", "BargainGame", "BargainState", "HelpResult",
           "cut_plan"]

#: Resolution of each step's random decay: ``u`` is drawn in [0, 2³²).
_SCALE = 1 << 32
#: The first planned cut's weight; the others decay from it in integers, so that
#: every verifier, in any language, computes the same plan.
_FIRST_WEIGHT = 1 << 64
#: A bargain id: ``<game id>.<code>``, the code 16 hex digits.
_BARGAIN_ID = re.compile(r"^(?P<game>[A-Za-z0-9_-]+)\.(?P<code>[0-9a-f]{16})$")
#: How many times a start retries when a racing start of the same customer won.
_START_ATTEMPTS = 50
_HOUR = 3600


def cut_plan(seed: str, bargain_id: str, total: int, helps: int) -> tuple[int, ...]:
    """The ``helps`` cuts, in minor units, that take a bargain from its list price to
    its floor (``total`` = price − floor): each at least one minor unit, summing
    to exactly ``total``, never larger than the cut before it.

    Weights decay geometrically with random jitter: ``w₀ = 2⁶⁴`` and, for step
    ``i = 1 … helps−1``, ``wᵢ = ⌊wᵢ₋₁ · (N·2³² − 2uᵢ) / ((N+1)·2³²)⌋`` where
    ``N = helps`` and ``uᵢ = below(block, 2³², 8·((i−1) mod 4))`` from block
    ``⌊(i−1)/4⌋`` of ``seed_stream(seed, bargain_id)`` — each step keeps between
    ``(N−2)/(N+1)`` and ``N/(N+1)`` of the weight, so the last help weighs about
    e⁻² of the first whatever ``N``. Every help first gets one minor unit; the
    other ``total − N`` are shared in proportion to the weights by largest
    remainder (ties to the earlier help). Weights never increase, so neither
    do the cuts.
    """
    if helps < 1 or total < helps:
        raise ValueError(f"{helps} helps cannot cut {total} minor units "
                         "(each help cuts at least one)")
    blocks = seed_stream(seed, bargain_id)
    block = b""
    weights = [_FIRST_WEIGHT]
    for step in range(1, helps):
        slot = (step - 1) % 4
        if slot == 0:
            block = next(blocks)
        jitter = below(block, _SCALE, 8 * slot)
        weights.append(weights[-1] * (helps * _SCALE - 2 * jitter)
                       // ((helps + 1) * _SCALE))
    spare = total - helps
    whole = sum(weights)
    shares = [spare * weight for weight in weights]
    cuts = [1 + share // whole for share in shares]
    left = total - sum(cuts)
    for index in sorted(range(helps), key=lambda i: (-(shares[i] % whole), i))[:left]:
        cuts[index] += 1
    return tuple(cuts)


@functools.lru_cache(maxsize=512)
def _plan(seed: str, bargain_id: str, total: int, helps: int) -> tuple[int, ...]:
    return cut_plan(seed, bargain_id, total, helps)


# -- values ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class BargainConfig:
    """A bargain game's own keys, parsed (money in minor units)."""

    sku: str
    """The product bargained for."""
    price: int
    """The list price every bargain starts from."""
    floor: int
    """The lowest price helps can reach."""
    helps: int
    """N: exactly N helps take the price from ``price`` to ``floor``."""
    window_hours: int = 24
    """How long a bargain takes helps, from its start."""
    buy_within_hours: int = 24
    """How long after the window the owner may still buy at the price reached."""
    helps_per_day: int | None = None
    """Helps one customer may give a day (local days), across the game's bargains."""
    new_helper_bonus: int = 1
    """A new customer's help (``orders_count == 0``) makes this many planned cuts at once."""
    max_bargains_per_customer: int = 1
    """Bargains one customer may start in this game."""

    @property
    def total_cut(self) -> int:
        """What the helps cut together: price − floor."""
        return self.price - self.floor


@attrs.frozen(kw_only=True)
class BargainState:
    """One bargain as it stands. ``helps_left`` is exact: the planned cuts left,
    which is the most helps still needed (a new customer's help may take several)."""

    id: str
    game: str
    owner: str
    status: str
    """``open`` (taking helps), ``done`` (the floor is reached) or ``expired``."""
    list_price: int
    floor: int
    price: int
    """The price now: list price − cut."""
    cut: int
    helps: int
    """The planned cuts from the list price to the floor (N)."""
    helps_left: int
    helpers: tuple[str, ...]
    started_at: datetime
    closes_at: datetime
    """The end of the window (exclusive): helps are taken before it."""
    buy_by: datetime
    """The owner may buy at :attr:`price` before this time."""
    bought: bool

    def to_json(self, money: Currency) -> dict[str, Any]:
        """JSON-ready data, amounts as strings in ``money``'s minor unit."""
        return {"id": self.id, "game": self.game, "owner": self.owner,
                "status": self.status, "list_price": money.format(self.list_price),
                "floor": money.format(self.floor), "price": money.format(self.price),
                "cut": money.format(self.cut), "helps": self.helps,
                "helps_left": self.helps_left, "helpers": list(self.helpers),
                "started_at": self.started_at.isoformat(),
                "closes_at": self.closes_at.isoformat(), "buy_by": self.buy_by.isoformat(),
                "bought": self.bought}


@attrs.frozen(kw_only=True)
class HelpResult:
    """What one help did."""

    bargain: str
    helper: str
    cut: int
    """This help's cut, in minor units."""
    cuts: int
    """Planned cuts it made: 1, or up to ``new_helper_bonus`` for a new customer."""
    new_helper: bool
    price: int
    """The bargain's price after this help."""
    helps_left: int
    done: bool
    """This help reached the floor."""

    def to_json(self, money: Currency) -> dict[str, Any]:
        """JSON-ready data, amounts as strings in ``money``'s minor unit."""
        return {"bargain": self.bargain, "helper": self.helper, "cut": money.format(self.cut),
                "cuts": self.cuts, "new_helper": self.new_helper,
                "price": money.format(self.price), "helps_left": self.helps_left,
                "done": self.done}


# -- store names --------------------------------------------------------------------------


def _code(game_id: str, bargain_id: str | None) -> str | None:
    """The code of one of ``game_id``'s bargain ids, or ``None``."""
    found = _BARGAIN_ID.match(bargain_id or "")
    if found is None or found["game"] != game_id:
        return None
    return found["code"]


def _key(game_id: str, code: str, *parts: str) -> str:
    return ":".join(("game", game_id, "bargain", code, *parts))


def _moment(epoch: int, like: datetime) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).astimezone(like.tzinfo)


# -- the playable game -----------------------------------------------------------------------


class BargainGame(Game):
    """A bargain game bound to a store: :meth:`start_bargain`, :meth:`help`,
    :meth:`bargain`, :meth:`share`."""

    config: BargainConfig

    # -- starting -------------------------------------------------------------------

    def start_bargain(self, customer: Customer) -> BargainState:
        """Start a bargain for ``customer`` at the list price, open for
        ``window_hours``; its whole cut plan follows from the game's seed and its id.
        Refused with ``not_started``/``ended``, ``customer_required``,
        ``not_eligible:<rule>`` (the game's conditions), ``revealed`` or
        ``limit_reached`` (``max_bargains_per_customer``)."""
        now = self.now()
        self.check_running(now)
        self.check_customer(customer, now)
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
            outcome = self.store.apply(Change(
                order_id=self.row_id("bargain", code), revision=0, status="open",
                body=dumps(body), expires_at=float(closes),
                deltas=(Delta(count_key, 1, number),
                        Delta(_key(self.id, code, "owner", owner), 1, 1),
                        Delta(_key(self.id, code, "price"), config.price, config.price),
                        Delta(_key(self.id, code, "buy_by"), buy_by, buy_by))))
            if outcome.applied:
                self.emit("started", owner, {
                    "bargain": bargain_id, "price": self._money(config.price),
                    "floor": self._money(config.floor), "helps": config.helps,
                    "closes_at": _moment(closes, now).isoformat()})
                return self._state(body, "open", bought=False)
            if outcome.conflict:  # another bargain has this code (64 bits): salt it
                salt += "+"
            # else a start of the same customer raced this one and took the number: again
        raise GameError(f"game {self.id!r}: customer {owner!r} kept racing their own starts; "
                        "try again", reason="busy", game=self.id)

    # -- helping --------------------------------------------------------------------

    def help(self, bargain: str, helper: Customer) -> HelpResult:
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
        bought_key, cut_key = _key(self.id, code, "bought"), _key(self.id, code, "cut")
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
        plan = _plan(seed, body["id"], total, body["helps"])
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
        deltas = [Delta(_key(self.id, body["id"].rpartition(".")[2], "cut"), cut, total)]
        if self.config.helps_per_day is not None:
            deltas.append(Delta(daily_key, 1, self.config.helps_per_day))
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
        bought_key = _key(self.id, code, "bought")
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
        code = _code(self.id, bargain_id)
        if code is None:
            raise GameError(f"{bargain_id!r} is not a bargain id of game {self.id!r} "
                            f"({self.id}.<16 hex digits>)", reason="not_found", game=self.id)
        return code

    def _resolve(self, target: str, now: datetime) -> str:
        """A bargain id, from an id or a share token."""
        if _BARGAIN_ID.match(target):
            self._code_or_raise(target)
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


# -- the kind -------------------------------------------------------------------------------


class Bargain(GameKind):
    """The ``bargain`` game kind (砍價)."""

    name = "bargain"
    price_field = "bargain_id"
    actions: ClassVar[Mapping[str, str]] = {
        "start": "start a bargain for --customer",
        "help": "--customer helps a bargain (--set bargain=<id> or --set token=<token>)",
        "share": "a share token for a bargain, --customer inviting (--set bargain=<id>)",
        "state": "a bargain as it stands (--set bargain=<id>)",
    }

    def parse(self, params: Params, spec: GameSpec) -> BargainConfig | None:
        """Read the bargain's keys; a floor at or above the price, fewer than one help
        or more helps than minor units between price and floor are problems."""
        sku = params.string("sku")
        price = params.money("price", positive=True)
        floor = params.money("floor")
        helps = params.integer("helps", minimum=1)
        window = params.integer("window_hours", required=False, minimum=1, default=24)
        buy_within = params.integer("buy_within_hours", required=False, minimum=0,
                                    default=window if window is not None else 24)
        per_day = params.integer("helps_per_day", required=False, minimum=1)
        bonus = params.integer("new_helper_bonus", required=False, minimum=1, default=1)
        most = params.integer("max_bargains_per_customer", required=False, minimum=1,
                              default=1)
        if price is not None and floor is not None:
            if floor >= price:
                params.problem(f"must be below price ({params.currency.format(price)}), "
                               f"got {params.currency.format(floor)}", "floor")
            elif helps is not None and helps > price - floor:
                params.problem(
                    f"{helps} helps cannot finish: each cuts at least one minor unit and "
                    f"there are only {price - floor} between price and floor "
                    f"({params.currency.format(price - floor)})", "helps")
        if None in (sku, price, floor, helps, window, buy_within, bonus, most):
            return None
        assert sku is not None and price is not None and floor is not None
        assert helps is not None and window is not None and buy_within is not None
        assert bonus is not None and most is not None
        return BargainConfig(sku=sku, price=price, floor=floor, helps=helps,
                             window_hours=window, buy_within_hours=buy_within,
                             helps_per_day=per_day, new_helper_bonus=bonus,
                             max_bargains_per_customer=most)

    def disclosure(self, spec: GameSpec, text: Text) -> list[str]:
        """The rules, generated from the config."""
        c: BargainConfig = spec.config
        price, floor = text.amount(c.price), text.amount(c.floor)
        lines = [text.pick(
            f"{spec.name} — bargain (砍價) on {c.sku}: every bargain starts at the list "
            f"price {price}; friends' helps cut it down to the floor price {floor}.",
            f"{spec.name}（砍價）商品：{c.sku}，每次砍價從原價{price}開始，好友幫砍最低可至底價{floor}。")]
        if c.new_helper_bonus > 1:
            lines.append(text.pick(
                f"Exactly {c.helps} helps reach the floor: at most {c.helps}, fewer when new "
                f"customers help, since a new customer's help (no orders yet) cuts like "
                f"{c.new_helper_bonus} helps. Every bargain shows how many more helps it needs "
                "at most.",
                f"恰好{c.helps}次助力砍至底價：最多需{c.helps}位好友；新用戶（從未下單）助力一次"
                f"相當於{c.new_helper_bonus}刀，所需人數可能更少。頁面隨時顯示最多還需幾次助力。"))
        else:
            lines.append(text.pick(
                f"Exactly {c.helps} helps reach the floor; the page always shows how many "
                "more are needed.",
                f"恰好{c.helps}次助力砍至底價，頁面隨時顯示還需幾次助力。"))
        lines.append(text.pick(
            "Earlier helps cut more; every help cuts at least "
            f"{text.amount(1)} and the cuts add up exactly to {text.amount(c.total_cut)}.",
            f"越早助力砍得越多；每刀至少{text.amount(1)}，各刀合計恰好{text.amount(c.total_cut)}。"))
        buy = c.window_hours + c.buy_within_hours
        lines.append(text.pick(
            f"A bargain takes helps for {c.window_hours} hours from its start; its starter "
            f"may buy one unit at the price reached within {buy} hours of the start, once.",
            f"每個砍價自發起起{c.window_hours}小時內可接受助力；發起人可在發起後{buy}小時內"
            "以砍後價格購買一件，限購一次。"))
        who = text.pick(
            "Any signed-in customer except the bargain's starter may help, once per "
            "bargain",
            "除發起人外，任何已登錄用戶均可助力，每個砍價限助力一次")
        if c.helps_per_day is not None:
            who += text.pick(
                f", and {c.helps_per_day} {'help' if c.helps_per_day == 1 else 'helps'} "
                "a calendar day at most across this game's bargains.",
                f"，每人每自然日最多助力{c.helps_per_day}次（本活動所有砍價合計）。")
        else:
            who += text.pick(".", "。")
        lines.append(who)
        lines.append(text.pick(
            f"Each customer may start up to {c.max_bargains_per_customer} bargains in this "
            "game." if c.max_bargains_per_customer > 1 else
            "Each customer may start one bargain in this game.",
            f"每位用戶本活動限發起{c.max_bargains_per_customer}次砍價。"))
        tz = (spec.schedule.start or spec.schedule.end)
        period = (text.period(spec.schedule.start, spec.schedule.end, tz.tzinfo)
                  if tz is not None and tz.tzinfo is not None else None)
        if period is not None:
            lines.append(text.pick(f"Runs {period}.", f"活動時間：{period}。"))
        if spec.organiser:
            lines.append(text.pick(f"Organiser: {spec.organiser}.", f"主辦方：{spec.organiser}。"))
        lines.append(text.pick(
            "Audit: every bargain's cuts are fixed when it starts, from a secret seed whose "
            "SHA-256 commitment is published before the first bargain; after the game the "
            "seed is revealed and anyone can recompute every cut from the published log.",
            "公正性：每個砍價的各刀金額在發起時即由秘密種子確定，種子的SHA-256承諾值在首個砍價前公布；"
            "活動結束後公開種子，任何人都可依公布的記錄重算每一刀。"))
        return lines

    def changes(self, old: GameSpec, new: GameSpec) -> list[ConfigChange]:
        """A higher price or floor, more helps, a shorter window, lower caps are worse;
        the opposite is better; another product is worse."""
        a: BargainConfig = old.config
        b: BargainConfig = new.config
        return [*compare("sku", a.sku, b.sku, better="same"),
                *compare("price", a.price, b.price, better="lower"),
                *compare("floor", a.floor, b.floor, better="lower"),
                *compare("helps", a.helps, b.helps, better="lower"),
                *compare("window_hours", a.window_hours, b.window_hours, better="higher"),
                *compare("buy_within_hours", a.buy_within_hours, b.buy_within_hours,
                         better="higher"),
                *compare("helps_per_day", a.helps_per_day, b.helps_per_day, better="higher"),
                *compare("new_helper_bonus", a.new_helper_bonus, b.new_helper_bonus,
                         better="higher"),
                *compare("max_bargains_per_customer", a.max_bargains_per_customer,
                         b.max_bargains_per_customer, better="higher")]

    def verify(self, specs: Mapping[str, GameSpec], seed: str,
               entries: Sequence[Mapping[str, Any]]) -> list[str]:
        """Recompute every logged help: its cut is the sum of the planned cuts it
        took, a bargain's helps take its plan in order without gaps, a help takes
        one planned cut (up to ``new_helper_bonus`` for a new customer, never past
        the last), nobody helps one bargain twice or their own, and no bargain is
        cut by more than price − floor."""
        problems: list[str] = []
        progress: dict[str, tuple[int, int, str]] = {}  # bargain: (used, cut, config hash)
        helpers: dict[str, set[str]] = {}
        for number, entry in enumerate(entries, 1):
            try:
                problems.extend(f"help {number}: {problem}" for problem in self._verify_one(
                    specs, seed, entry, progress, helpers))
            except (KeyError, TypeError, ValueError) as error:
                problems.append(f"help {number}: malformed entry ({error!r})")
        return problems

    @staticmethod
    def _verify_one(specs: Mapping[str, GameSpec], seed: str, entry: Mapping[str, Any],
                    progress: dict[str, tuple[int, int, str]],
                    helpers: dict[str, set[str]]) -> list[str]:
        spec = specs[entry["config_hash"]]
        config: BargainConfig = spec.config
        bargain = str(entry["bargain"])
        if _code(spec.id, bargain) is None:
            return [f"{bargain!r} is not a bargain id of game {spec.id!r}"]
        used, cut_total, config_hash = progress.get(bargain, (0, 0, entry["config_hash"]))
        problems = []
        if entry["config_hash"] != config_hash:
            problems.append(f"bargain {bargain}: ran under two configs")
        index, cuts, cut = int(entry["index"]), int(entry["cuts"]), int(entry["cut"])
        if index != used:
            problems.append(f"bargain {bargain}: takes planned cut {index + 1}, "
                            f"but {used} were taken before it")
        left = config.helps - used
        allowed = min(config.new_helper_bonus if entry["new"] else 1, left)
        if cuts != allowed or cuts < 1:
            problems.append(f"bargain {bargain}: makes {cuts} planned cut(s), "
                            f"{allowed} were due")
        plan = _plan(seed, bargain, config.total_cut, config.helps)
        expected = sum(plan[index:index + cuts])
        if cut != expected:
            problems.append(f"bargain {bargain}: logged cut {cut}, the plan gives {expected}")
        cut_total += cut
        if cut_total > config.total_cut:
            problems.append(f"bargain {bargain}: cut {cut_total} in total, more than "
                            f"price − floor = {config.total_cut}")
        if int(entry["cut_total"]) != cut_total:
            problems.append(f"bargain {bargain}: logged cut total {entry['cut_total']}, "
                            f"the helps add up to {cut_total}")
        seen = helpers.setdefault(bargain, set())
        if entry["helper"] in seen or entry["helper"] == entry.get("owner"):
            problems.append(f"bargain {bargain}: {entry['helper']!r} may not help it again "
                            "or help their own")
        seen.add(entry["helper"])
        progress[bargain] = (index + cuts, cut_total, config_hash)
        return problems

    def bind(self, spec: GameSpec, runtime: GameRuntime) -> BargainGame:
        """The playable bargain game."""
        return BargainGame(spec, runtime)

    # -- the price of a bargain line ----------------------------------------------------

    def price_scope(self, spec: GameSpec) -> Scope:
        """The bargain's product."""
        return Scope(skus=frozenset({spec.config.sku}))

    def covers(self, spec: GameSpec, line: Line) -> bool:
        """Lines whose ``bargain_id`` is one of this game's."""
        return (line.bargain_id or "").startswith(spec.id + ".")

    def price_keys(self, spec: GameSpec, line: Line, customer: Customer) -> Sequence[str]:
        """The bargain's owner mark for ``customer``, list price, cut and buy-by time."""
        code = _code(spec.id, line.bargain_id)
        if code is None:
            return ()
        keys = [_key(spec.id, code, name) for name in ("price", "cut", "buy_by")]
        if customer.id is not None:
            keys.append(_key(spec.id, code, "owner", customer.id))
        return keys

    def unit_price(self, spec: GameSpec, line: Line, customer: Customer,
                   counters: Mapping[str, int], now: datetime) -> int | NoDeal:
        """List price − cut, for the bargain's owner, until its buy-by time."""
        code = _code(spec.id, line.bargain_id)
        price = counters.get(_key(spec.id, code, "price"), 0) if code is not None else 0
        if code is None or not price:
            return NoDeal("not_eligible:bargain", f"{line.bargain_id!r} is not a bargain of "
                          f"game {spec.id!r}")
        if customer.id is None or counters.get(_key(spec.id, code, "owner", customer.id)) != 1:
            return NoDeal("not_eligible:bargain_owner",
                          "only the customer who started the bargain buys at its price")
        if now.timestamp() >= counters.get(_key(spec.id, code, "buy_by"), 0):
            return NoDeal("ended", "the time to buy at the bargained price has passed")
        return price - counters.get(_key(spec.id, code, "cut"), 0)

    def price_units(self, spec: GameSpec, line: Line) -> int:
        """One unit per bargain."""
        return 1

    def price_holds(self, spec: GameSpec, line: Line, customer: Customer) -> Sequence[Delta]:
        """A bargain is bought once."""
        code = _code(spec.id, line.bargain_id)
        return () if code is None else (Delta(_key(spec.id, code, "bought"), 1, 1),)


@hookimpl
def promokit_register_games() -> list[GameKind]:
    """Declare the ``bargain`` game kind."""
    return [Bargain()]
