"""Coupon batches: code generation and typo checks, codes in carts, throttling."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from campaigns import HEADER
from conftest import D, make_cart
from hypothesis import given
from hypothesis import strategies as st

from promokit import ConfigError, Engine
from promokit.coupons import (
    ALPHABET,
    BODY_LENGTH,
    check_character,
    format_code,
    generate_code,
    generate_codes,
    is_well_formed,
    normalize_code,
    read_codes_csv,
    write_codes_csv,
)
from promokit.stores import MemoryStore
from promokit.testing import Clock

# -- codes ---------------------------------------------------------------------------


def test_a_generated_code_has_60_random_bits_and_a_check_character() -> None:
    code = generate_code("D11")
    assert code.startswith("D11") and len(code) == 3 + BODY_LENGTH + 1
    assert len(ALPHABET) ** BODY_LENGTH == 2**60
    assert not set("01IO") & set(ALPHABET)
    assert is_well_formed(code)
    shown = format_code(code, "D11")
    assert shown.startswith("D11-") and shown.count("-") == 4
    assert normalize_code(shown.lower().replace("-", " - ")) == code


def test_generated_codes_are_distinct_and_avoid_given_ones() -> None:
    avoid = set(generate_codes(50, "X"))
    codes = generate_codes(500, "X", avoid=avoid)
    assert len(set(codes)) == 500 and not avoid & set(codes)
    with pytest.raises(ValueError, match="count"):
        generate_codes(0)


body = st.text(alphabet=ALPHABET, min_size=BODY_LENGTH, max_size=BODY_LENGTH)


@given(body, st.integers(0, BODY_LENGTH), st.sampled_from(ALPHABET))
def test_every_single_mistyped_character_is_caught(text: str, position: int,
                                                   typo: str) -> None:
    code = text + check_character(text)
    changed = code[:position] + typo + code[position + 1:]
    assert is_well_formed(changed) == (changed == code)


def test_most_swapped_neighbours_are_caught() -> None:
    code = "7KQ2XM9P4TRW"
    code += check_character(code)
    swaps = [code[:i] + code[i + 1] + code[i] + code[i + 2:] for i in range(len(code) - 1)
             if code[i] != code[i + 1]]
    caught = sum(not is_well_formed(s) for s in swaps)
    assert caught == len(swaps)


def test_malformed_codes_are_not_well_formed() -> None:
    assert not is_well_formed("")
    assert not is_well_formed("D11-SHORT")
    assert not is_well_formed("O" * 13)


def test_codes_csv_round_trips() -> None:
    from promokit.coupons import CouponBatch
    batch = CouponBatch(id="b1", promotion="p1", uses=2, prefix="D11",
                        end=datetime(2026, 11, 12, tzinfo=UTC))
    codes = generate_codes(3, "D11")
    text = write_codes_csv(batch, codes)
    assert text.splitlines()[0] == "code,batch,promotion,uses,valid_from,valid_to"
    assert text.splitlines()[1].split(",")[1:4] == ["b1", "p1", "2"]
    assert [code for _, code in read_codes_csv(text)] == codes
    assert read_codes_csv("AAA\n\nbbb-1\n") == [(1, "AAA"), (3, "BBB1")]


# -- campaign files ----------------------------------------------------------------------

COUPONS = HEADER + '''
[[promotion]]
id = "new-20"
name = "新人券 20"
kind = "order_amount_off"
amount = "20"

[[coupon]]
id = "new-20-batch"
promotion = "new-20"
count = 100
uses = 1
prefix = "NEW"
start = "2026-11-01T00:00:00"
end = "2026-11-30T23:59:59"
'''


def test_coupon_batches_load(make_engine: Callable[..., Engine]) -> None:
    engine = make_engine(COUPONS)
    batch = engine.campaigns.coupon("new-20-batch")
    assert batch is not None and (batch.promotion, batch.count, batch.prefix) == (
        "new-20", 100, "NEW")
    assert engine.campaigns.promotions[0].coupons == frozenset({"new-20-batch"})


@pytest.mark.parametrize(("change", "path", "message"), [
    ('promotion = "new-20"', "coupon[0].promotion", "no promotion with id 'nope'"),
    ('prefix = "NEW"', "coupon[0].prefix", "1 to 8 upper-case"),
    ("uses = 1", "coupon[0].uses", "at least 1"),
    ("count = 100", "coupon[0].count", "at least 1"),
    ('end = "2026-11-30T23:59:59"', "coupon[0].end", "after start"),
    ("uses = 1", "coupon[0].per_code", "unknown key"),
])
def test_bad_coupon_batches_name_the_path(make_engine: Callable[..., Engine], change: str,
                                          path: str, message: str) -> None:
    replacement = {
        "coupon[0].promotion": 'promotion = "nope"', "coupon[0].prefix": 'prefix = "new!"',
        "coupon[0].uses": "uses = 0", "coupon[0].count": "count = 0",
        "coupon[0].end": 'end = "2026-10-01T00:00:00"',
        "coupon[0].per_code": "uses = 1\nper_code = 2",
    }[path]
    with pytest.raises(ConfigError) as caught:
        make_engine(COUPONS.replace(change, replacement))
    assert any(p.path == path and message in p.message for p in caught.value.problems), \
        caught.value.problems


def test_a_promotion_naming_a_batch_must_match_it(make_engine: Callable[..., Engine]) -> None:
    with pytest.raises(ConfigError) as caught:
        make_engine(COUPONS.replace('amount = "20"', 'amount = "20"\ncoupon = "other"'))
    assert [str(p) for p in caught.value.problems] == [
        "promotion[0].coupon: no coupon batch with id 'other'"]
    ok = make_engine(COUPONS.replace('amount = "20"', 'amount = "20"\ncoupon = "new-20-batch"'))
    assert ok.campaigns.promotions[0].coupons == frozenset({"new-20-batch"})


# -- codes in carts ----------------------------------------------------------------------

NOW = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, the carts' now


class Spy(MemoryStore):
    """A memory store that counts code lookups."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0

    def find_codes(self, codes: Any) -> Any:
        self.lookups += 1
        return super().find_codes(codes)


