"""``lottery`` (抽獎, 分享抽錦鯉, 答題抽獎): weighted prizes drawn with auditable randomness.

Campaign keys (``[[game]]`` with ``kind = "lottery"``): ``prizes`` (tables of
``id``, ``name``, ``kind``, ``weight``, ``value``, ``stock``, ``locked_until``,
``fallback``; exactly one ``fallback = true`` prize, unlimited), ``draws_per_day``,
``free_draws_per_day``, ``max_wins``, ``guarantee_every``, ``tickets`` (``purchase``,
``share``, ``quiz``), ``max_tickets_per_day``, ``draw_time`` and ``redeem`` (both
required in jurisdiction ``cn``).

Every draw is ``pick_weighted(draw_digest(seed, client_seed, nonce, config_hash),
weights)``: the server seed is committed to by :meth:`LotteryGame.open` before the
first draw, the client seed is the customer's, the nonce counts the customer's
draws 1, 2, 3 …. A drawn prize that is out of stock, not yet unlocked, or beyond
the customer's ``max_wins`` turns into the fallback prize (never an error, never
another paid prize); the only other paid prize a customer can get is the
guarantee's. Each draw is one atomic write of the customer's row
(``game:<id>:c:<customer>``) with the prize's stock counter
(``game:<id>:prize:<prize>``, limited to the stock), the game's draw counter
(``game:<id>:total``) and a journal entry (stream ``game:<id>:draws``) holding
everything :meth:`Lottery.verify` needs to recompute it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

import attrs

from promokit import hookimpl
from promokit.cart import Customer
from promokit.errors import GameError
from promokit.games import ConfigChange, Game, GameKind, GameRuntime, GameSpec
from promokit.games.audit import commitment, draw_digest, pick_weighted
from promokit.games.base import MAX_ATTEMPTS, Step, dumps
from promokit.games.changes import compare
from promokit.params import Params
from promokit.stores.base import Change, Delta, JournalEntry, OrderRow
from promokit.text import Text

__all__ = ["Draw", "Grant", "Lottery", "LotteryConfig", "LotteryGame", "Prize"]

#: What a prize can be (``none`` only for the fallback: 謝謝參與).
PRIZE_KINDS = ("cash", "coupon", "goods", "points", "none")
#: Actions that can earn entry tickets, in the order the disclosure lists them.
TICKET_ACTIONS = ("purchase", "share", "quiz")
#: The reveal adds this to the draw counter, so no draw can land after it (a draw
#: adds 1 with this limit). Far above any real count, and exact in every backend's
#: integers (Redis scripts count in doubles: below 2⁵³).
CLOSED = 10**12
#: Offset into a draw's digest for the guarantee's pick (the draw itself uses 0..7).
GUARANTEE_OFFSET = 8
_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_SEED = re.compile(r"^[0-9a-f]{64}$")
_KIND_WORDS = {"cash": ("cash", "現金"), "coupon": ("coupon", "優惠券"),
               "goods": ("goods", "實物"), "points": ("points", "積分"),
               "none": ("no prize", "無獎品")}
_ACTION_WORDS = {"purchase": ("each purchase", "每次下單購買"),
                 "share": ("each share", "每次分享"), "quiz": ("each quiz answered", "每次答題")}


# -- config --------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Prize:
    """One prize of a lottery."""

    id: str
    name: str
    kind: str
    """``cash``, ``coupon``, ``goods``, ``points`` or ``none``."""
    weight: int
    """Its share of the draw: probability = weight / total weight."""
    value: int | None = None
    """Cash amount or declared market value, in minor units."""
    stock: int | None = None
    """How many can be won in the whole game; ``None`` only for the fallback."""
    locked_until: int | None = None
    """Cannot be won until the game has had this many draws."""
    fallback: bool = False

    def locked(self, draws_before: int) -> bool:
        """Whether it is still locked when the game has had ``draws_before`` draws."""
        return self.locked_until is not None and draws_before < self.locked_until

    def to_json(self) -> dict[str, Any]:
        """The prize as a customer sees it (value in minor units)."""
        return {"id": self.id, "name": self.name, "kind": self.kind, "value": self.value,
                "fallback": self.fallback}


@attrs.frozen(kw_only=True)
class LotteryConfig:
    """A lottery's parsed keys (see the module docstring)."""

    prizes: tuple[Prize, ...]
    draws_per_day: int | None = None
    free_draws_per_day: int = 1
    max_wins: int | None = None
    guarantee_every: int | None = None
    tickets: tuple[tuple[str, int], ...] = ()
    """``(action, tickets granted)`` for each action that earns tickets."""
    max_tickets_per_day: int | None = None
    draw_time: str | None = None
    redeem: str | None = None

    @property
    def weights(self) -> tuple[int, ...]:
        return tuple(prize.weight for prize in self.prizes)

    @property
    def fallback(self) -> Prize:
        return next(prize for prize in self.prizes if prize.fallback)

    @property
    def paid(self) -> tuple[Prize, ...]:
        """Every prize but the fallback."""
        return tuple(prize for prize in self.prizes if not prize.fallback)

    def prize(self, prize_id: str) -> Prize | None:
        return next((prize for prize in self.prizes if prize.id == prize_id), None)

    def tickets_for(self, action: str) -> int | None:
        return dict(self.tickets).get(action)

    def probability(self, prize: Prize) -> Decimal:
        """The prize's share of the total weight as a percentage, to 2 decimals."""
        share = Decimal(prize.weight * 100) / Decimal(sum(self.weights))
        return share.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# -- what a draw decides (shared by the game and the verifier) -------------------------


