"""The games kernel with a small game of its own: loading ``[[game]]`` tables, the
two game hooks, transactions on a row, start / reveal, the change rule after
the start, share tokens, the audit primitives, and a game's price reaching the
cart through a line's ``bargain_id``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

from promokit import ConfigError, Engine, GameError, hookimpl
from promokit.cart import Customer, Line
from promokit.games import (
    Game,
    GameEvent,
    GameKind,
    GameSpec,
    Step,
    age_on,
    below,
    commitment,
    compare,
    draw_digest,
    dumps,
    is_token_shaped,
    new_seed,
    pick_weighted,
    seed_stream,
    sign_token,
    verify_token,
)
from promokit.kinds import NoDeal
from promokit.loading import parse_campaigns
from promokit.params import Params
from promokit.registry import Registry
from promokit.stores import MemoryStore
from promokit.stores.base import Delta, JournalEntry, OrderRow
from promokit.terms import Scope

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 11, 10, 0, tzinfo=SHANGHAI)


@attrs.frozen
class CounterConfig:
    sku: str
    price: int
    limit: int


class CounterGame(Game):
    """Bumps a customer's count, at most ``limit`` bumps over the game."""

    def bump(self, customer: str) -> int:
        def build(row: OrderRow | None, body: dict[str, Any] | None,
                  refused: frozenset[str]) -> Step[int]:
            n = (body or {}).get("n", 0) + 1
            return Step(status="counting", body={"n": n}, result=n,
                        deltas=(Delta(self.row_id("bumps"), 1, self.config.limit),),
                        journal=(JournalEntry(self.stream("draws"), dumps({"n": n})),),
                        events=(("bumped", customer, {"n": n}),))
        return self.transact(self.row_id("c", customer), build)


class CounterKind(GameKind):
    """A price game: ``bargain_id = "<game>.<code>"`` lines cost ``price`` minus the
    counter ``game:<id>:cut:<bargain>``, one unit, bought once."""

    name = "counter"
    price_field = "bargain_id"

    def parse(self, params: Params, spec: GameSpec) -> CounterConfig | None:
        sku, price = params.string("sku"), params.money("price", positive=True)
        limit = params.integer("limit", required=False, minimum=1, default=3)
        return None if sku is None or price is None else CounterConfig(sku, price, limit or 3)

    def disclosure(self, spec: GameSpec, text: Any) -> list[str]:
        return [text.pick(f"{spec.name}: {text.amount(spec.config.price)}",
                          f"{spec.name}：{text.amount(spec.config.price)}")]

    def changes(self, old: GameSpec, new: GameSpec) -> list[Any]:
        return compare("price", old.config.price, new.config.price, better="lower")

    def bind(self, spec: GameSpec, runtime: Any) -> CounterGame:
        return CounterGame(spec, runtime)

    def price_scope(self, spec: GameSpec) -> Scope:
        return Scope(skus=frozenset({spec.config.sku}))

    def covers(self, spec: GameSpec, line: Line) -> bool:
        return (line.bargain_id or "").startswith(spec.id + ".")

    def price_keys(self, spec: GameSpec, line: Line, customer: Customer) -> Sequence[str]:
        return [f"game:{spec.id}:cut:{line.bargain_id}"]

    def unit_price(self, spec: GameSpec, line: Line, customer: Customer,
                   counters: Mapping[str, int], now: datetime, text: Any) -> int | NoDeal:
        return spec.config.price - counters.get(f"game:{spec.id}:cut:{line.bargain_id}", 0)

    def price_units(self, spec: GameSpec, line: Line) -> int:
        return 1

    def price_holds(self, spec: GameSpec, line: Line, customer: Customer) -> Sequence[Delta]:
        return [Delta(f"game:{spec.id}:bought:{line.bargain_id}", 1, 1)]


