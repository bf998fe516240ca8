"""Channel adapters: payloads to carts and results back (amounts worked by hand), bad
payloads by path, webhook signatures, and round trips."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promokit import Engine, PluginError, Registry, hookimpl
from promokit.adapters.app import AppAdapter
from promokit.adapters.live import LiveAdapter
from promokit.adapters.offline import OfflineAdapter
from promokit.adapters.web import WebAdapter
from promokit.adapters.wechat import WeChatH5Adapter, WeChatMiniProgramAdapter
from promokit.cart import Cart
from promokit.channels import (
    Capabilities,
    ChannelAdapter,
    hmac_signature,
    wechat_signature,
)
from promokit.errors import AdapterError, PayloadError, SignatureError

ROOT = Path(__file__).resolve().parent.parent
D11 = ROOT / "examples" / "d11.toml"
NOW = datetime(2026, 11, 11, 0, 30, tzinfo=UTC) - timedelta(hours=8)  # 00:30 Beijing
REGISTRY = Registry.default(load_entry_points=False)

MINI = {
    "appid": "wx6b1f2e7a9c0d3e41",
    "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
    "member": {"member_id": "c1", "level": "gold", "order_count": 3},
    "goods_list": [
        {"goods_id": "l1", "sku_id": "SHOE-1", "quantity": 2, "price": 39900,
         "category": "apparel/shoes", "shop_id": "acme"},
        {"goods_id": "l2", "sku_id": "LAMP-1", "quantity": 1, "price": 12900,
         "category": "home/lighting", "shop_id": "homeco"},
    ],
    "freight_fee": 1200,
    "create_time": "2026-11-11T00:30:00+08:00",
}


def test_the_built_in_adapters_are_registered() -> None:
    registry = Registry.default(load_entry_points=False)
    assert sorted(registry.adapters) == ["app", "live", "offline", "web", "wechat_h5",
                                         "wechat_mini_program"]
    assert registry.origins[("adapter", "live")] == "promokit.adapters.live"
    assert registry.adapters["wechat_h5"].capabilities.share_links is False
    assert registry.adapters["wechat_mini_program"].capabilities.money == "fen"
    assert registry.adapters["offline"].capabilities.to_json()["payment_kinds"] == [
        "alipay", "card", "cash", "member_card", "wechat_pay"]


def test_a_mini_program_cart_in_fen_is_priced_under_d11_and_comes_back_in_fen() -> None:
    # By hand, at 00:30 on 11.11, gold member, not new, channel "miniprogram" (d11's
    # name for it): shoes 2 × 399.00 = 798.00 (acme), lamp 129.00 (homeco).
    #   item gold-95 5%: 39.90 + 6.45 = 46.35 → 758.10, 122.55
    #   shop acme-every-300 on 758.10: 2 × 50 = 100.00 → shoes 658.10
    #   platform d11-300-50 on 658.10 + 122.55 = 780.65 ≥ 500: 100.00, shared by
    #     largest remainder: shoes 84.30(15…), lamp 15.69(85…) + the cent → 15.70
    #   ship-free-99 on 680.65: the 12.00 freight.
    # Shoes 798.00 − 224.20 = 573.80; lamp 129.00 − 22.15 = 106.85; total 680.65.
    adapter = WeChatMiniProgramAdapter(channel="miniprogram", appid="wx6b1f2e7a9c0d3e41")
    cart = adapter.to_cart(MINI)
    assert cart.lines[0].unit_price == Decimal("399.00") and cart.shipping == Decimal("12.00")
    assert cart.customer.id == "c1" and cart.channel == "miniprogram"
    result = Engine.from_files(D11, load_entry_points=False).evaluate(cart)
    back = adapter.from_result(result, cart)
    assert {k: back[k] for k in ("original_fee", "discount_fee", "freight_fee",
                                 "total_fee")} == {
        "original_fee": 92700, "discount_fee": 25835, "freight_fee": 0, "total_fee": 68065}
    assert [(g["goods_id"], g["discount_amount"], g["pay_amount"])
            for g in back["goods_detail"]] == [("l1", 22420, 57380), ("l2", 2215, 10685)]
    assert back["promotion_detail"] == [
        {"promotion_id": "gold-95", "scope": "SINGLE", "amount": 4635},
        {"promotion_id": "acme-every-300", "scope": "GLOBAL", "amount": 10000},
        {"promotion_id": "d11-300-50", "scope": "GLOBAL", "amount": 10000},
        {"promotion_id": "ship-free-99", "scope": "GLOBAL", "amount": 1200}]
    assert all(isinstance(v, int) for v in back["goods_detail"][0].values()
               if not isinstance(v, str))


def test_on_its_own_channel_name_d11_s_channel_rule_leaves_the_300_off_out() -> None:
    cart = WeChatMiniProgramAdapter().to_cart(MINI)
    result = Engine.from_files(D11, load_entry_points=False).evaluate(cart)
    assert result.reason("d11-300-50") == "not_eligible:channel"
    assert result.total == Decimal("780.65")  # 927.00 − 46.35 − 100.00, freight free


def test_fen_are_converted_exactly() -> None:
    payload = {"goods_list": [{"goods_id": "a", "sku_id": "X", "quantity": 3, "price": 1}],
               "freight_fee": 99_999_999}
    cart = WeChatH5Adapter().to_cart(payload)
    assert cart.lines[0].unit_price == Decimal("0.01")
    assert cart.shipping == Decimal("999999.99")
    assert WeChatH5Adapter().from_cart(cart)["freight_fee"] == 99_999_999


def test_an_app_cart_round_trip_by_hand() -> None:
    # gold-95 on 2 × 59.90 = 119.80: 5.99 off, 113.81 to pay; shipping 12.00 is free
    # above 99 (ship-free-99), so payable 113.81.
    payload = {"request_id": "r-1", "device": {"platform": "ios", "app_version": "8.3.0"},
               "currency": "CNY", "user": {"id": "c9", "level": "gold", "orders": 2},
               "items": [{"line_id": "l1", "sku": "SOCK-1", "qty": 2, "price": "59.90",
                          "category": "misc"}],
               "shipping_fee": "12.00", "client_time": "2026-11-11T00:30:00+08:00"}
    adapter = AppAdapter()
    cart = adapter.to_cart(payload)
    result = Engine.from_files(D11, load_entry_points=False).evaluate(cart)
    back = adapter.from_result(result, cart)
    assert back["amounts"] == {"subtotal": "119.80", "discount": "17.99",
                               "shipping": "0.00", "payable": "113.81"}
    assert back["items"][0]["pay"] == "113.81"


def test_a_live_room_tags_its_lines_so_a_campaign_can_scope_the_room() -> None:
    payload = {"currency": "CNY", "room": {"room_id": "R1111",
                                           "anchor": {"anchor_id": "A77", "name": "小美"}},
               "viewer": {"id": "v1"},
               "items": [{"line_id": "l1", "sku": "LIP-1", "quantity": 1, "price": "199.00",
                          "flash_sale_id": "FS-2"},
                         {"line_id": "l2", "sku": "MASK-1", "quantity": 2, "price": "30.00"}],
               "now": "2026-11-11T20:00:00+08:00"}
    adapter = LiveAdapter()
    cart = adapter.to_cart(payload)
    assert cart.lines[0].tags == {"room:R1111", "anchor:A77", "flash:FS-2"}
    assert cart.lines[1].tags == {"room:R1111", "anchor:A77"}
    engine = Engine.from_files(D11, load_entry_points=False)
    back = adapter.from_result(engine.evaluate(cart), cart)
    assert back["room_id"] == "R1111" and back["total"] == "259.00"


def test_an_offline_receipt_by_hand(tmp_path: Path) -> None:
    campaign = tmp_path / "store.toml"
    campaign.write_text('currency = "CNY"\ntimezone = "Asia/Shanghai"\n'
                        '[[promotion]]\nid = "xuhui-200-30"\nkind = "tiered_threshold"\n'
                        'tiers = [ { spend = "200", off = "30" } ]\n'
                        'scope = { shops = ["SH-XUHUI-01"] }\n', encoding="utf-8")
    payload = {"store_id": "SH-XUHUI-01", "terminal": {"id": "POS-3", "kind": "staffed"},
               "cashier_id": "E1024", "member_card": "8800123456",
               "member": {"level": "gold"}, "currency": "CNY",
               "items": [{"line_id": "1", "sku": "6901234567892", "qty": 4,
                          "unit_price": "45.00"},
                         {"line_id": "2", "sku": "6907777000012", "qty": 1,
                          "unit_price": "25.50"}],
               "business_time": "2026-11-11T10:00:00+08:00"}
    adapter = OfflineAdapter()
    cart = adapter.to_cart(payload)
    assert cart.customer.id == "8800123456" and cart.lines[1].shop == "SH-XUHUI-01"
    # 180.00 + 25.50 = 205.50 ≥ 200: 30.00 off, by largest remainder 26.28 and 3.72.
    result = Engine.from_files(campaign, load_entry_points=False).evaluate(cart)
    back = adapter.from_result(result, cart)
    assert (back["subtotal"], back["discount"], back["payable"]) == (
        "205.50", "30.00", "175.50")
    assert [item["pay"] for item in back["items"]] == ["153.72", "21.78"]


def test_the_web_channel_speaks_promokit_s_own_json() -> None:
    data = {"currency": "CNY", "lines": [{"id": "l1", "sku": "A", "quantity": 1,
                                          "unit_price": "10.00"}]}
    cart = WebAdapter().to_cart(json.dumps(data))
    assert cart.channel == "web"
    with pytest.raises(PayloadError) as caught:
        WebAdapter().to_cart(data | {"channel": "app"})
    assert caught.value.path == "channel"


# -- bad payloads --------------------------------------------------------------------


@pytest.mark.parametrize(("adapter", "payload", "path"), [
    (WeChatMiniProgramAdapter(), {"goods_list": [{"goods_id": "a", "sku_id": "X",
                                                  "quantity": 1, "price": 399.0}]},
     "goods_list[0].price"),
    (WeChatMiniProgramAdapter(), {"goods_list": [{"goods_id": "a", "sku_id": "X",
                                                  "quantity": 1, "price": "39900"}]},
     "goods_list[0].price"),
    (WeChatMiniProgramAdapter(), {"goods_list": [{"goods_id": "a", "sku_id": "X",
                                                  "quantity": 1, "price": -1}]},
     "goods_list[0].price"),
    (WeChatMiniProgramAdapter(), {"goods_list": [{"goods_id": "a", "sku_id": "X",
                                                  "quantity": 0, "price": 100}]},
     "goods_list[0].quantity"),
    (WeChatMiniProgramAdapter(appid="wx1"), {"appid": "wx2", "goods_list": []}, "appid"),
    (WeChatMiniProgramAdapter(), {"goods_list": [], "freigt_fee": 1}, "freigt_fee"),
    (WeChatMiniProgramAdapter(), {}, "goods_list"),
    (WeChatH5Adapter(), {"goods_list": [], "scene_info": {"payer_client_ip": "1.2.3.4",
                                                          "h5_info": {"type": "Web"}}},
     "scene_info.h5_info.type"),
    (AppAdapter(), {"currency": "CNY", "items": [{"line_id": "l1", "sku": "A", "qty": 1,
                                                  "price": "1.999"}]}, "items[0].price"),
    (AppAdapter(), {"currency": "CNY", "items": [{"line_id": "l1", "sku": "A", "qty": 1,
                                                  "price": "1.00"}],
                    "device": {"platform": "symbian"}}, "device.platform"),
    (AppAdapter(), {"currency": "XXX", "items": []}, "currency"),
    (AppAdapter(), {"currency": "CNY", "items": [{"line_id": "l1", "sku": "A", "qty": 1,
                                                  "price": "1.00"}],
                    "user": {"level": "gold", "orders": "many"}}, "user.orders"),
    (LiveAdapter(), {"currency": "CNY", "items": []}, "room"),
    (LiveAdapter(), {"currency": "CNY", "room": {"room_id": "R", "anchor": {}}, "items": []},
     "room.anchor.anchor_id"),
    (OfflineAdapter(), {"currency": "CNY", "items": []}, "store_id"),
    (OfflineAdapter(), {"currency": "CNY", "store_id": "S", "member": {"level": "gold"},
                        "items": []}, "member"),
    (OfflineAdapter(), {"currency": "CNY", "store_id": "S",
                        "items": [{"line_id": "1", "sku": "A", "qty": 1, "unit_price": "1",
                                   "barcode": "690"}]}, "items[0].barcode"),
    (WebAdapter(), "{not json", ""),
    (WebAdapter(), [1, 2], ""),
])
def test_a_bad_payload_is_an_adapter_error_naming_the_path(
        adapter: ChannelAdapter, payload: Any, path: str) -> None:
    with pytest.raises(PayloadError) as caught:
        adapter.to_cart(payload)
    error = caught.value
    assert isinstance(error, AdapterError) and error.status_code == 400
    assert path in [problem.path for problem in error.problems], str(error)
    assert "Traceback" not in str(error)


# -- webhook signatures ----------------------------------------------------------------

BODY = b'{"event":"order.paid","order_id":"o-1"}'
SECRET = "whsec-shop-42"


def signed(body: bytes = BODY, *, secret: str = SECRET, at: datetime = NOW) -> dict[str, str]:
    stamp = str(int(at.timestamp()))
    return {"X-Promokit-Timestamp": stamp,
            "x-promokit-signature": hmac_signature(secret, stamp, body)}


@pytest.mark.parametrize("adapter", [WebAdapter(), AppAdapter(), LiveAdapter(),
                                     OfflineAdapter()], ids=lambda a: a.name)
def test_hmac_signatures(adapter: ChannelAdapter) -> None:
    adapter.verify(signed(), BODY, secret=SECRET, now=NOW)
    rotated = signed()
    rotated["x-promokit-signature"] = "v1=00 " + rotated["x-promokit-signature"]
    adapter.verify(rotated, BODY, secret=SECRET.encode(), now=NOW)
    for headers, body, secret, now in [
        (signed(), BODY.replace(b"o-1", b"o-2"), SECRET, NOW),            # tampered
        (signed(), BODY, "whsec-other", NOW),                              # wrong secret
        (signed(at=NOW - timedelta(minutes=6)), BODY, SECRET, NOW),        # replayed
        (signed(at=NOW + timedelta(minutes=6)), BODY, SECRET, NOW),        # from the future
        ({"X-Promokit-Timestamp": "soon"}, BODY, SECRET, NOW),             # no signature
        ({}, BODY, SECRET, NOW),
    ]:
        with pytest.raises(SignatureError) as caught:
            adapter.verify(headers, body, secret=secret, now=now)
        assert caught.value.status_code == 401 and caught.value.channel == adapter.name


@pytest.mark.parametrize("adapter", [WeChatMiniProgramAdapter(), WeChatH5Adapter()],
                         ids=lambda a: a.name)
def test_wechat_signatures(adapter: ChannelAdapter) -> None:
    stamp = str(int(NOW.timestamp()))
    good = {"signature": wechat_signature("tok3n", stamp, "n0nce"), "timestamp": stamp,
            "nonce": "n0nce"}
    adapter.verify(good, b"", secret="tok3n", now=NOW)
    old = str(int((NOW - timedelta(hours=1)).timestamp()))
    for params, token in [(good | {"nonce": "other"}, "tok3n"), (good, "wrong"),
                          (good | {"timestamp": old,
                                   "signature": wechat_signature("tok3n", old, "n0nce")},
                           "tok3n"),
                          ({k: v for k, v in good.items() if k != "signature"}, "tok3n")]:
        with pytest.raises(SignatureError):
            adapter.verify(params, b"", secret=token, now=NOW)


def test_wechat_s_signature_is_the_sha1_of_the_sorted_three() -> None:
    # sorted: "1700000000" < "abc" < "token" → sha1("1700000000abctoken")
    import hashlib
    assert wechat_signature("token", "1700000000", "abc") == hashlib.sha1(
        b"1700000000abctoken").hexdigest()


# -- the registry -----------------------------------------------------------------------


class Twin(ChannelAdapter):
    name = "web"
    capabilities = Capabilities()


class TwinPlugin:
    @hookimpl
    def promokit_register_adapters(self) -> list[ChannelAdapter]:
        return [Twin()]


def test_an_adapter_name_declared_twice_names_both_plugins() -> None:
    with pytest.raises(PluginError) as caught:
        Registry.default([TwinPlugin()], load_entry_points=False)
    assert "adapter 'web'" in str(caught.value)
    assert "promokit.adapters.web" in str(caught.value)


def test_an_adapter_without_a_signature_scheme_refuses_every_webhook() -> None:
    with pytest.raises(SignatureError):
        Twin().verify({}, b"", secret="x")


# -- round trips -------------------------------------------------------------------------

_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,11}", fullmatch=True)
_fen = st.integers(min_value=0, max_value=10**9)
_text_tags = st.lists(st.from_regex(r"[a-z]{1,8}", fullmatch=True), max_size=3, unique=True)


@st.composite
def wechat_payloads(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(min_value=1, max_value=4))
    goods = []
    for index in range(count):
        item: dict[str, Any] = {"goods_id": f"l{index}", "sku_id": draw(_ids),
                                "quantity": draw(st.integers(1, 999)), "price": draw(_fen)}
        if draw(st.booleans()):
            item["shop_id"] = draw(_ids)
        if draw(st.booleans()):
            item["tags"] = draw(_text_tags)
        goods.append(item)
    payload: dict[str, Any] = {"goods_list": goods, "freight_fee": draw(_fen)}
    if draw(st.booleans()):
        payload["member"] = {"member_id": draw(_ids), "level": draw(st.sampled_from(
            ["gold", "silver"])), "order_count": draw(st.integers(0, 99))}
    if draw(st.booleans()):
        payload["coupon_codes"] = draw(st.lists(_ids, max_size=3, unique=True))
    return payload


@settings(max_examples=60, deadline=None)
@given(payload=wechat_payloads(), h5=st.booleans())
def test_wechat_to_cart_of_from_cart_is_the_cart(payload: dict[str, Any], h5: bool) -> None:
    adapter = WeChatH5Adapter() if h5 else WeChatMiniProgramAdapter()
    cart = adapter.to_cart(payload)
    back = adapter.from_cart(cart)
    assert adapter.to_cart(back) == cart
    assert back["freight_fee"] == payload["freight_fee"]
    assert [g["price"] for g in back["goods_list"]] == [g["price"] for g in payload[
        "goods_list"]]


_money = st.decimals(min_value=0, max_value=99999, places=2).map(str)


@st.composite
def carts(draw: st.DrawFn, channel: str, *, shop: str | None = None,
          shipping: bool = True, tags: tuple[str, ...] = ()) -> Cart:
    count = draw(st.integers(min_value=1, max_value=3))
    lines = [{"id": f"l{i}", "sku": draw(_ids), "quantity": draw(st.integers(1, 50)),
              "unit_price": draw(_money), **({"shop": shop} if shop else {}),
              **({"tags": list(tags)} if tags else {})} for i in range(count)]
    data: dict[str, Any] = {"currency": "CNY", "lines": lines, "channel": channel}
    if shipping:
        data["shipping"] = draw(_money)
    if draw(st.booleans()):
        data["customer"] = {"id": draw(_ids), "tier": "gold"}
    if draw(st.booleans()):
        data["codes"] = draw(st.lists(_ids, max_size=2, unique=True))
    return Cart.from_json(data)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_to_cart_of_from_cart_is_the_cart_on_every_channel(data: st.DataObject) -> None:
    for adapter, strategy in [
        (WebAdapter(), carts("web")),
        (AppAdapter(), carts("app")),
        (WeChatMiniProgramAdapter(), carts("wechat_mini_program")),
        (LiveAdapter(), carts("live", tags=("anchor:A7", "room:R1"))),
        (OfflineAdapter(), carts("offline", shop="SH-01", shipping=False)),
    ]:
        cart = data.draw(strategy)
        assert adapter.to_cart(adapter.from_cart(cart)) == cart, adapter.name


def test_promokit_plugins_lists_adapters_and_profiles(
        capsys: pytest.CaptureFixture[str]) -> None:
    from promokit.cli import main

    assert main(["plugins", "--no-plugins"]) == 0
    out = capsys.readouterr().out
    assert "adapters: live" in out and "channel profiles: wechat_h5" in out
    assert "6 adapters, 1 channel profile" in out
    assert max(map(len, out.splitlines())) <= 100


_KEYS = st.sampled_from([
    "goods_list", "items", "price", "qty", "quantity", "sku", "sku_id", "goods_id",
    "line_id", "member", "user", "viewer", "room", "anchor", "room_id", "anchor_id",
    "currency", "freight_fee", "shipping", "shipping_fee", "store_id", "member_card", "tags",
    "unit_price", "create_time", "now", "coupon_codes", "flash_sale_id", "channel",
    "terminal", "level", "scene_info", "h5_info", "lines", "id"])
_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                    st.floats(allow_nan=True), st.text(max_size=8))
_JSON = st.recursive(_LEAVES, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(_KEYS, inner, max_size=5), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(["app", "live", "offline", "web", "wechat_h5",
                             "wechat_mini_program"]),
       payload=st.dictionaries(_KEYS, _JSON, max_size=6))
def test_any_payload_is_a_cart_or_a_payload_error(name: str, payload: dict[str, Any]) -> None:
    adapter = REGISTRY.adapters[name]
    try:
        adapter.to_cart(payload)
    except PayloadError as error:
        assert error.problems and error.path == error.problems[0].path
