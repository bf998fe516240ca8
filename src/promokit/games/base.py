"""What every game is made of: its spec, its kind, its runtime, its events.

A :class:`GameKind` is the plugin: it parses a ``[[game]]`` table, checks it
against the jurisdiction's rules, writes its disclosure, compares two
versions of its config, and binds a spec to a store as a playable
:class:`Game`. The kernel parses the keys every game shares
(:class:`GameSpec`): ``id``, ``kind``, ``name``, ``campaign``, ``start``,
``end``, ``organiser``, ``conditions``, ``funding``.

State lives in store rows (``game:<id>…``) changed with
:meth:`Game.transact`, which retries on a revision conflict, so two app
servers never both take the last seat of a group.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, tzinfo
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import attrs

from ..campaign import Promotion
from ..cart import Customer, Line
from ..channels import ChannelRules, Uses
from ..conditions import Condition, ConditionContext, failed_condition
from ..errors import GameError
from ..events import OUTBOX, OutboxEvent, event_id
from ..kinds import NoDeal
from ..money import Currency
from ..order import Order, Refund
from ..params import Params
from ..stores.base import Change, Delta, JournalEntry, OrderRow, Store
from ..stores.keys import key_part
from ..terms import Funding, Schedule, Scope
from ..text import Text
from .audit import DrawLog, commitment, new_seed

__all__ = [
    "LIVE_LIMIT",
    "MAX_ATTEMPTS",
    "ConfigChange",
    "Game",
    "GameEvent",
    "GameKind",
    "GameRuntime",
    "GameSpec",
    "OrderBook",
    "Step",
    "age_on",
    "dumps",
]

T = TypeVar("T")

_SEED = re.compile(r"^[0-9a-f]{64}$")
#: How many times :meth:`Game.transact` tries before giving up on a busy row.
MAX_ATTEMPTS = 200
#: The reveal adds this to a game's ``live`` counter, and every chance operation adds
#: one with this limit: an operation that read the game as running just before the
#: reveal is refused by the store if the reveal was applied first, on any process.
LIVE_LIMIT = 10**12


@attrs.frozen(kw_only=True)
class GameSpec:
    """One ``[[game]]`` table, validated: the shared keys and the kind's config."""

    id: str
    kind: str
    name: str
    config: Any
    """What the kind's :meth:`GameKind.parse` returned."""
    kind_impl: GameKind = attrs.field(eq=False, repr=False)
    campaign: str | None = None
    schedule: Schedule = attrs.field(factory=Schedule)
    organiser: str | None = None
    """Who runs the game and how to reach them (a lottery's disclosure names it)."""
    conditions: tuple[Condition, ...] = ()
    funding: Funding | None = None
    source: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    """The table as written in the file (canonical JSON types)."""
    config_hash: str = ""
    """SHA-256 of the table's canonical JSON: what a draw's randomness is bound to."""
    timezone: tzinfo | None = attrs.field(default=None, eq=False)
    """The campaign file's timezone (times written without an offset are in it)."""
    jurisdiction: str = "none"
    """The campaign file's compliance profile (``cn``: the age rule of blind boxes …)."""

    @property
    def row(self) -> str:
        """The store row holding the game's own state (seed, status, config)."""
        return f"game:{self.id}"


@attrs.frozen(kw_only=True)
class GameEvent:
    """Something a customer may want to hear about (拼團成功, 你中獎了, 好友幫你砍了一刀).

    Games never send messages; a shop implements ``promokit_game_event`` and
    notifies. ``event`` names are stable: ``opened``, ``joined``, ``full``,
    ``expired``, ``refunded``, ``helped``, ``floor_reached``, ``drawn``, ``won``,
    ``revealed``, ``config_changed``, ``deposit_paid``, ``cancelled`` …"""

    game: str
    kind: str
    event: str
    customer: str | None
    at: datetime
    data: Mapping[str, Any] = attrs.field(factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"game": self.game, "kind": self.kind, "event": self.event,
                "customer": self.customer, "at": self.at.isoformat(), "data": dict(self.data)}


@attrs.frozen
class ConfigChange:
    """One difference between the config a started game runs and a new one."""

    path: str
    """What changed, e.g. ``prizes[1].stock``."""
    before: str
    after: str
    worse: bool
    """Worse for customers (rejected once the game started)."""

    def __str__(self) -> str:
        verdict = "worse for customers" if self.worse else "in customers' favour"
        return f"{self.path}: {self.before} → {self.after} ({verdict})"