class Listener:
    def __init__(self) -> None:
        self.events: list[GameEvent] = []

    @hookimpl
    def promokit_register_games(self) -> list[GameKind]:
        return [CounterKind()]

    @hookimpl
    def promokit_game_event(self, event: GameEvent) -> None:
        self.events.append(event)


def campaign(**game: Any) -> dict[str, Any]:
    table = {"id": "kettle", "kind": "counter", "name": "砍一刀", "sku": "KETTLE",
             "price": "80.00", **game}
    return {"currency": "CNY", "timezone": "Asia/Shanghai", "game": [table]}


@pytest.fixture
def listener() -> Listener:
    return Listener()


@pytest.fixture
def registry(listener: Listener) -> Registry:
    return Registry.default([listener], load_entry_points=False)


@pytest.fixture
def engine(registry: Registry) -> Engine:
    return Engine(parse_campaigns(campaign(), registry), registry=registry,
                  store=MemoryStore(), clock=lambda: NOW, secret=b"s" * 32)


# -- loading ---------------------------------------------------------------------


def test_a_game_table_loads_with_its_shared_keys(registry: Registry) -> None:
    data = campaign(start="2026-11-10T20:00:00", end="2026-11-11T23:59:59",
                    organiser="ACME, 400-800-1111")
    spec = parse_campaigns(data, registry).games[0]
    assert (spec.id, spec.kind, spec.name, spec.organiser) == (
        "kettle", "counter", "砍一刀", "ACME, 400-800-1111")
    assert spec.config == CounterConfig("KETTLE", 8000, 3)
    assert spec.schedule.start == datetime(2026, 11, 10, 20, 0, tzinfo=SHANGHAI)
    assert spec.source["start"] == "2026-11-10T20:00:00"  # canonical JSON types
    # RFC 8785 for a table of strings and small integers: sorted keys, no spaces
    expected = hashlib.sha256(json.dumps(spec.source, sort_keys=True, ensure_ascii=False,
                                         separators=(",", ":")).encode()).hexdigest()
    assert spec.config_hash == expected


def test_bad_game_tables_list_every_problem_with_its_path(registry: Registry) -> None:
    data = campaign(price="-1", colour="red")
    data["game"].append({"id": "kettle", "kind": "roulette"})
    data["game"].append({"id": "bad id!", "kind": "counter", "sku": "A", "price": "1"})
    with pytest.raises(ConfigError) as raised:
        parse_campaigns(data, registry)
    text = str(raised.value)
    assert "game[0].price" in text and "game[0].colour: unknown key" in text
    assert "game[1].kind: unknown game kind 'roulette'; known: " in text
    known = text.split("known: ")[1].split("\n")[0].split(", ")
    assert "counter" in known and known == sorted(known)
    assert "game[1].id: id 'kettle' is used twice" in text
    assert "game[2].id: may hold only letters, digits" in text


def test_a_game_id_may_not_be_a_promotion_id(registry: Registry) -> None:
    data = campaign()
    data["promotion"] = [{"id": "kettle", "kind": "percent_off", "percent": "5"}]
    with pytest.raises(ConfigError, match=r"game\[0\]\.id: id 'kettle' is also a promotion"):
        parse_campaigns(data, registry)


def test_the_game_hooks_are_called(engine: Engine, listener: Listener) -> None:
    game = engine.games["kettle"]
    assert isinstance(game, CounterGame)
    assert game.bump("c1") == 1
    assert [(e.event, e.customer, dict(e.data)) for e in listener.events][-1] == (
        "bumped", "c1", {"n": 1})
    assert listener.events[-1].at == NOW


def test_an_unknown_game_is_a_key_error_listing_the_games(engine: Engine) -> None:
    with pytest.raises(KeyError, match="no game 'nope'; games: kettle"):
        engine.games["nope"]


# -- rows, counters, journal -----------------------------------------------------


