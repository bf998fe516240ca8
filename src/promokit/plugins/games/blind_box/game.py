""":class:`BlindBoxGame`, a blind box bound to a store: open, draw, odds,
a customer's state, the disclosure; and :class:`BoxDraw`, what one draw gave."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import attrs

from promokit.cart import Customer
from promokit.errors import GameError
from promokit.games import (
    LIVE_LIMIT,
    MAX_ATTEMPTS,
    ChanceGame,
    age_on,
    draw_digest,
    dumps,
)
from promokit.games.audit import chain_tail, entry_hash
from promokit.games.canonical import canonical_json
from promokit.money import Currency
from promokit.stores import Change, Delta, Expect, JournalEntry
from promokit.text import Text

from .config import CN_CONSENT_AGE, CN_MIN_AGE, BlindBoxConfig, Item, LastPrize
from .disclosure import disclosure_lines
from .odds import Odds, odds_of


@attrs.frozen(kw_only=True)
class BoxDraw:
    """What one draw gave a customer (also its journal record, :meth:`to_json`)."""

    game: str
    customer: str
    nonce: int
    client_seed: str
    """The client seed the draw used: the customer's own or, when they gave none, the
    hash of the log before the draw (``prev``; the log entry then says ``null``)."""
    item: Item
    tier_name: str
    reason: str
    won: bool
    digest: str
    price: int
    pool_draw: int | None = None
    """The draw's place in a finite pool (1 … released)."""
    remaining: int | None = None
    """Boxes left in a finite pool after this draw."""
    last_prize: LastPrize | None = None
    position: int = 0
    """The draw's place in the whole game (1, 2, 3 …), as the store ordered it."""
    receipt: str = ""
    """SHA-256 of the draw's log entry: keep it, and after the reveal find it in the
    published log at ``position`` (docs/games.md)."""
    currency: Currency = attrs.field(eq=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data; money as decimal strings."""
        money = self.currency.to_decimal
        return {"game": self.game, "customer": self.customer, "nonce": self.nonce,
                "client_seed": self.client_seed, "position": self.position,
                "receipt": self.receipt, "item": self.item.id,
                "name": self.item.name, "tier": self.item.tier, "tier_name": self.tier_name,
                "hidden": self.item.hidden, "value": str(money(self.item.value)),
                "reason": self.reason, "won": self.won, "digest": self.digest,
                "price": str(money(self.price)), "pool_draw": self.pool_draw,
                "remaining": self.remaining,
                "last_prize": None if self.last_prize is None else
                {"name": self.last_prize.name, "value": str(money(self.last_prize.value))}}


class BlindBoxGame(ChanceGame):
    """A blind box bound to a store: :meth:`open`, :meth:`draw`, :meth:`odds`,
    :meth:`state`, :meth:`disclosure`, and the base class's :meth:`reveal`."""

    config: BlindBoxConfig

    # -- keys --------------------------------------------------------------------

    @property
    def draws_key(self) -> str:
        """Counter: draws so far (a finite pool's compare-and-set serializer)."""
        return self.row_id("pool", "draws")

    def drawn_key(self, item: str) -> str:
        """Counter: boxes of ``item`` drawn (limited to its quantity in a finite pool)."""
        return self.row_id("pool", "drawn", item)

    @property
    def last_prize_key(self) -> str:
        """Counter: last prizes given (at most one)."""
        return self.row_id("pool", "last_prize")

    def customer_row(self, customer: str) -> str:
        """The row of one customer's draws, day totals and pity count."""
        return self.row_id("customer", customer)

    # -- operations --------------------------------------------------------------

    def draw(self, customer: Customer, *, client_seed: str | None = None,
             guardian_consent: bool = False, channel: str | None = None) -> BoxDraw:
        """Open one box for ``customer`` (paying :attr:`BlindBoxConfig.price`).

        ``client_seed`` is the customer's part of the draw's randomness; without one
        the draw uses the hash of the log before it (``prev``), which nobody knew
        when the seed was committed to. Raises :class:`GameError`: ``not_open``, ``revealed``,
        ``not_started``/``ended``, ``customer_required``, ``not_eligible:…``,
        ``age_restricted``, ``guardian_consent_required``,
        ``limit_reached:draws_per_day``, ``limit_reached:spend_per_day``,
        ``sold_out``, ``bad_argument``, ``busy``."""
        self.check_channel(channel)
        now = self.now()
        self.check_running(now)
        self.check_customer(customer, now, channel=channel)
        assert customer.id is not None
        game_row = self.started()
        if game_row is None:
            raise GameError(f"game {self.id!r} is not open yet: open() publishes its "
                            "commitment first", reason="not_open", game=self.id)
        if game_row["status"] == "revealed":
            raise GameError(f"game {self.id!r} revealed its seed and takes no more draws",
                            reason="revealed", game=self.id)
        self._check_age(customer, now.date(), guardian_consent)
        given = None if client_seed is None else self.client_seed(customer.id, client_seed)
        return self._draw(customer.id, given, game_row, now)

    def closing(self) -> Delta:
        """The reveal lifts the live counter past ``LIVE_LIMIT``: every later draw,
        whose +1 is limited to it, is refused on any app server."""
        return Delta(self.live_key, LIVE_LIMIT)

    def final_draws(self, values: Mapping[str, int]) -> int:
        return self.total_draws()

    def total_draws(self) -> int:
        """Draws in the whole game so far (the final count once revealed)."""
        return self.store.read([self.draws_key])[self.draws_key]

    def odds(self) -> Odds:
        """Every item's and tier's probability in the next draw (a finite pool's from
        the boxes left), released quantities and the value range."""
        return odds_of(self.config, self._drawn() if self.config.finite else None)

    def state(self, customer_id: str) -> dict[str, Any]:
        """A customer's standing: draws, today's draws and spend and what is left of
        the day's caps, the pity count, the items they hold; and the game's status."""
        config = self.config
        _, body = self.read(self.customer_row(customer_id))
        body = body or {}
        today = self.now().date().isoformat()
        day_draws = body.get("day_draws", 0) if body.get("day") == today else 0
        day_spend = body.get("day_spend", 0) if body.get("day") == today else 0
        since = body.get("since_pity", 0)
        drawn = self._drawn() if config.finite else {}
        return {
            "game": self.id, "status": self._status(drawn), "customer": customer_id,
            "draws": body.get("draws", 0), "items": dict(body.get("items", {})),
            "today": {"date": today, "draws": day_draws, "spend": config.amount(day_spend)},
            "draws_left_today": (None if config.draws_per_day is None
                                 else max(0, config.draws_per_day - day_draws)),
            "spend_left_today": (None if config.spend_per_day is None
                                 else config.amount(max(0, config.spend_per_day - day_spend))),
            "pity": None if config.pity is None else {
                "tier": config.pity.tier, "within": config.pity.within, "since": since,
                "guaranteed_within": max(1, config.pity.within - since)},
            "remaining": sum(config.counts(drawn).values()) if config.finite else None,
        }

    def disclosure(self, lang: str = "zh-CN") -> str:
        """The rules for customers, with a finite pool's current counts, the law's
        age rule of the jurisdiction and, once open, the commitment."""
        text = Text(lang, currency=self.runtime.currency)
        started = self.started()
        return "\n".join(disclosure_lines(
            self.spec, text, drawn=self._drawn() if self.config.finite else None,
            jurisdiction=self.runtime.jurisdiction,
            commitment=None if started is None else str(started["commitment"])))

    def act(self, action: str, customer: Customer, args: Mapping[str, str]) -> Any:
        """``open``, ``draw`` (``client_seed``, ``guardian_consent``), ``odds``,
        ``state``, ``reveal``."""
        allowed = {"draw": {"client_seed", "guardian_consent"}}.get(action, set())
        unknown = sorted(set(args) - allowed)
        if unknown:
            raise GameError(f"action {action!r} takes no {', '.join(unknown)}",
                            reason="bad_argument", game=self.id)
        if action == "open":
            return {"game": self.id, "commitment": self.open()}
        if action == "draw":
            consent = args.get("guardian_consent", "false").lower()
            if consent not in ("true", "false"):
                raise GameError("guardian_consent must be true or false",
                                reason="bad_argument", game=self.id)
            return self.draw(customer, client_seed=args.get("client_seed"),
                             guardian_consent=consent == "true").to_json()
        if action == "odds":
            return self.odds().to_json()
        if action == "state":
            if customer.id is None:
                raise GameError("state needs --customer", reason="customer_required",
                                game=self.id)
            return self.state(customer.id)
        if action == "reveal":
            self.reveal()
            return self.published()
        return super().act(action, customer, args)

    # -- inside --------------------------------------------------------------------

    def _check_age(self, customer: Customer, today: date, consent: bool) -> None:
        if customer.birthday is None:
            return  # unknown age: the shop did not tell us, nothing to check
        age = age_on(customer.birthday, today)
        cn = self.runtime.jurisdiction == "cn"
        minimum = max(self.config.min_age or 0, CN_MIN_AGE if cn else 0)
        if age < minimum:
            raise GameError(f"blind boxes are not sold to customers under {minimum} "
                            f"(customer {customer.id!r} is {age})", reason="age_restricted",
                            game=self.id)
        if cn and age < CN_CONSENT_AGE and not consent:
            raise GameError(f"customer {customer.id!r} is {age}: under {CN_CONSENT_AGE} a "
                            "guardian's consent is needed (guardian_consent=True)",
                            reason="guardian_consent_required", game=self.id)

    def _drawn(self) -> dict[str, int]:
        keys = [self.drawn_key(item.id) for item in self.config.items]
        values = self.store.read(keys)
        return {item.id: values.get(key, 0)
                for item, key in zip(self.config.items, keys, strict=True)}

    def _status(self, drawn: Mapping[str, int]) -> str:
        started = self.started()
        if started is None:
            return "not_open"
        if started["status"] == "revealed":
            return "revealed"
        if self.config.finite and not sum(self.config.counts(drawn).values()):
            return "sold_out"
        return "running"

    def _draw(self, customer: str, given: str | None, game_row: Mapping[str, Any],
              now: datetime) -> BoxDraw:
        """Apply one draw: the customer's row (nonce, day totals, pity), the pool's
        counters and the log entry in one change, which takes the game's next
        position by a compare-and-set on the draw counter; retried when the row or
        the counter moved meanwhile. So the log's order is the order of the picks,
        each entry's ``position`` its real place and its ``prev`` the entry before."""
        config = self.config
        seed, start = str(game_row["seed"]), str(game_row["commitment"])
        row_id = self.customer_row(customer)
        today = now.date().isoformat()
        for attempt in range(MAX_ATTEMPTS):
            row = self.store.order(row_id)
            body = _customer_body(row.body if row is not None else None, today)
            self._check_caps(body)
            nonce = body["draws"] + 1
            snapshot = self._pool_snapshot()
            if snapshot is None:
                continue  # a draw landed between our reads: read again
            pool_draws, drawn, prizes_given = snapshot
            counts = config.counts(drawn)
            if config.finite and not sum(counts.values()):
                raise GameError(f"game {self.id!r}: every box of the pool is drawn",
                                reason="sold_out", game=self.id)
            prev = chain_tail(self.store, self.stream("draws"), pool_draws, start)
            digest = draw_digest(seed, customer=customer, client_seed=given or prev,
                                 nonce=nonce, config_hash=self.audit_hash)
            item, reason = config.pick(digest, counts, body["since_pity"])
            remaining = sum(counts.values()) - 1 if config.finite else None
            last = (config.last_prize if remaining == 0 and not prizes_given else None)
            result = BoxDraw(game=self.id, customer=customer, nonce=nonce,
                             client_seed=given or prev, item=item,
                             tier_name=config.tier(item.tier).name, reason=reason,
                             won=config.wins(item), digest=digest.hex(), price=config.price,
                             pool_draw=pool_draws + 1 if config.finite else None,
                             remaining=remaining, last_prize=last, position=pool_draws + 1,
                             currency=config.currency)
            entry = self._entry(result, given, prev, body["since_pity"], now)
            result = attrs.evolve(result, receipt=entry_hash(entry))
            change = self._change(row_id, row.revision if row is not None else 0, body,
                                  result, entry, pool_draws)
            outcome = self.store.apply(change)
            if outcome.applied:
                self._announce(result)
                return result
            self.raise_if_revealed(outcome.refused)
            if attempt >= 2:  # contended: step aside a little, at random
                time.sleep(random.uniform(0, min(0.002 * attempt, 0.05)))
        raise GameError(f"game {self.id!r}: the pool stayed busy after {MAX_ATTEMPTS} "
                        "attempts; try again", reason="busy", game=self.id)

    def _check_caps(self, body: Mapping[str, Any]) -> None:
        config = self.config
        if config.draws_per_day is not None and body["day_draws"] >= config.draws_per_day:
            raise GameError(f"at most {config.draws_per_day} box(es) a day per customer",
                            reason="limit_reached:draws_per_day", game=self.id)
        if (config.spend_per_day is not None
                and body["day_spend"] + config.price > config.spend_per_day):
            raise GameError(f"at most {config.currency.format(config.spend_per_day)} a day "
                            "per customer on boxes", reason="limit_reached:spend_per_day",
                            game=self.id)

    def _pool_snapshot(self) -> tuple[int, dict[str, int], int] | None:
        """Draws so far, each item's drawn count and last prizes given, read in one
        call; ``None`` if the reads disagree (a draw applied in between)."""
        if not self.config.finite:  # a fixed pool draws from the weights alone
            return self.store.read([self.draws_key])[self.draws_key], {}, 0
        items = self.config.items
        keys = [self.draws_key, self.last_prize_key, *(self.drawn_key(i.id) for i in items)]
        values = self.store.read(keys)
        drawn = {item.id: values.get(self.drawn_key(item.id), 0) for item in items}
        pool_draws = values.get(self.draws_key, 0)
        if sum(drawn.values()) != pool_draws:
            return None
        return pool_draws, drawn, values.get(self.last_prize_key, 0)

    def _entry(self, result: BoxDraw, given: str | None, prev: str, since_pity: int,
               now: datetime) -> dict[str, Any]:
        """The draw's log entry (docs/games.md, "The draw log")."""
        money = self.config.currency.to_decimal
        last = result.last_prize
        return {"position": result.position, "prev": prev, "customer": result.customer,
                "client_seed": given, "nonce": result.nonce, "config_hash": self.audit_hash,
                "digest": result.digest, "item": result.item.id, "tier": result.item.tier,
                "hidden": result.item.hidden, "value": str(money(result.item.value)),
                "reason": result.reason, "won": result.won, "since_pity": since_pity,
                "price": str(money(result.price)), "pool_draw": result.pool_draw,
                "remaining": result.remaining,
                "last_prize": None if last is None else
                {"name": last.name, "value": str(money(last.value))},
                "at": now.isoformat()}

    def _change(self, row_id: str, revision: int, body: dict[str, Any], result: BoxDraw,
                entry: Mapping[str, Any], pool_draws: int) -> Change:
        config = self.config
        item = result.item
        items = dict(body["items"])
        items[item.id] = items.get(item.id, 0) + 1
        since = 0 if config.counts_for_pity(item) else body["since_pity"] + 1
        new_body = {**body, "draws": result.nonce, "since_pity": since, "items": items,
                    "day_draws": body["day_draws"] + 1,
                    "day_spend": body["day_spend"] + config.price}
        # compare-and-set: only if nobody drew since we read the draw counter
        deltas = [Delta(self.draws_key, 1), self.live_hold()]
        if config.finite:
            deltas.append(Delta(self.drawn_key(item.id), 1, limit=item.quantity))
            if result.last_prize is not None:
                deltas.append(Delta(self.last_prize_key, 1, limit=1))
        else:
            deltas.append(Delta(self.drawn_key(item.id), 1))
        return Change(order_id=row_id, revision=revision, status="active", body=dumps(new_body),
                      deltas=tuple(deltas), expect=(Expect(self.draws_key, pool_draws,
                                                           pool_draws),),
                      journal=(JournalEntry(self.stream("draws"), canonical_json(entry)),
                               *self.outbox(row_id, revision + 1, self._events(result))))

    def _events(self, result: BoxDraw) -> list[tuple[str, str | None, dict[str, Any]]]:
        """What a draw tells observers, in order (``drawn``, ``won``, …)."""
        data = result.to_json()
        events: list[tuple[str, str | None, dict[str, Any]]] = [
            ("drawn", result.customer, data)]
        if result.won:
            events.append(("won", result.customer, data))
        if result.last_prize is not None:
            events.append(("last_prize", result.customer, data["last_prize"]))
        if result.remaining == 0:
            events.append(("sold_out", None, {"released": self.config.released(),
                                              "last_customer": result.customer}))
        return events

    def _announce(self, result: BoxDraw) -> None:
        for event, customer, data in self._events(result):
            self.emit(event, customer, data)


def _customer_body(text: str | None, today: str) -> dict[str, Any]:
    """A customer's row, with the day totals reset on a new local day."""
    body: dict[str, Any] = {"draws": 0, "since_pity": 0, "items": {}, "day": today,
                            "day_draws": 0, "day_spend": 0}
    if text is not None:
        body.update(json.loads(text))
    if body["day"] != today:
        body.update(day=today, day_draws=0, day_spend=0)
    return body
