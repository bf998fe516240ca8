"""``promokit demo``: a 雙11 story for a newcomer, priced step by step.

The campaigns are ``campaigns.toml``, shipped inside this package (a copy
of ``examples/d11.toml``). Only the built-in plugins are used and every cart
carries a fixed ``now``, so the output is the same on every machine. The store
is the embedded SQLite one, in a new file in a temporary directory (or the
``--store`` URL given, which should be empty). The pricing steps read its
counters; the checkout steps reserve, commit, refund and replay orders in it,
and show the ledger; the game steps (:mod:`promokit.demo.games`) play the five
built-in games on it. Step 7 is priced with ``lang="zh-CN"``.
"""

from __future__ import annotations

import functools
import tempfile
import tomllib
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

import attrs

from ..cart import Cart
from ..engine import Engine
from ..loading import parse_campaigns
from ..registry import Registry, open_store
from ..stores import Store
from ..tables import display_width, money_text, render, render_result
from ..times import iso_text
from .games import EventLog, StoryClock, game_engine, games_story

__all__ = ["CAMPAIGNS_RESOURCE", "GAMES_RESOURCE", "run"]

#: The demo's campaign file, inside the ``promokit.demo`` package.
CAMPAIGNS_RESOURCE = "campaigns.toml"
#: The demo's games (``examples/d11_games.toml`` with 11.11 2026's windows), merged with
#: the campaigns.
GAMES_RESOURCE = "games.toml"

#: The clock for a cart without ``now`` (every demo cart has one).
_NOW = datetime.fromisoformat("2026-11-11T00:30:00+08:00")

_XIAOMEI = {"id": "xiaomei", "tier": "gold", "orders_count": 12}
_SHOES = {"id": "l1", "sku": "SHOE-1", "quantity": 1, "unit_price": "399.00",
          "category": "apparel/shoes", "brand": "acme", "shop": "acme"}
_LAMP = {"id": "l2", "sku": "LAMP-1", "quantity": 1, "unit_price": "129.00",
         "category": "home/lighting", "shop": "lumen"}
_BLENDER = {"id": "l1", "sku": "BLENDER-1", "quantity": 1, "unit_price": "399.00",
            "category": "home/kitchen", "shop": "mixo"}
_TEES = {"sku": "TEE-BASIC", "unit_price": "79.00", "category": "apparel/tops",
         "shop": "sockhaus"}


@attrs.frozen(kw_only=True)
class _Step:
    title: str
    explanation: str
    cart: Mapping[str, Any]
    lang: str = "en"


def _cart(lines: list[dict[str, Any]], customer: dict[str, Any], *, channel: str = "app",
          now: str, shipping: str = "12.00", codes: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"currency": "CNY", "lines": lines, "shipping": shipping, "customer": customer,
            "channel": channel, "now": now, "codes": list(codes)}