def _primary(config: LotteryConfig, drawn: Prize, draws_before: int, wins: int,
             in_stock: Callable[[Prize], bool]) -> tuple[Prize, str | None]:
    """The prize awarded for ``drawn`` before any guarantee, and why it fell back."""
    if drawn.fallback:
        return drawn, None
    if config.max_wins is not None and wins >= config.max_wins:
        return config.fallback, "max_wins"
    if drawn.locked(draws_before):
        return config.fallback, "locked"
    if not in_stock(drawn):
        return config.fallback, "out_of_stock"
    return drawn, None


def _guarantee_due(config: LotteryConfig, award: Prize, wins: int, since_win: int) -> bool:
    """Whether this draw is the customer's N-th in a row without a paid prize (and
    the customer may still win one)."""
    return (config.guarantee_every is not None and award.fallback
            and (config.max_wins is None or wins < config.max_wins)
            and since_win + 1 >= config.guarantee_every)


def _guarantee_pick(digest: bytes, candidates: Sequence[Prize]) -> Prize:
    return candidates[pick_weighted(digest, [p.weight for p in candidates], GUARANTEE_OFFSET)]


# -- results ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Draw:
    """What one draw gave a customer."""

    customer: str
    nonce: int
    """The customer's draw number (1, 2, 3 …): part of the draw's randomness."""
    client_seed: str
    drawn: str
    """The prize the randomness picked (before any fallback)."""
    prize: Prize
    """The prize awarded."""
    reason: str | None
    """Why ``prize`` is not ``drawn``: ``out_of_stock``, ``locked``, ``max_wins`` or
    ``guarantee``; ``None`` when it is."""
    ticket: bool
    """Whether the draw spent an entry ticket."""
    draws_left_today: int
    tickets: int

    @property
    def won(self) -> bool:
        """Whether the customer won a paid prize (anything but the fallback)."""
        return not self.prize.fallback

    def to_json(self) -> dict[str, Any]:
        return {"customer": self.customer, "nonce": self.nonce, "client_seed": self.client_seed,
                "drawn": self.drawn, "prize": self.prize.to_json(), "won": self.won,
                "reason": self.reason, "ticket": self.ticket,
                "draws_left_today": self.draws_left_today, "tickets": self.tickets}


@attrs.frozen(kw_only=True)
class Grant:
    """What :meth:`LotteryGame.grant` did."""

    customer: str
    action: str
    action_id: str
    granted: int
    """Tickets added now (0 for a repeated ``action_id``)."""
    tickets: int
    """The customer's tickets afterwards."""
    duplicate: bool

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


# -- the customer's row ----------------------------------------------------------------------


def _customer_state(body: Mapping[str, Any] | None, today: str) -> dict[str, Any]:
    """A customer's row with the day's counts reset when the local day changed."""
    state: dict[str, Any] = {"draws": 0, "day": today, "day_draws": 0, "tickets": 0,
                             "ticket_day": today, "day_tickets": 0, "wins": 0,
                             "since_win": 0, "won": {}}
    state.update(body or {})
    state["won"] = dict(state["won"])
    if state["day"] != today:
        state["day"], state["day_draws"] = today, 0
    if state["ticket_day"] != today:
        state["ticket_day"], state["day_tickets"] = today, 0
    return state


