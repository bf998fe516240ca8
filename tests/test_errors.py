"""The exception tree: one root, problems with paths, context as attributes."""

from __future__ import annotations

import attrs
import pytest

import promokit
from promokit import errors
from promokit.errors import (
    AdapterError,
    CartError,
    ConfigError,
    GameError,
    PluginError,
    Problem,
    PromokitError,
    StoreError,
)

ALL_ERRORS = [ConfigError, CartError, PluginError, StoreError, GameError, AdapterError]
PROBLEMS = [Problem(path="promotion[2].tiers[0].spend", message="must be > 0"),
            Problem(path="currency", message="unknown currency 'XXX'")]


@pytest.mark.parametrize("error", ALL_ERRORS, ids=lambda e: e.__name__)
def test_every_error_is_a_promokit_error(error: type[Exception]) -> None:
    assert issubclass(error, PromokitError)


def test_the_root_is_an_exception() -> None:
    assert issubclass(PromokitError, Exception)
    assert not issubclass(PromokitError, (ValueError, TypeError))


@pytest.mark.parametrize("error", ALL_ERRORS, ids=lambda e: e.__name__)
def test_errors_are_distinct_branches(error: type[Exception]) -> None:
    others = [other for other in ALL_ERRORS if other is not error]
    assert not any(issubclass(error, other) for other in others)


@pytest.mark.parametrize("name", ["PromokitError", "ConfigError", "CartError", "PluginError",
                                  "StoreError", "StoreUnavailable", "StoreURLError",
                                  "OrderError", "GameError", "AdapterError", "Problem"])
def test_errors_are_exported_from_the_package(name: str) -> None:
    assert getattr(promokit, name) is getattr(errors, name)
    assert name in promokit.__all__


def test_errors_module_all_is_sorted_and_complete() -> None:
    assert errors.__all__ == sorted(errors.__all__)
    assert set(errors.__all__) == {"AdapterError", "CartError", "ConfigError",
                                   "DeliveryError", "GameError",
                                   "InputError", "OrderError", "PayloadError",
                                   "PluginError", "Problem", "PromokitError", "RefundError",
                                   "SignatureError", "StoreError",
                                   "StoreURLError", "StoreUnavailable"}


def test_store_errors_are_store_errors() -> None:
    assert issubclass(errors.StoreUnavailable, errors.StoreError)
    assert issubclass(errors.StoreURLError, errors.StoreError)
    error = errors.OrderError("order 'o1' is not reserved", order_id="o1")
    assert error.order_id == "o1" and "o1" in str(error)


# -- Problem --------------------------------------------------------------------


def test_problem_str_is_path_and_message() -> None:
    assert str(PROBLEMS[0]) == "promotion[2].tiers[0].spend: must be > 0"


def test_problem_without_path_is_just_the_message() -> None:
    assert str(Problem(path="", message="not valid JSON")) == "not valid JSON"


def test_problem_is_a_frozen_value() -> None:
    problem = Problem(path="a", message="b")
    assert problem == Problem(path="a", message="b")
    assert hash(problem) == hash(Problem(path="a", message="b"))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        problem.path = "c"  # type: ignore[misc]


def test_problem_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        Problem("a", "b")  # type: ignore[misc]


# -- ConfigError and CartError ------------------------------------------------------


@pytest.mark.parametrize("error", [ConfigError, CartError], ids=lambda e: e.__name__)
def test_problems_are_kept_as_a_tuple(error: type[ConfigError]) -> None:
    raised = error(iter(PROBLEMS))
    assert raised.problems == tuple(PROBLEMS)


def test_config_error_str_lists_every_problem() -> None:
    assert str(ConfigError(PROBLEMS, source="d11.toml")) == (
        "invalid campaign file d11.toml (2 problem(s)):\n"
        "  promotion[2].tiers[0].spend: must be > 0\n"
        "  currency: unknown currency 'XXX'"
    )


def test_cart_error_str_lists_every_problem() -> None:
    assert str(CartError(PROBLEMS)) == (
        "invalid cart (2 problem(s)):\n"
        "  promotion[2].tiers[0].spend: must be > 0\n"
        "  currency: unknown currency 'XXX'"
    )


def test_source_is_kept() -> None:
    assert ConfigError(PROBLEMS, source="a.toml, b.toml").source == "a.toml, b.toml"
    assert CartError(PROBLEMS).source is None


def test_problem_without_path_in_the_message() -> None:
    raised = CartError([Problem(path="", message="a cart must be a JSON object")])
    assert str(raised) == "invalid cart (1 problem(s)):\n  a cart must be a JSON object"


def test_config_error_can_be_caught_as_a_promokit_error() -> None:
    with pytest.raises(PromokitError) as caught:
        raise ConfigError(PROBLEMS)
    assert isinstance(caught.value, ConfigError)
    assert caught.value.problems == tuple(PROBLEMS)


def test_a_real_cart_error_is_a_promokit_error() -> None:
    with pytest.raises(PromokitError) as caught:
        promokit.Cart.from_json({"lines": []})
    assert isinstance(caught.value, CartError)
    assert [str(p) for p in caught.value.problems] == ["currency: is required"]


# -- context attributes ---------------------------------------------------------------


def test_plugin_error_names_the_plugin_and_the_hook() -> None:
    raised = PluginError("boom", plugin_name="acme-kinds", hook="promokit_register_kinds")
    assert raised.plugin_name == "acme-kinds"
    assert raised.hook == "promokit_register_kinds"
    assert str(raised) == "boom"


def test_plugin_error_context_is_optional() -> None:
    raised = PluginError("boom")
    assert raised.plugin_name is None
    assert raised.hook is None


def test_adapter_error_carries_the_status_code() -> None:
    assert AdapterError("rate limited", status_code=429).status_code == 429
    assert AdapterError("timed out").status_code is None
    assert str(AdapterError("rate limited", status_code=429)) == "rate limited"


@pytest.mark.parametrize("error", [StoreError, GameError], ids=lambda e: e.__name__)
def test_plain_errors_take_a_message(error: type[Exception]) -> None:
    assert str(error("redis unreachable")) == "redis unreachable"


def test_a_delivery_error_carries_attempts_and_status() -> None:
    error = errors.DeliveryError("gave up", attempts=5, status_code=503)
    assert isinstance(error, errors.PromokitError)
    assert (error.attempts, error.status_code, str(error)) == (5, 503, "gave up")