def test_transact_retries_conflicts_and_stops_at_a_refused_limit(engine: Engine) -> None:
    game = engine.games["kettle"]
    assert isinstance(game, CounterGame)
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            game.bump("c1")
        except GameError as error:
            errors.append(error)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert game.read(game.row_id("c", "c1"))[1] == {"n": 3}
    assert len(errors) == 5 and {e.reason for e in errors} == {"limit_reached"}  # type: ignore[attr-defined]
    assert [body for _, body in engine.store.journal("game:kettle:draws")] == [
        '{"n":1}', '{"n":2}', '{"n":3}']


def test_start_draws_a_seed_once_and_reveal_publishes_it(engine: Engine,
                                                         listener: Listener) -> None:
    game = engine.games["kettle"]
    first = game.start()
    assert game.start() == first
    assert first["commitment"] == hashlib.sha256(bytes.fromhex(first["seed"])).hexdigest()
    assert game.draw_log().seed is None
    assert game.reveal() == first["seed"] == game.reveal()
    log = game.draw_log()
    assert log.seed == first["seed"] and log.commitment == first["commitment"]
    assert [e.event for e in listener.events] == ["started", "revealed"]


def test_a_worse_change_after_the_start_is_refused_and_a_better_one_adopted(
        engine: Engine, registry: Registry, listener: Listener) -> None:
    engine.games["kettle"].start()
    worse = engine.with_campaigns(parse_campaigns(campaign(price="90.00"), registry))
    with pytest.raises(GameError, match=r"price: 8000 → 9000 \(worse for customers\)") as raised:
        worse.games["kettle"]
    assert raised.value.reason == "config_worse"
    later = engine.with_campaigns(parse_campaigns(campaign(price="70.00"), registry))
    game = later.games["kettle"]
    assert game.started()["config_hash"] == game.spec.config_hash  # type: ignore[index]
    log = [entry for _, entry in engine.store.journal("game:kettle:config")]
    assert ['"event":"started"' in log[0], '"event":"config_rejected"' in log[1],
            '"event":"config_changed"' in log[2]] == [True, True, True]
    assert listener.events[-1].event == "config_changed"
    assert set(game.configs()) == {engine.campaigns.games[0].config_hash,
                                   game.spec.config_hash}


def test_an_earlier_end_and_a_new_condition_are_worse(engine: Engine,
                                                      registry: Registry) -> None:
    engine.games["kettle"].start()
    for change in ({"end": "2026-11-11T12:00:00"},  # an end where there was none
                   {"conditions": [{"rule": "new_customer"}]}):
        other = engine.with_campaigns(parse_campaigns(campaign(**change), registry))
        with pytest.raises(GameError, match="worse for customers"):
            other.games["kettle"]


def test_compare_knows_which_way_is_better() -> None:
    assert compare("stock", 10, 5, better="higher")[0].worse
    assert not compare("stock", 5, 10, better="higher")[0].worse
    assert compare("price", 10, 12, better="lower")[0].worse
    assert compare("limit", None, 3, better="higher")[0].worse  # unlimited → capped
    assert not compare("limit", 3, None, better="higher")[0].worse
    assert compare("rule", "a", "b", better="same")[0].worse
    assert not compare("phone", "1", "2", better="neutral")[0].worse
    assert compare("same", 1, 1, better="higher") == []


# -- the game's price on the cart --------------------------------------------------


def kettle_cart(**extra: Any) -> dict[str, Any]:
    return {"currency": "CNY", "customer": {"id": "c1"}, "lines": [
        {"id": "l1", "sku": "KETTLE", "quantity": 2, "unit_price": "100.00",
         "bargain_id": "kettle.b1"}], **extra}