class LotteryGame(Game):
    """A lottery bound to a store: :meth:`open`, :meth:`draw`, :meth:`grant`,
    :meth:`state`, :meth:`reveal`."""

    config: LotteryConfig

    def __init__(self, spec: GameSpec, runtime: GameRuntime) -> None:
        super().__init__(spec, runtime)
        self._seed: str | None = None

    # -- keys -----------------------------------------------------------------

    @property
    def total_key(self) -> str:
        """The counter of draws in the whole game (raised by ``CLOSED`` at the reveal)."""
        return self.row_id("total")

    def prize_key(self, prize: Prize) -> str:
        """The counter of a prize's wins (limited to its stock)."""
        return self.row_id("prize", prize.id)

    # -- open and reveal --------------------------------------------------------

    def open(self, *, seed: str | None = None) -> str:
        """Start the game and return the seed's commitment, to publish before the
        first draw; idempotent. ``seed`` (64 hex digits) is for tests and replays
        only: a real game draws its own secret seed."""
        if seed is None:
            return str(self.start()["commitment"])
        if not _SEED.match(seed):
            raise GameError("seed must be 64 lowercase hex digits", reason="bad_seed",
                            game=self.id)
        body = self.start(seed=seed)
        if body["seed"] != seed:
            raise GameError(f"game {self.id!r} is already open with another seed",
                            reason="already_open", game=self.id)
        return str(body["commitment"])

    def _server_seed(self) -> str:
        if self._seed is None:
            body = self.started()
            if body is None:
                raise GameError(f"game {self.id!r} is not open: call open() and publish its "
                                "commitment before the first draw", reason="not_open",
                                game=self.id)
            self._seed = str(body["seed"])
        return self._seed

    def reveal(self) -> str:
        """End the game's chance and publish the server seed; idempotent.

        The same atomic write adds ``CLOSED`` to the draw counter, without a limit,
        so it never waits for draws in flight, and every later draw (whose +1 is
        limited to ``CLOSED``) is refused on any app server: no draw lands after
        the reveal. :meth:`total_draws` and the ``revealed`` event give the count."""
        self.start()
        for _ in range(MAX_ATTEMPTS):
            row = self.store.order(self.spec.row)
            assert row is not None
            body = json.loads(row.body)
            if body["status"] == "revealed":
                return str(body["seed"])
            at = self.now().isoformat()
            body = {**body, "status": "revealed", "revealed_at": at}
            outcome = self.store.apply(Change(
                order_id=self.spec.row, revision=row.revision, status="revealed",
                body=dumps(body), deltas=(Delta(self.total_key, CLOSED),),
                journal=(JournalEntry(self.stream("config"), dumps(
                    {"event": "revealed", "seed": body["seed"], "at": at})),)))
            if outcome.applied:
                draws = outcome.values[self.total_key] - CLOSED
                self.emit("revealed", None, {"seed": body["seed"], "draws": draws,
                                             "commitment": body["commitment"]})
                return str(body["seed"])
        raise GameError(f"game {self.id!r} stayed busy; try the reveal again", reason="busy",
                        game=self.id)

    def total_draws(self) -> int:
        """Draws in the whole game so far (the final count once revealed)."""
        total = self.store.read([self.total_key])[self.total_key]
        return total - CLOSED if total >= CLOSED else total

    # -- play ------------------------------------------------------------------------

    def draw(self, customer: Customer | str, *, client_seed: str | None = None) -> Draw:
        """Draw once for ``customer`` (a :class:`~promokit.cart.Customer` or an id).

        ``client_seed`` is the customer's part of the randomness (default: their
        id). Raises :class:`GameError`: ``not_open``, ``revealed``, ``not_started``,
        ``ended``, ``customer_required``, ``not_eligible:<rule>``, ``daily_limit``,
        ``no_ticket``, ``bad_argument``, ``busy``."""
        if isinstance(customer, str):
            customer = Customer(id=customer)
        now = self.now()
        self.check_running(now)
        self.check_customer(customer, now)
        seed = self._server_seed()  # a revealed game is caught by the draw counter
        customer_id = str(customer.id)
        client_seed = customer_id if client_seed is None else client_seed
        if not client_seed or len(client_seed) > 128:
            raise GameError("client_seed must be 1 to 128 characters", reason="bad_argument",
                            game=self.id)
        config, config_hash = self.config, self.spec.config_hash
        today = now.date().isoformat()
        keys = [self.total_key, *(self.prize_key(p) for p in config.prizes)]

        def build(row: OrderRow | None, body: dict[str, Any] | None,
                  refused: frozenset[str]) -> Step[Draw]:
            state = _customer_state(body, today)
            counters = self.store.read(keys)
            draws_before = counters[self.total_key]
            if self.total_key in refused or draws_before >= CLOSED:
                raise GameError(f"game {self.id!r} revealed its seed and takes no more draws",
                                reason="revealed", game=self.id)
            if config.draws_per_day is not None and state["day_draws"] >= config.draws_per_day:
                raise GameError(f"customer {customer_id!r} has drawn "
                                f"{config.draws_per_day} times today", reason="daily_limit",
                                game=self.id)
            ticket = state["day_draws"] >= config.free_draws_per_day
            if ticket and state["tickets"] < 1:
                raise GameError(f"customer {customer_id!r} has used today's free draws and has "
                                "no entry ticket", reason="no_ticket", game=self.id)

            def in_stock(prize: Prize) -> bool:
                key = self.prize_key(prize)
                return prize.stock is None or (key not in refused and counters[key] < prize.stock)

            nonce = state["draws"] + 1
            digest = draw_digest(seed, client_seed, nonce, config_hash)
            drawn = config.prizes[pick_weighted(digest, config.weights)]
            award, reason = _primary(config, drawn, draws_before, state["wins"], in_stock)
            candidates: list[Prize] | None = None
            if _guarantee_due(config, award, state["wins"], state["since_win"]):
                candidates = [p for p in config.paid
                              if not p.locked(draws_before) and in_stock(p)]
                if candidates:
                    award, reason = _guarantee_pick(digest, candidates), "guarantee"
            won = not award.fallback
            state.update(draws=nonce, day_draws=state["day_draws"] + 1,
                         tickets=state["tickets"] - ticket,
                         wins=state["wins"] + won, since_win=0 if won else state["since_win"] + 1)
            if won:
                state["won"][award.id] = state["won"].get(award.id, 0) + 1
            entry: dict[str, Any] = {
                "customer": customer_id, "client_seed": client_seed, "nonce": nonce,
                "config_hash": config_hash, "drawn_index": config.prizes.index(drawn),
                "drawn": drawn.id, "prize": award.id, "reason": reason,
                "draws_before": draws_before, "ticket": ticket, "at": now.isoformat()}
            if candidates is not None:
                entry["candidates"] = [p.id for p in candidates]
            result = Draw(customer=customer_id, nonce=nonce, client_seed=client_seed,
                          drawn=drawn.id, prize=award, reason=reason, ticket=ticket,
                          draws_left_today=self._draws_left(state), tickets=state["tickets"])
            events: list[tuple[str, str | None, Mapping[str, Any]]] = [
                ("drawn", customer_id, {"nonce": nonce, "prize": award.id, "won": won,
                                        "reason": reason})]
            if won:
                events.append(("won", customer_id, {"nonce": nonce, **award.to_json()}))
            return Step(status="active", body=state, result=result,
                        deltas=(Delta(self.total_key, 1, CLOSED),
                                Delta(self.prize_key(award), 1, award.stock)),
                        journal=(JournalEntry(self.stream("draws"), dumps(entry)),),
                        events=tuple(events))

        return self.transact(self.row_id("c", customer_id), build)

    def grant(self, customer_id: str, action: str, action_id: str) -> Grant:
        """Give ``customer_id`` the entry tickets ``action`` earns (``purchase``,
        ``share``, ``quiz``). Idempotent per ``(action, action_id)``: an order id, a
        share id, a quiz id counts once, for whoever claims it first. Raises
        :class:`GameError`: ``bad_action``, ``ticket_limit`` (no ticket left today
        under ``max_tickets_per_day``), ``revealed``, ``not_started``, ``ended``."""
        config = self.config
        amount = config.tickets_for(action)
        if amount is None:
            earning = ", ".join(a for a, _ in config.tickets) or "none"
            raise GameError(f"game {self.id!r} gives no tickets for {action!r}; actions that "
                            f"do: {earning}", reason="bad_action", game=self.id)
        if not customer_id or not action_id:
            raise GameError("grant needs a customer id and an action id",
                            reason="bad_argument", game=self.id)
        now = self.now()
        self.check_running(now)
        self.check_not_revealed()
        today = now.date().isoformat()
        once = self.row_id("grant", action, action_id)
        if self.store.read([once])[once]:  # earned already: nothing to write
            tickets = _customer_state(self.read(self.row_id("c", customer_id))[1], today)
            return Grant(customer=customer_id, action=action, action_id=action_id, granted=0,
                         tickets=tickets["tickets"], duplicate=True)

        def build(row: OrderRow | None, body: dict[str, Any] | None,
                  refused: frozenset[str]) -> Step[Grant]:
            state = _customer_state(body, today)
            if once in refused:  # claimed meanwhile
                return Step(status=row.status if row else "active", body=state,
                            result=Grant(customer=customer_id, action=action,
                                         action_id=action_id, granted=0,
                                         tickets=state["tickets"], duplicate=True))
            granted = amount
            if config.max_tickets_per_day is not None:
                granted = min(amount, config.max_tickets_per_day - state["day_tickets"])
                if granted <= 0:
                    raise GameError(f"customer {customer_id!r} got "
                                    f"{config.max_tickets_per_day} tickets today already",
                                    reason="ticket_limit", game=self.id)
            state.update(tickets=state["tickets"] + granted,
                         day_tickets=state["day_tickets"] + granted)
            result = Grant(customer=customer_id, action=action, action_id=action_id,
                           granted=granted, tickets=state["tickets"], duplicate=False)
            return Step(status="active", body=state, result=result,
                        deltas=(Delta(once, 1, 1),),
                        events=(("ticket_granted", customer_id,
                                 {"action": action, "action_id": action_id,
                                  "granted": granted, "tickets": state["tickets"]}),))

        return self.transact(self.row_id("c", customer_id), build)

    def state(self, customer_id: str) -> dict[str, Any]:
        """Where ``customer_id`` stands, JSON-ready: draws so far and left today,
        free draws left today, tickets, wins (and wins left under ``max_wins``),
        and how many draws until the guarantee (``None`` without one)."""
        config = self.config
        _, body = self.read(self.row_id("c", customer_id))
        state = _customer_state(body, self.now().date().isoformat())
        free_left = max(0, config.free_draws_per_day - state["day_draws"])
        if config.draws_per_day is not None:
            free_left = min(free_left, max(0, config.draws_per_day - state["day_draws"]))
        wins_left = (None if config.max_wins is None
                     else max(0, config.max_wins - state["wins"]))
        until = None
        if config.guarantee_every is not None and wins_left != 0:
            until = max(1, config.guarantee_every - state["since_win"])
        return {"customer": customer_id, "draws": state["draws"],
                "draws_today": state["day_draws"], "draws_left_today": self._draws_left(state),
                "free_draws_left_today": free_left, "tickets": state["tickets"],
                "tickets_granted_today": state["day_tickets"], "wins": state["wins"],
                "wins_left": wins_left, "won": state["won"], "draws_until_guarantee": until}

    def _draws_left(self, state: Mapping[str, Any]) -> int:
        config = self.config
        left = max(0, config.free_draws_per_day - state["day_draws"]) + state["tickets"]
        if config.draws_per_day is not None:
            left = min(left, max(0, config.draws_per_day - state["day_draws"]))
        return int(left)

    # -- what every game answers -------------------------------------------------------

    def disclosure(self, lang: str = "zh-CN") -> str:
        """The rules from the config, and once open the published commitment."""
        text = Text(lang, currency=self.runtime.currency)
        lines = self.spec.kind_impl.disclosure(self.spec, text)
        body = self.started()
        if body is not None:
            lines.append(text.pick(f"Commitment (SHA-256 of the server seed): "
                                   f"{body['commitment']}",
                                   f"承諾值（服務器種子的 SHA-256）：{body['commitment']}"))
        return "\n".join(lines)

    def act(self, action: str, customer: Customer, args: Mapping[str, str]) -> Any:
        """``open``, ``draw`` (``client_seed``), ``grant`` (``action``, ``action_id``),
        ``state``, ``reveal``."""
        allowed = {"open": (), "draw": ("client_seed",), "grant": ("action", "action_id"),
                   "state": (), "reveal": ()}
        if action not in allowed:
            return super().act(action, customer, args)
        unknown = sorted(set(args) - set(allowed[action]))
        if unknown:
            raise GameError(f"{action} takes no {', '.join(unknown)}; it takes "
                            f"{', '.join(allowed[action]) or 'no --set'}",
                            reason="bad_argument", game=self.id)
        if action == "open":
            return {"game": self.id, "commitment": self.open()}
        if action == "reveal":
            seed = self.reveal()
            return {"game": self.id, "seed": seed, "commitment": commitment(seed),
                    "draws": self.total_draws()}
        if customer.id is None:
            raise GameError(f"{action} needs --customer", reason="customer_required",
                            game=self.id)
        if action == "draw":
            return self.draw(customer, client_seed=args.get("client_seed")).to_json()
        if action == "grant":
            missing = [key for key in ("action", "action_id") if not args.get(key)]
            if missing:
                raise GameError(f"grant needs --set {'=… --set '.join(missing)}=…",
                                reason="bad_argument", game=self.id)
            return self.grant(customer.id, args["action"], args["action_id"]).to_json()
        return self.state(customer.id)


