"""An order as checkout keeps it (promokit.order): its JSON writes money as DESIGN §5
strings and times with their offset, and reads the records older versions wrote."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from campaigns import d11_shop
from conftest import make_cart

from promokit.order import Order
from promokit.stores import MemoryStore
from promokit.testing import Clock, engine_from_toml

SHOP = d11_shop(funding=True, flash_limits="stock = 3, per_customer = 1")
NOW = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, the shop's timezone


def committed() -> Order:
    engine = engine_from_toml(SHOP, store=MemoryStore(), clock=Clock(NOW))
    cart = make_cart(("l1", "SHOE", 2, "150.00"), ("l2", "BLENDER", 1, "199.00"),
                     customer={"id": "c1"})
    engine.checkout(cart, "SO-1")
    engine.commit("SO-1")
    engine.refund("SO-1", "RF-1", {"l1": 1})
    order = engine.order("SO-1")
    assert order is not None
    return order


def test_uses_write_their_discount_as_a_money_string() -> None:
    # flash: BLENDER 199.00 → 99.00; d11-300-50: 50.00 off 399.00 (hand-priced in
    # test_checkout.py). They were minor units (10000, 5000) before issue 13.
    order = committed()
    data = order.to_json()
    assert [(u["promotion"], u["amount"]) for u in data["uses"]] == [
        ("flash", "100.00"), ("d11-300-50", "50.00")]
    assert [u.amount for u in order.uses] == [10000, 5000]  # the value keeps minor units
    assert Order.loads(order.dumps(), order.revision) == order


def test_every_time_carries_the_campaign_offset() -> None:
    data = committed().to_json()
    times = [data["created_at"], data["committed_at"], data["cart"]["now"],
             data["refunds"][0]["at"]]
    assert times == ["2026-11-11T10:00:00+08:00"] * 4
    assert data["expires_at"] is None and data["closed_at"] is None


def test_a_record_of_an_older_version_reads_back_aware() -> None:
    # before issue 13: uses in minor units, and times a clock gave without an offset (UTC)
    order = committed()
    old = json.loads(order.dumps())
    for use in old["uses"]:
        use["amount"] = {"100.00": 10000, "50.00": 5000}[use["amount"]]
    old["created_at"] = old["committed_at"] = old["cart"]["now"] = "2026-11-11T02:00:00"
    old["refunds"][0]["at"] = "2026-11-11T02:00:00"
    back = Order.loads(json.dumps(old), order.revision)
    assert back.uses == order.uses
    for moment in (back.created_at, back.committed_at, back.cart.now, back.refunds[0].at):
        assert moment is not None and moment.utcoffset() == timedelta(0)
        assert moment == NOW
    assert back.to_json()["created_at"] == "2026-11-11T02:00:00+00:00"
