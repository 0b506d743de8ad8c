"""MethodSpec.run_many: many inputs under one figures, exactly what `run` gives one by one."""

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from roi.engine import METHODS, EngineInputError, FinancialFigures
from roi.engine.automation import INPUTS

FIGURES = FinancialFigures(
    annual_recurring_revenue=Decimal(56000000),
    it_staff_hourly_rate=Decimal("75.50"),
    engineer_hourly_rate=Decimal(120),
    cost_per_error=Decimal("199.99"),
    compliance_value_per_check=Decimal(137),
    customer_count=Decimal(2000),
    customer_lifetime_value=Decimal(10000),
    customer_churn_rate_per_incident=Decimal("0.02"),
)


def one_by_one(method: str, inputs: list[Any], figures: FinancialFigures) -> list[Any]:
    """The reference: `run` per item, its result as a dict or its errors."""
    out: list[Any] = []
    for item in inputs:
        try:
            out.append(METHODS[method].run(item, figures).as_dict())
        except EngineInputError as error:
            out.append(error.errors)
    return out


def comparable(results: list[Any]) -> list[Any]:
    return [r.errors if isinstance(r, EngineInputError) else r for r in results]


# Mostly values an integration sends, with the awkward ones mixed in: numeric strings
# (some padded, some with exponents), ints, floats, Decimals, and what must be refused.
number = st.one_of(
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=0, max_value=10**6).map(str),
    st.decimals(min_value=0, max_value=10**9, places=6, allow_nan=False).map(str),
    st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False),
    st.floats(min_value=0, max_value=1e9, allow_nan=False),
    st.sampled_from([" 12 ", "1e3", "-0", "0.000001", "999999999999999"]),
)
refused = st.sampled_from(
    [None, True, False, -1, "-5", "abc", "", "NaN", "Infinity", "1e16", 10**16, float("inf"), [], {}, "1" * 80]
)
value = st.one_of(number, number, number, refused)
automation_inputs = st.one_of(
    st.fixed_dictionaries(
        {"manual_time_equivalent": value, "execution_time": value},
        optional={"runs": value, "errors_avoided": value, "compliance_checks": value, "typo": value},
    ),
    st.dictionaries(st.sampled_from([*INPUTS, "other"]), value, max_size=6),
    st.sampled_from([[], "not an object", None]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(automation_inputs, max_size=25))
def test_automation_run_many_equals_run_one_by_one(inputs: list[Any]) -> None:
    assert comparable(METHODS["automation_value"].run_many(inputs, FIGURES)) == one_by_one(
        "automation_value", inputs, FIGURES
    )


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "manual_time_equivalent": st.integers(min_value=0, max_value=86400).map(str),
                "execution_time": st.integers(min_value=0, max_value=86400).map(str),
                "runs": st.integers(min_value=0, max_value=1000),
                "errors_avoided": st.integers(min_value=0, max_value=50),
                "compliance_checks": st.integers(min_value=0, max_value=5),
            }
        ),
        min_size=1,
        max_size=50,
    ),
    st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False),
)
def test_automation_run_many_equals_run_on_what_ingestion_sends(inputs: list[Any], rate: Decimal) -> None:
    figures = FinancialFigures(annual_recurring_revenue=Decimal(1), it_staff_hourly_rate=rate)
    valued = METHODS["automation_value"].run_many(inputs, figures)
    assert valued == one_by_one("automation_value", inputs, figures)
    assert all(isinstance(v, dict) for v in valued)


def test_a_bad_item_is_returned_as_its_error_and_the_others_are_valued() -> None:
    good = {"manual_time_equivalent": "3600", "execution_time": "60", "runs": 2}
    bad = {"manual_time_equivalent": "-1", "execution_time": "x", "typo": 1}
    valued = METHODS["automation_value"].run_many([good, bad, good], FIGURES)
    assert valued[0] == valued[2] == METHODS["automation_value"].run(good, FIGURES).as_dict()
    assert isinstance(valued[1], EngineInputError)
    assert set(valued[1].errors) == {"manual_time_equivalent", "execution_time", "typo"}


def test_methods_without_a_batch_form_run_one_by_one() -> None:
    inputs: list[Any] = [
        {"downtime_minutes": "30", "severity": "high", "affected_revenue_share": "0.5"},
        {"downtime_minutes": "-3", "severity": "nope"},
    ]
    assert comparable(METHODS["incident_cost"].run_many(inputs, FIGURES)) == one_by_one(
        "incident_cost", inputs, FIGURES
    )
