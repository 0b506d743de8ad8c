"""Rounding, constants and input coercion shared by every engine method."""

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roi.engine.money import (
    MINUTES_PER_MONTH,
    MINUTES_PER_YEAR,
    EngineInputError,
    EngineResult,
    _checked_decimal,
    round_money,
    round_rate,
    to_decimal,
    to_int,
    to_share,
)


def test_constants_follow_the_spec() -> None:
    assert MINUTES_PER_YEAR == 525600
    assert MINUTES_PER_MONTH == 43800
    assert MINUTES_PER_YEAR / 12 == MINUTES_PER_MONTH


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("0.125"), Decimal("0.12")),  # half to even: down
        (Decimal("0.135"), Decimal("0.14")),  # half to even: up
        (Decimal("41999.85"), Decimal("41999.85")),
        (Decimal("4666.666666"), Decimal("4666.67")),
        (Decimal("-0.001"), Decimal("0.00")),
        (Decimal("1e30"), Decimal("1000000000000000000000000000000.00")),
    ],
)
def test_round_money_is_half_even_to_the_cent(value: Decimal, expected: Decimal) -> None:
    rounded = round_money(value)
    assert rounded == expected
    assert rounded.as_tuple().exponent == -2


def test_round_money_never_shows_negative_zero() -> None:
    assert str(round_money(Decimal("-0.004"))) == "0.00"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("221.428571428"), Decimal("221.4286")),
        (Decimal("0.00005"), Decimal("0.0000")),
        (Decimal("0.00015"), Decimal("0.0002")),
        (Decimal("53.78434"), Decimal("53.7843")),
    ],
)
def test_round_rate_is_half_even_to_four_places(value: Decimal, expected: Decimal) -> None:
    assert round_rate(value) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (45, Decimal(45)),
        ("933.33", Decimal("933.33")),
        (" 12.5 ", Decimal("12.5")),
        (Decimal("1e15"), Decimal("1e15")),
        (933.33, Decimal("933.33")),  # float through repr, not its binary expansion
        (0.1, Decimal("0.1")),
        ("-0", Decimal(0)),
    ],
)
def test_to_decimal_accepts_numbers_and_numeric_strings(raw: object, expected: Decimal) -> None:
    assert to_decimal(raw, "amount") == expected


@pytest.mark.parametrize(
    "raw",
    [
        float("nan"),
        float("inf"),
        float("-inf"),
        "NaN",
        "sNaN",
        "Infinity",
        "-inf",
        "1e16",
        10**16,
        "abc",
        "",
        None,
        True,
        [1],
        {"a": 1},
        "1" * 100,
    ],
)
def test_to_decimal_rejects_non_finite_or_huge_or_non_numbers(raw: object) -> None:
    with pytest.raises(EngineInputError) as caught:
        to_decimal(raw, "downtime_minutes")
    assert list(caught.value.errors) == ["downtime_minutes"]


@given(
    st.one_of(
        st.integers(min_value=-(10**16), max_value=10**16),
        st.text(alphabet="0123456789\u00b2\u0663 .-e", max_size=17),
    )
)
def test_to_decimal_takes_plain_digits_and_ints_directly_with_the_general_rules_result(raw: object) -> None:
    def outcome(convert: Any) -> object:
        try:
            return str(convert())
        except EngineInputError as error:
            return error.errors

    assert outcome(lambda: to_decimal(raw, "x")) == outcome(lambda: _checked_decimal(raw, "x", allow_negative=False))


def test_to_decimal_rejects_negatives_unless_allowed() -> None:
    with pytest.raises(EngineInputError, match="negative"):
        to_decimal("-1", "upfront_cost")
    assert to_decimal("-1", "improvement", allow_negative=True) == -1


@pytest.mark.parametrize("raw", ["-0.01", "1.0001", 2])
def test_to_share_rejects_values_outside_zero_to_one(raw: object) -> None:
    with pytest.raises(EngineInputError) as caught:
        to_share(raw, "affected_revenue_share")
    assert "affected_revenue_share" in caught.value.errors


@pytest.mark.parametrize("raw", ["1.5", 0, 601])
def test_to_int_rejects_fractions_and_out_of_range(raw: object) -> None:
    with pytest.raises(EngineInputError):
        to_int(raw, "months", minimum=1, maximum=600)


def test_engine_input_error_carries_a_dict_of_field_messages() -> None:
    error = EngineInputError("months", "is required", errors={"seed": ["is required"]})
    assert error.errors == {"seed": ["is required"], "months": ["is required"]}
    assert "months: is required" in str(error)


def test_engine_result_base_keeps_subclasses_slotted() -> None:
    assert EngineResult.__slots__ == ()