_STEPS = (
    _Step(
        title="1. 小美, a gold member, buys shoes and a lamp on the app at 00:30 on 11.11",
        explanation=(
            "Her 金卡95折 comes off each item first, ACME's 每滿300減50 counts only the "
            "ACME shoes,\nthen 跨店滿減 is measured on what is left across both shops and is "
            "funded 70% by the\nplatform and 30% by the merchants; the order is over ¥99, "
            "so shipping is free."),
        cart=_cart([_SHOES, _LAMP], _XIAOMEI, now="2026-11-11T00:30:00+08:00"),
    ),
    _Step(
        title="2. The same cart on the web",
        explanation=(
            "跨店滿減 has a channel condition (app or mini program only), so on the web it is "
            "listed\nunder 'not applied' as not_eligible:channel; everything else still applies."),
        cart=_cart([_SHOES, _LAMP], _XIAOMEI, channel="web", now="2026-11-11T00:30:00+08:00"),
    ),
    _Step(
        title="3. 阿明's cart is ¥28 short of 跨店滿300減50",
        explanation=(
            "A jacket (¥199) and a towel set (¥73) make ¥272, below the first tier, so "
            "跨店滿減 does\nnot apply yet and promokit tells him how much more to add "
            "(湊單提示)."),
        cart=_cart([
            {"id": "l1", "sku": "JACKET-1", "quantity": 1, "unit_price": "199.00",
             "category": "apparel/outerwear", "shop": "north"},
            {"id": "l2", "sku": "TOWEL-SET", "quantity": 1, "unit_price": "73.00",
             "category": "home/bath", "shop": "lumen"},
        ], {"id": "aming", "orders_count": 5}, now="2026-11-11T10:00:00+08:00"),
    ),
    _Step(
        title="4a. 0點秒殺: 阿強 buys the ¥399 blender at 00:05",
        explanation=(
            "Inside its daily 00:00–02:00 window the flash sale sets the blender to ¥99 "
            "(one per order,\n500 in stock); ¥99 is too little for 跨店滿減 but just enough "
            "for free shipping."),
        cart=_cart([_BLENDER], {"id": "aqiang", "orders_count": 2},
                   now="2026-11-11T00:05:00+08:00"),
    ),
    _Step(
        title="4b. The same blender at 02:30",
        explanation=(
            "The window has closed, so the flash sale is out_of_window; at its full ¥399 the "
            "blender\nnow qualifies for 跨店滿300減50 instead."),
        cart=_cart([_BLENDER], {"id": "aqiang", "orders_count": 2},
                   now="2026-11-11T02:30:00+08:00"),
    ),
    _Step(
        title="5. 小林, a new customer, with a mistyped code",
        explanation=(
            "Her first order gets the 新人無門檻券 (¥20 off, no minimum spend); the code she "
            "typed\nmatches no promotion, so it is listed as rejected (code_invalid) "
            "rather than silently ignored."),
        cart=_cart([
            {"id": "l1", "sku": "TEE-1", "quantity": 1, "unit_price": "59.90",
             "category": "apparel/tops", "shop": "north"},
        ], {"id": "xiaolin", "orders_count": 0}, now="2026-11-11T09:00:00+08:00",
            shipping="8.00", codes=("D11-7KQ2-XM9B",)),
    ),
    _Step(
        title="6. 小王's 雙11 haul: socks, tees and beauty, with a gift and double points",
        explanation=(
            "Quantity deals work on units, and a unit counts for one deal at most: the 4 socks "
            "make two\n第二件半價 pairs (¥24.50 off each), the 3 tees one 買二送一 group (one tee "
            "free), and the\nlipsticks and mask together reach 滿3件8折. 跨店滿減 then counts "
            "only the apparel, as it is\nafter those deals (socks ¥147 + tees ¥158 = ¥305). "
            "sockhaus's ¥305 also earns its 滿99 gift,\nand its lines earn 2 points per ¥1 of "
            "what they finally cost (¥255.00 × 2 = 510)."),
        cart=_cart([
            {"id": "l1", "sku": "SOCK-MERINO", "quantity": 4, "unit_price": "49.00",
             "category": "apparel/socks", "shop": "sockhaus"},
            {"id": "l2", "quantity": 3, **_TEES},
            {"id": "l3", "sku": "LIPSTICK-1", "quantity": 2, "unit_price": "89.00",
             "category": "beauty/makeup", "shop": "glowup"},
            {"id": "l4", "sku": "MASK-1", "quantity": 1, "unit_price": "59.00",
             "category": "beauty/skincare", "shop": "glowup"},
        ], {"id": "xiaowang", "orders_count": 8}, now="2026-11-11T20:00:00+08:00"),
    ),
    _Step(
        title="7. 小紅's cart in Chinese: a bundle, a presale TV and two 湊單 hints",
        explanation=(
            'engine.evaluate(cart, lang="zh-CN") words the reasons and hints in Chinese; '
            "reason codes and\namounts do not change. The phone and earbuds cost ¥4599 as a "
            "bundle. 小紅 paid ¥300 for the\nTV in the presale: 定金膨脹×2 would take another "
            "¥300 off, but the cap stops it at ¥200, and\nthe balance due is the total less "
            "the ¥300 already paid. Only apparel and home goods count\nfor 跨店滿減, so one "
            "more ¥79 tee would earn both its ¥50 off and sockhaus's gift."),
        cart=_cart([
            {"id": "l1", "quantity": 1, **_TEES},
            {"id": "l2", "sku": "JACKET-1", "quantity": 1, "unit_price": "199.00",
             "category": "apparel/outerwear", "shop": "north"},
            {"id": "l3", "sku": "PHONE-1", "quantity": 1, "unit_price": "3999.00",
             "category": "electronics/phones", "shop": "voltmart"},
            {"id": "l4", "sku": "BUDS-1", "quantity": 1, "unit_price": "999.00",
             "category": "electronics/audio", "shop": "voltmart"},
            {"id": "l5", "sku": "TV-65", "quantity": 1, "unit_price": "4999.00",
             "deposit_paid": "300.00", "category": "electronics/tv", "shop": "voltmart"},
        ], {"id": "xiaohong", "orders_count": 4}, now="2026-11-11T21:00:00+08:00"),
        lang="zh-CN",
    ),
)