# -- the kind -------------------------------------------------------------------------------


class Lottery(GameKind):
    """The ``lottery`` game kind."""

    name = "lottery"
    chance_based = True
    actions: ClassVar[Mapping[str, str]] = {
        "open": "start the game and print the seed commitment to publish",
        "draw": "draw once (--customer, --set client_seed=…)",
        "grant": "give entry tickets (--customer, --set action=share --set action_id=…)",
        "state": "a customer's draws, tickets, wins and guarantee (--customer)",
        "reveal": "end the draws and publish the server seed",
    }

    # -- loading ------------------------------------------------------------------

    def parse(self, params: Params, spec: GameSpec) -> LotteryConfig:
        """Read the lottery's keys; every problem goes to ``params`` with its path."""
        tables = params.tables("prizes", required=True, non_empty=True) or []
        prizes = [prize for table in tables if (prize := _parse_prize(table)) is not None]
        draws_per_day = params.integer("draws_per_day", required=False, minimum=1)
        free = params.integer("free_draws_per_day", required=False, minimum=0, default=1)
        max_wins = params.integer("max_wins", required=False, minimum=1)
        guarantee = params.integer("guarantee_every", required=False, minimum=1)
        tickets: list[tuple[str, int]] = []
        ticket_table = params.table("tickets")
        if ticket_table is not None:
            for action in TICKET_ACTIONS:
                count = ticket_table.integer(action, required=False, minimum=1)
                if count is not None:
                    tickets.append((action, count))
            ticket_table.finish()
        max_tickets = params.integer("max_tickets_per_day", required=False, minimum=1)
        draw_time = params.string("draw_time", required=False)
        redeem = params.string("redeem", required=False)

        if tables:
            _check_prizes(params, tables)
        if guarantee is not None and prizes and all(p.fallback for p in prizes):
            params.problem("needs a prize besides the fallback", "guarantee_every")
        free = 1 if free is None else free
        if draws_per_day is not None and free > draws_per_day:
            params.problem(f"{free} free draws a day is more than draws_per_day "
                           f"({draws_per_day})", "free_draws_per_day")
        if ticket_table is not None and draws_per_day is not None and free >= draws_per_day:
            params.problem("tickets can never be spent: the free draws already reach "
                           "draws_per_day", "tickets")
        if max_tickets is not None and not tickets:
            params.problem("no action earns tickets (set tickets)", "max_tickets_per_day")
        return LotteryConfig(prizes=tuple(prizes), draws_per_day=draws_per_day,
                             free_draws_per_day=free, max_wins=max_wins,
                             guarantee_every=guarantee, tickets=tuple(tickets),
                             max_tickets_per_day=max_tickets, draw_time=draw_time,
                             redeem=redeem)

    def check(self, spec: GameSpec, jurisdiction: str, params: Params) -> None:
        """In jurisdiction ``cn`` the disclosure must say how and when draws happen
        and how and when prizes are redeemed (《規範促銷行為暫行規定》第十八條)."""
        if jurisdiction != "cn":
            return
        config: LotteryConfig = spec.config
        if config.draw_time is None:
            params.problem("jurisdiction cn: a lottery must say how and when draws happen "
                           "(draw_time = \"…\"); the disclosure prints it", "draw_time")
        if config.redeem is None:
            params.problem("jurisdiction cn: a lottery must say how and when prizes are "
                           "redeemed (redeem = \"…\"); the disclosure prints it", "redeem")

    def top_prize(self, config: LotteryConfig) -> int | None:
        """The most valuable prize (cash, or declared market value)."""
        values = [prize.value for prize in config.prizes if prize.value is not None]
        return max(values) if values else None

    def bind(self, spec: GameSpec, runtime: GameRuntime) -> LotteryGame:
        return LotteryGame(spec, runtime)

    # -- what customers read ----------------------------------------------------------

    def disclosure(self, spec: GameSpec, text: Text) -> list[str]:
        """Organiser, period, prizes with value, quantity and probability, limits,
        tickets, guarantee, draw and redemption terms, and the audit."""
        config: LotteryConfig = spec.config
        colon = text.pick(": ", "：")
        lines = [text.pick(f"Organiser: {spec.organiser}", f"主辦方：{spec.organiser}")
                 if spec.organiser else text.pick("Organiser: the shop", "主辦方：本店")]
        moment = spec.schedule.start or spec.schedule.end
        if moment is not None and moment.tzinfo is not None:
            period = text.period(spec.schedule.start, spec.schedule.end, moment.tzinfo)
            lines.append(text.pick("Period", "活動時間") + colon + str(period))
        lines.append(text.pick("Prizes (probability per draw):",
                               "獎項設置（每次抽獎的中獎概率）："))
        lines.extend(_prize_line(config, prize, text) for prize in config.prizes)
        lines.append(text.pick("Draws", "抽獎次數") + colon + _draws_text(config, text))
        if config.tickets:
            lines.append(text.pick("Entry tickets", "抽獎券") + colon + _tickets_text(config, text))
        if config.guarantee_every is not None:
            n, fallback = config.guarantee_every, config.fallback.name
            lines.append(text.pick(
                f"Guarantee: after {n - 1} draws in a row without a prize other than "
                f"{fallback}, your next draw wins one of the prizes still in stock (picked by "
                "their weights)",
                f"保底：連續{n - 1}次未抽中{fallback}以外的獎品，第{n}次必中一個尚有庫存的"
                "獎品（按權重抽取）"))
        if config.draw_time:
            lines.append(text.pick("How and when draws happen", "開獎方式及時間") + colon
                         + config.draw_time)
        if config.redeem:
            lines.append(text.pick("How and when to redeem", "兌獎方式及時間") + colon
                         + config.redeem)
        lines.append(text.pick(
            "Fairness: each result is HMAC-SHA256 of the server seed and your client seed "
            "with your draw number and the rules' hash. The SHA-256 commitment of the server "
            "seed is published before the first draw; after the game the seed and every "
            "draw are published, so anyone can recompute each draw "
            "(`promokit game verify`).",
            "公正性：每次抽獎結果由服務器種子、您的客戶種子、您的抽獎序號和本規則的哈希值經 "
            "HMAC-SHA256 算出。服務器種子的 SHA-256 承諾值在首次抽獎前公佈；活動結束後公佈"
            "種子和全部抽獎記錄，任何人都可逐條重算驗證（promokit game verify）。"))
        return lines

    # -- config changes -----------------------------------------------------------------

    def changes(self, old: GameSpec, new: GameSpec) -> list[ConfigChange]:
        """Worse for customers: a prize removed, or with a lower value, a lower
        probability, less stock or a later unlock; fewer draws or free draws a day,
        fewer wins, a later (or no) guarantee, fewer tickets. The opposite is better;
        names and the draw/redeem wording are neutral."""
        a: LotteryConfig = old.config
        b: LotteryConfig = new.config
        found: list[ConfigChange] = []
        for before in a.prizes:
            after = b.prize(before.id)
            path = f"prizes[{before.id}]"
            if after is None:
                found.append(ConfigChange(path, before.name, "removed", True))
                continue
            found += compare(f"{path}.name", before.name, after.name, better="neutral")
            found += compare(f"{path}.kind", before.kind, after.kind, better="same")
            found += compare(f"{path}.fallback", before.fallback, after.fallback, better="same")
            found += compare(f"{path}.value", before.value or 0, after.value or 0,
                             better="higher")
            found += compare(f"{path}.stock", before.stock, after.stock, better="higher")
            found += compare(f"{path}.locked_until", before.locked_until or 0,
                             after.locked_until or 0, better="lower")
            if not before.fallback and not after.fallback:
                odds_before, odds_after = a.probability(before), b.probability(after)
                share_before = Decimal(before.weight) / sum(a.weights)
                share_after = Decimal(after.weight) / sum(b.weights)
                if share_before != share_after:
                    found.append(ConfigChange(f"{path}.probability", f"{odds_before}%",
                                              f"{odds_after}%", share_after < share_before))
        for added in b.prizes:
            if a.prize(added.id) is None:
                found.append(ConfigChange(f"prizes[{added.id}]", "none", added.name,
                                          added.fallback))
        found += compare("draws_per_day", a.draws_per_day, b.draws_per_day, better="higher")
        found += compare("free_draws_per_day", a.free_draws_per_day, b.free_draws_per_day,
                         better="higher")
        found += compare("max_wins", a.max_wins, b.max_wins, better="higher")
        found += compare("guarantee_every", a.guarantee_every, b.guarantee_every,
                         better="lower")
        for action in TICKET_ACTIONS:
            found += compare(f"tickets.{action}", a.tickets_for(action) or 0,
                             b.tickets_for(action) or 0, better="higher")
        found += compare("max_tickets_per_day", a.max_tickets_per_day, b.max_tickets_per_day,
                         better="higher")
        found += compare("draw_time", a.draw_time, b.draw_time, better="neutral")
        found += compare("redeem", a.redeem, b.redeem, better="neutral")
        return found

    # -- the audit ---------------------------------------------------------------------------

    def verify(self, specs: Mapping[str, GameSpec], seed: str,
               entries: Sequence[Mapping[str, Any]]) -> list[str]:
        """Recompute every draw of a revealed log, in log order: its digest and
        pick, the customer's nonces (1, 2, 3 … without gaps or repeats), and every
        fallback and guarantee against the stock, locks, wins and streaks that the
        log itself replays. Each problem names the draw (``draw 17: …``)."""
        return _Replay(specs, seed).run(entries)


