"""The group buy game (拼團): config, state machine, rules, share tokens, pricing,
events, disclosure, config changes, CLI actions and a flow on every backend.

Amounts are worked out by hand in each test: the kettle lists at 99.00 and the
group price is 69.00 unless the test says otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from campaigns import HEADER
from conftest import EVERY_BACKEND
from hypothesis import given, settings
from hypothesis import strategies as st

from promokit import open_store
from promokit.cart import Customer
from promokit.errors import ConfigError, GameError, StoreError
from promokit.games import sign_token
from promokit.money import currency
from promokit.plugins.games.group_buy import (
    GroupBuy,
    GroupBuyConfig,
    GroupBuyGame,
    Tier,
)
from promokit.stores import Store
from promokit.testing import Clock, Recorder, engine_from_toml

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 11, 10, 0, tzinfo=SHANGHAI)
SECRET = b"s" * 32

GAME = HEADER + '''
[[game]]
id = "pin"
name = "Kettle group buy"
kind = "group_buy"
sku = "KETTLE"
price = "69.00"
size = 3
start = "2026-11-10T00:00:00"
end = "2026-11-20T23:59:59"
'''

TIERED = HEADER + '''
[[game]]
id = "pin"
kind = "group_buy"
sku = "KETTLE"
tiers = [{ size = 2, price = "79.00" }, { size = 3, price = "69.00" },
         { size = 5, price = "59.00" }]
'''


class World:
    """An engine with a group buy, its clock and the events it emitted."""

    def __init__(self, toml: str = GAME, *, store: Store | None = None,
                 secret: bytes | None = SECRET, at: datetime = NOW) -> None:
        self.clock = Clock(at)
        self.events = Recorder()
        self.engine = engine_from_toml(toml, plugins=[self.events], clock=self.clock,
                                       store=store, secret=secret)
        self.store = self.engine.store

    def names(self) -> list[str]:
        """The game events heard since the game started, in order."""
        return self.events.names(skip=("started",))

    @property
    def game(self) -> GroupBuyGame:
        game = self.engine.games["pin"]
        assert isinstance(game, GroupBuyGame)
        return game

    def pay(self, customer: str, order_id: str, group_id: str = "pin", *, quantity: int = 1,
            orders_count: int = 0, sku: str = "KETTLE") -> Any:
        """Check out and pay a kettle order carrying ``group_id``."""
        self.engine.checkout(cart(customer, group_id, quantity=quantity,
                                  orders_count=orders_count, sku=sku), order_id)
        return self.engine.commit(order_id)

    def open(self, customer: str = "leader", order_id: str = "o-leader") -> str:
        self.pay(customer, order_id)
        return self.game.open_group(Customer(id=customer), order_id).group_id

    def join(self, group: str, customer: str, order_id: str | None = None) -> Any:
        order_id = order_id or f"o-{customer}"
        self.pay(customer, order_id, group if group.startswith("pin.") else
                 self.game._resolve(group)[0])
        return self.game.join(group, Customer(id=customer, orders_count=0), order_id)


def cart(customer: str | None, group_id: str | None, *, quantity: int = 1,
         orders_count: int | None = 0, sku: str = "KETTLE", tier: str | None = None,
         price: str = "99.00") -> dict[str, Any]:
    who: dict[str, Any] = {}
    if customer is not None:
        who["id"] = customer
    if orders_count is not None:
        who["orders_count"] = orders_count
    if tier is not None:
        who["tier"] = tier
    line: dict[str, Any] = {"id": "l1", "sku": sku, "quantity": quantity, "unit_price": price}
    if group_id is not None:
        line["group_id"] = group_id
    return {"currency": "CNY", "customer": who, "lines": [line]}


def reason_of(error: pytest.ExceptionInfo[GameError]) -> str:
    return error.value.reason


def not_applied(result: Any) -> dict[str, str]:
    return {n.promotion: n.reason for n in result.not_applied}


def applied(result: Any) -> dict[str, Decimal]:
    return {a.promotion: a.amount for a in result.applied}


@pytest.fixture
def world() -> World:
    return World()


# -- config ------------------------------------------------------------------------------------


def config_of(toml: str) -> GroupBuyConfig:
    engine = engine_from_toml(toml)
    config = engine.games["pin"].spec.config
    assert isinstance(config, GroupBuyConfig)
    return config


def test_the_config_reads_every_key_with_its_defaults() -> None:
    config = config_of(GAME)
    assert config == GroupBuyConfig(sku="KETTLE", tiers=(Tier(3, 6900),),
                                    currency=currency("CNY"), tiered=False,
                                    window_hours=24, new_customers_only=False,
                                    max_groups_per_customer=None, auto_complete=False,
                                    max_units=1)
    assert (config.size, config.needed, config.price) == (3, 3, 6900)
    full = config_of(GAME + 'window_hours = 12\nnew_customers_only = true\n'
                     'max_groups_per_customer = 2\nauto_complete = true\nmax_units = 3\n')
    assert (full.window_hours, full.new_customers_only, full.max_groups_per_customer,
            full.auto_complete, full.max_units) == (12, True, 2, True, 3)


def test_tiers_give_the_size_the_price_up_front_and_the_price_by_head_count() -> None:
    config = config_of(TIERED)
    assert config.tiered and (config.size, config.needed, config.price) == (5, 2, 7900)
    assert [config.price_at(n) for n in range(1, 7)] == [None, 7900, 6900, 6900, 5900, 5900]
    assert config_of(TIERED + "size = 5\n").size == 5


BASE = HEADER + '[[game]]\nid = "pin"\nkind = "group_buy"\n'


@pytest.mark.parametrize(("body", "problem"), [
    ('price = "69.00"\nsize = 3\n', "game[0].sku: is required"),
    ('sku = "K"\nsize = 3\n', "game[0].price: is required (or tiers"),
    ('sku = "K"\nprice = "69.00"\n', "game[0].size: is required"),
    ('sku = "K"\nprice = "69.00"\nsize = 1\n', "game[0].size: must be at least 2, got 1"),
    ('sku = "K"\nprice = "0"\nsize = 3\n', "game[0].price: must be > 0"),
    ('sku = "K"\nprice = 69.5\nsize = 3\n', "game[0].price: "),
    ('sku = "K"\nprice = "69.00"\nsize = 3\ntiers = [{ size = 2, price = "79.00" }]\n',
     "game[0].tiers: give either price or tiers, not both"),
    ('sku = "K"\ntiers = []\n', "game[0].tiers: must not be empty"),
    ('sku = "K"\ntiers = [{ size = 3, price = "69.00" }, { size = 2, price = "59.00" }]\n',
     "game[0].tiers[1].size: sizes must increase from tier to tier (3 before)"),
    ('sku = "K"\ntiers = [{ size = 2, price = "69.00" }, { size = 3, price = "69.00" }]\n',
     "game[0].tiers[1].price: a larger group must have a lower price than 69.00"),
    ('sku = "K"\ntiers = [{ size = 2, prize = "69.00" }]\n', "game[0].tiers[0].price: is required"),
    ('sku = "K"\ntiers = [{ size = 2, price = "69.00", seats = 1 }]\n',
     "game[0].tiers[0].seats: unknown key"),
    ('sku = "K"\ntiers = [{ size = 1, price = "69.00" }]\n',
     "game[0].tiers[0].size: must be at least 2, got 1"),
    ('sku = "K"\ntiers = [{ size = 2, price = "79.00" }, { size = 4, price = "69.00" }]\n'
     'size = 3\n', "game[0].size: with tiers, size is the largest tier's size (4), got 3"),
    ('sku = "K"\nprice = "69.00"\nsize = 3\nwindow_hours = 0\n',
     "game[0].window_hours: must be at least 1, got 0"),
    ('sku = "K"\nprice = "69.00"\nsize = 3\nmax_units = 0\n',
     "game[0].max_units: must be at least 1, got 0"),
    ('sku = "K"\nprice = "69.00"\nsize = 3\nmax_groups_per_customer = 0\n',
     "game[0].max_groups_per_customer: must be at least 1, got 0"),
    ('sku = "K"\nprice = "69.00"\nsize = 3\nauto_complete = "yes"\n',
     "game[0].auto_complete: must be true or false"),
    ('sku = "K"\nprice = "69.00"\nsize = 3\nnew_customers_only = 1\n',
     "game[0].new_customers_only: must be true or false"),
    ('sku = "K"\nprice = "69.00"\nsize = 3\nwindows_hours = 2\n',
     "game[0].windows_hours: unknown key (did you mean 'window_hours'?)"),
])
def test_config_problems_name_their_path(body: str, problem: str) -> None:
    with pytest.raises(ConfigError) as error:
        engine_from_toml(BASE + body)
    assert any(str(p).startswith(problem) for p in error.value.problems), \
        [str(p) for p in error.value.problems]


# -- the state machine ----------------------------------------------------------------------------


def test_open_join_join_fills_the_group(world: World) -> None:
    group_id = world.open()
    assert group_id.startswith("pin.") and len(group_id) == len("pin.") + 12
    group = world.game.group(group_id)
    assert (group.status, group.leader, group.real_members, group.seats_left) == (
        "open", "leader", 1, 2)
    assert group.ends_at == NOW + timedelta(hours=24)
    assert world.store.order(f"game:pin:group:{group_id[4:]}").expires_at == (
        NOW + timedelta(hours=24)).timestamp()

    world.clock.move(minutes=5)
    assert world.join(group_id, "ann").seats_left == 1
    world.clock.move(minutes=5)
    full = world.join(group_id, "bob")
    assert (full.status, full.seats_left, full.real_members) == ("full", 0, 3)
    assert full.closed_at == NOW + timedelta(minutes=10)
    assert [m.customer for m in full.members] == ["leader", "ann", "bob"]
    assert [m.leader for m in full.members] == [True, False, False]
    assert full.final_price == 6900 and full.virtual_members == ()
    row = world.store.order(f"game:pin:group:{group_id[4:]}")
    assert row is not None and row.status == "full" and row.expires_at is None

    assert world.names() == ["opened", "joined", "joined", "full"]
    opened, joined, _, done = (e for e in world.events.games if e.event != "started")
    assert opened.customer == "leader" and opened.data == {
        "group_id": group_id, "order_id": "o-leader", "size": 3,
        "ends_at": "2026-11-12T10:00:00+08:00"}
    assert joined.customer == "ann" and joined.data == {
        "group_id": group_id, "order_id": "o-ann", "invited_by": None, "members": 2,
        "seats_left": 1}
    assert done.customer is None and done.data["real_members"] == 3
    assert done.data["members"][2] == {"customer": "bob", "order_id": "o-bob", "units": 1,
                                       "paid": "69.00", "refund_due": "0.00"}
    # a full group is never swept
    world.clock.move(hours=48)
    assert world.engine.sweep() == [] and world.game.group(group_id).status == "full"


def test_counters_mirror_the_group_for_pricing(world: World) -> None:
    group_id = world.open()
    world.join(group_id, "ann")
    code = group_id[4:]
    keys = [f"game:pin:group:{code}:members", f"game:pin:group:{code}:ends",
            f"game:pin:group:{code}:closed", f"game:pin:group:{code}:member:leader",
            f"game:pin:group:{code}:member:ann", f"game:pin:group:{code}:member:bob",
            "game:pin:groups:leader", "game:pin:groups:ann"]
    assert dict(world.store.read(keys)) == dict(zip(keys, [
        2, int((NOW + timedelta(hours=24)).timestamp()), 0, 1, 1, 0, 1, 1], strict=True))
    world.join(group_id, "bob")
    assert world.store.read([keys[2]])[keys[2]] == 1


def test_open_is_idempotent_per_order_id(world: World) -> None:
    group_id = world.open()
    again = world.game.open_group(Customer(id="leader"), "o-leader")
    assert again.group_id == group_id and again.real_members == 1
    assert world.names() == ["opened"]
    assert world.store.read(["game:pin:groups:leader"])["game:pin:groups:leader"] == 1
    # the code comes from the order id: another order opens another group
    world.pay("leader", "o-leader-2")
    other = world.game.open_group(Customer(id="leader"), "o-leader-2")
    assert other.group_id != group_id
    # an order id belongs to the customer who opened with it
    with pytest.raises(GameError) as error:
        world.game.open_group(Customer(id="mallory"), "o-leader")
    assert reason_of(error) == "order_used"


def test_join_is_idempotent_per_group_customer_and_order(world: World) -> None:
    group_id = world.open()
    first = world.join(group_id, "ann")
    again = world.game.join(group_id, Customer(id="ann", orders_count=0), "o-ann")
    assert again == first
    assert world.names() == ["opened", "joined"]
    world.join(group_id, "bob")
    # still idempotent once the group is full, and once its window has passed
    assert world.game.join(group_id, Customer(id="ann", orders_count=0), "o-ann").status == "full"
    world.clock.move(hours=30)
    assert world.game.join(group_id, Customer(id="ann", orders_count=0), "o-ann").status == "full"
    assert world.names() == ["opened", "joined", "joined", "full"]


def test_a_group_short_of_members_expires_and_each_member_is_refunded_once(
        world: World) -> None:
    group_id = world.open()
    world.join(group_id, "ann")
    world.clock.move(hours=24)
    row_id = f"game:pin:group:{group_id[4:]}"
    assert world.engine.sweep() == [row_id]
    assert world.engine.sweep() == []  # a second sweep finds nothing left to do
    group = world.game.group(group_id)
    assert (group.status, group.seats_left, group.real_members) == ("expired", 0, 2)
    assert all(m.refunded for m in group.members)
    assert world.names() == ["opened", "joined", "expired", "refunded", "refunded"]
    expired = world.events.of("expired")[0]
    assert expired.data == {"group_id": group_id, "real_members": 2, "needed": 3,
                            "orders": ["o-leader", "o-ann"]}
    refunds = {e.customer: e.data for e in world.events.of("refunded")}
    refund_id = f"group:{group_id}"
    assert refunds == {
        "leader": {"group_id": group_id, "order_id": "o-leader", "refund_id": refund_id,
                   "amount": "69.00"},
        "ann": {"group_id": group_id, "order_id": "o-ann", "refund_id": refund_id,
                "amount": "69.00"}}
    for order_id in ("o-leader", "o-ann"):
        order = world.engine.order(order_id)
        assert order is not None and order.status == "refunded"
        assert [(r.refund_id, r.amount) for r in order.refunds] == [(refund_id, Decimal("69.00"))]
    row = world.store.order(row_id)
    assert row is not None and row.expires_at is None
    # the groups counted for the limit are given back
    assert dict(world.store.read(["game:pin:groups:leader", "game:pin:groups:ann"])) == {
        "game:pin:groups:leader": 0, "game:pin:groups:ann": 0}


def test_touching_an_expired_group_closes_it_first(world: World) -> None:
    group_id = world.open()
    world.clock.move(hours=24)
    world.pay("ann", "o-ann", group_id)
    with pytest.raises(GameError) as error:
        world.game.join(group_id, Customer(id="ann", orders_count=0), "o-ann")
    assert reason_of(error) == "expired"
    assert world.names() == ["opened", "expired", "refunded"]
    assert world.game.group(group_id).status == "expired"
    assert world.engine.sweep() == []
    assert len(world.events.of("refunded")) == 1


def test_group_closes_lazily_when_read(world: World) -> None:
    group_id = world.open()
    world.clock.move(hours=25)
    assert world.game.group(group_id).status == "expired"
    assert world.names() == ["opened", "expired", "refunded"]


def test_a_refund_left_owed_by_a_failed_sweep_is_paid_by_the_next(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    group_id = world.open()
    world.join(group_id, "ann")
    world.clock.move(hours=24)
    game = world.game
    real = game._refund_order

    def flaky(group: str, member: Any) -> dict[str, Any]:
        if member["customer"] == "ann":
            raise StoreError("the store went away")
        return real(group, member)

    monkeypatch.setattr(game, "_refund_order", flaky)
    with pytest.raises(StoreError):
        world.engine.sweep()
    row = world.store.order(f"game:pin:group:{group_id[4:]}")
    assert row is not None and row.status == "expired" and row.expires_at is not None
    assert [m["refund"] for m in json.loads(row.body)["members"]] == ["done", "pending"]
    monkeypatch.setattr(game, "_refund_order", real)
    assert world.engine.sweep() == [f"game:pin:group:{group_id[4:]}"]
    assert [e.customer for e in world.events.of("refunded")] == ["leader", "ann"]
    assert all(m.refunded for m in game.group(group_id).members)


def test_a_refund_only_refunds_the_group_line(world: World) -> None:
    world.engine.checkout({"currency": "CNY", "customer": {"id": "leader", "orders_count": 0},
                           "lines": [{"id": "l1", "sku": "KETTLE", "quantity": 1,
                                      "unit_price": "99.00", "group_id": "pin"},
                                     {"id": "l2", "sku": "MUG", "quantity": 2,
                                      "unit_price": "10.00"}]}, "o-mixed")
    world.engine.commit("o-mixed")
    group_id = world.game.open_group(Customer(id="leader"), "o-mixed").group_id
    world.clock.move(hours=24)
    world.engine.sweep()
    order = world.engine.order("o-mixed")
    assert order is not None and order.status == "committed"  # the mugs are kept
    assert [(r.units, r.amount) for r in order.refunds] == [((("l1", 1),), Decimal("69.00"))]
    assert world.events.of("refunded")[0].data["amount"] == "69.00"
    assert group_id


def test_orders_unknown_to_checkout_are_refunded_by_the_shop() -> None:
    world = World()
    group_id = world.game.open_group(Customer(id="leader"), "shop-order-1").group_id
    world.clock.move(hours=24)
    world.engine.sweep()
    assert [e.data for e in world.events.of("refunded")] == [
        {"group_id": group_id, "order_id": "shop-order-1", "refund_id": None}]


def test_a_member_refunded_in_full_by_the_shop_is_still_reported_once(world: World) -> None:
    group_id = world.open()
    world.engine.refund("o-leader", "shop-refund")
    world.clock.move(hours=24)
    world.engine.sweep()
    (event,) = world.events.of("refunded")
    assert event.data["refund_id"] is None and "refunded already" in event.data["refund_error"]
    assert world.game.group(group_id).members[0].refunded


def test_auto_complete_fills_the_group_with_virtual_members() -> None:
    world = World(GAME + "auto_complete = true\n")
    group_id = world.open()
    world.clock.move(hours=24)
    assert world.engine.sweep() == [f"game:pin:group:{group_id[4:]}"]
    group = world.game.group(group_id)
    assert group.status == "completed_virtually"
    assert group.virtual_members == ("virtual-1", "virtual-2")
    assert group.real_members == 1 and [m.customer for m in group.members] == ["leader"]
    assert group.to_json()["virtual_members"] == ["virtual-1", "virtual-2"]
    assert world.names() == ["opened", "completed_virtually"]
    data = world.events.of("completed_virtually")[0].data
    assert data["virtual_members"] == ["virtual-1", "virtual-2"] and data["real_members"] == 1
    assert [m["customer"] for m in data["members"]] == ["leader"]  # only real buyers
    order = world.engine.order("o-leader")
    assert order is not None and order.status == "committed" and not order.refunds
    assert world.engine.sweep() == []


def test_tiers_succeed_at_the_smallest_size_and_owe_the_difference() -> None:
    world = World(TIERED)
    group_id = world.open()
    # everyone pays the first tier's price up front: 99.00 → 79.00
    order = world.engine.order("o-leader")
    assert order is not None and order.result.total == Decimal("79.00")
    world.join(group_id, "ann")
    world.join(group_id, "bob")
    assert world.game.group(group_id).seats_left == 2  # room up to 5
    world.clock.move(hours=24)
    world.engine.sweep()
    group = world.game.group(group_id)
    assert (group.status, group.final_price, group.price) == ("succeeded", 6900, 7900)
    assert (group.to_json()["price"], group.to_json()["final_price"]) == ("79.00", "69.00")
    assert world.names() == ["opened", "joined", "joined", "succeeded"]
    data = world.events.of("succeeded")[0].data
    assert (data["price"], data["final_price"]) == ("79.00", "69.00")
    assert [(m["customer"], m["paid"], m["refund_due"]) for m in data["members"]] == [
        ("leader", "79.00", "10.00"), ("ann", "79.00", "10.00"), ("bob", "79.00", "10.00")]


def test_tiers_fill_at_the_largest_size() -> None:
    world = World(TIERED + "max_units = 2\n")
    world.pay("leader", "o-leader", quantity=2)  # two units at the group price
    group_id = world.game.open_group(Customer(id="leader"), "o-leader").group_id
    for name in ("a", "b", "c", "d"):
        world.join(group_id, name)
    group = world.game.group(group_id)
    assert (group.status, group.final_price) == ("full", 5900)
    data = world.events.of("full")[0].data
    assert data["members"][0] == {"customer": "leader", "order_id": "o-leader", "units": 2,
                                  "paid": "158.00", "refund_due": "40.00"}
    assert data["members"][4]["refund_due"] == "20.00"


def test_tiers_short_of_the_smallest_size_expire() -> None:
    world = World(TIERED)
    world.open()
    world.clock.move(hours=24)
    world.engine.sweep()
    assert world.names() == ["opened", "expired", "refunded"]


# -- rules -----------------------------------------------------------------------------------------


def test_nobody_joins_a_group_twice(world: World) -> None:
    group_id = world.open()
    world.pay("leader", "o-leader-2", group_id)
    with pytest.raises(GameError) as error:
        world.game.join(group_id, Customer(id="leader", orders_count=0), "o-leader-2")
    assert reason_of(error) == "already_member"
    world.join(group_id, "ann")
    world.pay("ann", "o-ann-2", group_id)
    with pytest.raises(GameError) as error:
        world.game.join(group_id, Customer(id="ann", orders_count=0), "o-ann-2")
    assert reason_of(error) == "already_member"


def test_a_full_group_takes_nobody(world: World) -> None:
    group_id = world.open()
    world.join(group_id, "ann")
    world.join(group_id, "bob")
    world.pay("cat", "o-cat", group_id)  # paid, at the list price: the group is full
    with pytest.raises(GameError) as error:
        world.game.join(group_id, Customer(id="cat", orders_count=0), "o-cat")
    assert reason_of(error) == "group_full"


@pytest.mark.parametrize(("seconds_before_end", "works"), [(1, True), (0, False)])
def test_joining_works_until_one_second_before_the_window_ends(
        world: World, seconds_before_end: int, works: bool) -> None:
    group_id = world.open()
    world.pay("ann", "o-ann", group_id)
    world.clock.now = NOW + timedelta(hours=24, seconds=-seconds_before_end)
    ann = Customer(id="ann", orders_count=0)
    if works:
        assert world.game.join(group_id, ann, "o-ann").real_members == 2
    else:
        with pytest.raises(GameError) as error:
            world.game.join(group_id, ann, "o-ann")
        assert reason_of(error) == "expired"


def test_the_window_is_cut_at_the_games_end() -> None:
    world = World(at=datetime(2026, 11, 20, 23, 0, tzinfo=SHANGHAI))
    group_id = world.open()
    assert world.game.group(group_id).ends_at == datetime(2026, 11, 21, 0, 0, tzinfo=SHANGHAI)
    world.clock.now = datetime(2026, 11, 20, 23, 59, 59, tzinfo=SHANGHAI)
    assert world.join(group_id, "ann").real_members == 2
    world.clock.now = datetime(2026, 11, 21, 0, 0, tzinfo=SHANGHAI)
    assert world.engine.sweep() == [f"game:pin:group:{group_id[4:]}"]


def test_only_new_customers_join_when_the_game_says_so() -> None:
    world = World(GAME + "new_customers_only = true\n")
    world.pay("leader", "o-leader", orders_count=7)  # the leader need not be new
    group_id = world.game.open_group(Customer(id="leader", orders_count=7), "o-leader").group_id
    for count in (2, None):
        world.pay("old", f"o-old-{count}", group_id, orders_count=0)
        with pytest.raises(GameError) as error:
            world.game.join(group_id, Customer(id="old", orders_count=count), f"o-old-{count}")
        assert reason_of(error) == "not_eligible:new_customer"
    assert world.join(group_id, "new").real_members == 2


def test_max_groups_per_customer_counts_groups_led_and_joined() -> None:
    world = World(GAME + "max_groups_per_customer = 2\n")
    first = world.open("ann", "o-ann-1")
    other = world.open("bob", "o-bob-1")
    world.join(other, "ann", "o-ann-2")
    world.pay("ann", "o-ann-3")
    with pytest.raises(GameError) as error:
        world.game.open_group(Customer(id="ann"), "o-ann-3")
    assert reason_of(error) == "limit_reached"
    third = world.open("cat", "o-cat-1")
    world.pay("ann", "o-ann-4", third)
    with pytest.raises(GameError) as error:
        world.game.join(third, Customer(id="ann", orders_count=0), "o-ann-4")
    assert reason_of(error) == "limit_reached"
    # an expired group is given back: ann may take part again
    world.clock.move(hours=24)
    world.engine.sweep()
    assert world.store.read(["game:pin:groups:ann"])["game:pin:groups:ann"] == 0
    assert first


def test_the_games_schedule_and_conditions_apply() -> None:
    early = World(at=datetime(2026, 11, 9, 23, 59, 59, tzinfo=SHANGHAI))
    with pytest.raises(GameError) as error:
        early.game.open_group(Customer(id="leader"), "o-1")
    assert reason_of(error) == "not_started"
    world = World()
    group_id = world.open()
    world.clock.now = datetime(2026, 11, 21, 0, 0, tzinfo=SHANGHAI)
    with pytest.raises(GameError) as error:
        world.game.join(group_id, Customer(id="ann", orders_count=0), "o-ann")
    assert reason_of(error) == "ended"
    gold = World(GAME + 'conditions = [{ rule = "member_tier", in = ["gold"] }]\n')
    with pytest.raises(GameError) as error:
        gold.game.open_group(Customer(id="leader", tier="silver"), "o-1")
    assert reason_of(error) == "not_eligible:member_tier"
    with pytest.raises(GameError) as error:
        gold.game.open_group(Customer(), "o-1")
    assert reason_of(error) == "customer_required"


def test_orders_must_be_paid_by_the_member_for_the_group(world: World) -> None:
    world.engine.checkout(cart("leader", "pin"), "o-unpaid")
    with pytest.raises(GameError) as error:
        world.game.open_group(Customer(id="leader"), "o-unpaid")
    assert reason_of(error) == "not_paid"
    group_id = world.open()
    world.pay("bob", "o-bob", group_id)
    with pytest.raises(GameError) as error:  # bob's order is not ann's
        world.game.join(group_id, Customer(id="ann", orders_count=0), "o-bob")
    assert reason_of(error) == "order_used"
    world.pay("ann", "o-plain", None)  # type: ignore[arg-type]
    with pytest.raises(GameError) as error:
        world.game.join(group_id, Customer(id="ann", orders_count=0), "o-plain")
    assert reason_of(error) == "order_mismatch"
    world.join(group_id, "ann")
    with pytest.raises(GameError) as error:  # one order, one member
        world.game.join(group_id, Customer(id="cat", orders_count=0), "o-ann")
    assert reason_of(error) == "order_used"
    for bad in ("", "game:pin:group:x"):
        with pytest.raises(GameError) as error:
            world.game.open_group(Customer(id="leader"), bad)
        assert reason_of(error) == "bad_argument"


def test_unknown_groups_are_not_found(world: World) -> None:
    for group_id in ("pin.000000000000", "other.000000000000", "pin"):
        with pytest.raises(GameError) as error:
            world.game.group(group_id)
        assert reason_of(error) == "not_found"
    with pytest.raises(GameError) as error:
        world.game.join("pin.000000000000", Customer(id="ann", orders_count=0), "o-x")
    assert reason_of(error) == "not_found"


# -- share tokens ----------------------------------------------------------------------------------


def test_a_share_token_invites_to_the_group_on_behalf_of_a_member(world: World) -> None:
    group_id = world.open()
    token = world.game.share(group_id, "leader")
    group = world.join(token, "ann")
    assert group.members[1].invited_by == "leader"
    assert world.events.of("joined")[0].data["invited_by"] == "leader"
    # members may share too
    bob_token = world.game.share(group_id, "ann")
    assert world.join(bob_token, "bob").members[2].invited_by == "ann"


def test_token_errors(world: World) -> None:
    group_id = world.open()
    token = world.game.share(group_id, "leader", ttl_seconds=60)
    payload, _, signature = token.partition(".")
    ann = Customer(id="ann", orders_count=0)
    world.pay("ann", "o-ann", group_id)
    tampered = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + signature
    for bad, reason in ((tampered, "token_invalid"), ("garbage", "not_found"),
                        (token + "x", "token_invalid"), (token + "==", "token_invalid")):
        with pytest.raises(GameError) as error:
            world.game.join(bad, ann, "o-ann")
        assert reason_of(error) == reason, bad
    world.clock.move(seconds=60)
    with pytest.raises(GameError) as error:
        world.game.join(token, ann, "o-ann")
    assert reason_of(error) == "token_expired"
    # a token of another game
    two = World(GAME + GAME.replace(HEADER, "").replace('"pin"', '"pin2"'))
    pin2 = two.engine.games["pin2"]
    assert isinstance(pin2, GroupBuyGame)
    other_token = pin2.share(pin2.open_group(Customer(id="leader"), "o-1").group_id, "leader")
    with pytest.raises(GameError) as error:
        two.game.join(other_token, ann, "o-2")
    assert reason_of(error) == "token_other_game"


def test_a_token_expires_with_the_window_by_default(world: World) -> None:
    group_id = world.open()
    token = world.game.share(group_id, "leader")
    world.pay("ann", "o-ann", group_id)
    world.clock.now = NOW + timedelta(hours=24)
    with pytest.raises(GameError) as error:
        world.game.join(token, Customer(id="ann", orders_count=0), "o-ann")
    assert reason_of(error) == "token_expired"
    world.clock.now = NOW + timedelta(hours=24, seconds=-1)
    assert world.game.join(token, Customer(id="ann", orders_count=0), "o-ann").real_members == 2


def test_share_rules(world: World) -> None:
    group_id = world.open()
    with pytest.raises(GameError) as error:
        world.game.share(group_id, "stranger")
    assert reason_of(error) == "not_member"
    with pytest.raises(GameError) as error:
        world.game.share(group_id, "leader", ttl_seconds=0)
    assert reason_of(error) == "bad_argument"
    world.join(group_id, "ann")
    world.join(group_id, "bob")
    with pytest.raises(GameError) as error:
        world.game.share(group_id, "leader")
    assert reason_of(error) == "group_full"
    expiring = world.open("cat", "o-cat")
    world.clock.move(hours=24)
    with pytest.raises(GameError) as error:
        world.game.share(expiring, "cat")
    assert reason_of(error) == "expired"
    unsigned = World(secret=None)
    group = unsigned.open()
    with pytest.raises(GameError) as error:
        unsigned.game.share(group, "leader")
    assert reason_of(error) == "secret_required"
    with pytest.raises(GameError) as error:
        unsigned.game.join(sign_token(b"k" * 32, game="pin", subject=group, inviter="leader",
                                      expires=2**40),
                           Customer(id="ann", orders_count=0), "o-ann")
    assert reason_of(error) == "secret_required"


# -- pricing ---------------------------------------------------------------------------------------


def test_the_leader_pays_the_group_price(world: World) -> None:
    result = world.engine.evaluate(cart("leader", "pin"))
    # 99.00 list, 69.00 group price: 30.00 off
    assert result.total == Decimal("69.00") and applied(result) == {"pin": Decimal("30.00")}
    plain = world.engine.evaluate(cart("leader", None))
    assert plain.total == Decimal("99.00") and "pin" not in applied(plain)
    other_sku = world.engine.evaluate(cart("leader", "pin", sku="MUG"))
    assert other_sku.total == Decimal("99.00")


def test_a_threshold_discount_still_stacks_on_the_group_price() -> None:
    world = World(GAME + '''
[[promotion]]
id = "man-jian"
kind = "tiered_threshold"
tiers = [{ spend = "60.00", off = "5.00" }, { spend = "100.00", off = "15.00" }]
''')
    result = world.engine.evaluate(cart("leader", "pin"))
    # 99.00 → 69.00 (group) → 滿60減5 → 64.00 (the 滿100 tier is no longer reached)
    assert result.total == Decimal("64.00")
    assert applied(result) == {"pin": Decimal("30.00"), "man-jian": Decimal("5.00")}
    two = world.engine.evaluate(cart("leader", "pin", quantity=2))
    # one unit at 69.00 (max_units = 1) + one at 99.00 = 168.00 → 滿100減15 → 153.00
    assert two.total == Decimal("153.00")


def test_max_units_caps_the_units_at_the_group_price() -> None:
    world = World(GAME + "max_units = 2\n")
    result = world.engine.evaluate(cart("leader", "pin", quantity=3))
    # 2 × 69.00 + 99.00 = 237.00
    assert result.total == Decimal("237.00") and applied(result) == {"pin": Decimal("60.00")}


def test_joining_lines_are_priced_from_the_groups_counters(world: World) -> None:
    group_id = world.open()
    joining = world.engine.evaluate(cart("ann", group_id))
    assert joining.total == Decimal("69.00") and applied(joining) == {"pin": Decimal("30.00")}
    own = world.engine.evaluate(cart("leader", group_id))
    assert own.total == Decimal("99.00")
    assert not_applied(own)["pin"] == "not_eligible:group_member"
    unknown = world.engine.evaluate(cart("ann", "pin.000000000000"))
    assert not_applied(unknown)["pin"] == "not_eligible:group_unknown"
    malformed = world.engine.evaluate(cart("ann", "pin.zz"))
    assert not_applied(malformed)["pin"] == "not_eligible:group_unknown"
    anonymous = world.engine.evaluate(cart(None, group_id))
    assert not_applied(anonymous)["pin"] == "not_eligible:customer_required"
    world.join(group_id, "ann")
    world.join(group_id, "bob")
    full = world.engine.evaluate(cart("cat", group_id))
    assert full.total == Decimal("99.00") and not_applied(full)["pin"] == \
        "not_eligible:group_full"
    messages = {lang: [n.message for n in world.engine.evaluate(
        cart("cat", group_id), lang=lang).not_applied if n.promotion == "pin"]
        for lang in ("en", "zh-CN")}
    assert messages == {"en": ["the group is full"], "zh-CN": ["该团已满"]}


@pytest.mark.parametrize(("seconds_before_end", "reason"), [(1, None), (0, "ended")])
def test_a_joining_price_ends_with_the_window(world: World, seconds_before_end: int,
                                              reason: str | None) -> None:
    group_id = world.open()
    world.clock.now = NOW + timedelta(hours=24, seconds=-seconds_before_end)
    result = world.engine.evaluate(cart("ann", group_id))
    assert not_applied(result).get("pin") == reason
    assert result.total == (Decimal("69.00") if reason is None else Decimal("99.00"))


def test_pricing_applies_the_rules_for_joiners() -> None:
    world = World(GAME + "new_customers_only = true\nmax_groups_per_customer = 1\n"
                  'conditions = [{ rule = "member_tier", in = ["gold"] }]\n')
    world.engine.checkout(cart("leader", "pin", tier="gold", orders_count=4), "o-leader")
    world.engine.commit("o-leader")
    group_id = world.game.open_group(Customer(id="leader", tier="gold"), "o-leader").group_id
    assert world.engine.evaluate(cart("ann", group_id, tier="gold")).total == Decimal("69.00")
    old = world.engine.evaluate(cart("ann", group_id, tier="gold", orders_count=1))
    assert not_applied(old)["pin"] == "not_eligible:new_customer"
    silver = world.engine.evaluate(cart("ann", group_id, tier="silver"))
    assert not_applied(silver)["pin"] == "not_eligible:member_tier"
    # the leader used up the one group allowed: no second group at the group price
    again = world.engine.evaluate(cart("leader", "pin", tier="gold", orders_count=4))
    assert not_applied(again)["pin"] == "limit_reached"


def test_checkout_and_commit_charge_the_group_price() -> None:
    world = World(GAME + '''
[[promotion]]
id = "man-jian"
kind = "tiered_threshold"
tiers = [{ spend = "60.00", off = "5.00" }]
''')
    order = world.pay("leader", "o-leader")
    assert order.status == "committed" and order.result.total == Decimal("64.00")
    ledger = {e.promotion: e.amount for e in world.store.ledger(order_id="o-leader")}
    assert ledger == {"pin": Decimal("30.00"), "man-jian": Decimal("5.00")}
    group_id = world.game.open_group(Customer(id="leader"), "o-leader").group_id
    joined = world.pay("ann", "o-ann", group_id)
    assert joined.result.total == Decimal("64.00")


def test_the_group_price_ends_with_the_game() -> None:
    world = World(at=datetime(2026, 11, 21, 0, 0, tzinfo=SHANGHAI))
    result = world.engine.evaluate(cart("leader", "pin"))
    assert not_applied(result)["pin"] == "ended" and result.total == Decimal("99.00")


# -- disclosure and config changes ---------------------------------------------------------------


def test_the_disclosure_is_generated_from_the_config_in_both_languages() -> None:
    world = World(GAME + 'window_hours = 12\nnew_customers_only = true\n'
                  'max_groups_per_customer = 2\norganiser = "Acme, 400-000"\n')
    en = world.game.disclosure("en")
    zh = world.game.disclosure("zh-CN")
    for part in ("KETTLE at ¥69.00 per unit when 3 people buy together",
                 "stays open for 12 hours (closing at the latest when the game ends)",
                 "only new customers (no earlier order) may join",
                 "1 unit per member", "at most 2 groups",
                 "fewer than 3 members when its window ends, it fails and every member's "
                 "payment is refunded in full", "Organiser: Acme, 400-000",
                 "10 Nov 2026, 00:00 – 20 Nov 2026, 23:59"):
        assert part in en, part
    for part in ("KETTLE 拼团价¥69.00/件，3人成团", "拼团有效期12小时（最迟至活动结束）",
                 "仅新用户（无历史订单）可参团", "每人限1件享拼团价", "每人最多开团或参团2次",
                 "未满3人的团拼团失败，已付款全额原路退回", "活动主办方：Acme, 400-000"):
        assert part in zh, part


def test_the_disclosure_tells_of_tiers_and_virtual_members() -> None:
    world = World(TIERED + "auto_complete = true\n")
    en, zh = world.game.disclosure("en"), world.game.disclosure("zh-CN")
    assert "2 people ¥79.00, 3 people ¥69.00 and 5 people ¥59.00" in en
    assert "Everyone pays ¥79.00 per unit up front" in en
    assert "virtual members" in en and "not real buyers" in en
    assert "2人团¥79.00、3人团¥69.00、5人团¥59.00" in zh
    assert "由系统以虚拟成员补足并成团（虚拟成员非真实买家）" in zh
    assert "Anyone may open or join a group" in en and "refunded in full" not in en


def spec_of(toml: str) -> Any:
    return engine_from_toml(toml).games["pin"].spec


CHANGEABLE = BASE + ('sku = "KETTLE"\nprice = "69.00"\nsize = 3\nmax_groups_per_customer = 2\n'
                     'window_hours = 24\nnew_customers_only = false\nmax_units = 2\n'
                     'auto_complete = true\n')


@pytest.mark.parametrize(("before", "after", "path"), [
    ('price = "69.00"', 'price = "79.00"', "price: 69.00 → 79.00"),
    ("size = 3", "size = 4", "size: 3 → 4"),
    ("window_hours = 24", "window_hours = 12", "window_hours: 24 → 12"),
    ("new_customers_only = false", "new_customers_only = true",
     "new_customers_only: False → True"),
    ("max_groups_per_customer = 2", "max_groups_per_customer = 1",
     "max_groups_per_customer: 2 → 1"),
    ("max_groups_per_customer = 2\n", "", None),
    ("max_units = 2", "max_units = 1", "max_units: 2 → 1"),
    ("auto_complete = true", "auto_complete = false", "auto_complete: True → False"),
])
def test_worse_changes_are_named_and_their_opposites_are_better(
        before: str, after: str, path: str | None) -> None:
    old = spec_of(CHANGEABLE)
    new = spec_of(CHANGEABLE.replace(before, after))
    if path is None:  # dropping a cap: better; adding one back: worse
        old, new = new, old
        path = "max_groups_per_customer: none → 2"
    changes = GroupBuy().changes(old, new)
    assert [(str(c).split(" (")[0], c.worse) for c in changes] == [(path, True)]
    assert [c.worse for c in GroupBuy().changes(new, old)] == [False]


def test_another_product_is_a_worse_change_either_way() -> None:
    old = spec_of(CHANGEABLE)
    new = spec_of(CHANGEABLE.replace('"KETTLE"', '"TOASTER"'))
    assert [(c.path, c.worse) for c in GroupBuy().changes(old, new)] == [("sku", True)]
    assert [(c.path, c.worse) for c in GroupBuy().changes(new, old)] == [("sku", True)]


def test_tier_changes_compare_the_price_at_each_head_count() -> None:
    old = spec_of(TIERED)
    cheaper = spec_of(TIERED.replace('size = 5, price = "59.00"', 'size = 5, price = "49.00"'))
    assert [(c.path, c.worse) for c in GroupBuy().changes(old, cheaper)] == [
        ("tiers[size=5].price", False)]
    harder = spec_of(TIERED.replace('{ size = 2, price = "79.00" }, ', ""))
    changes = {c.path: c.worse for c in GroupBuy().changes(old, harder)}
    assert changes == {"tiers[size=2].price": True, "price (paid up front)": False,
                       "tiers[0].size (to succeed)": True}
    lost_virtual = GroupBuy().changes(spec_of(GAME + "auto_complete = true\n"), spec_of(GAME))
    assert [(c.path, c.worse) for c in lost_virtual] == [("auto_complete", True)]


def test_a_started_game_refuses_worse_configs_and_adopts_better_ones(world: World) -> None:
    world.open()
    worse = world.engine.with_campaigns(
        engine_from_toml(GAME.replace('"69.00"', '"79.00"')).campaigns)
    with pytest.raises(GameError) as error:
        worse.games["pin"]
    assert reason_of(error) == "config_worse" and "price: 69.00 → 79.00" in str(error.value)
    better = world.engine.with_campaigns(
        engine_from_toml(GAME.replace('"69.00"', '"59.00"')).campaigns)
    assert better.games["pin"].spec.config.price == 5900
    assert [e.event for e in world.events.games if e.event == "config_changed"] == [
        "config_changed"]


# -- the CLI actions ---------------------------------------------------------------------------


def test_cli_actions(world: World) -> None:
    assert set(GroupBuy.actions) == {"open", "join", "share", "group"}
    world.pay("leader", "o-leader")
    opened = world.game.act("open", Customer(id="leader"), {"order_id": "o-leader"})
    group_id = opened["group_id"]
    assert opened["status"] == "open" and opened["seats_left"] == 2
    shared = world.game.act("share", Customer(id="leader"), {"group": group_id})
    assert shared["inviter"] == "leader" and shared["group_id"] == group_id
    world.pay("ann", "o-ann", group_id)
    joined = world.game.act("join", Customer(id="ann", orders_count=0),
                            {"token": shared["token"], "order_id": "o-ann"})
    assert joined["real_members"] == 2 and joined["members"][1]["invited_by"] == "leader"
    world.pay("bob", "o-bob", group_id)
    world.game.act("join", Customer(id="bob", orders_count=0),
                   {"group": group_id, "order_id": "o-bob"})
    state = world.game.act("group", Customer(), {"group": group_id})
    assert state["status"] == "full" and json.dumps(state)
    # money as DESIGN §5 strings, like every other game's JSON; times with their offset
    assert (opened["price"], opened["final_price"]) == ("69.00", None)
    assert (state["price"], state["final_price"]) == ("69.00", "69.00")
    assert state["opened_at"] == "2026-11-11T10:00:00+08:00"
    for action, args, reason in (
            ("open", {}, "bad_argument"), ("join", {"order_id": "o"}, "bad_argument"),
            ("group", {"group": group_id, "colour": "red"}, "bad_argument"),
            ("share", {"group": group_id, "ttl_seconds": "soon"}, "bad_argument"),
            ("draw", {}, "unknown_action")):
        with pytest.raises(GameError) as error:
            world.game.act(action, Customer(id="leader"), args)
        assert reason_of(error) == reason, action
    with pytest.raises(GameError) as error:
        world.game.act("share", Customer(), {"group": group_id})
    assert reason_of(error) == "customer_required"


# -- a property: seats are never oversold ----------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d", "e", "leader"]),
                          st.integers(0, 2)), max_size=12))
def test_members_and_counters_always_agree(attempts: list[tuple[str, int]]) -> None:
    world = World()
    game = world.game
    group_id = game.open_group(Customer(id="leader"), "o-leader").group_id
    joined = {"leader"}
    for customer, order in attempts:
        try:
            game.join(group_id, Customer(id=customer, orders_count=0), f"{customer}-{order}")
            joined.add(customer)
        except GameError as error:
            assert error.reason in ("already_member", "group_full", "order_used")
    group = game.group(group_id)
    assert {m.customer for m in group.members} == joined and len(joined) <= 3
    assert group.status == ("full" if len(joined) == 3 else "open")
    code = group_id[4:]
    counters = world.store.read([f"game:pin:group:{code}:members",
                                 *(f"game:pin:group:{code}:member:{c}" for c in
                                   ("a", "b", "c", "d", "e", "leader"))])
    assert counters[f"game:pin:group:{code}:members"] == len(joined)
    assert {c for c in ("a", "b", "c", "d", "e", "leader")
            if counters[f"game:pin:group:{code}:member:{c}"]} == joined
    assert len(world.events.of("joined")) == len(joined) - 1


# -- every backend -------------------------------------------------------------------------------


@EVERY_BACKEND
def test_a_small_flow_on_every_backend(store_url: str) -> None:
    store = open_store(store_url)
    try:
        world = World(store=store)
        full = world.open()
        world.join(full, "ann")
        assert world.join(full, "bob").status == "full"
        short = world.open("cat", "o-cat")
        token = world.game.share(short, "cat")
        world.join(token, "dan")
        world.clock.move(hours=24)
        assert world.engine.sweep() == [f"game:pin:group:{short[4:]}"]
        assert world.engine.sweep() == []
        assert world.game.group(short).status == "expired"
        assert sorted((e.customer, e.data["amount"]) for e in world.events.of("refunded")) == [
            ("cat", "69.00"), ("dan", "69.00")]
        for order_id, status in (("o-cat", "refunded"), ("o-dan", "refunded"),
                                 ("o-ann", "committed")):
            order = world.engine.order(order_id)
            assert order is not None and order.status == status
        assert world.names() == ["opened", "joined", "joined", "full", "opened",
                                         "joined", "expired", "refunded", "refunded"]
    finally:
        store.close()


def test_engines_on_one_store_share_their_groups(
        store: Store, reopen: Callable[[], Store]) -> None:
    one = World(store=store)
    group_id = one.game.open_group(Customer(id="leader"), "shop-1").group_id
    two = World(store=reopen())  # another app server
    two.game.join(group_id, Customer(id="ann", orders_count=0), "shop-2")
    assert [m.customer for m in one.game.group(group_id).members] == ["leader", "ann"]
    assert one.names() == ["opened"] and two.names() == ["joined"]


# -- the docs ------------------------------------------------------------------------------------


def test_the_docs_example_loads_and_its_disclosure_is_what_the_game_writes() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "games" / "group_buy.md").read_text()
    blocks = text.split("```")
    example = next(b for b in blocks if b.startswith("toml\ncurrency"))[len("toml\n"):]
    engine = engine_from_toml(example + '''
[[promotion]]
id = "man-jian"
kind = "tiered_threshold"
tiers = [{ spend = "60.00", off = "5.00" }]
''', clock=Clock(NOW))
    disclosure = next(b for b in blocks if b.startswith("text\n雙11"))[len("text\n"):]
    assert engine.games["kettle-pin"].disclosure("zh-CN") == disclosure.strip()
    line = {"id": "l1", "sku": "KETTLE", "quantity": 1, "unit_price": "99.00",
            "group_id": "kettle-pin"}
    result = engine.evaluate({"currency": "CNY", "customer": {"id": "c1"}, "lines": [line]})
    assert result.total == Decimal("64.00") and applied(result)["kettle-pin"] == Decimal("30.00")
