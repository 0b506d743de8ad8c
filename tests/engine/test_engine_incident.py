"""incident_cost: the brief's worked example, recovery and customer formulas, revenue profile."""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roi.engine import METHODS, FinancialFigures
from roi.engine.incident import METHOD, METHOD_VERSION, IncidentCost, incident_cost
from roi.engine.money import EngineInputError

MONDAY_NOON = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)  # 2024-01-01 was a Monday


def run_incident_cost(inputs: Mapping[str, Any], figures: FinancialFigures) -> IncidentCost:
    """The registry's incident_cost, its result read as the method's own type."""
    result = METHODS["incident_cost"].run(inputs, figures)
    assert isinstance(result, IncidentCost)
    return result


def brief_figures(**changes: object) -> FinancialFigures:
    values: dict[str, object] = {
        "annual_recurring_revenue": Decimal(56000000),
        "revenue_per_minute_override": Decimal("933.33"),
        "override_reason": "the brief's figure",
        "engineer_hourly_rate": Decimal(120),
        "customer_support_cost_per_incident": Decimal(150),
        "customer_churn_rate_per_incident": Decimal("0.02"),
        "customer_lifetime_value": Decimal(10000),
        "brand_impact_factor": Decimal("1.5"),
    }
    values.update(changes)
    return FinancialFigures(**values)  # type: ignore[arg-type]


def test_method_is_named_and_versioned() -> None:
    assert (METHOD, METHOD_VERSION) == ("incident_cost", 1)


def test_it_reproduces_the_briefs_worked_example() -> None:
    # given the brief's incident: 45 minutes at 933.33 a minute, no customers affected
    result = run_incident_cost(
        {"downtime_minutes": 45, "recovery_cost": 2500, "reputational_damage": 5000}, brief_figures()
    )
    # then every component present is counted, to the cent
    assert result.revenue_impact == Decimal("41999.85")
    assert result.total_impact == Decimal("49499.85")
    assert result.prevention_value == Decimal("49499.85")
    assert result.as_dict()["total_impact"] == "49499.85"


@pytest.mark.parametrize(
    ("severity", "downtime", "expected"),
    [
        ("sev1", Decimal(45), Decimal("750.00")),  # 5 * max(0.75, 1) * 120 + 150
        ("sev2", Decimal(120), Decimal("870.00")),  # 3 * 2 * 120 + 150
        ("sev3", Decimal(90), Decimal("510.00")),  # 2 * 1.5 * 120 + 150
        ("sev4", Decimal(0), Decimal("270.00")),  # 1 * 1 * 120 + 150
    ],
)
def test_recovery_cost_from_responders(severity: str, downtime: Decimal, expected: Decimal) -> None:
    result = incident_cost(figures=brief_figures(), downtime_minutes=downtime, severity=severity)
    assert result.recovery_cost == expected


@pytest.mark.parametrize(
    ("public", "expected"),
    [(False, Decimal("2000.00")), (True, Decimal("3000.00"))],  # 10 * 10,000 * 0.02 (* 1.5)
)
def test_customer_impact_uses_churn_and_brand_factor(public: bool, expected: Decimal) -> None:
    result = incident_cost(
        figures=brief_figures(),
        downtime_minutes=Decimal(0),
        affected_customers=Decimal(10),
        public=public,
        recovery_cost=Decimal(0),
    )
    assert result.customer_impact == expected
    assert result.total_impact == expected


def test_share_and_prevention_confidence_scale_the_figures() -> None:
    result = incident_cost(
        figures=brief_figures(),
        downtime_minutes=Decimal(10),
        affected_revenue_share=Decimal("0.5"),
        recovery_cost=Decimal(0),
        prevention_confidence=Decimal("0.8"),
    )
    assert result.revenue_impact == Decimal("4666.65")
    assert result.prevention_value == Decimal("3733.32")


def test_it_needs_a_severity_when_no_recovery_cost_is_given() -> None:
    with pytest.raises(EngineInputError) as caught:
        run_incident_cost({"downtime_minutes": 10}, brief_figures())
    assert list(caught.value.errors) == ["severity"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("downtime_minutes", "NaN"),
        ("downtime_minutes", -5),
        ("affected_revenue_share", 1.5),
        ("prevention_confidence", "-0.1"),
        ("severity", "sev9"),
        ("started_at", "yesterday"),
        ("started_at", "2024-01-01T12:00:00"),
        ("public", "maybe"),
        ("downtime", 5),
    ],
)
def test_it_rejects_bad_input_naming_the_field(field: str, value: object) -> None:
    inputs = {"downtime_minutes": 45, "recovery_cost": 0, field: value}
    with pytest.raises(EngineInputError) as caught:
        run_incident_cost(inputs, brief_figures())
    assert field in caught.value.errors


