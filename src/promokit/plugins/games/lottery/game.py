""":class:`LotteryGame`, a lottery bound to a store: open, draw, grant
tickets, a customer's state, reveal."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from promokit.cart import Customer
from promokit.errors import GameError
from promokit.games import (
    MAX_ATTEMPTS,
    ChanceGame,
    GameRuntime,
    GameSpec,
    Step,
    draw_digest,
    dumps,
    pick_weighted,
)
from promokit.games.audit import chain_tail, entry_hash
from promokit.games.canonical import canonical_json
from promokit.stores import Change, Delta, Expect, JournalEntry, OrderRow
from promokit.text import Text

from .config import LotteryConfig, Prize
from .draw import (
    Draw,
    Grant,
    guarantee_candidates,
    guarantee_due,
    guarantee_pick,
    primary_outcome,
)

#: The reveal adds this to the draw counter, so no draw can land after it (a draw
#: adds 1 with this limit). Far above any real count, and exact in every backend's
#: integers (Redis scripts count in doubles: below 2⁵³).
CLOSED = 10**12


@attrs.frozen(kw_only=True)
class _Plan:
    """One draw ready to write: the draw count it read (expected unchanged at the
    write), the customer's new row, the log entry, counter deltas and events."""

    before: int
    state: dict[str, Any]
    entry: dict[str, Any]
    result: Draw
    deltas: tuple[Delta, ...]
    events: tuple[tuple[str, str | None, Mapping[str, Any]], ...]


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


