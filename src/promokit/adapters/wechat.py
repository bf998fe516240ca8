"""The WeChat channels: ``wechat_mini_program`` (小程序) and ``wechat_h5`` (pages
opened in WeChat's browser).

Their payloads write money as WeChat Pay does, in whole fen (``39900`` is
¥399.00), converted exactly with Decimal, never through float; the currency is
CNY. The customer is the ``member`` (the shop's member id, tier …) or, for a
guest, the ``openid``. The result comes back in fen too, shaped like WeChat
Pay's order detail: ``total_fee``, ``goods_detail`` and ``promotion_detail``
(``scope`` ``SINGLE`` for item-stage promotions, ``GLOBAL`` otherwise).

Webhooks (WeChat's message push) are signed ``wechat-sha1``: ``signature``,
``timestamp`` and ``nonce`` query parameters over the shop's token.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from promokit import hookimpl
from promokit.cart import Cart
from promokit.channels import (
    Capabilities,
    ChannelAdapter,
    copy,
    copy_customer,
    copy_lines,
    fen,
    to_fen,
    verify_wechat,
)
from promokit.params import Params
from promokit.result import PriceResult

_MEMBER = {"member_id": "id", "level": "tier", "tags": "tags", "order_count": "orders_count",
           "last_order_at": "last_order_at", "region": "region", "birthday": "birthday"}
_GOODS = {"goods_id": "id", "sku_id": "sku", "quantity": "quantity", "category": "category",
          "brand": "brand", "shop_id": "shop", "tags": "tags", "group_id": "group_id",
          "bargain_id": "bargain_id"}
_GOODS_FEN = {"price": "unit_price", "deposit_fee": "deposit_paid"}


class WeChatMiniProgramAdapter(ChannelAdapter):
    """A WeChat mini program's cart, money in fen. ``appid``, when given, is the only
    mini program whose payloads are taken."""

    name = "wechat_mini_program"
    description = "WeChat mini programs (小程序); money in fen"
    capabilities = Capabilities(share_links=True, coupon_codes=True, games=True,
                                payment_kinds={"wechat_pay"}, money="fen",
                                signature="wechat-sha1")

    def __init__(self, *, channel: str | None = None, appid: str | None = None) -> None:
        super().__init__(channel=channel)
        self.appid = appid

    def translate(self, p: Params, paths: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {"currency": "CNY", "channel": self.channel}
        appid = p.string("appid", required=False)
        if appid is not None and self.appid is not None and appid != self.appid:
            p.problem(f"payload of mini program {appid!r}; this adapter takes {self.appid!r}",
                      "appid")
        openid = p.string("openid", required=False)
        self.read_scene(p)
        copy_customer(p, "member", out, _MEMBER, paths)
        if openid is not None and "id" not in out.get("customer", {}):
            out.setdefault("customer", {})["id"] = openid
            paths["customer.id"] = p.path_of("openid")
        def in_fen(item: Params, line: dict[str, Any], at: str) -> None:
            for key, cart_key in _GOODS_FEN.items():
                paths[f"{at}.{cart_key}"] = item.path_of(key)
                amount = fen(item, key, required=key == "price")
                if amount is not None:
                    line[cart_key] = str(amount)

        out["lines"] = copy_lines(p, "goods_list", _GOODS, paths, each=in_fen)
        freight = fen(p, "freight_fee", required=False)
        paths["shipping"] = p.path_of("freight_fee")
        if freight is not None:
            out["shipping"] = str(freight)
        copy(p, out, {"coupon_codes": "codes", "create_time": "now"}, paths)
        p.finish()
        return out

    def read_scene(self, p: Params) -> None:
        """The mini program has no scene: H5 pages say where they were opened."""

    def from_cart(self, cart: Cart) -> dict[str, Any]:
        if cart.currency != "CNY":
            raise ValueError(f"WeChat Pay takes CNY; the cart is in {cart.currency}")
        data = cart.to_json()
        payload: dict[str, Any] = {}
        if self.appid is not None:
            payload["appid"] = self.appid
        if "customer" in data:
            payload["member"] = {key: data["customer"][cart_key] for key, cart_key
                                 in _MEMBER.items() if cart_key in data["customer"]}
        goods = []
        for line, source in zip(data["lines"], cart.lines, strict=True):
            item = {key: line[cart_key] for key, cart_key in _GOODS.items() if cart_key in line}
            item["price"] = to_fen(source.unit_price)
            if source.deposit_paid is not None:
                item["deposit_fee"] = to_fen(source.deposit_paid)
            goods.append(item)
        payload["goods_list"] = goods
        payload["freight_fee"] = to_fen(cart.shipping)
        if cart.codes:
            payload["coupon_codes"] = list(cart.codes)
        if cart.now is not None:
            payload["create_time"] = data["now"]
        return payload

    def from_result(self, result: PriceResult, cart: Cart) -> dict[str, Any]:
        if result.currency != "CNY":
            raise ValueError(f"WeChat Pay takes CNY; the result is in {result.currency}")
        return {
            "original_fee": to_fen(result.subtotal),
            "discount_fee": to_fen(result.discount_total),
            "freight_fee": to_fen(result.shipping),
            "total_fee": to_fen(result.total),
            "goods_detail": [{"goods_id": line.id, "sku_id": line.sku,
                              "quantity": line.quantity, "price": to_fen(line.unit_price),
                              "discount_amount": to_fen(line.discount),
                              "pay_amount": to_fen(line.total)} for line in result.lines],
            "promotion_detail": [{"promotion_id": a.promotion,
                                  "scope": "SINGLE" if a.stage == "item" else "GLOBAL",
                                  "amount": to_fen(a.amount)} for a in result.applied],
            "unavailable": [{"promotion_id": n.promotion, "reason": n.reason,
                             "message": n.message} for n in result.not_applied],
        }

    def verify(self, headers: Mapping[str, str], body: bytes, *, secret: str | bytes,
               now: datetime | None = None) -> None:
        """``headers`` are the push's query parameters (``signature``, ``timestamp``,
        ``nonce``); ``secret`` is the token set in WeChat's console."""
        verify_wechat(headers, secret=secret, channel=self.name, now=now)


class WeChatH5Adapter(WeChatMiniProgramAdapter):
    """A page opened in WeChat's browser: the mini program's payload, plus an optional
    ``scene_info`` (``payer_client_ip``, ``h5_info.type``) as WeChat Pay's H5 orders
    carry it. The ``wechat_h5`` profile governs what it may run."""

    name = "wechat_h5"
    description = "pages opened in WeChat's browser (H5); money in fen"
    capabilities = Capabilities(share_links=False, coupon_codes=True, games=True,
                                payment_kinds={"wechat_pay"}, money="fen",
                                signature="wechat-sha1")

    def read_scene(self, p: Params) -> None:
        scene = p.table("scene_info")
        if scene is None:
            return
        scene.string("payer_client_ip")
        h5 = scene.table("h5_info")
        if h5 is not None:
            h5.string("type", choices=("Wap", "iOS", "Android"))
            h5.string("app_name", required=False)
            h5.string("app_url", required=False)
            h5.finish()
        scene.finish()


@hookimpl
def promokit_register_adapters() -> list[ChannelAdapter]:
    return [WeChatMiniProgramAdapter(), WeChatH5Adapter()]
