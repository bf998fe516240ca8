"""``blind_box`` (盲盒): buy a sealed box of a series, find out which item is inside.

Campaign keys (besides the shared ``id``, ``name``, ``organiser`` …): ``series``,
``price`` (per box), ``pool`` (``"fixed"``: every box is drawn by the items'
``weight``; ``"finite"``: a pool of released boxes, drawn without replacement by
the ``quantity`` of each item still in it), ``tiers`` (``[{id, name}]``, common
first, rarest last), ``items`` (``[{id, name, tier, value, weight | quantity,
hidden}]``; ``value`` is the item's declared market value and is required),
``last_prize`` (finite pool: ``{name, value}`` for whoever draws the last box),
``pity`` (保底, ``{tier, within}``), ``draws_per_day``, ``spend_per_day`` and
``min_age``. In jurisdiction ``cn`` boxes are not sold to customers under 8 and
need a guardian's consent under 18 (《盲盒經營行為規範指引（試行）》), when the
customer's birthday is known.

Every draw is auditable like a lottery's: the outcome is picked from
``draw_digest(seed, client_seed, nonce, config_hash)`` with the customer's nonce
1, 2, 3 … and journalled to ``game:<id>:draws``; :meth:`BlindBox.verify`
recomputes a revealed log, replaying the pool's counts in log order.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from fractions import Fraction
from typing import Any, ClassVar

import attrs

from promokit import hookimpl
from promokit.cart import Customer
from promokit.errors import GameError
from promokit.games.audit import draw_digest, pick_weighted
from promokit.games.base import (
    MAX_ATTEMPTS,
    ConfigChange,
    Game,
    GameKind,
    GameRuntime,
    GameSpec,
    age_on,
    dumps,
)
from promokit.games.changes import compare
from promokit.money import Currency
from promokit.params import Params
from promokit.stores.base import Change, Delta, JournalEntry
from promokit.text import Text

__all__ = ["BlindBox", "BlindBoxConfig", "BlindBoxGame", "BoxDraw", "Item", "ItemOdds",
           "LastPrize", "Odds", "Pity", "Tier"]

#: Jurisdiction ``cn``: no blind boxes below this age …
CN_MIN_AGE = 8
#: … and a guardian's consent below this one.
CN_CONSENT_AGE = 18
_SEED = re.compile(r"^[0-9a-f]{64}$")


# -- config ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Tier:
    """A rarity tier (普通款, 稀有款 …); tiers are listed common first."""

    id: str
    name: str


@attrs.frozen(kw_only=True)
class Item:
    """One item of the series: its declared market value and how likely it is
    (``weight`` in a fixed pool, released ``quantity`` in a finite one)."""

    id: str
    name: str
    tier: str
    value: int
    weight: int | None = None
    quantity: int | None = None
    hidden: bool = False


@attrs.frozen(kw_only=True)
class LastPrize:
    """What whoever draws the last box of a finite pool gets besides the item."""

    name: str
    value: int


@attrs.frozen(kw_only=True)
class Pity:
    """保底: an item of ``tier`` or rarer at least once in every ``within`` draws."""

    tier: str
    within: int


@attrs.frozen(kw_only=True)
class BlindBoxConfig:
    """A blind box game's own keys, validated."""

    series: str
    price: int
    pool: str
    tiers: tuple[Tier, ...]
    items: tuple[Item, ...]
    currency: Currency
    last_prize: LastPrize | None = None
    pity: Pity | None = None
    draws_per_day: int | None = None
    spend_per_day: int | None = None
    min_age: int | None = None

    @property
    def finite(self) -> bool:
        """Whether the pool is finite (drawn without replacement)."""
        return self.pool == "finite"

    def rank(self, tier: str) -> int:
        """0 for the commonest tier, up to ``len(tiers) - 1`` for the rarest."""
        return next(index for index, t in enumerate(self.tiers) if t.id == tier)

    def tier(self, tier: str) -> Tier:
        """The tier with this id."""
        return self.tiers[self.rank(tier)]

    def item(self, item: str) -> Item | None:
        """The item with this id, if there is one."""
        return next((i for i in self.items if i.id == item), None)

    def counts(self, drawn: Mapping[str, int] | None = None) -> dict[str, int]:
        """Each item's share of the next draw: its weight, or in a finite pool what
        is left of its quantity after ``drawn``."""
        if not self.finite:
            return {item.id: item.weight or 0 for item in self.items}
        drawn = drawn or {}
        return {item.id: max(0, (item.quantity or 0) - drawn.get(item.id, 0))
                for item in self.items}

    def released(self) -> int:
        """Boxes in a finite pool (0 for a fixed one)."""
        return sum(item.quantity or 0 for item in self.items)

    def pity_due(self, since: int) -> bool:
        """Whether a draw after ``since`` draws without the pity tier must hit it."""
        return self.pity is not None and since + 1 >= self.pity.within

    def counts_for_pity(self, item: Item) -> bool:
        """Whether ``item`` is of the pity tier or rarer."""
        return self.pity is not None and self.rank(item.tier) >= self.rank(self.pity.tier)

    def wins(self, item: Item) -> bool:
        """A hidden item or one of the rarest tier (event ``won``)."""
        return item.hidden or self.rank(item.tier) == len(self.tiers) - 1

    def pick(self, digest: bytes, counts: Mapping[str, int], since: int) -> tuple[Item, str]:
        """The item ``digest`` draws among ``counts`` and why: ``draw``, ``pity``
        (due and picked among the pity tier or rarer), or ``pity_unavailable`` (due,
        but a finite pool holds nothing of that tier any more)."""
        candidates = [item for item in self.items if counts.get(item.id, 0) > 0]
        reason = "draw"
        if self.pity_due(since):
            eligible = [item for item in candidates if self.counts_for_pity(item)]
            reason = "pity" if eligible else "pity_unavailable"
            candidates = eligible or candidates
        index = pick_weighted(digest, [counts[item.id] for item in candidates])
        return candidates[index], reason

    def amount(self, minor: int) -> str:
        """Minor units as a decimal string (``"59.00"``), as the journal keeps money."""
        return str(self.currency.to_decimal(minor))