def test_a_bargain_id_prices_one_unit_at_the_games_price(engine: Engine) -> None:
    assert isinstance(engine.store, MemoryStore)
    engine.store.set("game:kettle:cut:kettle.b1", 2000)  # ¥20.00 cut so far
    result = engine.evaluate(kettle_cart())
    # one unit at 80.00 − 20.00 = 60.00, the other at 100.00: 160.00
    assert str(result.total) == "160.00"
    assert [(a.promotion, str(a.amount)) for a in result.applied] == [("kettle", "40.00")]
    order = engine.checkout(kettle_cart(), "o1")
    assert Delta("game:kettle:bought:kettle.b1", 1, 1) in order.holds
    again = engine.checkout(kettle_cart(), "o2")
    assert str(again.result.total) == "200.00"
    assert [(n.promotion, n.reason) for n in again.result.not_applied] == [
        ("kettle", "limit_reached")]


def test_lines_without_the_games_id_are_not_priced_by_it(engine: Engine) -> None:
    cart = kettle_cart()
    del cart["lines"][0]["bargain_id"]
    result = engine.evaluate(cart)
    assert str(result.total) == "200.00"
    assert [(n.promotion, n.reason) for n in result.not_applied] == [
        ("kettle", "no_lines_in_scope")]


# -- tokens ------------------------------------------------------------------------


def test_share_tokens_are_bound_to_game_subject_inviter_and_time() -> None:
    secret = b"k" * 32
    token = sign_token(secret, game="pin", subject="pin.g1", inviter="c1", expires=2000)
    found = verify_token(secret, token, game="pin", now=1999)
    assert (found.game, found.subject, found.inviter, found.expires) == (
        "pin", "pin.g1", "c1", 2000)
    payload, _, signature = token.partition(".")
    forged = sign_token(b"x" * 32, game="pin", subject="pin.g2", inviter="c1", expires=9999)
    cases = {
        "token_expired": (token, "pin", 2000),
        "token_other_game": (sign_token(secret, game="kan", subject="s", inviter="c",
                                        expires=9999), "pin", 0),
        "token_invalid": (forged, "pin", 0),
    }
    for reason, (candidate, game, now) in cases.items():
        with pytest.raises(GameError) as raised:
            verify_token(secret, candidate, game=game, now=now)
        assert raised.value.reason == reason
    for tampered in (payload[:-2] + "xx." + signature, payload + "." + signature[:-2] + "AA",
                     payload, "", "..", "a.b.c"):
        with pytest.raises(GameError) as raised:
            verify_token(secret, tampered, game="pin", now=0)
        assert raised.value.reason == "token_invalid"


def test_a_share_token_has_one_spelling_and_a_payload_sign_token_wrote() -> None:
    """Fault 18 of issue 13: ``!!`` inside the signature, ``==`` after it, stray bits in
    its last character, and a validly signed payload that is not our JSON were
    accepted (or raised ``JSONDecodeError``)."""
    secret = b"k" * 32
    token = sign_token(secret, game="pin", subject="pin.g1", inviter="c1", expires=2000)
    payload, _, signature = token.partition(".")
    assert len(signature) == 43 and verify_token(secret, token, game="pin", now=0)
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    stray = signature[:-1] + last[last.index(signature[-1]) ^ 1]  # same bytes decoded
    assert base64.urlsafe_b64decode(stray + "=") == base64.urlsafe_b64decode(signature + "=")

    def signed(body: bytes) -> str:
        encoded = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
        mac = hmac.new(secret, encoded.encode(), hashlib.sha256).digest()
        return encoded + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    respellings = [payload + "." + signature[:10] + "!!" + signature[10:],
                   token + "==", payload + "==." + signature, payload + "." + stray,
                   " " + token, token + "\n", payload + "." + signature.replace("-", "+")]
    not_ours = [signed(b"not json"), signed(b"[1, 2]"), signed(b"\xff\xfe"),
                signed(b'{"g": "pin", "s": "x", "i": "c", "e": "2000"}'),
                signed(b'{"g": "pin", "s": "x", "i": "c", "e": 2000, "x": 1}'),
                signed(b'{"g": "pin", "s": "x", "i": "c", "e": true}')]
    for candidate in respellings + not_ours:
        with pytest.raises(GameError) as raised:
            verify_token(secret, candidate, game="pin", now=0)
        assert raised.value.reason == "token_invalid", candidate
    assert verify_token(secret, signed(b'{"g":"pin","s":"x","i":"c","e":5}'), game="pin",
                        now=0).subject == "x"  # the checks are not refusing good tokens
    assert is_token_shaped(token) and not is_token_shaped("pin.0123456789ab")


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(GameError, match="at least 16 bytes"):
        sign_token(b"short", game="g", subject="s", inviter="c", expires=1)