def run(out: TextIO, store_url: str | None = None, *, color: bool = False) -> None:
    """Write the demo story to ``out``, on a new SQLite store (or ``store_url``);
    ``color``: tables with terminal colours (:func:`promokit.tables.use_color`)."""
    events = EventLog()
    registry = Registry.default([events], load_entry_points=False)
    if store_url is not None:
        store = open_store(store_url, registry=registry)
        try:
            _story(out, registry, store, store_url, events, color)
        finally:
            store.close()
        return
    with tempfile.TemporaryDirectory(prefix="promokit-demo-") as folder:
        url = f"sqlite:///{Path(folder) / 'demo.db'}"
        store = open_store(url, registry=registry)
        try:
            _story(out, registry, store, "sqlite:///…/demo.db (a new file)", events, color)
        finally:
            store.close()


def _story(out: TextIO, registry: Registry, store: Store, where: str,
           events: EventLog, color: bool) -> None:
    package = resources.files("promokit.demo")
    data = tomllib.loads(package.joinpath(CAMPAIGNS_RESOURCE).read_text(encoding="utf-8"))
    games = tomllib.loads(package.joinpath(GAMES_RESOURCE).read_text(encoding="utf-8"))
    data["game"] = games["game"]
    campaigns = parse_campaigns(data, registry,
                                source=f"{CAMPAIGNS_RESOURCE}, {GAMES_RESOURCE}")
    clock = StoryClock(_NOW)
    engine = Engine(campaigns, registry=registry, store=store, clock=clock)
    names = {p.id: p.name for p in campaigns.promotions}

    def say(*lines: str) -> None:
        for line in lines:
            print(line, file=out)

    def heading(title: str, underline: str) -> None:
        say(title, underline * display_width(title))

    heading("promokit demo: 雙11 pricing, step by step", "=")
    say("",
        f"The campaign file ({CAMPAIGNS_RESOURCE}, shipped with promokit; the same as "
        "examples/d11.toml)",
        f"prices in {campaigns.currency.code}, {campaigns.timezone.key} time, with these "
        "promotions:", "")
    campaign_names = {c.id: c.name for c in campaigns.campaigns}
    rows = [[p.id, p.name, p.kind, p.stage, campaign_names.get(p.campaign or "", "-")]
            for p in campaigns.promotions if p.kind != "game_price"]
    say(render(["promotion", "name", "kind", "stage", "campaign"], rows, indent="  ",
               color=color), "")
    say("Steps 1 to 5 use the first six; steps 6 and 7 the rest of the catalogue: quantity "
        "deals, a gift,", "a presale deposit and points, in shops of their own. The last "
        "needs a coupon code (promokit", "coupons generate, docs/checkout.md).", "")
    say("A cart is priced stage by stage: item → shop → platform → shipping. A threshold "
        "is measured",
        "on what the earlier stages left, and every promotion that does not apply says why.")
    for step in _STEPS:
        say("")
        heading(step.title, "-")
        say(step.explanation, "")
        cart = Cart.from_json(step.cart)
        result = engine.evaluate(cart, lang=step.lang)
        say(render_result(result, names=names, cart=cart, timezone=campaigns.timezone,
                          color=color))
    table = functools.partial(render, color=color)
    _checkout_story(say, heading, table, engine, clock, store, where, names)
    games_story(say, heading, *game_engine(engine, registry, _NOW), events, table=table)
    say("",
        "Try your own: promokit evaluate examples/d11.toml --cart cart.json, then",
        "promokit checkout examples/d11.toml --cart cart.json --order SO-1 "
        "--store sqlite:///promokit.db",
        "(docs/cli.md); the games:",
        "promokit game list examples/d11.toml examples/d11_games.toml (docs/games.md).")