# -- results --------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class BoxDraw:
    """What one draw gave a customer (also its journal record, :meth:`to_json`)."""

    game: str
    customer: str
    nonce: int
    client_seed: str
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
    currency: Currency = attrs.field(eq=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data; money as decimal strings."""
        money = self.currency.to_decimal
        return {"game": self.game, "customer": self.customer, "nonce": self.nonce,
                "client_seed": self.client_seed, "item": self.item.id,
                "name": self.item.name, "tier": self.item.tier, "tier_name": self.tier_name,
                "hidden": self.item.hidden, "value": str(money(self.item.value)),
                "reason": self.reason, "won": self.won, "digest": self.digest,
                "price": str(money(self.price)), "pool_draw": self.pool_draw,
                "remaining": self.remaining,
                "last_prize": None if self.last_prize is None else
                {"name": self.last_prize.name, "value": str(money(self.last_prize.value))}}


@attrs.frozen(kw_only=True)
class ItemOdds:
    """One item's chance in the next draw (pity aside)."""

    id: str
    name: str | None
    """``None`` for a hidden item: customers learn it when they draw it."""
    tier: str
    hidden: bool
    value: int
    probability: Fraction
    quantity: int | None = None
    """The released quantity (finite pool)."""
    remaining: int | None = None


@attrs.frozen(kw_only=True)
class Odds:
    """The disclosed odds of the next draw: every item's and tier's probability,
    released quantities, what is left, and the range of declared values."""

    pool: str
    items: tuple[ItemOdds, ...]
    tiers: tuple[tuple[Tier, Fraction], ...]
    min_value: int
    max_value: int
    released: int | None
    remaining: int | None
    currency: Currency = attrs.field(eq=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data: probabilities as exact fractions and as percentages."""
        money = self.currency.to_decimal
        return {
            "pool": self.pool, "released": self.released, "remaining": self.remaining,
            "value_range": {"min": str(money(self.min_value)), "max": str(money(self.max_value))},
            "items": [{"id": o.id, "name": o.name, "tier": o.tier, "hidden": o.hidden,
                       "value": str(money(o.value)), "probability": str(o.probability),
                       "percent": _percent(o.probability), "quantity": o.quantity,
                       "remaining": o.remaining} for o in self.items],
            "tiers": [{"id": t.id, "name": t.name, "probability": str(p),
                       "percent": _percent(p)} for t, p in self.tiers]}


def _percent(probability: Fraction) -> str:
    """``12.50`` for 1/8; rounded half up to two places."""
    hundredths = probability * 10_000
    whole = int(hundredths + Fraction(1, 2))
    return f"{whole // 100}.{whole % 100:02d}"


def odds_of(config: BlindBoxConfig, drawn: Mapping[str, int] | None = None) -> Odds:
    """The odds of the next draw, from the weights or from what is left of a
    finite pool after ``drawn``."""
    counts = config.counts(drawn)
    total = sum(counts.values())

    def chance(count: int) -> Fraction:
        return Fraction(count, total) if total else Fraction(0)

    items = tuple(ItemOdds(id=item.id, name=None if item.hidden else item.name,
                           tier=item.tier, hidden=item.hidden, value=item.value,
                           probability=chance(counts[item.id]), quantity=item.quantity,
                           remaining=counts[item.id] if config.finite else None)
                  for item in config.items)
    tiers = tuple((tier, chance(sum(counts[i.id] for i in config.items if i.tier == tier.id)))
                  for tier in config.tiers)
    values = [item.value for item in config.items]
    return Odds(pool=config.pool, items=items, tiers=tiers, min_value=min(values),
                max_value=max(values), released=config.released() if config.finite else None,
                remaining=total if config.finite else None, currency=config.currency)


# -- the bound game ---------------------------------------------------------------------


class BlindBoxGame(Game):
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

    def open(self, *, seed: str | None = None) -> str:
        """Start the game and return the commitment to publish before the first
        draw; idempotent. ``seed`` (64 hex digits) fixes the server seed instead of
        drawing a secret one: for tests and for replaying a revealed log only,
        never in production (a known seed makes every box predictable)."""
        if seed is None:
            return self.commitment()
        if not _SEED.match(seed):
            raise GameError("seed must be 64 lowercase hex digits", reason="bad_seed",
                            game=self.id)
        body = self.start(seed=seed)
        if body["seed"] != seed:
            raise GameError(f"game {self.id!r} is already open with another seed",
                            reason="already_open", game=self.id)
        return str(body["commitment"])

    def draw(self, customer: Customer, *, client_seed: str | None = None,
             guardian_consent: bool = False) -> BoxDraw:
        """Open one box for ``customer`` (paying :attr:`BlindBoxConfig.price`).

        ``client_seed`` (default: the customer's id) is mixed into the draw's
        randomness. Raises :class:`GameError`: ``not_open``, ``revealed``,
        ``not_started``/``ended``, ``customer_required``, ``not_eligible:…``,
        ``age_restricted``, ``guardian_consent_required``,
        ``limit_reached:draws_per_day``, ``limit_reached:spend_per_day``,
        ``sold_out``, ``bad_argument``, ``busy``."""
        now = self.now()
        self.check_running(now)
        self.check_customer(customer, now)
        assert customer.id is not None
        game_row = self.started()
        if game_row is None:
            raise GameError(f"game {self.id!r} is not open yet: open() publishes its "
                            "commitment first", reason="not_open", game=self.id)
        if game_row["status"] == "revealed":
            raise GameError(f"game {self.id!r} revealed its seed and takes no more draws",
                            reason="revealed", game=self.id)
        self._check_age(customer, now.date(), guardian_consent)
        client = customer.id if client_seed is None else client_seed
        if not client or len(client) > 128:
            raise GameError("client_seed must be 1 to 128 characters", reason="bad_argument",
                            game=self.id)
        return self._draw(customer.id, client, str(game_row["seed"]), now)

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
        return "\n".join(_disclosure(
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
            return {"game": self.id, "seed": self.reveal(), "commitment": self.commitment()}
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

    def _draw(self, customer: str, client: str, seed: str, now: datetime) -> BoxDraw:
        """Apply one draw: the customer's row (nonce, day totals, pity), the pool's
        counters and the journal in one change; retried when the row or, in a finite
        pool, the pool moved meanwhile (the same nonce gives the same digest)."""
        config = self.config
        row_id = self.customer_row(customer)
        today = now.date().isoformat()
        for attempt in range(MAX_ATTEMPTS):
            row = self.store.order(row_id)
            body = _customer_body(row.body if row is not None else None, today)
            self._check_caps(body)
            nonce = body["draws"] + 1
            digest = draw_digest(seed, client, nonce, self.spec.config_hash)
            snapshot = self._pool_snapshot()
            if snapshot is None:
                continue  # a draw landed between our reads: read again
            pool_draws, drawn, prizes_given = snapshot
            counts = config.counts(drawn)
            if config.finite and not sum(counts.values()):
                raise GameError(f"game {self.id!r}: every box of the pool is drawn",
                                reason="sold_out", game=self.id)
            item, reason = config.pick(digest, counts, body["since_pity"])
            remaining = sum(counts.values()) - 1 if config.finite else None
            last = (config.last_prize if remaining == 0 and not prizes_given else None)
            result = BoxDraw(game=self.id, customer=customer, nonce=nonce, client_seed=client,
                             item=item, tier_name=config.tier(item.tier).name, reason=reason,
                             won=config.wins(item), digest=digest.hex(), price=config.price,
                             pool_draw=pool_draws + 1 if config.finite else None,
                             remaining=remaining, last_prize=last, currency=config.currency)
            change = self._change(row_id, row.revision if row is not None else 0, body,
                                  result, pool_draws, now)
            outcome = self.store.apply(change)
            if outcome.applied:
                self._announce(result)
                return result
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
        if not self.config.finite:
            return 0, {}, 0  # a fixed pool draws from the weights alone
        items = self.config.items
        keys = [self.draws_key, self.last_prize_key, *(self.drawn_key(i.id) for i in items)]
        values = self.store.read(keys)
        drawn = {item.id: values.get(self.drawn_key(item.id), 0) for item in items}
        pool_draws = values.get(self.draws_key, 0)
        if sum(drawn.values()) != pool_draws:
            return None
        return pool_draws, drawn, values.get(self.last_prize_key, 0)

    def _change(self, row_id: str, revision: int, body: dict[str, Any], result: BoxDraw,
                pool_draws: int, now: datetime) -> Change:
        config = self.config
        item = result.item
        items = dict(body["items"])
        items[item.id] = items.get(item.id, 0) + 1
        since = 0 if config.counts_for_pity(item) else body["since_pity"] + 1
        new_body = {**body, "draws": result.nonce, "since_pity": since, "items": items,
                    "day_draws": body["day_draws"] + 1,
                    "day_spend": body["day_spend"] + config.price}
        if config.finite:
            # compare-and-set: only if nobody drew since we read the pool
            deltas = [Delta(self.draws_key, 1, limit=pool_draws + 1),
                      Delta(self.drawn_key(item.id), 1, limit=item.quantity)]
            if result.last_prize is not None:
                deltas.append(Delta(self.last_prize_key, 1, limit=1))
        else:
            deltas = [Delta(self.draws_key, 1), Delta(self.drawn_key(item.id), 1)]
        entry = {**result.to_json(), "config_hash": self.spec.config_hash,
                 "since_pity": body["since_pity"], "at": now.isoformat()}
        del entry["game"], entry["tier_name"], entry["name"]
        return Change(order_id=row_id, revision=revision, status="active", body=dumps(new_body),
                      deltas=tuple(deltas),
                      journal=(JournalEntry(self.stream("draws"), dumps(entry)),))

    def _announce(self, result: BoxDraw) -> None:
        data = result.to_json()
        self.emit("drawn", result.customer, data)
        if result.won:
            self.emit("won", result.customer, data)
        if result.last_prize is not None:
            self.emit("last_prize", result.customer, data["last_prize"])
        if result.remaining == 0:
            self.emit("sold_out", None, {"released": self.config.released(),
                                         "last_customer": result.customer})


def _customer_body(text: str | None, today: str) -> dict[str, Any]:
    """A customer's row, with the day totals reset on a new local day."""
    body: dict[str, Any] = {"draws": 0, "since_pity": 0, "items": {}, "day": today,
                            "day_draws": 0, "day_spend": 0}
    if text is not None:
        body.update(json.loads(text))
    if body["day"] != today:
        body.update(day=today, day_draws=0, day_spend=0)
    return body


# -- disclosure ---------------------------------------------------------------------------


def _disclosure(spec: GameSpec, text: Text, *, drawn: Mapping[str, int] | None,
                jurisdiction: str | None, commitment: str | None) -> list[str]:
    """The rules, one line each, from the config and (finite pool) the counts drawn."""
    config: BlindBoxConfig = spec.config
    odds = odds_of(config, drawn)
    amount = text.amount
    lines = [text.pick(f"Blind box “{config.series}” ({spec.name}): {amount(config.price)} "
                       "a box; which item is inside is known only once it is opened.",
                       f"「{config.series}」盲盒（{spec.name}）：每盒{amount(config.price)}，"
                       "拆開後方知所得款式。")]
    moment = spec.schedule.start or spec.schedule.end
    if moment is not None and moment.tzinfo is not None:
        period = text.period(spec.schedule.start, spec.schedule.end, moment.tzinfo)
        lines.append(text.pick(f"Period: {period}", f"活動時間：{period}"))
    if config.finite:
        left = "" if drawn is None else text.pick(f"; {odds.remaining} left now",
                                                  f"，目前剩餘{odds.remaining}盒")
        lines.append(text.pick(
            f"Pool: {odds.released} boxes released in all, drawn without replacement"
            f"{left}; the probabilities below are the boxes left of each item over all "
            "boxes left, so they change as the pool is drawn; sold out when all are drawn.",
            f"盒池：共發售{odds.released}盒，抽出不放回{left}；以下概率為各款剩餘盒數除以"
            "總剩餘盒數，隨抽取變化；抽完即止。"))
    else:
        lines.append(text.pick("Every box is drawn with the same fixed probabilities below.",
                               "每盒均按以下固定概率抽取。"))
    for item, chance in zip(config.items, odds.items, strict=True):
        name = text.pick("hidden item", "隱藏款") if item.hidden else item.name
        tier = config.tier(item.tier).name
        parts = [text.pick(f"probability {_percent(chance.probability)}% "
                           f"({chance.probability})",
                           f"概率{_percent(chance.probability)}%（{chance.probability}）"),
                 text.pick(f"market value {amount(item.value)}", f"市場價值{amount(item.value)}")]
        if item.quantity is not None:
            parts.append(text.pick(f"{item.quantity} released", f"限量{item.quantity}個"))
            if drawn is not None:
                parts.append(text.pick(f"{chance.remaining} left", f"剩餘{chance.remaining}個"))
        lines.append(f"- [{tier}] {name}: " + ", ".join(parts) if not text.zh else
                     f"- 【{tier}】{name}：" + "，".join(parts))
    tiers = text.join(f"{tier.name} {_percent(p)}%" for tier, p in odds.tiers)
    lines.append(text.pick(f"By tier: {tiers}.", f"各款式等級概率：{tiers}。"))
    lines.append(text.pick(
        f"Declared market values range from {amount(odds.min_value)} to "
        f"{amount(odds.max_value)}.",
        f"單品市場價值範圍：{amount(odds.min_value)}至{amount(odds.max_value)}。"))
    if config.last_prize is not None:
        prize = config.last_prize
        lines.append(text.pick(
            f"Last prize: whoever draws the last box of the pool also gets {prize.name} "
            f"(market value {amount(prize.value)}).",
            f"最後賞：抽出盒池最後一盒者另得「{prize.name}」（市場價值{amount(prize.value)}）。"))
    if config.pity is not None:
        pity, tier = config.pity, config.tier(config.pity.tier).name
        rarest = config.rank(pity.tier) == len(config.tiers) - 1
        en_tier = f"{tier} item" if rarest else f"{tier} item or rarer"
        zh_tier = tier if rarest else f"{tier}或更稀有款式"
        caveat = text.pick(" while the pool still holds such items",
                           "（以盒池中尚有該等款式為限）") if config.finite else ""
        lines.append(text.pick(
            f"Guarantee: every {pity.within} draws of a customer include at least one "
            f"{en_tier}{caveat}: after {pity.within - 1} draws without one, the next is "
            "drawn among those items only, by their own probabilities.",
            f"保底：每位顧客連續{pity.within}次抽取中至少得到一個{zh_tier}{caveat}；"
            f"連續{pity.within - 1}次未得到時，下一次僅在該等款式中按其概率抽取。"))
    caps = []
    if config.draws_per_day is not None:
        caps.append(text.pick(f"up to {config.draws_per_day} boxes",
                              f"最多{config.draws_per_day}盒"))
    if config.spend_per_day is not None:
        caps.append(text.pick(f"up to {amount(config.spend_per_day)}",
                              f"最多消費{amount(config.spend_per_day)}"))
    if caps:
        lines.append(text.pick(f"Daily limit per customer: {text.join(caps)} (local day).",
                               f"每人每天限購：{'，'.join(caps)}（按當地日期計）。"))
    lines.extend(_age_rule(config, text, jurisdiction))
    if spec.organiser:
        lines.append(text.pick(f"Organiser: {spec.organiser}", f"主辦方：{spec.organiser}"))
    published = "" if commitment is None else text.pick(f" ({commitment})", f"：{commitment}")
    lines.append(text.pick(
        "Audit: each box is decided by HMAC-SHA256 of a server seed whose SHA-256 "
        f"commitment is published before the first draw{published}, the customer's seed "
        "and their draw number; the seed is published at the end and anyone can recompute "
        "every draw from the draw log (promokit game verify).",
        f"公平性：每盒結果由伺服器種子（開抽前公布其SHA-256承諾{published}）、顧客種子及其"
        "抽取序號經HMAC-SHA256決定；活動結束後公布種子，任何人可依抽取記錄逐次核驗"
        "（promokit game verify）。"))
    return lines


def _age_rule(config: BlindBoxConfig, text: Text, jurisdiction: str | None) -> list[str]:
    if jurisdiction == "cn":
        minimum = max(config.min_age or 0, CN_MIN_AGE)
        return [text.pick(
            f"Not sold to customers under {minimum}; customers under {CN_CONSENT_AGE} need "
            "their guardian's consent.",
            f"不向未滿{minimum}周歲者銷售；未滿{CN_CONSENT_AGE}周歲者須經監護人同意。")]
    if config.min_age:
        return [text.pick(f"Not sold to customers under {config.min_age}.",
                          f"不向未滿{config.min_age}周歲者銷售。")]
    return []


# -- the kind ------------------------------------------------------------------------------


class BlindBox(GameKind):
    """The ``blind_box`` game kind (see the module docstring for its keys)."""

    name = "blind_box"
    chance_based = True
    actions: ClassVar[Mapping[str, str]] = {
        "open": "start the game and print the seed commitment",
        "draw": "open one box (--customer, --set client_seed=…, "
                "--set guardian_consent=true)",
        "odds": "every item's probability now, released and remaining quantities",
        "state": "a customer's draws, day totals and pity count (--customer)",
        "reveal": "end the game's chance and publish the server seed",
    }

    def parse(self, params: Params, spec: GameSpec) -> BlindBoxConfig | None:
        price = params.money("price", positive=True)
        series = params.string("series")
        pool = params.string("pool", required=False, default="fixed",
                             choices=("fixed", "finite"))
        tiers = _tiers(params)
        items = _items(params, pool, tiers)
        last_prize = None
        prize = params.table("last_prize")
        if prize is not None:
            if pool == "fixed":
                params.problem('only a finite pool (pool = "finite") has a last box to give a '
                               "last prize for", "last_prize")
            name, value = prize.string("name"), prize.money("value", positive=True)
            prize.finish()
            last_prize = LastPrize(name=name, value=value) if name and value else None
        pity = _pity(params, tiers)
        draws_per_day = params.integer("draws_per_day", required=False, minimum=1)
        spend_per_day = params.money("spend_per_day", required=False, positive=True)
        if spend_per_day is not None and price is not None and spend_per_day < price:
            params.problem(f"is below the price of one box ({params.currency.format(price)})",
                           "spend_per_day")
        min_age = params.integer("min_age", required=False, minimum=0)
        if price is None or series is None or pool is None or not tiers or not items:
            return None
        return BlindBoxConfig(series=series, price=price, pool=pool, tiers=tiers, items=items,
                              currency=params.currency, last_prize=last_prize, pity=pity,
                              draws_per_day=draws_per_day, spend_per_day=spend_per_day,
                              min_age=min_age)

    def check(self, spec: GameSpec, jurisdiction: str, params: Params) -> None:
        """In ``cn`` a ``min_age`` may only raise the law's minimum of 8."""
        config: BlindBoxConfig = spec.config
        if jurisdiction == "cn" and config.min_age is not None and config.min_age < CN_MIN_AGE:
            params.problem(f"jurisdiction cn: blind boxes may not be sold to children under "
                           f"{CN_MIN_AGE}; min_age can only be higher", "min_age")

    def top_prize(self, config: BlindBoxConfig) -> int:
        """The highest declared item value, or the last prize's if higher."""
        values = [item.value for item in config.items]
        if config.last_prize is not None:
            values.append(config.last_prize.value)
        return max(values)

    def disclosure(self, spec: GameSpec, text: Text) -> list[str]:
        """The rules from the config alone (the bound game's adds the counts left,
        the jurisdiction's age rule and the commitment)."""
        return _disclosure(spec, text, drawn=None, jurisdiction=None, commitment=None)

    def changes(self, old: GameSpec, new: GameSpec) -> list[ConfigChange]:
        return _changes(old.config, new.config)

    def verify(self, specs: Mapping[str, GameSpec], seed: str,
               entries: Sequence[Mapping[str, Any]]) -> list[str]:
        return _Replay(specs, seed).run(entries)

    def bind(self, spec: GameSpec, runtime: GameRuntime) -> BlindBoxGame:
        return BlindBoxGame(spec, runtime)


def _unique(key: str, tables: list[Params], ids: list[str | None]) -> None:
    """Report an id listed twice at the second table naming it."""
    seen: set[str] = set()
    for table, found in zip(tables, ids, strict=True):
        if found is not None and found in seen:
            table.problem(f"{found!r} is listed twice in {key}", "id")
        if found is not None:
            seen.add(found)


def _tiers(params: Params) -> tuple[Tier, ...]:
    tables = params.tables("tiers", required=True, non_empty=True) or []
    tiers = []
    ids = []
    for table in tables:
        tier_id, name = table.string("id"), table.string("name")
        table.finish()
        ids.append(tier_id)
        if tier_id is not None and name is not None:
            tiers.append(Tier(id=tier_id, name=name))
    _unique("tiers", tables, ids)
    return tuple(tiers) if len(tiers) == len(tables) and len(set(ids)) == len(ids) else ()


def _items(params: Params, pool: str | None, tiers: tuple[Tier, ...]) -> tuple[Item, ...]:
    tables = params.tables("items", required=True, non_empty=True) or []
    tier_ids = [tier.id for tier in tiers]
    items, ids = [], []
    for table in tables:
        item_id, name, tier = table.string("id"), table.string("name"), table.string("tier")
        if tier is not None and tiers and tier not in tier_ids:
            table.problem(f"unknown tier {tier!r}; tiers: {', '.join(tier_ids)}", "tier")
            tier = None
        value = table.money("value", required=False, positive=True)
        if "value" not in table.data:
            table.problem("is required: the item's declared market value (it counts toward "
                          "the top prize and the disclosure's value range)", "value")
        weight = quantity = None
        if pool == "fixed":
            weight = table.integer("weight", minimum=1)
            if table.has("quantity"):
                table.problem('only a finite pool (pool = "finite") has quantities; a fixed '
                              "pool draws by weight", "quantity")
        elif pool == "finite":
            quantity = table.integer("quantity", minimum=1)
            if table.has("weight"):
                table.problem("a finite pool draws by the quantities left; weight is for "
                              'pool = "fixed"', "weight")
        else:  # an invalid pool was reported; these keys are not unknown
            table.raw("weight")
            table.raw("quantity")
        hidden = table.boolean("hidden")
        table.finish()
        ids.append(item_id)
        if (item_id is not None and name is not None and tier is not None
                and value is not None and (weight or quantity)):
            items.append(Item(id=item_id, name=name, tier=tier, value=value, weight=weight,
                              quantity=quantity, hidden=hidden))
    _unique("items", tables, ids)
    for index, tier_ in enumerate(tiers):
        if tables and not any(table.data.get("tier") == tier_.id for table in tables):
            params.problem(f"tier {tier_.id!r} has no items", f"tiers[{index}]")
    complete = len(items) == len(tables) and len(set(ids)) == len(ids)
    return tuple(items) if complete else ()


def _pity(params: Params, tiers: tuple[Tier, ...]) -> Pity | None:
    table = params.table("pity")
    if table is None:
        return None
    tier, within = table.string("tier"), table.integer("within", minimum=1)
    table.finish()
    tier_ids = [t.id for t in tiers]
    if tier is not None and tiers and tier not in tier_ids:
        table.problem(f"unknown tier {tier!r}; tiers: {', '.join(tier_ids)}", "tier")
        return None
    if tier is None or within is None:
        return None
    return Pity(tier=tier, within=within)


# -- config changes -------------------------------------------------------------------------


def _changes(old: BlindBoxConfig, new: BlindBoxConfig) -> list[ConfigChange]:
    """Worse for customers: a lower probability of any tier or item, a lower value or
    quantity, a later or lower pity, lower caps, a higher price or minimum age."""
    found = [*compare("price", old.price, new.price, better="lower"),
             *compare("pool", old.pool, new.pool, better="same"),
             *compare("series", old.series, new.series, better="neutral")]
    before, after = odds_of(old), odds_of(new)
    new_tiers = dict(after.tiers)
    for tier, share in before.tiers:
        now = next((p for t, p in new_tiers.items() if t.id == tier.id), Fraction(0))
        found += compare(f"tiers.{tier.id}.probability", share, now, better="higher")
    for item, chance in zip(old.items, before.items, strict=True):
        later = new.item(item.id)
        path = f"items.{item.id}"
        if later is None:
            found.append(ConfigChange(path, item.name, "removed", True))
            continue
        now = next(o.probability for o in after.items if o.id == item.id)
        found += compare(f"{path}.probability", chance.probability, now, better="higher")
        found += compare(f"{path}.value", item.value, later.value, better="higher")
        found += compare(f"{path}.quantity", item.quantity, later.quantity, better="higher")
        found += compare(f"{path}.tier", item.tier, later.tier, better="same")
        found += compare(f"{path}.name", item.name, later.name, better="neutral")
    for item in new.items:
        if old.item(item.id) is None:  # its share comes out of the others' probabilities
            found.append(ConfigChange(f"items.{item.id}", "none", item.name, False))
    found += _prize_changes(old.last_prize, new.last_prize)
    found += _pity_changes(old, new)
    found += compare("draws_per_day", old.draws_per_day, new.draws_per_day, better="higher")
    found += compare("spend_per_day", old.spend_per_day, new.spend_per_day, better="higher")
    found += compare("min_age", old.min_age or 0, new.min_age or 0, better="lower")
    return found


def _prize_changes(old: LastPrize | None, new: LastPrize | None) -> list[ConfigChange]:
    if old is None and new is None:
        return []
    if new is None:
        assert old is not None
        return [ConfigChange("last_prize", old.name, "none", True)]
    if old is None:
        return [ConfigChange("last_prize", "none", new.name, False)]
    return [*compare("last_prize.value", old.value, new.value, better="higher"),
            *compare("last_prize.name", old.name, new.name, better="neutral")]


def _pity_changes(old: BlindBoxConfig, new: BlindBoxConfig) -> list[ConfigChange]:
    if old.pity is None and new.pity is None:
        return []
    if new.pity is None:
        assert old.pity is not None
        return [ConfigChange("pity", _show_pity(old.pity), "none", True)]
    if old.pity is None:
        return [ConfigChange("pity", "none", _show_pity(new.pity), False)]
    return [*compare("pity.within", old.pity.within, new.pity.within, better="lower"),
            *compare("pity.tier", old.rank(old.pity.tier), new.rank(new.pity.tier),
                     better="higher")]


def _show_pity(pity: Pity) -> str:
    return f"{pity.tier} within {pity.within}"


# -- verification ----------------------------------------------------------------------------


class _Replay:
    """Recompute a revealed draw log entry by entry, keeping what the game kept:
    each customer's nonce and pity count, and the pool's counts in log order."""

    def __init__(self, specs: Mapping[str, GameSpec], seed: str) -> None:
        self.specs = specs
        self.seed = seed
        self.nonces: Counter[str] = Counter()
        self.since: Counter[str] = Counter()
        self.drawn: Counter[str] = Counter()
        self.pool_draws = 0
        self.prizes = 0

    def run(self, entries: Sequence[Mapping[str, Any]]) -> list[str]:
        problems: list[str] = []
        for number, entry in enumerate(entries, 1):
            try:
                problems.extend(f"draw {number}: {p}" for p in self.entry(entry))
            except (KeyError, TypeError, ValueError) as error:
                problems.append(f"draw {number}: malformed entry ({error!r})")
        return problems

    def entry(self, entry: Mapping[str, Any]) -> list[str]:
        spec = self.specs[entry["config_hash"]]
        config: BlindBoxConfig = spec.config
        customer, nonce = str(entry["customer"]), entry["nonce"]
        problems = []
        if nonce != self.nonces[customer] + 1:
            problems.append(f"customer {customer!r}'s nonce is {nonce}, expected "
                            f"{self.nonces[customer] + 1}")
        self.nonces[customer] = max(self.nonces[customer], int(nonce))
        digest = draw_digest(self.seed, str(entry["client_seed"]), int(nonce),
                             entry["config_hash"])
        if entry.get("digest") != digest.hex():
            problems.append("the digest does not match the seed, client seed and nonce")
        counts = config.counts(self.drawn)
        if config.finite:
            if entry.get("pool_draw") != self.pool_draws + 1:
                problems.append(f"pool draw {entry.get('pool_draw')} is out of order "
                                f"(expected {self.pool_draws + 1})")
            if not sum(counts.values()):
                return [*problems, "drawn from an empty pool"]
            if entry.get("remaining") != sum(counts.values()) - 1:
                problems.append(f"{entry.get('remaining')} boxes left logged, "
                                f"{sum(counts.values()) - 1} replayed")
        if entry.get("price") != config.amount(config.price):
            problems.append(f"price {entry.get('price')!r} logged, the config's is "
                            f"{config.amount(config.price)!r}")
        since = self.since[customer]
        if entry.get("since_pity") != since:
            problems.append(f"pity count {entry.get('since_pity')} logged, {since} replayed")
        item, reason = config.pick(digest, counts, since)
        logged = config.item(str(entry["item"]))
        if logged is None:
            return [*problems, f"item {entry['item']!r} is not in the series"]
        if logged.id != item.id:
            problems.append(f"logged {logged.id!r}, the digest draws {item.id!r}")
        if entry.get("reason") != reason:
            problems.append(f"reason {entry.get('reason')!r} logged, {reason!r} due")
        if (entry.get("tier"), entry.get("value"), entry.get("hidden")) != (
                logged.tier, config.amount(logged.value), logged.hidden):
            problems.append(f"tier, value or hidden of {logged.id!r} differ from the config")
        self.since[customer] = 0 if config.counts_for_pity(logged) else since + 1
        self.drawn[logged.id] += 1
        self.pool_draws += 1
        if config.finite and logged.quantity is not None and \
                self.drawn[logged.id] > logged.quantity:
            problems.append(f"{logged.id!r} drawn {self.drawn[logged.id]} times, more than "
                            f"its released {logged.quantity}")
        problems.extend(self.last_prize(config, entry))
        return problems

    def last_prize(self, config: BlindBoxConfig, entry: Mapping[str, Any]) -> list[str]:
        expected = None
        if (config.finite and config.last_prize is not None and not self.prizes
                and not sum(config.counts(self.drawn).values())):
            prize = config.last_prize
            expected = {"name": prize.name, "value": config.amount(prize.value)}
            self.prizes += 1
        if entry.get("last_prize") != expected:
            return [f"last prize {entry.get('last_prize')!r} logged, {expected!r} due"]
        return []


@hookimpl
def promokit_register_games() -> list[GameKind]:
    """Declare the ``blind_box`` game kind."""
    return [BlindBox()]
