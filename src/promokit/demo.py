"""``promokit demo``: a 雙11 story for a newcomer, priced step by step.

The campaigns are ``demo_campaigns.toml``, shipped inside the package (a copy
of ``examples/d11.toml``). Only the built-in plugins are used and every cart
carries a fixed ``now``, so the output is the same on every machine. Pricing
reads limits and stock from the engine's default in-memory counters, which
start empty: nothing is used up.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import datetime
from importlib import resources
from typing import Any, TextIO

import attrs

from ._tables import display_width, render
from .cart import Cart
from .cli import render_result
from .engine import Engine
from .loader import parse_campaigns
from .registry import Registry

__all__ = ["CAMPAIGNS_RESOURCE", "run"]

#: The demo's campaign file, inside the ``promokit`` package.
CAMPAIGNS_RESOURCE = "demo_campaigns.toml"

#: The clock for a cart without ``now`` (every demo cart has one).
_NOW = datetime.fromisoformat("2026-11-11T00:30:00+08:00")

_XIAOMEI = {"id": "xiaomei", "tier": "gold", "orders_count": 12}
_SHOES = {"id": "l1", "sku": "SHOE-1", "quantity": 1, "unit_price": "399.00",
          "category": "apparel/shoes", "brand": "acme", "shop": "acme"}
_LAMP = {"id": "l2", "sku": "LAMP-1", "quantity": 1, "unit_price": "129.00",
         "category": "home/lighting", "shop": "lumen"}
_BLENDER = {"id": "l1", "sku": "BLENDER-1", "quantity": 1, "unit_price": "399.00",
            "category": "home/kitchen", "shop": "mixo"}


@attrs.frozen(kw_only=True)
class _Step:
    title: str
    explanation: str
    cart: Mapping[str, Any]


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
)


def run(out: TextIO) -> None:
    """Write the demo story to ``out``."""
    registry = Registry.default(load_entry_points=False)
    text = resources.files("promokit").joinpath(CAMPAIGNS_RESOURCE).read_text(encoding="utf-8")
    campaigns = parse_campaigns(tomllib.loads(text), registry, source=CAMPAIGNS_RESOURCE)
    engine = Engine(campaigns, registry=registry, clock=lambda: _NOW)
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
            for p in campaigns.promotions]
    say(render(["promotion", "name", "kind", "stage", "campaign"], rows, indent="  "), "")
    say("A cart is priced stage by stage: item → shop → platform → shipping. A threshold "
        "is measured",
        "on what the earlier stages left, and every promotion that does not apply says why.")
    for step in _STEPS:
        say("")
        heading(step.title, "-")
        say(step.explanation, "")
        cart = Cart.from_json(step.cart)
        say(render_result(engine.evaluate(cart), names=names, cart=cart))
    say("",
        "Prices above read limits and stock from empty in-memory counters, so nothing was "
        "used up.",
        "Try your own: promokit evaluate examples/d11.toml --cart cart.json "
        "(docs/cli.md).",
        "Next in promokit: checkout against a store, and games (抽獎, 盲盒, 拼團, 砍價).")