def _checkout_story(say: Any, heading: Any, table: Any, engine: Engine, clock: StoryClock,
                    store: Store, where: str, names: Mapping[str, str]) -> None:
    """Steps 8 to 11: orders reserved, paid, refunded and replayed in the store. An
    order is priced at the engine's clock, never at the cart's ``now``: the story
    sets the clock to the time of each step."""
    code = engine.campaigns.currency.code

    def cny(amount: Decimal) -> str:
        return money_text(code, amount)

    say("")
    heading(f"Checkout on the store: {where}", "=")
    say("", "Until now nothing was written. At checkout the order is priced again and "
        "everything it",
        "consumes (uses, flash-sale stock, budgets, codes) is reserved in the store, all "
        "or nothing.")
    say("")
    heading("8. 阿強 checks out the flash-sale blender (step 4a) and pays", "-")
    blender = _STEPS[3].cart
    clock.now = datetime.fromisoformat(blender["now"])
    order = engine.checkout(blender, "SO-D11-0001")
    assert order.expires_at is not None  # a new reservation expires
    say(f"checkout SO-D11-0001: {order.status}, total {cny(order.result.total)}; the "
        f"reservation expires {iso_text(order.expires_at)}",
        "unless paid. It holds (budgets in fen):")
    say(table(["counter", "amount", "limit"],
              [[d.key, str(d.amount), "-" if d.limit is None else str(d.limit)]
               for d in order.holds], right={1, 2}, indent="  "))
    engine.commit("SO-D11-0001")
    left = 500 - store.read(["stock:flash-blender"])["stock:flash-blender"]
    say("", f"commit: paid. Flash-sale stock left: {left} of 500.")
    say("")
    heading("9. 阿強 tries a second blender (limit: one per customer)", "-")
    second = engine.checkout(blender, "SO-D11-0002")
    say(f"checkout SO-D11-0002: total {cny(second.result.total)}; flash-blender: "
        f"{second.result.reason('flash-blender')}. He changes his mind:")
    released = engine.release("SO-D11-0002")
    say(f"release SO-D11-0002: {released.status}; everything it held is given back.")
    say("")
    heading("10. 小美 checks out her step-1 cart, pays, then returns the lamp", "-")
    clock.now = datetime.fromisoformat(_STEPS[0].cart["now"])
    first = engine.checkout(_STEPS[0].cart, "SO-D11-0003")
    engine.commit("SO-D11-0003")
    say(f"paid {cny(first.result.total)}. Returning the lamp, two ways of counting:")
    proportional = first.result.refund({"l2": 1})
    refund = engine.refund("SO-D11-0003", "RF-1", {"l2": 1}, policy="reevaluate")
    say(f"  proportional (the lamp's allocated net):        {cny(proportional)}",
        f"  reevaluate (re-price what she keeps):           {cny(refund.amount)}"
        + (f", {cny(refund.clawback)} clawed back" if refund.clawback else ""),
        "The shop chose reevaluate: she pays what the shoes alone cost "
        f"({cny(first.result.total - refund.amount)}),",
        "whatever share of the discounts the lamp had carried.")
    say("")
    heading("11. The redemption ledger, and a replay", "-")
    rows = [[e.order_id, e.kind, names.get(e.promotion, e.promotion), cny(e.amount),
             "\n".join(party for party, _ in e.funding),
             "\n".join(cny(share) for _, share in e.funding)]
            for e in store.ledger()]
    say(table(["order", "kind", "promotion", "amount", "funded by", ""], rows,
              right={3, 5}, indent="  "))
    replay = engine.replay("SO-D11-0003")
    say("", f"replay SO-D11-0003 under campaign version {replay.order.campaign_version[:12]}…: "
        + ("matches the record" if replay.matches else "DIFFERS"))