class OrderBook(Protocol):
    """The orders a game may look at and refund (a group buy refunds its members'
    lines; a presale checks its balance order): checkout, seen through two calls."""

    def order(self, order_id: str) -> Order | None:
        """The stored order, or ``None``."""

    def refund(self, order_id: str, refund_id: str,
               units: Mapping[str, int] | None = None) -> Refund:
        """Refund units of a committed order (idempotent per ``refund_id``)."""


def _ignore(event: GameEvent) -> None:
    """Where events go when nobody listens."""


@attrs.frozen(kw_only=True)
class GameRuntime:
    """What a bound game may use: a store, a clock, where its events go, the orders
    it may look at and refund, the promotions it may name, and a secret. The
    engine wires one per campaign set; a game never sees the engine."""

    store: Store
    clock: Callable[[], datetime]
    """Aware local time in the campaign file's timezone."""
    currency: Currency
    timezone: str
    """The campaign file's timezone name (days for daily limits are local days)."""
    emit: Callable[[GameEvent], None] = _ignore
    """Hands an event to observers (the ``promokit_game_event`` hook)."""
    jurisdiction: str = "none"
    secret: bytes | None = None
    """Key for share tokens (``Engine(secret=…)``)."""
    orders: OrderBook | None = attrs.field(default=None, eq=False, repr=False)
    """Checkout's orders, when the game runs inside an engine."""
    promotions: Mapping[str, Promotion] | None = attrs.field(default=None, eq=False,
                                                               repr=False)
    """The campaign set's promotions by id, when the game runs inside an engine (a
    presale's balance is priced by one of them)."""
    channels: ChannelRules = attrs.field(factory=ChannelRules, eq=False, repr=False)
    """The channel profiles with the campaign file's ``[channels]`` overrides: an
    operation on a channel whose profile forbids the game is refused."""


@attrs.frozen(kw_only=True)
class Step(Generic[T]):
    """What a transaction step writes to its row, and what the call returns."""

    status: str
    body: Mapping[str, Any]
    result: T
    deltas: tuple[Delta, ...] = ()
    journal: tuple[JournalEntry, ...] = ()
    expires_at: float | None = None
    events: tuple[tuple[str, str | None, Mapping[str, Any]], ...] = ()
    """``(event, customer, data)`` to emit once the write is applied."""
    write: bool = True
    """``False``: nothing to change; :meth:`Game.transact` returns ``result`` without
    writing (and emits nothing)."""