# -- verification ---------------------------------------------------------------------------


class _Replay:
    """The log replayed in order: wins per prize and per customer, streaks, nonces."""

    def __init__(self, specs: Mapping[str, GameSpec], seed: str) -> None:
        self.specs = specs
        self.seed = seed
        self.prize_wins: Counter[str] = Counter()
        self.nonces: dict[str, int] = {}
        self.wins: Counter[str] = Counter()
        self.since: Counter[str] = Counter()
        self.seen_before: dict[str, int] = {}
        self.problems: list[str] = []

    def run(self, entries: Sequence[Mapping[str, Any]]) -> list[str]:
        for number, entry in enumerate(entries, 1):
            try:
                self.check(number, entry)
            except (KeyError, TypeError, ValueError) as error:
                self.problems.append(f"draw {number}: malformed entry ({error!r})")
        return self.problems

    def check(self, number: int, entry: Mapping[str, Any]) -> None:
        say = self.problems.append
        spec = self.specs.get(entry["config_hash"])
        if spec is None:
            say(f"draw {number}: ran under a config the log does not hold")
            return
        config: LotteryConfig = spec.config
        customer, nonce = str(entry["customer"]), entry["nonce"]
        draws_before = entry["draws_before"]
        if not isinstance(nonce, int) or not isinstance(draws_before, int):
            raise TypeError("nonce and draws_before must be whole numbers")
        expected_nonce = self.nonces.get(customer, 0) + 1
        if nonce != expected_nonce:
            say(f"draw {number}: customer {customer!r} draws with nonce {nonce}, expected "
                f"{expected_nonce} (nonces go 1, 2, 3 … without gaps or repeats)")
        self.nonces[customer] = max(nonce, self.nonces.get(customer, 0))
        if draws_before > number - 1:
            say(f"draw {number}: claims {draws_before} earlier draws in the game, but only "
                f"{number - 1} come before it in the log")
        if customer in self.seen_before and draws_before <= self.seen_before[customer]:
            say(f"draw {number}: claims {draws_before} earlier draws in the game, no more "
                f"than at customer {customer!r}'s previous draw")
        self.seen_before[customer] = draws_before

        digest = draw_digest(self.seed, str(entry["client_seed"]), nonce, spec.config_hash)
        drawn = config.prizes[pick_weighted(digest, config.weights)]
        if entry["drawn"] != drawn.id or entry.get("drawn_index") != config.prizes.index(drawn):
            say(f"draw {number}: the randomness picks {drawn.id!r}, the log says "
                f"{entry['drawn']!r}")

        def in_stock(prize: Prize) -> bool:
            return prize.stock is None or self.prize_wins[prize.id] < prize.stock

        award, reason = _primary(config, drawn, draws_before, self.wins[customer], in_stock)
        logged_candidates = entry.get("candidates")
        if _guarantee_due(config, award, self.wins[customer], self.since[customer]):
            award, reason = self.guarantee(number, entry, config, digest, draws_before,
                                           award, reason, in_stock)
        elif logged_candidates is not None:
            say(f"draw {number}: lists guarantee candidates, but no guarantee was due")
        if entry["prize"] != award.id or entry.get("reason") != reason:
            say(f"draw {number}: should award {award.id!r} (reason {reason}), the log says "
                f"{entry['prize']!r} (reason {entry.get('reason')})")
        awarded = config.prize(str(entry["prize"]))
        if awarded is None:
            say(f"draw {number}: awards {entry['prize']!r}, which is not a prize")
            return
        self.prize_wins[awarded.id] += 1
        if awarded.stock is not None and self.prize_wins[awarded.id] > awarded.stock:
            say(f"draw {number}: prize {awarded.id!r} won {self.prize_wins[awarded.id]} times, "
                f"beyond its stock of {awarded.stock}")
        if awarded.fallback:
            self.since[customer] += 1
        else:
            self.wins[customer] += 1
            self.since[customer] = 0

    def guarantee(self, number: int, entry: Mapping[str, Any], config: LotteryConfig,
                  digest: bytes, draws_before: int, award: Prize, reason: str | None,
                  in_stock: Callable[[Prize], bool]) -> tuple[Prize, str | None]:
        """The award of a draw on which the guarantee was due. The server picked among
        the prizes it read as available (a read may lag, never lead: a prize it
        left out must really have been gone or locked)."""
        say = self.problems.append
        listed = entry.get("candidates")
        if not isinstance(listed, list):
            say(f"draw {number}: the guarantee was due but the log lists no candidates")
            return award, reason
        candidates = [config.prize(str(item)) for item in listed]
        usable = [p for p in candidates if p is not None and not p.fallback
                  and not p.locked(draws_before)]
        if len(usable) != len(candidates):
            say(f"draw {number}: guarantee candidates {listed} include a prize that is not "
                "a paid, unlocked prize")
            return award, reason
        available = [p for p in config.paid if not p.locked(draws_before) and in_stock(p)]
        left_out = [p.id for p in available if p not in usable]
        if left_out:
            say(f"draw {number}: the guarantee left out {left_out}, which were in stock")
        if not usable:
            return award, reason
        picked = _guarantee_pick(digest, usable)
        if not in_stock(picked):
            say(f"draw {number}: the guarantee gave {picked.id!r}, which was out of stock")
        return picked, "guarantee"


