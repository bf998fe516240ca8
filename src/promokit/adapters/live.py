"""The ``live`` channel: a live-stream room (直播間) selling while the anchor
presents.

The payload names the ``room`` and its ``anchor``, the ``viewer`` buying, and
``items``, some of them flash-sale items (``flash_sale_id``: 直播間秒殺). The room,
the anchor and the flash sale become line tags, ``room:<id>``, ``anchor:<id>``
and ``flash:<id>``, so a campaign scopes a promotion to one room, one anchor's
rooms or one flash sale with ``scope = { tags = ["room:R1111"] }``. Money is in
decimal strings. Webhooks are signed ``hmac-sha256``.
"""

from __future__ import annotations

from typing import Any

from promokit import hookimpl
from promokit.cart import Cart
from promokit.channels import (
    Capabilities,
    ChannelAdapter,
    HmacSignedAdapter,
    copy,
    copy_customer,
    copy_lines,
)
from promokit.params import Params
from promokit.result import PriceResult

_VIEWER = {"id": "id", "tier": "tier", "tags": "tags", "orders_count": "orders_count",
           "last_order_at": "last_order_at", "region": "region", "birthday": "birthday"}
_ITEM = {"line_id": "id", "sku": "sku", "quantity": "quantity", "price": "unit_price",
         "category": "category", "brand": "brand", "shop": "shop"}
_TOP = {"currency": "currency", "shipping": "shipping", "codes": "codes", "now": "now"}
_MARKS = ("room:", "anchor:", "flash:")


class LiveAdapter(HmacSignedAdapter):
    """A live-stream room's cart."""

    name = "live"
    description = "live-stream rooms (直播間): room, anchor, flash-sale items"
    capabilities = Capabilities(share_links=True, coupon_codes=True, games=True,
                                payment_kinds={"wechat_pay", "alipay"}, max_lines=50,
                                signature="hmac-sha256")

    def translate(self, p: Params, paths: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {"channel": self.channel}
        copy(p, out, _TOP, paths)
        marks: list[str] = []
        room = p.table("room", required=True)
        if room is not None:
            room_id = room.identifier("room_id")
            marks.append(f"room:{room_id}")
            anchor = room.table("anchor", required=True)
            if anchor is not None:
                marks.append(f"anchor:{anchor.identifier('anchor_id')}")
                anchor.string("name", required=False)
                anchor.finish()
            room.finish()
        copy_customer(p, "viewer", out, _VIEWER, paths)

        def marked(item: Params, line: dict[str, Any], at: str) -> None:
            flash = item.identifier("flash_sale_id", required=False)
            line["tags"] = marks + ([f"flash:{flash}"] if flash else [])

        out["lines"] = copy_lines(p, "items", _ITEM, paths, each=marked)
        p.finish()
        return out

    def from_cart(self, cart: Cart) -> dict[str, Any]:
        data = cart.to_json()
        payload: dict[str, Any] = {key: data[cart_key] for key, cart_key in _TOP.items()
                                   if cart_key in data}
        tags = cart.lines[0].tags if cart.lines else frozenset()
        room = next((t[5:] for t in sorted(tags) if t.startswith("room:")), "")
        anchor = next((t[7:] for t in sorted(tags) if t.startswith("anchor:")), "")
        payload["room"] = {"room_id": room, "anchor": {"anchor_id": anchor}}
        if "customer" in data:
            payload["viewer"] = {key: data["customer"][cart_key] for key, cart_key
                                 in _VIEWER.items() if cart_key in data["customer"]}
        items = []
        for line, source in zip(data["lines"], cart.lines, strict=True):
            item = {key: line[cart_key] for key, cart_key in _ITEM.items() if cart_key in line}
            flash = [t[6:] for t in source.tags if t.startswith("flash:")]
            if flash:
                item["flash_sale_id"] = flash[0]
            items.append(item)
        payload["items"] = items
        return payload

    def from_result(self, result: PriceResult, cart: Cart) -> dict[str, Any]:
        json = result.to_json()
        return {"room_id": next((t[5:] for line in cart.lines for t in sorted(line.tags)
                                 if t.startswith("room:")), None)} | json


@hookimpl
def promokit_register_adapters() -> list[ChannelAdapter]:
    return [LiveAdapter()]