def dumps(data: Mapping[str, Any]) -> str:
    """Compact, sorted JSON text, as game rows and journals keep it."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def age_on(birthday: date, day: date) -> int:
    """Full years of age on ``day``."""
    years = day.year - birthday.year
    if (day.month, day.day) < (birthday.month, birthday.day):
        years -= 1
    return years


class Game:
    """A game bound to a store. Kinds subclass it with their own operations
    (``draw``, ``join``, ``help`` …)."""

    def __init__(self, spec: GameSpec, runtime: GameRuntime) -> None:
        self.spec = spec
        self.config = spec.config
        self.runtime = runtime
        self.store = runtime.store

    @property
    def id(self) -> str:
        return self.spec.id

    def now(self) -> datetime:
        """The runtime clock, in the campaign file's timezone."""
        return self.runtime.clock()

    # -- rules shared by every game ----------------------------------------------

    def check_running(self, now: datetime | None = None) -> None:
        """Raise :class:`GameError` (``not_started`` / ``ended``) outside the schedule."""
        now = now or self.now()
        reason = self.spec.schedule.reason_at(now)
        if reason is not None:
            when = (self.spec.schedule.start if reason == "not_started"
                    else self.spec.schedule.end)
            raise GameError(f"game {self.id!r} {reason.replace('_', ' ')} "
                            f"({when.isoformat() if when else '?'})", reason=reason,
                            game=self.id)

    def check_customer(self, customer: Customer, now: datetime | None = None, *,
                       channel: str | None = None) -> None:
        """Raise :class:`GameError` if ``customer`` is anonymous or fails a condition.

        A ``channel`` condition is checked only when the operation names its
        ``channel``; without one, channel rules gate the game's price on the cart
        (checked with the cart's channel) but not the operation."""
        if customer.id is None:
            raise GameError(f"game {self.id!r} needs a signed-in customer (customer.id)",
                            reason="customer_required", game=self.id)
        conditions = [c for c in self.spec.conditions
                      if channel is not None or c.rule != "channel"]
        if not conditions:
            return
        ctx = ConditionContext(customer=customer, channel=channel, now=now or self.now(),
                               currency=self.runtime.currency, lines=())
        failed = failed_condition(conditions, ctx, amounts=False)
        if failed is not None:
            raise GameError(f"customer {customer.id!r} is not eligible for game {self.id!r}: "
                            f"condition {failed.rule!r}", reason=f"not_eligible:{failed.rule}",
                            game=self.id)

    def check_channel(self, channel: str | None, *features: str) -> None:
        """Raise :class:`GameError` (``channel_forbidden``) when the profile of
        ``channel`` forbids this game's kind, or one of ``features`` of the
        operation (``share_for_draw``), and the campaign file does not lift it.
        Operations take ``channel=``; without one, nothing is checked."""
        refusal = self.runtime.channels.refusal(
            channel, Uses(game=self.spec.kind, features=frozenset(features)))
        if refusal is not None:
            raise GameError(f"game {self.id!r}: {refusal.message}",
                            reason="channel_forbidden", game=self.id)

    # -- state -------------------------------------------------------------------

    def row_id(self, *parts: str) -> str:
        """A row (or counter) of this game: ``game:<id>:<part>:<part>…``, each part
        escaped with :func:`~promokit.stores.key_part`, so a customer id holding
        colons cannot name another row."""
        return ":".join(("game", self.id, *(key_part(part) for part in parts)))

    def read(self, row_id: str) -> tuple[int, dict[str, Any] | None]:
        """The row's revision and JSON body (``0, None`` if it does not exist)."""
        row = self.store.order(row_id)
        if row is None:
            return 0, None
        return row.revision, json.loads(row.body)

    def transact(self, row_id: str,
                 build: Callable[[OrderRow | None, dict[str, Any] | None, frozenset[str]],
                                 Step[T]]) -> T:
        """Change one row atomically with its counters and journal.

        ``build(row, body, refused)`` looks at the row as stored and returns the
        :class:`Step` to write (or raises :class:`GameError` to refuse). When the
        row changed meanwhile it is called again with the new row; when a delta
        was refused it is called again with ``refused`` naming those counters,
        so it can fall back (another prize) or raise. Events are emitted once,
        by the caller whose write was applied.
        """
        refused: frozenset[str] = frozenset()
        for attempt in range(MAX_ATTEMPTS):
            row = self.store.order(row_id)
            body = json.loads(row.body) if row is not None else None
            step = build(row, body, refused)
            if not step.write:
                return step.result
            revision = row.revision if row is not None else 0
            outcome = self.store.apply(Change(
                order_id=row_id, revision=revision,
                status=step.status, expires_at=step.expires_at,
                body=dumps(step.body), deltas=step.deltas,
                journal=(*step.journal, *self.outbox(row_id, revision + 1, step.events))))
            if outcome.applied:
                for event, customer, data in step.events:
                    self.emit(event, customer, data)
                return step.result
            if outcome.refused:
                if refused and any(d.key in refused and d.amount > 0 for d in step.deltas):
                    raise GameError(f"game {self.id!r}: {', '.join(sorted(refused))} is used "
                                    "up", reason="limit_reached", game=self.id)
                refused = frozenset(outcome.refused)
                continue
            refused = frozenset()
            if attempt >= 2:  # contended: step aside a little, at random
                time.sleep(random.uniform(0, min(0.002 * attempt, 0.05)))
        raise GameError(f"game {self.id!r}: row {row_id!r} stayed busy after "
                        f"{MAX_ATTEMPTS} attempts; try again", reason="busy", game=self.id)

    def outbox(self, row_id: str, revision: int,
               events: Sequence[tuple[str, str | None, Mapping[str, Any]]]
               ) -> tuple[JournalEntry, ...]:
        """The outbox entries of ``events`` (``(event, customer, data)``), for the change
        that moves row ``row_id`` to ``revision``: put them in that change's journal,
        so the store writes them atomically with it (type ``game.<event>``)."""
        at = self.now().isoformat()
        return tuple(JournalEntry(OUTBOX, OutboxEvent(
            id=event_id(row_id, revision, index), type=f"game.{event}", time=at,
            subject=self.spec.row, data={"game": self.id, "kind": self.spec.kind,
                                         "customer": customer, **data}).stored())
            for index, (event, customer, data) in enumerate(events))

    def emit(self, event: str, customer: str | None, data: Mapping[str, Any]) -> None:
        """Tell observers (``promokit_game_event``)."""
        self.runtime.emit(GameEvent(
            game=self.id, kind=self.spec.kind, event=event, customer=customer,
            at=self.now(), data=dict(data)))

    # -- start, seed, reveal ------------------------------------------------------

    def stream(self, name: str) -> str:
        """A journal stream of this game: ``game:<id>:<name>``."""
        return f"game:{self.id}:{name}"

    def started(self) -> dict[str, Any] | None:
        """The game's own row (config, commitment, status), once started."""
        return self.read(self.spec.row)[1]

    def start(self, *, seed: str | None = None) -> dict[str, Any]:
        """Start the game if it has not started: draw its secret server seed and
        keep the config it starts with. Returns the game row; idempotent, and
        safe to race (one start wins, the others read it).

        ``seed`` (64 hex digits) fixes the server seed instead of drawing it from
        :mod:`secrets`: for tests, demos and replays only — a known seed makes
        every outcome predictable."""
        if seed is not None and not _SEED.match(seed):
            raise GameError("seed must be 64 lowercase hex digits", reason="bad_seed",
                            game=self.id)
        body = self.started()
        if body is not None:
            return body
        seed = seed or new_seed()
        now = self.now()
        body = {"config": dict(self.spec.source), "config_hash": self.spec.config_hash,
                "seed": seed, "commitment": commitment(seed), "status": "running",
                "started_at": now.isoformat(), "revealed_at": None}
        logged = {"event": "started", "config_hash": self.spec.config_hash,
                  "config": dict(self.spec.source), "at": now.isoformat()}
        outcome = self.store.apply(Change(
            order_id=self.spec.row, revision=0, status="running", body=dumps(body),
            journal=(JournalEntry(self.stream("config"), dumps(logged)),
                     *self.outbox(self.spec.row, 1, [
                         ("started", None, {"commitment": body["commitment"]})]))))
        if not outcome.applied:
            again = self.started()
            assert again is not None
            return again
        self.emit("started", None, {"commitment": body["commitment"]})
        return body

    def open(self, *, seed: str | None = None) -> str:
        """Start the game and return the seed's commitment, to publish before the
        first draw; idempotent. ``seed`` (64 lowercase hex digits) is for tests and
        replays only: a real game draws its own secret seed. A game already started
        with another seed refuses it (``already_open``)."""
        body = self.start(seed=seed)
        if seed is not None and body["seed"] != seed:
            raise GameError(f"game {self.id!r} is already open with another seed",
                            reason="already_open", game=self.id)
        return str(body["commitment"])

    def client_seed(self, customer_id: str, given: str | None) -> str:
        """The customer's own part of a draw's randomness, checked: 1 to 128
        characters (``bad_argument`` otherwise). Chance games call it only for a
        seed the customer gave; without one, a draw's client seed is the hash of the
        draw log before it (docs/games.md), which nobody knows at commitment time."""
        client = customer_id if given is None else given
        if not client or len(client) > 128:
            raise GameError("client_seed must be 1 to 128 characters", reason="bad_argument",
                            game=self.id)
        return client

    def commitment(self) -> str:
        """SHA-256 of the server seed: publish it before the first draw."""
        return str(self.start()["commitment"])

    def seed(self) -> str:
        """The secret server seed (for the game's own randomness; never show it
        to customers before :meth:`reveal`)."""
        return str(self.start()["seed"])

    @property
    def live_key(self) -> str:
        """The counter the reveal closes (see :meth:`live_hold`)."""
        return self.row_id("live")

    def live_hold(self) -> Delta:
        """Put this in every write of a chance operation (a draw, a help): once the
        reveal is applied, the store refuses it, so nothing lands after the reveal.
        When ``live_key`` is refused, raise ``revealed``
        (:meth:`raise_if_revealed`)."""
        return Delta(self.live_key, 1, LIVE_LIMIT)

    def raise_if_revealed(self, refused: frozenset[str] | tuple[str, ...]) -> None:
        """Raise ``revealed`` if a write was refused because the reveal came first."""
        if self.live_key in refused:
            raise GameError(f"game {self.id!r} revealed its seed and takes no more draws",
                            reason="revealed", game=self.id)

    def check_not_revealed(self) -> None:
        """Chance stops at the reveal: a revealed seed makes outcomes predictable."""
        body = self.started()
        if body is not None and body["status"] == "revealed":
            raise GameError(f"game {self.id!r} revealed its seed and takes no more draws",
                            reason="revealed", game=self.id)

    def reveal(self) -> str:
        """End the game's chance and publish the server seed; idempotent."""
        self.start()

        def build(row: OrderRow | None, body: dict[str, Any] | None,
                  refused: frozenset[str]) -> Step[str]:
            assert body is not None
            if body["status"] == "revealed":
                return Step(status="revealed", body=body, result=body["seed"])
            body = {**body, "status": "revealed", "revealed_at": self.now().isoformat()}
            return Step(status="revealed", body=body, result=body["seed"],
                        deltas=(Delta(self.live_key, LIVE_LIMIT),),
                        journal=(JournalEntry(self.stream("config"), dumps(
                            {"event": "revealed", "seed": body["seed"],
                             "at": body["revealed_at"]})),),
                        events=(("revealed", None, {"seed": body["seed"],
                                                    "commitment": body["commitment"]}),))
        return self.transact(self.spec.row, build)

    def published(self) -> dict[str, Any]:
        """What the reveal publishes, for a verifier to hold the log against: the
        game, its seed and commitment (games with a chained draw log add the draw
        count and the chain's head). Call it after :meth:`reveal`."""
        body = self.start()
        if body["status"] != "revealed":
            raise GameError(f"game {self.id!r} has not revealed its seed yet",
                            reason="not_revealed", game=self.id)
        return {"game": self.id, "seed": body["seed"], "commitment": body["commitment"]}

    def configs(self) -> dict[str, dict[str, Any]]:
        """Every config the game ran under since its start, by hash."""
        found: dict[str, dict[str, Any]] = {}
        for _, text in self.store.journal(self.stream("config")):
            entry = json.loads(text)
            if entry.get("config") is not None and entry.get("event") in ("started",
                                                                          "config_changed"):
                found[entry["config_hash"]] = entry["config"]
        return found

    def draw_log(self) -> DrawLog:
        """The audit record of the game's draws (the seed only once revealed)."""
        body = self.start()
        entries = tuple(json.loads(text) for _, text in self.store.journal(self.stream("draws")))
        return DrawLog(game=self.id, kind=self.spec.kind, config=body["config"],
                       config_hash=body["config_hash"], currency=self.runtime.currency.code,
                       timezone=self.runtime.timezone, commitment=body["commitment"],
                       seed=body["seed"] if body["status"] == "revealed" else None,
                       entries=entries, configs=self.configs())

    # -- what every game answers -------------------------------------------------

    def disclosure(self, lang: str = "zh-CN") -> str:
        """The customer-facing rules of this game, generated from its config."""
        text = Text(lang, currency=self.runtime.currency)
        return "\n".join(self.spec.kind_impl.disclosure(self.spec, text))

    def expire(self, row_id: str) -> bool:
        """Handle a row of this game whose ``expires_at`` passed (a group's window, an
        unpaid deposit) and clear its expiry; whether it changed anything. Called
        by :meth:`promokit.Engine.sweep`."""
        return False

    def play(self, action: str, customer: Customer, args: Mapping[str, str], *,
             channel: str | None = None) -> Any:
        """:meth:`act`, refused first (:class:`GameError` ``channel_forbidden``) on a
        ``channel`` whose profile forbids the game or the action's
        :meth:`action_features`."""
        self.check_channel(channel, *self.action_features(action, args))
        return self.act(action, customer, args)

    def action_features(self, action: str, args: Mapping[str, str]) -> tuple[str, ...]:
        """What ``action`` with ``args`` does that a channel profile may forbid beyond
        the game's kind (a lottery's ``grant`` with ``action=share``:
        ``share_for_draw``). None by default."""
        return ()

    def act(self, action: str, customer: Customer, args: Mapping[str, str]) -> Any:
        """Play ``action`` from the command line (``promokit game ACTION``); returns
        JSON-ready data. Kinds list theirs in :attr:`GameKind.actions`."""
        raise GameError(f"game {self.id!r} ({self.spec.kind}) has no action {action!r}",
                        reason="unknown_action", game=self.id)


