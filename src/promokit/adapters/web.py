"""The ``web`` channel: the shop's own website, whose backend sends the cart in
promokit's own JSON (DESIGN §5) and reads the result as it is.

Webhooks are signed ``hmac-sha256`` (:mod:`promokit.channels.signing`).
"""

from __future__ import annotations

from typing import Any

from promokit import hookimpl
from promokit.cart import Cart
from promokit.channels import Capabilities, ChannelAdapter, HmacSignedAdapter
from promokit.params import Params
from promokit.result import PriceResult


class WebAdapter(HmacSignedAdapter):
    """The DESIGN §5 cart and result, on the ``web`` channel."""

    name = "web"
    description = "the shop's website: promokit's own cart and result JSON"
    capabilities = Capabilities(share_links=True, coupon_codes=True, games=True,
                                payment_kinds={"card", "alipay", "wechat_pay"},
                                signature="hmac-sha256")

    def translate(self, p: Params, paths: dict[str, str]) -> dict[str, Any]:
        out = {key: p.raw(key) for key in p}
        given = out.get("channel", self.channel)
        if given != self.channel:
            p.problem(f"this is the {self.channel} channel's payload; got {given!r}",
                      "channel")
        out["channel"] = self.channel
        return out

    def from_cart(self, cart: Cart) -> dict[str, Any]:
        return cart.to_json() | {"channel": self.channel}

    def from_result(self, result: PriceResult, cart: Cart) -> dict[str, Any]:
        return result.to_json()


@hookimpl
def promokit_register_adapters() -> list[ChannelAdapter]:
    return [WebAdapter()]