# -- audit primitives ----------------------------------------------------------------


def test_draw_digest_is_hmac_sha256_of_client_seed_nonce_and_config_hash() -> None:
    seed = "00" * 31 + "01"
    message = b'{"client_seed":"alice","config_hash":"cafe","customer":"c1","nonce":7}'
    expected = hmac.new(bytes.fromhex(seed), message, hashlib.sha256).digest()
    assert draw_digest(seed, customer="c1", client_seed="alice", nonce=7,
                       config_hash="cafe") == expected
    assert commitment(seed) == hashlib.sha256(bytes.fromhex(seed)).hexdigest()
    assert len(new_seed()) == 64 and new_seed() != new_seed()


def test_below_and_pick_weighted_cover_their_ranges_exactly() -> None:
    assert below(b"\x00" * 8, 10) == 0
    assert below(b"\xff" * 8, 10) == 9
    assert below(b"\x80" + b"\x00" * 7, 10) == 5
    # weights 1, 2, 7 own [0,1), [1,3), [3,10) of 10
    assert [pick_weighted(bytes([x]) + b"\x00" * 7, [1, 2, 7]) for x in (0, 26, 77, 255)] == [
        0, 1, 2, 2]
    assert pick_weighted(bytes.fromhex("1999999999999999"), [1, 2, 7]) == 0  # just below 0.1
    assert pick_weighted(bytes.fromhex("199999999999999a"), [1, 2, 7]) == 1  # at 0.1


def test_seed_stream_is_reproducible_per_label() -> None:
    seed = "ab" * 32
    first = seed_stream(seed, "kettle.b1")
    again = seed_stream(seed, "kettle.b1")
    other = seed_stream(seed, "kettle.b2")
    assert [next(first) for _ in range(3)] == [next(again) for _ in range(3)]
    assert next(seed_stream(seed, "kettle.b1")) != next(other)


def test_age_on_counts_full_years() -> None:
    from datetime import date
    assert age_on(date(2010, 11, 12), date(2026, 11, 11)) == 15
    assert age_on(date(2010, 11, 11), date(2026, 11, 11)) == 16
    assert age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17


def test_money_in_disclosures_is_the_files_currency(engine: Engine) -> None:
    assert engine.games["kettle"].disclosure("zh-CN") == "砍一刀：¥80.00"
    assert engine.games["kettle"].disclosure("en") == "砍一刀: ¥80.00"
    assert Decimal("80.00") == engine.campaigns.currency.to_decimal(
        engine.campaigns.games[0].config.price)


def test_channel_conditions_gate_operations_only_when_the_channel_is_named(
        registry: Registry) -> None:
    data = campaign(conditions=[{"rule": "channel", "in": ["app"]},
                                {"rule": "new_customer"}])
    engine = Engine(parse_campaigns(data, registry), registry=registry, clock=lambda: NOW)
    game = engine.games["kettle"]
    game.check_customer(Customer(id="c1", orders_count=0))
    game.check_customer(Customer(id="c1", orders_count=0), channel="app")
    with pytest.raises(GameError) as raised:
        game.check_customer(Customer(id="c1", orders_count=0), channel="web")
    assert raised.value.reason == "not_eligible:channel"
    with pytest.raises(GameError) as raised:
        game.check_customer(Customer(id="c1", orders_count=2))
    assert raised.value.reason == "not_eligible:new_customer"
    with pytest.raises(GameError) as raised:
        game.check_customer(Customer())
    assert raised.value.reason == "customer_required"