def peak_profile() -> tuple[Decimal, ...]:
    # Weekday 09:00-17:00 at 2, nights at 0.5, rest at 1, then rescaled to a mean of 1.
    raw = []
    for hour_of_week in range(168):
        day, hour = divmod(hour_of_week, 24)
        raw.append(Decimal(2) if day < 5 and 9 <= hour < 17 else Decimal("0.5") if hour < 6 else Decimal(1))
    mean = sum(raw, Decimal(0)) / 168
    return tuple(weight / mean for weight in raw)


def test_a_flat_profile_changes_nothing() -> None:
    figures = brief_figures(revenue_profile=(Decimal(1),) * 168)
    result = incident_cost(
        figures=figures, downtime_minutes=Decimal(45), recovery_cost=Decimal(0), started_at=MONDAY_NOON
    )
    assert result.revenue_profile_applied
    assert result.revenue_impact == Decimal("41999.85")


def test_a_peak_outage_costs_more_than_the_same_outage_at_night() -> None:
    figures = brief_figures(revenue_profile=peak_profile())
    peak = incident_cost(
        figures=figures, downtime_minutes=Decimal(45), recovery_cost=Decimal(0), started_at=MONDAY_NOON
    )
    night = incident_cost(
        figures=figures, downtime_minutes=Decimal(45), recovery_cost=Decimal(0), started_at=MONDAY_NOON.replace(hour=3)
    )
    assert peak.revenue_impact > Decimal("41999.85") > night.revenue_impact
    assert peak.revenue_impact / night.revenue_impact == pytest.approx(4, rel=Decimal("1e-6"))


def test_profile_weights_split_across_hour_boundaries_in_the_tenant_zone() -> None:
    profile = [Decimal(0)] * 168
    profile[9] = Decimal(84)  # Monday 09:00-10:00 local
    profile[10] = Decimal(84)  # Monday 10:00-11:00 local; mean stays 1
    figures = brief_figures(
        revenue_profile=tuple(profile), time_zone="Europe/Berlin", revenue_per_minute_override=Decimal(1)
    )
    # 08:30 UTC in January is 09:30 in Berlin: 30 minutes in hour 9, 60 in hour 10, 30 in hour 11.
    result = incident_cost(
        figures=figures,
        downtime_minutes=Decimal(120),
        recovery_cost=Decimal(0),
        started_at=datetime(2024, 1, 1, 8, 30, tzinfo=UTC),
    )
    assert result.revenue_impact == Decimal(84 * 90)


def test_a_whole_week_of_downtime_weighs_like_an_unweighted_week() -> None:
    figures = brief_figures(revenue_profile=peak_profile(), revenue_per_minute_override=Decimal(1))
    result = incident_cost(
        figures=figures,
        downtime_minutes=Decimal(10080),
        recovery_cost=Decimal(0),
        started_at=MONDAY_NOON + timedelta(minutes=17),
    )
    assert result.revenue_impact == Decimal("10080.00")


money = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
share = st.decimals(min_value=0, max_value=1, places=4)


@given(
    downtime=money,
    recovery=money,
    reputational=money,
    customers=st.integers(0, 10**6),
    public=st.booleans(),
    revenue_share=share,
)
def test_total_is_the_sum_of_its_parts(
    downtime: Decimal,
    recovery: Decimal,
    reputational: Decimal,
    customers: int,
    public: bool,
    revenue_share: Decimal,
) -> None:
    result = incident_cost(
        figures=brief_figures(),
        downtime_minutes=downtime,
        recovery_cost=recovery,
        reputational_damage=reputational,
        affected_customers=Decimal(customers),
        public=public,
        affected_revenue_share=revenue_share,
    )
    parts = result.revenue_impact + result.recovery_cost + result.customer_impact + result.reputational_damage
    # Parts and total are each rounded once, so they may differ by half a cent per part.
    assert abs(result.total_impact - parts) <= Decimal("0.02")
    assert result.prevention_value == result.total_impact


@pytest.mark.parametrize(
    ("started_at", "zone"),
    [
        ("9999-12-31T23:30:00+00:00", "Asia/Tokyo"),  # already year 10000 in the tenant's zone
        ("9999-12-31T23:30:00-05:00", "UTC"),  # year 10000 once in UTC
        ("0001-01-01T00:30:00+05:00", "UTC"),  # year 0 once in UTC
        ("0001-01-01T00:30:00+00:00", "America/New_York"),  # year 0 in the tenant's zone
        ("9999-12-31T23:30:00+00:00", "UTC"),  # the outage itself runs past year 9999
    ],
)
def test_an_outage_at_the_edge_of_the_calendar_is_an_input_error_not_a_crash(started_at: str, zone: str) -> None:
    figures = brief_figures(revenue_profile=(Decimal(1),) * 168, time_zone=zone)
    with pytest.raises(EngineInputError) as raised:
        run_incident_cost({"downtime_minutes": 120, "recovery_cost": 0, "started_at": started_at}, figures)
    assert "started_at" in raised.value.errors