# -- parsing and wording helpers -----------------------------------------------------------


def _parse_prize(p: Params) -> Prize | None:
    before = len(p.problems)
    prize_id = p.string("id")
    if prize_id is not None and not _ID.match(prize_id):
        p.problem("may hold only letters, digits, '-' and '_' (it names a counter)", "id")
    name = p.string("name")
    kind = p.string("kind", choices=PRIZE_KINDS)
    weight = p.integer("weight", minimum=1)
    fallback = p.boolean("fallback")
    value = p.money("value", required=kind in ("cash", "goods"), positive=True)
    stock = p.integer("stock", required=False, minimum=0)
    locked_until = p.integer("locked_until", required=False, minimum=1)
    p.finish()
    if kind == "none" and p.has("value"):
        p.problem("a prize of kind none has no value", "value")
    if kind == "none" and not fallback:
        p.problem("only the fallback prize may be kind none (謝謝參與)", "kind")
    if fallback and p.has("stock"):
        p.problem("the fallback prize is unlimited: remove stock", "stock")
    if not fallback and not p.has("stock"):
        p.problem("is required (only the fallback prize is unlimited)", "stock")
    if fallback and locked_until is not None:
        p.problem("the fallback prize cannot be locked", "locked_until")
    if len(p.problems) > before or prize_id is None or name is None or kind is None \
            or weight is None:
        return None
    return Prize(id=prize_id, name=name, kind=kind, weight=weight, value=value, stock=stock,
                 locked_until=locked_until, fallback=fallback)


