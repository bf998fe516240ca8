"""Largest-remainder allocation and funding splits: hand cases and properties."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promokit.allocation import allocate, split_funding

# -- hand cases ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "weights", "shares"),
    [
        (1000, [1000, 1000, 1000], [334, 333, 333]),
        (100, [1, 1, 1], [34, 33, 33]),
        (10, [1, 2], [3, 7]),
        (8990, [7, 3], [6293, 2697]),
        (1000, [1], [1000]),
        (0, [5, 3], [0, 0]),
        (7, [0, 1, 0], [0, 7, 0]),
        (5, [1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0]),
    ],
)
def test_allocate_by_largest_remainder(amount: int, weights: list[int],
                                       shares: list[int]) -> None:
    assert allocate(amount, weights) == shares


def test_equal_remainders_go_to_the_earlier_line() -> None:
    assert allocate(1, [1, 1]) == [1, 0]
    assert allocate(2, [1, 1, 1]) == [1, 1, 0]


def test_the_largest_remainder_wins_over_an_earlier_smaller_one() -> None:
    # exact shares 0.2, 0.4, 0.4: the tie between the last two goes to the earlier
    assert allocate(1, [1, 2, 2]) == [0, 1, 0]


def test_all_zero_weights_split_equally() -> None:
    assert allocate(10, [0, 0, 0]) == [4, 3, 3]


def test_negative_amount_mirrors_the_positive_split() -> None:
    assert allocate(-1000, [1000, 1000, 1000]) == [-334, -333, -333]


def test_negative_weight_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        allocate(10, [1, -1])


def test_zero_over_no_weights_is_nothing() -> None:
    assert allocate(0, []) == []


def test_an_amount_over_no_weights_is_refused() -> None:
    with pytest.raises(ValueError, match="no weights"):
        allocate(5, [])


def test_decimal_weights() -> None:
    assert allocate(8990, [Decimal("0.7"), Decimal("0.3")]) == [6293, 2697]


def test_fraction_weights() -> None:
    assert allocate(1000, [Fraction(1, 3)] * 3) == [334, 333, 333]


def test_mixed_int_and_decimal_weights() -> None:
    assert allocate(100, [1, Decimal("1.0"), Fraction(2)]) == [25, 25, 50]


# -- funding ------------------------------------------------------------------

PLATFORM_MERCHANT = [("platform", Decimal("0.7")), ("merchant", Decimal("0.3"))]


def test_split_funding_70_30_on_89_90() -> None:
    assert split_funding(8990, PLATFORM_MERCHANT) == {"platform": 6293, "merchant": 2697}


def test_split_funding_of_one_cent_goes_to_the_larger_share() -> None:
    assert split_funding(1, PLATFORM_MERCHANT) == {"platform": 1, "merchant": 0}


def test_split_funding_keeps_the_listed_order() -> None:
    assert list(split_funding(100, PLATFORM_MERCHANT)) == ["platform", "merchant"]


def test_split_funding_equal_shares_favour_the_first_listed() -> None:
    shares = [("brand", Decimal("0.5")), ("merchant", Decimal("0.5"))]
    assert split_funding(1, shares) == {"brand": 1, "merchant": 0}


def test_split_funding_three_parties() -> None:
    shares = [("platform", Decimal("0.34")), ("merchant", Decimal("0.33")),
              ("brand", Decimal("0.33"))]
    assert split_funding(100, shares) == {"platform": 34, "merchant": 33, "brand": 33}


def test_split_funding_single_party_pays_everything() -> None:
    assert split_funding(12345, [("merchant", Decimal("1"))]) == {"merchant": 12345}


# -- properties ---------------------------------------------------------------

amounts = st.integers(min_value=0, max_value=10**9)
int_weights = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20)
decimal_weights = st.lists(
    st.decimals(min_value=0, max_value=1000, places=3, allow_nan=False, allow_infinity=False),
    min_size=1, max_size=20,
)
any_weights = st.one_of(int_weights, decimal_weights)


def exact_shares(amount: int, weights: list[int] | list[Decimal]) -> list[Fraction]:
    fractions = [Fraction(w) for w in weights]
    total = sum(fractions)
    if total == 0:
        return [Fraction(amount, len(weights))] * len(weights)
    return [amount * f / total for f in fractions]


@given(amount=st.integers(min_value=-10**9, max_value=10**9), weights=any_weights)
def test_shares_add_up_to_the_amount_exactly(amount: int, weights: list[int]) -> None:
    assert sum(allocate(amount, weights)) == amount


@given(amount=amounts, weights=any_weights)
def test_each_share_is_within_one_of_its_exact_share(amount: int, weights: list[int]) -> None:
    for share, exact in zip(allocate(amount, weights), exact_shares(amount, weights),
                            strict=True):
        assert abs(share - exact) < 1


@given(amount=amounts, weights=any_weights)
def test_shares_are_not_negative_for_a_non_negative_amount(amount: int,
                                                           weights: list[int]) -> None:
    assert all(share >= 0 for share in allocate(amount, weights))


@given(amount=amounts, weights=any_weights)
def test_a_larger_weight_never_gets_a_smaller_share(amount: int, weights: list[int]) -> None:
    shares = allocate(amount, weights)
    for i, wi in enumerate(weights):
        for j, wj in enumerate(weights):
            if wi > wj:
                assert shares[i] >= shares[j]


@given(amount=amounts, weights=any_weights)
def test_equal_weights_favour_the_earlier_position(amount: int, weights: list[int]) -> None:
    shares = allocate(amount, weights)
    for i in range(len(weights)):
        for j in range(i + 1, len(weights)):
            if weights[i] == weights[j]:
                assert shares[i] - shares[j] in (0, 1)


@given(amount=amounts, weights=any_weights)
def test_allocation_is_deterministic(amount: int, weights: list[int]) -> None:
    assert allocate(amount, weights) == allocate(amount, list(weights))
    assert allocate(amount, weights) == allocate(amount, tuple(weights))


@given(amount=amounts,
       split=st.integers(min_value=0, max_value=100))
def test_funding_shares_add_up_to_the_amount(amount: int, split: int) -> None:
    platform = Decimal(split) / 100
    shares = [("platform", platform), ("merchant", 1 - platform)]
    funded = split_funding(amount, shares)
    assert sum(funded.values()) == amount
    assert list(funded) == ["platform", "merchant"]