@pytest.fixture
def coupons(make_engine: Callable[..., Engine]) -> tuple[Engine, Spy, list[str]]:
    store = Spy()
    codes = generate_codes(3, "NEW")
    store.add_codes("new-20-batch", codes, 1)
    clock = Clock(NOW)
    return make_engine(COUPONS, store=store, clock=clock), store, codes


def coded(*codes: str, customer: str = "c1") -> Any:
    return make_cart(("l1", "A", 1, "100.00"), codes=list(codes), customer={"id": customer})


def test_a_good_code_unlocks_its_promotion(coupons: tuple[Engine, Spy, list[str]]) -> None:
    engine, store, codes = coupons
    result = engine.evaluate(coded(format_code(codes[0], "NEW").lower()))
    assert result.total == D("80.00") and result.rejected_codes == ()
    assert store.lookups == 1


def test_no_code_means_code_missing(coupons: tuple[Engine, Spy, list[str]]) -> None:
    engine, store, _ = coupons
    assert engine.evaluate(coded()).reason("new-20") == "code_missing"
    assert store.lookups == 0


def test_a_typo_is_refused_without_a_lookup(coupons: tuple[Engine, Spy, list[str]]) -> None:
    engine, store, codes = coupons
    typo = codes[0][:-2] + ("3" if codes[0][-2] != "3" else "4") + codes[0][-1]
    result = engine.evaluate(coded(typo))
    assert result.reason("new-20") == "code_invalid"
    assert [(c.code, c.reason) for c in result.rejected_codes] == [(typo, "code_invalid")]
    assert store.lookups == 0


def test_an_unknown_well_formed_code_is_invalid(coupons: tuple[Engine, Spy, list[str]]) -> None:
    engine, store, _ = coupons
    result = engine.evaluate(coded(generate_code("NEW")))
    assert result.reason("new-20") == "code_invalid" and store.lookups == 1


