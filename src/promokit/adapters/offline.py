"""The ``offline`` channel: a store's point of sale (POS, 門店收銀).

The POS sends its ``store_id``, the ``terminal`` and ``cashier_id`` (a
self-checkout has none), the ``member_card`` scanned, if any, with its
``member`` details, and the scanned ``items`` with decimal-string prices. The
store becomes each line's ``shop`` (so ``scope = { shops = ["SH-XUHUI-01"] }``
is a one-store promotion) and the member card the customer id. There is no
shipping. It gets back a receipt: ``payable``, each item's ``pay`` and the
promotion lines to print. Webhooks are signed ``hmac-sha256``.
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
    copy_lines,
)
from promokit.money import currency
from promokit.params import Params
from promokit.result import PriceResult

_MEMBER = {"level": "tier", "tags": "tags", "visits": "orders_count",
           "last_visit_at": "last_order_at", "birthday": "birthday"}
_ITEM = {"line_id": "id", "sku": "sku", "qty": "quantity", "unit_price": "unit_price",
         "category": "category", "brand": "brand"}
_TOP = {"currency": "currency", "coupon_codes": "codes", "business_time": "now"}


class OfflineAdapter(HmacSignedAdapter):
    """A store POS's cart."""

    name = "offline"
    description = "store POS (門店收銀): store, cashier, member card"
    capabilities = Capabilities(share_links=False, coupon_codes=True, games=False,
                                payment_kinds={"cash", "card", "wechat_pay", "alipay",
                                               "member_card"},
                                signature="hmac-sha256")

    def translate(self, p: Params, paths: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {"channel": self.channel}
        copy(p, out, _TOP, paths)
        store = p.identifier("store_id")
        terminal = p.table("terminal")
        if terminal is not None:
            terminal.identifier("id")
            terminal.string("kind", choices=("staffed", "self_checkout"))
            terminal.finish()
        p.identifier("cashier_id", required=False)
        card = p.identifier("member_card", required=False)
        member = p.table("member")
        if member is not None and card is None:
            p.problem("member details without a member_card", "member")
        if card is not None or member is not None:
            out["customer"] = {"id": card} if card is not None else {}
            paths["customer.id"] = p.path_of("member_card")
            if member is not None:
                copy(member, out["customer"], _MEMBER, paths, "customer")
                member.finish()
        def in_store(item: Params, line: dict[str, Any], at: str) -> None:
            line["shop"] = store
            paths[f"{at}.shop"] = p.path_of("store_id")

        out["lines"] = copy_lines(p, "items", _ITEM, paths, each=in_store)
        p.finish()
        return out

    def from_cart(self, cart: Cart) -> dict[str, Any]:
        data = cart.to_json()
        if cart.shipping:
            raise ValueError("a store's POS has no shipping")
        shops = {line.shop for line in cart.lines}
        if len(shops) != 1 or None in shops:
            raise ValueError("a POS cart's lines are all of one store (line.shop)")
        payload: dict[str, Any] = {key: data[cart_key] for key, cart_key in _TOP.items()
                                   if cart_key in data}
        payload["store_id"] = shops.pop()
        customer = data.get("customer", {})
        if "id" in customer:
            payload["member_card"] = customer["id"]
        member = {key: customer[cart_key] for key, cart_key in _MEMBER.items()
                  if cart_key in customer}
        if member:
            payload["member"] = member
        payload["items"] = [{key: line[cart_key] for key, cart_key in _ITEM.items()
                             if cart_key in line} for line in data["lines"]]
        return payload

    def from_result(self, result: PriceResult, cart: Cart) -> dict[str, Any]:
        text = currency(result.currency).text
        return {
            "currency": result.currency,
            "subtotal": text(result.subtotal), "discount": text(result.discount_total),
            "payable": text(result.total),
            "items": [{"line_id": line.id, "sku": line.sku, "qty": line.quantity,
                       "pay": text(line.total)} for line in result.lines],
            "receipt_promotions": [{"id": a.promotion, "amount": text(a.amount)}
                                   for a in result.applied],
            "gifts": [{"sku": g.sku, "name": g.name, "qty": g.quantity}
                      for g in result.gifts],
            "points": [{"id": r.promotion, "amount": r.amount} for r in result.rewards
                       if r.kind == "points"],
        }


@hookimpl
def promokit_register_adapters() -> list[ChannelAdapter]:
    return [OfflineAdapter()]
