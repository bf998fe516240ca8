"""The games part of ``promokit demo`` (steps 12 to 17): all five built-in
games played on the demo's store, with the notifications a shop would send.

The games are ``games.toml``, those of ``examples/d11_games.toml`` as they ran
on 11.11 2026 (in the d11 campaign; the example file keeps them open into 2027),
loaded with the pricing campaigns. The lottery and the blind box start from a
fixed server seed so the story reads the same on every run — a real game draws
its seed from :mod:`secrets` (``open()`` without a seed). The clock moves: the
presale's deposit is put down on 1 November, the rest happens on 11.11.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar

import attrs

from ..cart import Cart, Customer
from ..engine import Engine
from ..errors import GameError
from ..gameplay import verify_log
from ..games import Game, GameEvent
from ..hookspecs import hookimpl
from ..plugins.games.bargain import BargainGame
from ..plugins.games.blind_box import BlindBoxGame
from ..plugins.games.group_buy import GroupBuyGame
from ..plugins.games.lottery import LotteryGame
from ..plugins.games.presale import PresaleGame
from ..registry import Registry
from ..tables import money_text, render

__all__ = ["EventLog", "StoryClock", "game_engine", "games_story"]

#: The fixed server seeds of the demo's chance games (never do this in a shop).
_SEEDS = {game: hashlib.sha256(f"promokit demo {game}".encode()).hexdigest()
          for game in ("koi", "zodiac", "rice-kan")}


class EventLog:
    """A ``promokit_game_event`` plugin that keeps what a shop would notify."""

    def __init__(self) -> None:
        self.events: list[GameEvent] = []

    @hookimpl
    def promokit_game_event(self, event: GameEvent) -> None:
        self.events.append(event)

    def take(self) -> list[GameEvent]:
        taken, self.events = self.events, []
        return taken


class StoryClock:
    """The demo's clock: the story sets it to the time of each step."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def games_story(say: Callable[..., None], heading: Callable[[str, str], None],
                engine: Engine, clock: StoryClock, events: EventLog, *,
                table: Callable[..., str] = render) -> None:
    """Play the five games on ``engine``'s store; ``clock`` is the engine's (from
    :func:`game_engine`), moved to put the presale's deposit down in time. Tables are
    drawn by ``table`` (:func:`promokit.tables.render`, perhaps in colour)."""
    money = engine.campaigns.currency

    def amount(minor: int) -> str:
        return money_text(money.code, money.to_decimal(minor))

    def cny(value: Decimal) -> str:
        return money_text(money.code, value)

    def notify() -> None:
        for event in events.take():
            if event.event in ("started", "drawn", "helped"):
                continue  # the story shows these itself
            who = event.customer or "shop"
            say(f"  notify {who}: {event.game} {event.event}")

    say("")
    heading("Games on the same store: 抽獎, 盲盒, 拼團, 砍價, 預售", "=")
    say("", "Each game is a [[game]] table (examples/d11_games.toml). Its state lives in "
        "the store, changed", "atomically like checkout; every change a customer should "
        "hear about is a promokit_game_event", "(shown as 'notify …'). Disclosures: "
        "promokit rules examples/d11.toml examples/d11_games.toml.")

    # -- 12. lottery ------------------------------------------------------------------
    say("")
    heading("12. 分享抽錦鯉: a lottery with a published commitment", "-")
    koi = _game(engine, "koi", LotteryGame)
    commitment = koi.open(seed=_SEEDS["koi"])
    say(f"open: the shop publishes SHA-256 of its secret seed before the first draw: "
        f"{commitment[:16]}…")
    koi.grant("xiaomei", "share", "share-2026-11-11-1")
    grant = koi.grant("xiaomei", "quiz", "quiz-2026-11-11-1")
    say(f"小美 shares the game and answers the quiz: {grant.tickets} entry tickets, "
        "on top of one free draw a day.")
    rows = []
    for _ in range(3):
        draw = koi.draw(Customer(id="xiaomei"), client_seed="xiaomei-lucky")
        rows.append([str(draw.nonce), draw.client_seed, draw.prize.name,
                     draw.reason or "-", "ticket" if draw.ticket else "free",
                     str(draw.draws_left_today)])
    say(table(["nonce", "client seed", "prize", "fallback", "entry", "left today"], rows,
              right={0, 5}, indent="  "))
    notify()
    say("Each outcome is HMAC-SHA256(seed, canonical JSON of customer, client seed, nonce "
        "and config", "hash), each draw chained to the one before; the 錦鯉 is locked until "
        "1,000 draws, so drawing", "it earlier gives the fallback, never another paid prize.")

    # -- 13. blind box ----------------------------------------------------------------
    say("")
    heading("13. 生肖盲盒: a finite pool of 15 boxes, odds from what remains", "-")
    zodiac = _game(engine, "zodiac", BlindBoxGame)
    zodiac.open(seed=_SEEDS["zodiac"])

    def odds_row(label: str) -> list[str]:
        odds = zodiac.odds()
        return [label] + [f"{float(item.probability) * 100:.1f}% ({item.remaining})"
                          for item in odds.items]

    header = ["", *[(item.name or "隱藏款") for item in zodiac.odds().items]]
    odds = [odds_row("before")]
    opened = []
    for turn in range(15):
        buyer = "aqiang" if turn < 8 else "xiaomei"
        box = zodiac.draw(Customer(id=buyer, birthday=datetime(1996, 5, 1).date()))
        opened.append(f"{box.item.name}{'*' if box.reason == 'pity' else ''}"
                      + (f" + {box.last_prize.name}" if box.last_prize else ""))
        if turn == 7:
            odds.append(odds_row("after 8"))
    say(table(header, odds, right=set(range(1, len(header))), indent="  "))
    say("", "opened by 阿強: " + ", ".join(opened[:8]),
        "opened by 小美: " + ", ".join(opened[8:]),
        "(* = 保底 pity: a rare item within 6 draws)")
    notify()
    try:
        zodiac.draw(Customer(id="xiaodi", birthday=datetime(2014, 3, 1).date()))
    except GameError as error:
        say(f"小弟 (12) without a guardian's consent: refused, {error.reason}")

    # -- 14. group buy ----------------------------------------------------------------
    say("")
    heading("14. 水壺3人團: open, share, join, full", "-")
    pin = _game(engine, "kettle-pin", GroupBuyGame)
    kettle = {"id": "l1", "sku": "KETTLE-1", "quantity": 1, "unit_price": "99.00",
              "category": "home/kitchen", "shop": "mixo"}
    leader_cart = {"currency": "CNY", "customer": {"id": "xiaomei", "orders_count": 12},
                   "channel": "app", "now": clock.now.isoformat(),
                   "lines": [{**kettle, "group_id": "kettle-pin"}]}
    order = engine.checkout(leader_cart, "SO-PIN-1")
    engine.commit("SO-PIN-1")
    group = pin.open_group(Customer(id="xiaomei", orders_count=12), "SO-PIN-1")
    token = pin.share(group.group_id, "xiaomei")
    say(f"小美 pays {cny(order.result.total)} for the kettle (list ¥99.00) and opens group "
        f"{group.group_id};", f"her share link carries a signed token ({token[:24]}…).")
    for number, friend in enumerate(("ada", "bo"), 2):
        cart = {**leader_cart, "customer": {"id": friend, "orders_count": 0},
                "lines": [{**kettle, "group_id": group.group_id}]}
        paid = engine.checkout(cart, f"SO-PIN-{number}")
        engine.commit(f"SO-PIN-{number}")
        group = pin.join(token, Customer(id=friend, orders_count=0), f"SO-PIN-{number}")
        offers = ", ".join(a.promotion for a in paid.result.applied)
        say(f"{friend} (a new customer) pays {cny(paid.result.total)} ({offers}) and joins: "
            f"{len(group.members)} of {group.size}, {group.status}")
    late = {**leader_cart, "customer": {"id": "chen", "orders_count": 0},
            "lines": [{**kettle, "group_id": group.group_id}]}
    result = engine.evaluate(late)
    say(f"chen opens the link too late: {cny(result.total)}, "
        f"{result.reason('kettle-pin')} (the group is full)")
    notify()

    # -- 15. bargain ------------------------------------------------------------------
    say("")
    heading("15. 電飯煲砍到¥99: exactly 5 helps from ¥299.00 to ¥99.00", "-")
    rice = _game(engine, "rice-kan", BargainGame)
    rice.start(seed=_SEEDS["rice-kan"])
    bargain = rice.start_bargain(Customer(id="aqiang"))
    say(f"阿強 starts bargain {bargain.id}: {amount(bargain.price)}, at most "
        f"{bargain.helps_left} helps to go.")
    rows = []
    for friend, orders in (("ming", 3), ("li", 0), ("zhou", 5), ("wu", 1)):
        help_ = rice.help(bargain.id, Customer(id=friend, orders_count=orders))
        rows.append([friend, "new" if help_.new_helper else "", amount(help_.cut),
                     str(help_.cuts), amount(help_.price), str(help_.helps_left)])
        if help_.done:
            break
    say(table(["helper", "", "cut", "cuts", "price now", "helps left"], rows,
              right={2, 3, 4, 5}, indent="  "))
    buy = {"currency": "CNY", "customer": {"id": "aqiang", "orders_count": 7},
           "channel": "app", "now": clock.now.isoformat(),
           "lines": [{"id": "l1", "sku": "RICE-1", "quantity": 1, "unit_price": "299.00",
                      "category": "home/kitchen", "shop": "mixo",
                      "bargain_id": bargain.id}]}
    bought = engine.checkout(buy, "SO-KAN-1")
    engine.commit("SO-KAN-1")
    say(f"阿強 buys at the floor: checkout {cny(bought.result.total)}; a second order of "
        "the same bargain", f"would pay {cny(engine.evaluate(buy).total)} "
        f"({engine.evaluate(buy).reason('rice-kan')}).")
    notify()

    # -- 16. presale ------------------------------------------------------------------
    say("")
    heading("16. 65吋電視預售: deposit on 1 Nov, balance on 11.11", "-")
    tv = _game(engine, "tv", PresaleGame)
    eleven = clock.now
    clock.now = datetime.fromisoformat("2026-11-01T20:05:00+08:00")
    tv.reserve(Customer(id="xiaohong"), "DEP-1")
    tv.pay("DEP-1")
    tv.reserve(Customer(id="laowang"), "DEP-2")
    say(f"1 Nov: 小紅 puts down ¥300.00 and pays; 老王 reserves but never pays. "
        f"Stock left: {tv.stock_left()} of 100.")
    clock.now += timedelta(minutes=31)
    swept = engine.sweep()
    say(f"31 minutes later the sweep cancels {len(swept)} unpaid deposit; stock left: "
        f"{tv.stock_left()}.")
    clock.now = eleven
    line = tv.balance_line("DEP-1")
    balance_cart = Cart.from_json({"currency": "CNY", "customer": {"id": "xiaohong"},
                                   "channel": "app", "now": eleven.isoformat(),
                                   "lines": [line.to_json(money)]})
    balance = engine.evaluate(balance_cart)
    say(f"11.11: the balance cart: ¥4,999.00 − 定金膨脹 {cny(balance.discount_total)} = "
        f"{cny(balance.total)}, {cny(balance.balance_due)} still to pay.")
    engine.checkout(balance_cart, "SO-TV-1")
    engine.commit("SO-TV-1")
    done = tv.settle("DEP-1", "SO-TV-1")
    say(f"paid: deposit DEP-1 {done.status}.")
    notify()

    # -- 17. audit ----------------------------------------------------------------------
    say("")
    heading("17. After the draw: reveal the seed, anyone verifies the log", "-")
    seed = koi.reveal()
    log = koi.draw_log()
    report = verify_log(log, engine.registry)
    say(f"reveal: seed {seed[:16]}… (SHA-256 = the commitment {log.commitment[:16]}…)",
        f"verify: {report.draws} draw(s), "
        + ("all recomputed from the seed" if report.ok else "; ".join(report.problems)))
    tampered = attrs.evolve(log, entries=({**log.entries[0], "prize": "koi"},
                                          *log.entries[1:]))
    bad = verify_log(tampered, engine.registry)
    say("a log with one prize changed fails:",
        f"  {'verified?!' if bad.ok else bad.problems[0]}")


G = TypeVar("G", bound=Game)


def _game(engine: Engine, game_id: str, kind: type[G]) -> G:
    game = engine.games[game_id]
    assert isinstance(game, kind), f"{game_id} is a {type(game).__name__}"
    return game


def game_engine(engine: Engine, registry: Registry, now: datetime) -> tuple[Engine, StoryClock]:
    """An engine like ``engine`` on a clock the games story can move, and the clock."""
    clock = StoryClock(now)
    return Engine(engine.campaigns, registry=registry, store=engine.store, clock=clock,
                  secret=hashlib.sha256(b"promokit demo share tokens").digest()), clock
