"""The ``app`` channel: the shop's iOS and Android apps.

The app's backend sends ``items`` with decimal-string prices, the signed-in
``user`` and the ``device``; it reads back ``amounts``, ``items`` with what
each pays, the ``promotions`` applied, the ones ``unavailable`` and ``tips``
(湊單提示). Webhooks are signed ``hmac-sha256``.
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
from promokit.money import currency
from promokit.params import Params
from promokit.result import PriceResult

_USER = {"id": "id", "level": "tier", "tags": "tags", "orders": "orders_count",
         "last_order_at": "last_order_at", "region": "region", "birthday": "birthday"}
_ITEM = {"line_id": "id", "sku": "sku", "qty": "quantity", "price": "unit_price",
         "category": "category", "brand": "brand", "shop": "shop", "tags": "tags",
         "deposit_paid": "deposit_paid", "group_id": "group_id", "bargain_id": "bargain_id"}
_TOP = {"currency": "currency", "shipping_fee": "shipping", "coupons": "codes",
        "client_time": "now"}


class AppAdapter(HmacSignedAdapter):
    """The mobile apps' cart payload."""

    name = "app"
    description = "the shop's iOS and Android apps"
    capabilities = Capabilities(share_links=True, coupon_codes=True, games=True,
                                payment_kinds={"alipay", "wechat_pay", "apple_pay", "card"},
                                signature="hmac-sha256")

    def translate(self, p: Params, paths: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {"channel": self.channel}
        copy(p, out, _TOP, paths)
        p.string("request_id", required=False)
        device = p.table("device")
        if device is not None:
            device.string("platform", choices=("ios", "android", "harmonyos"))
            device.string("app_version", required=False)
            device.finish()
        copy_customer(p, "user", out, _USER, paths)
        out["lines"] = copy_lines(p, "items", _ITEM, paths)
        p.finish()
        return out

    def from_cart(self, cart: Cart) -> dict[str, Any]:
        data = cart.to_json()
        payload: dict[str, Any] = {key: data[cart_key] for key, cart_key in _TOP.items()
                                   if cart_key in data}
        if "customer" in data:
            payload["user"] = {key: data["customer"][cart_key] for key, cart_key
                               in _USER.items() if cart_key in data["customer"]}
        payload["items"] = [{key: line[cart_key] for key, cart_key in _ITEM.items()
                             if cart_key in line} for line in data["lines"]]
        return payload

    def from_result(self, result: PriceResult, cart: Cart) -> dict[str, Any]:
        text = currency(result.currency).text
        return {
            "currency": result.currency,
            "amounts": {"subtotal": text(result.subtotal),
                        "discount": text(result.discount_total),
                        "shipping": text(result.shipping), "payable": text(result.total)},
            "items": [{"line_id": line.id, "sku": line.sku, "qty": line.quantity,
                       "price": text(line.unit_price), "discount": text(line.discount),
                       "pay": text(line.total)} for line in result.lines],
            "promotions": [{"id": a.promotion, "stage": a.stage, "amount": text(a.amount)}
                           for a in result.applied],
            "unavailable": [{"id": n.promotion, "reason": n.reason, "message": n.message}
                            for n in result.not_applied],
            "tips": [{"id": h.promotion, "missing": text(h.missing),
                      "saving": text(h.saving), "message": h.message}
                     for h in result.hints],
        }


@hookimpl
def promokit_register_adapters() -> list[ChannelAdapter]:
    return [AppAdapter()]