class LotteryGame(ChanceGame):
    """A lottery bound to a store: :meth:`open`, :meth:`draw`, :meth:`grant`,
    :meth:`state`, :meth:`reveal`."""

    config: LotteryConfig

    def __init__(self, spec: GameSpec, runtime: GameRuntime) -> None:
        super().__init__(spec, runtime)
        self._seed: str | None = None
        self._published: str | None = None

    # -- keys -----------------------------------------------------------------

    @property
    def total_key(self) -> str:
        """The counter of draws in the whole game (raised by ``CLOSED`` at the reveal)."""
        return self.row_id("total")

    def prize_key(self, prize: Prize) -> str:
        """The counter of a prize's wins (limited to its stock)."""
        return self.row_id("prize", prize.id)

    # -- open and reveal --------------------------------------------------------

    def _server_seed(self) -> str:
        if self._seed is None:
            body = self.started()
            if body is None:
                raise GameError(f"game {self.id!r} is not open: call open() and publish its "
                                "commitment before the first draw", reason="not_open",
                                game=self.id)
            self._seed = str(body["seed"])
        return self._seed

    def closing(self) -> Delta:
        """The reveal adds ``CLOSED`` to the draw counter, without a limit, so it
        never waits for draws in flight, and every later draw (whose +1 is limited
        to ``CLOSED``) is refused on any app server: no draw lands after the reveal."""
        return Delta(self.total_key, CLOSED)

    def final_draws(self, values: Mapping[str, int]) -> int:
        return values[self.total_key] - CLOSED

    def total_draws(self) -> int:
        """Draws in the whole game so far (the final count once revealed)."""
        total = self.store.read([self.total_key])[self.total_key]
        return total - CLOSED if total >= CLOSED else total

    def _commitment(self) -> str:
        if self._published is None:
            body = self.started()
            if body is None:
                raise GameError(f"game {self.id!r} is not open", reason="not_open",
                                game=self.id)
            self._published = str(body["commitment"])
        return self._published

    # -- play ------------------------------------------------------------------------

    def draw(self, customer: Customer | str, *, client_seed: str | None = None,
             channel: str | None = None) -> Draw:
        """Draw once for ``customer`` (a :class:`~promokit.cart.Customer` or an id).

        ``client_seed`` is the customer's part of the randomness; without one the
        draw uses the hash of the log before it (``prev``), which nobody knew when
        the seed was committed to. Raises :class:`GameError`: ``not_open``,
        ``revealed``, ``not_started``, ``ended``, ``customer_required``,
        ``not_eligible:<rule>``, ``daily_limit``, ``no_ticket``, ``bad_argument``,
        ``busy``.

        The draw takes the next position of the game in a compare-and-set on the
        draw counter, with the customer's row, the prize's stock and the log entry,
        in one atomic write: the position it logs (and decides ``locked_until``
        with) is its real place in the game, and its ``prev`` is the entry before."""
        self.check_channel(channel)
        if isinstance(customer, str):
            customer = Customer(id=customer)
        now = self.now()
        self.check_running(now)
        self.check_customer(customer, now, channel=channel)
        seed = self._server_seed()  # a revealed game is caught by the draw counter
        customer_id = str(customer.id)
        given = None if client_seed is None else self.client_seed(customer_id, client_seed)
        row_id = self.row_id("c", customer_id)
        refused: frozenset[str] = frozenset()
        for attempt in range(MAX_ATTEMPTS):
            row = self.store.order(row_id)
            body = json.loads(row.body) if row is not None else None
            plan = self._plan(customer_id, given, seed, body, now, refused)
            revision = row.revision if row is not None else 0
            change = Change(order_id=row_id, revision=revision,
                            status="active", body=dumps(plan.state), deltas=plan.deltas,
                            journal=(JournalEntry(self.stream("draws"),
                                                  canonical_json(plan.entry)),
                                     *self.outbox(row_id, revision + 1, plan.events)),
                            expect=(Expect(self.total_key, plan.before, plan.before),))
            outcome = self.store.apply(change)
            if outcome.applied:
                for event, who, data in plan.events:
                    self.emit(event, who, data)
                return plan.result
            refused = frozenset(outcome.refused)
            if not refused and attempt >= 2:  # contended: step aside a little, at random
                time.sleep(random.uniform(0, min(0.002 * attempt, 0.05)))
        raise GameError(f"game {self.id!r}: draws stayed busy after {MAX_ATTEMPTS} attempts; "
                        "try again", reason="busy", game=self.id)

    def _plan(self, customer_id: str, given: str | None, seed: str,
              body: Mapping[str, Any] | None, now: datetime,
              refused: frozenset[str]) -> _Plan:
        """One draw as it would land now: read the counters and the chain's tail, pick,
        decide the award. ``refused`` names prize counters the store just refused."""
        config = self.config
        today = now.date().isoformat()
        state = _customer_state(body, today)
        keys = [self.total_key, *(self.prize_key(p) for p in config.prizes)]
        counters = self.store.read(keys)
        before = counters[self.total_key]
        if before >= CLOSED:
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

        position = before + 1
        prev = chain_tail(self.store, self.stream("draws"), before, self._commitment())
        nonce = state["draws"] + 1
        digest = draw_digest(seed, customer=customer_id, client_seed=given or prev,
                             nonce=nonce, config_hash=self.audit_hash)
        drawn = config.prizes[pick_weighted(digest, config.weights)]
        award, reason = primary_outcome(config, drawn, position, state["wins"], in_stock)
        candidates: list[Prize] | None = None
        if guarantee_due(config, award, state["wins"], state["since_win"]):
            candidates = guarantee_candidates(config, position, in_stock)
            if candidates:
                award, reason = guarantee_pick(digest, candidates), "guarantee"
        won = not award.fallback
        state.update(draws=nonce, day_draws=state["day_draws"] + 1,
                     tickets=state["tickets"] - ticket,
                     wins=state["wins"] + won, since_win=0 if won else state["since_win"] + 1)
        if won:
            state["won"][award.id] = state["won"].get(award.id, 0) + 1
        entry: dict[str, Any] = {
            "position": position, "prev": prev, "customer": customer_id,
            "client_seed": given, "nonce": nonce, "config_hash": self.audit_hash,
            "drawn_index": config.prizes.index(drawn), "drawn": drawn.id, "prize": award.id,
            "reason": reason, "ticket": ticket, "at": now.isoformat()}
        if candidates is not None:
            entry["candidates"] = [p.id for p in candidates]
        result = Draw(customer=customer_id, nonce=nonce, client_seed=given or prev,
                      position=position,
                      receipt=entry_hash(entry), drawn=drawn.id, prize=award, reason=reason,
                      ticket=ticket, draws_left_today=self._draws_left(state),
                      tickets=state["tickets"], currency=self.runtime.currency)
        events: list[tuple[str, str | None, Mapping[str, Any]]] = [
            ("drawn", customer_id, {"nonce": nonce, "position": position, "prize": award.id,
                                    "won": won, "reason": reason,
                                    "receipt": result.receipt})]
        if won:
            events.append(("won", customer_id, {"nonce": nonce,
                                                **award.to_json(self.runtime.currency)}))
        return _Plan(before=before, state=state, entry=entry, result=result,
                     deltas=(Delta(self.total_key, 1, CLOSED),
                             Delta(self.prize_key(award), 1, award.stock)),
                     events=tuple(events))

    def grant(self, customer_id: str, action: str, action_id: str, *,
              channel: str | None = None) -> Grant:
        """Give ``customer_id`` the entry tickets ``action`` earns (``purchase``,
        ``share``, ``quiz``). Idempotent per ``(action, action_id)``: an order id, a
        share id, a quiz id counts once, for whoever claims it first. Raises
        :class:`GameError`: ``bad_action``, ``ticket_limit`` (no ticket left today
        under ``max_tickets_per_day``), ``revealed``, ``not_started``, ``ended``."""
        self.check_channel(channel, *(("share_for_draw",) if action == "share" else ()))
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
            lines.append(text.gettext("Commitment (SHA-256 of the server seed): {commitment}",
                                      commitment=body["commitment"]))
        return "\n".join(lines)

    def action_features(self, action: str, args: Mapping[str, str]) -> tuple[str, ...]:
        """Granting tickets for a share is ``share_for_draw``."""
        return ("share_for_draw",) if action == "grant" and args.get("action") == "share" \
            else ()

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
            self.reveal()
            return self.published()
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