def _check_prizes(params: Params, tables: Sequence[Params]) -> None:
    """Rules across the prizes (checked on the tables as written, so that one bad
    prize does not hide them)."""
    seen: set[Any] = set()
    for index, table in enumerate(tables):
        prize_id = table.data.get("id")
        if isinstance(prize_id, str) and prize_id in seen:
            params.problem(f"prize id {prize_id!r} is used twice", f"prizes[{index}].id")
        seen.add(prize_id)
    fallbacks = sum(table.data.get("fallback") is True for table in tables)
    if fallbacks != 1:
        params.problem(f"exactly one prize must be the fallback (fallback = true: 謝謝參與 or "
                       f"a small coupon); found {fallbacks}", "prizes")
    if fallbacks == len(tables):
        params.problem("needs at least one prize besides the fallback", "prizes")


def _prize_line(config: LotteryConfig, prize: Prize, text: Text) -> str:
    en_kind, zh_kind = _KIND_WORDS[prize.kind]
    what = text.pick(en_kind, zh_kind)
    if prize.value is not None:
        worth = text.amount(prize.value)
        what += {"cash": text.pick(f" {worth}", worth),
                 "goods": text.pick(f", market value {worth}", f"，市場價值{worth}"),
                 "coupon": text.pick(f", worth {worth}", f"，面值{worth}"),
                 "points": text.pick(f", worth {worth}", f"，價值{worth}")}.get(prize.kind, "")
    odds = f"{config.probability(prize)}%"
    if prize.fallback:
        return text.pick(
            f"- {prize.name} ({what}): unlimited, probability {odds}; also given whenever the "
            "prize drawn is out of stock, not yet unlocked, or beyond your win limit",
            f"- {prize.name}（{what}）：不限量，中獎概率{odds}；抽中的獎品已抽完、尚未開放或"
            "您已達中獎上限時，均改為獲得此獎")
    stock = text.number(prize.stock or 0)
    line = text.pick(f"- {prize.name} ({what}): {stock} in total, probability {odds}",
                     f"- {prize.name}（{what}）：共{stock}份，中獎概率{odds}")
    if prize.locked_until is not None:
        after = text.number(prize.locked_until)
        line += text.pick(f"; it can be won only after the game has had {after} draws in total",
                          f"；本活動累計抽獎滿{after}次後方可抽中")
    return line