def test_a_used_code_is_code_used(coupons: tuple[Engine, Spy, list[str]]) -> None:
    engine, _, codes = coupons
    order = engine.checkout(coded(codes[0]), "SO-1")
    assert order.uses[0].code == codes[0] and order.result.total == D("80.00")
    again = engine.evaluate(coded(codes[0], customer="c2"))
    assert again.reason("new-20") == "code_used"
    assert [(c.reason) for c in again.rejected_codes] == ["code_used"]
    engine.release("SO-1")
    assert engine.evaluate(coded(codes[0], customer="c2")).total == D("80.00")


def test_one_good_code_among_bad_ones_is_enough(coupons: tuple[Engine, Spy, list[str]]) -> None:
    engine, _, codes = coupons
    result = engine.evaluate(coded("WRONG", codes[1]))
    assert result.total == D("80.00")
    assert [(c.code, c.reason) for c in result.rejected_codes] == [("WRONG", "code_invalid")]


def test_codes_outside_their_window(coupons: tuple[Engine, Spy, list[str]]) -> None:
    engine, _, codes = coupons
    late = make_cart(("l1", "A", 1, "100.00"), codes=[codes[0]], customer={"id": "c1"},
                     now="2026-12-01T10:00:00+08:00")
    result = engine.evaluate(late)
    assert result.reason("new-20") == "code_invalid"
    assert [c.reason for c in result.rejected_codes] == ["ended"]


def test_wrong_codes_are_throttled(make_engine: Callable[..., Engine]) -> None:
    store = MemoryStore()
    codes = generate_codes(1, "NEW")
    store.add_codes("new-20-batch", codes, 1)
    clock = Clock(NOW)
    engine = make_engine(COUPONS, store=store, clock=clock, code_attempts=(3, 600))
    good = engine.try_code(format_code(codes[0], "NEW"), customer="c1")
    assert good.ok and good.promotions == ("new-20",)
    failures = [engine.try_code(generate_code("NEW"), customer="c1") for _ in range(3)]
    assert [(f.ok, f.reason, f.failures) for f in failures] == [
        (False, "code_invalid", 1), (False, "code_invalid", 2), (False, "code_invalid", 3)]
    # now even the good code is refused, here and in evaluate, for this customer only
    assert engine.try_code(codes[0], customer="c1").reason == "code_throttled"
    result = engine.evaluate(coded(codes[0]))
    assert result.reason("new-20") == "code_throttled"
    assert [c.reason for c in result.rejected_codes] == ["code_throttled"]
    assert engine.evaluate(coded(codes[0], customer="c2")).total == D("80.00")
    clock.now += timedelta(seconds=600)  # the next window
    assert engine.try_code(codes[0], customer="c1").ok


def test_typos_and_used_codes_in_try_code(make_engine: Callable[..., Engine]) -> None:
    store = MemoryStore()
    codes = generate_codes(1, "NEW")
    store.add_codes("new-20-batch", codes, 1)
    engine = make_engine(COUPONS + '\n[[promotion]]\nid = "d11"\nkind = "order_amount_off"\n'
                         'amount = "5"\ncodes = ["D11"]\n', store=store, clock=Clock(NOW))
    assert engine.try_code("D11").promotions == ("d11",)
    assert engine.try_code("nonsense").reason == "code_invalid"
    engine.checkout(coded(codes[0]), "SO-1")
    used = engine.try_code(codes[0], customer="c2")
    assert (used.ok, used.reason, used.failures) == (False, "code_used", 0)  # not a guess


def test_external_codes_skip_the_check_character(make_engine: Callable[..., Engine]) -> None:
    store = MemoryStore()
    store.add_codes("partner", ["PARTNER2026"], 5)
    engine = make_engine(COUPONS.replace('prefix = "NEW"', 'external = true')
                         .replace("new-20-batch", "partner"), store=store, clock=Clock(NOW))
    assert engine.evaluate(coded("partner2026")).total == D("80.00")
    for n in range(5):
        engine.checkout(coded("PARTNER2026", customer=f"c{n}"), f"SO-{n}")
    assert engine.evaluate(coded("PARTNER2026", customer="c9")).reason("new-20") == "code_used"