class GameKind:
    """Base class of game kinds. Subclass it and register an instance through
    ``promokit_register_games``.

    Class attributes:

    ``name``
        What campaign files write (``kind = "lottery"``).
    ``chance_based``
        Prizes are won by chance: the top-prize cap of the jurisdiction applies.
    ``price_field``
        ``"group_id"`` or ``"bargain_id"`` when the game sets the price of cart
        lines carrying that field; the kernel then prices such lines through
        :meth:`unit_price`.
    ``actions``
        What ``promokit game ACTION`` can do with it, with a one-line help each.
    """

    name: ClassVar[str]
    chance_based: ClassVar[bool] = False
    price_field: ClassVar[str | None] = None
    actions: ClassVar[Mapping[str, str]] = {}

    def parse(self, params: Params, spec: GameSpec) -> Any:
        """Read the kind's keys from the ``[[game]]`` table (``spec`` holds the shared
        ones already, ``config`` still ``None``). Record problems through
        ``params``; return the config."""
        raise NotImplementedError

    def check(self, spec: GameSpec, jurisdiction: str, params: Params) -> None:
        """Rules of the jurisdiction beyond the top-prize cap (which the kernel
        checks through :meth:`top_prize`); record problems through ``params``."""

    def features(self, config: Any) -> frozenset[str]:
        """What a game of this config does that a channel profile may forbid, beyond
        its kind (a lottery whose ``tickets.share`` is set: ``share_for_draw``);
        ``promokit validate`` warns about them. None by default."""
        return frozenset()

    def top_prize(self, config: Any) -> int | None:
        """The most one customer can win at once, in minor units (cash, or the
        declared market value of a non-cash prize); ``None`` if not a prize game."""
        return None

    def disclosure(self, spec: GameSpec, text: Text) -> list[str]:
        """The game's rules for customers, one line each, in ``text.lang``."""
        raise NotImplementedError

    def changes(self, old: GameSpec, new: GameSpec) -> list[ConfigChange]:
        """Every difference in the kind's config between two versions, each marked
        worse for customers or not (the kernel compares the shared keys)."""
        raise NotImplementedError

    def verify(self, specs: Mapping[str, GameSpec], seed: str,
               entries: Sequence[Mapping[str, Any]]) -> list[str]:
        """Recompute a revealed draw log (chance-based kinds): every problem found,
        naming the draw (``draw 17: …``). ``specs`` maps each config hash the log
        names to its spec."""
        return ["this game kind keeps no draw log"]

    def bind(self, spec: GameSpec, runtime: GameRuntime) -> Game:
        """The playable game on ``runtime``'s store."""
        raise NotImplementedError

    # -- for price games (price_field set) ---------------------------------------

    def price_scope(self, spec: GameSpec) -> Scope:
        """The products the game prices (the index finds its promotion through it)."""
        raise NotImplementedError

    def covers(self, spec: GameSpec, line: Line) -> bool:
        """Whether a cart line carries this game's group or bargain."""
        return False

    def price_keys(self, spec: GameSpec, line: Line, customer: Customer) -> Sequence[str]:
        """Counters :meth:`unit_price` reads for this line."""
        return ()

    def unit_price(self, spec: GameSpec, line: Line, customer: Customer,
                   counters: Mapping[str, int], now: datetime, text: Text) -> int | NoDeal:
        """The line's unit price from the game, in minor units, or why not (a
        ``NoDeal`` with a stable reason code and a message in ``text.lang``)."""
        raise NotImplementedError

    def price_units(self, spec: GameSpec, line: Line) -> int:
        """How many units of the line get the game price (one, for a bargain)."""
        return line.quantity

    def price_holds(self, spec: GameSpec, line: Line, customer: Customer) -> Sequence[Delta]:
        """Counters an order priced by the game holds (a bargain bought once)."""
        return ()