# --- Figures other than the brief's, worked by hand ------------------------------------


def round_hundred_figures(**changes: object) -> FinancialFigures:
    # ARR 52,560,000 is exactly 100 a minute (52,560,000 / 525,600).
    values: dict[str, object] = {
        "annual_recurring_revenue": Decimal(52560000),
        "engineer_hourly_rate": Decimal(150),
        "customer_support_cost_per_incident": Decimal(200),
        "customer_lifetime_value": Decimal(5000),
        "customer_churn_rate_per_incident": Decimal("0.02"),
        "brand_impact_factor": Decimal(2),
    }
    values.update(changes)
    return FinancialFigures(**values)  # type: ignore[arg-type]


def test_every_component_from_numeric_strings() -> None:
    result = run_incident_cost(
        {
            "downtime_minutes": "30",
            "affected_revenue_share": "0.5",
            "severity": "sev2",
            "affected_customers": "10",
            "public": True,
            "reputational_damage": "1000",
            "prevention_confidence": "0.8",
        },
        round_hundred_figures(),
    )
    assert result.revenue_impact == Decimal("1500.00")  # 30 * 100 * 0.5
    assert result.recovery_cost == Decimal("650.00")  # 3 responders * max(0.5 h, 1 h) * 150 + 200
    assert result.customer_impact == Decimal("2000.00")  # 10 * 5,000 * 0.02 * brand 2 (public)
    assert result.total_impact == Decimal("5150.00")
    assert result.prevention_value == Decimal("4120.00")  # * 0.8


def test_revenue_per_minute_from_transactions_and_a_fractional_outage() -> None:
    figures = round_hundred_figures(
        average_transaction_value=Decimal(50),
        transactions_per_minute=Decimal(2),
        engineer_hourly_rate=Decimal(100),
        customer_support_cost_per_incident=Decimal(0),
    )
    result = run_incident_cost({"downtime_minutes": 90.5, "severity": "sev1"}, figures)
    assert result.revenue_impact == Decimal("9050.00")  # 90.5 * (50 * 2)
    assert result.recovery_cost == Decimal("754.17")  # 5 * 90.5/60 h * 100 = 754.1666...
    assert result.total_impact == Decimal("9804.17")  # summed unrounded: 9,804.1666...
    assert result.customer_impact == Decimal("0.00")  # no customers given, none counted


def test_defaults_when_optional_inputs_are_omitted() -> None:
    result = run_incident_cost({"downtime_minutes": 0, "severity": "sev4"}, round_hundred_figures())
    # share 1, no customers, private, no reputational damage, confidence 1; one responder-hour minimum
    assert (result.revenue_impact, result.customer_impact, result.reputational_damage) == (Decimal("0.00"),) * 3
    assert result.recovery_cost == Decimal("350.00")  # 1 * 1 h * 150 + 200
    assert result.prevention_value == result.total_impact == Decimal("350.00")


def test_the_largest_accepted_figures_compute_without_error() -> None:
    figures = round_hundred_figures(
        revenue_per_minute_override=Decimal("1e15"),
        override_reason="stress",
        engineer_hourly_rate=Decimal("1e15"),
        customer_lifetime_value=Decimal("1e15"),
        customer_churn_rate_per_incident=Decimal(1),
        brand_impact_factor=Decimal("1e15"),
    )
    result = run_incident_cost(
        {
            "downtime_minutes": "1e15",
            "severity": "sev1",
            "affected_customers": "1e15",
            "public": True,
            "reputational_damage": "1e15",
        },
        figures,
    )
    shown = result.as_dict()
    assert shown["revenue_impact"] == "1" + "0" * 30 + ".00"  # 1e15 minutes at 1e15 a minute, to the cent
    assert shown["customer_impact"] == "1" + "0" * 45 + ".00"  # 1e15 customers * 1e15 CLV * churn 1 * brand 1e15


@given(
    shorter=st.decimals(min_value=0, max_value=10**6, places=3),
    longer_by=st.decimals(min_value=0, max_value=10**6, places=3),
    severity=st.sampled_from(["sev1", "sev2", "sev3", "sev4"]),
    start_minute=st.integers(0, 7 * 24 * 60),
)
def test_a_longer_outage_never_costs_less(
    shorter: Decimal, longer_by: Decimal, severity: str, start_minute: int
) -> None:
    figures = brief_figures(revenue_profile=peak_profile())
    started_at = MONDAY_NOON + timedelta(minutes=start_minute)
    short = incident_cost(figures=figures, downtime_minutes=shorter, severity=severity, started_at=started_at)
    long = incident_cost(
        figures=figures, downtime_minutes=shorter + longer_by, severity=severity, started_at=started_at
    )
    assert long.revenue_impact >= short.revenue_impact
    assert long.recovery_cost >= short.recovery_cost
    assert long.total_impact >= short.total_impact
    assert long.prevention_value <= long.total_impact