def _draws_text(config: LotteryConfig, text: Text) -> str:
    free = config.free_draws_per_day
    parts = []
    if config.draws_per_day is not None:
        parts.append(text.pick(f"up to {text.times(config.draws_per_day)} a day per customer",
                               f"每人每天最多抽獎{text.times(config.draws_per_day)}"))
    if config.tickets:
        parts.append(text.pick(f"{text.times(free)} a day free, each further draw uses one "
                               "entry ticket",
                               f"每天免費{text.times(free)}，其餘每次消耗1張抽獎券"))
    else:
        parts.append(text.pick(f"{text.times(free)} a day free", f"每天免費{text.times(free)}"))
    if config.max_wins is not None:
        parts.append(text.pick(f"each customer wins at most {text.times(config.max_wins)} "
                               f"(prizes other than {config.fallback.name})",
                               f"每人最多中獎{text.times(config.max_wins)}"
                               f"（不含{config.fallback.name}）"))
    parts.append(text.pick("days are local days", "按活動所在時區的自然日計算"))
    return text.pick("; ", "；").join(parts)


def _tickets_text(config: LotteryConfig, text: Text) -> str:
    earns = []
    for action, count in config.tickets:
        en, zh = _ACTION_WORDS[action]
        earns.append(text.pick(f"{en} earns {text.number(count)}",
                               f"{zh}得{text.number(count)}張"))
    parts = [text.join(earns)]
    if config.max_tickets_per_day is not None:
        cap = text.number(config.max_tickets_per_day)
        parts.append(text.pick(f"at most {cap} a day per customer", f"每人每天最多獲得{cap}張"))
    parts.append(text.pick("tickets stay valid until the game ends", "抽獎券在活動結束前有效"))
    return text.pick("; ", "；").join(parts)


@hookimpl
def promokit_register_games() -> list[GameKind]:
    return [Lottery()]
