"""What the dashboards show, computed once for the API and the pages alike.

`figures` loads what every figure is computed from (`tenant_figures`, `as_of`) and holds the
month helpers (`add_months`, `fiscal_year_start`...); the money maths (`percent`, ROI,
run-rates, budget variance) and its rounding (`money`) are the engine's
(`roi.engine.finance`, `roi.engine.money`). `executive` the executive overview and the real-time figures;
`trends` the monthly series and the forecast; `comparative` value and cost by department,
product or period with the benchmarks (`costs` its drill-downs); `investments` the
investments overview. The pages, the API, reports and alerts call these as
`selectors.<name>`, so the names they use are re-exported here.
"""

from dashboards.selectors.comparative import ComparativeRefused, benchmarks, breakdown, comparative
from dashboards.selectors.executive import business_value_index, executive_overview, period_headline, real_time
from dashboards.selectors.figures import (
    TenantFigures,
    add_months,
    fiscal_year_start,
    months_between,
    tenant_figures,
)
from dashboards.selectors.investments import budget_against_cost, investments_against_case, investments_overview
from dashboards.selectors.trends import forecast, trend_series, trends
from roi.engine.finance import percent
from roi.engine.money import CENT, ZERO
from roi.engine.money import money_text as money  # the name reports and alerts use

__all__ = [
    "CENT",
    "ZERO",
    "ComparativeRefused",
    "TenantFigures",
    "add_months",
    "benchmarks",
    "breakdown",
    "budget_against_cost",
    "business_value_index",
    "comparative",
    "executive_overview",
    "fiscal_year_start",
    "forecast",
    "investments_against_case",
    "investments_overview",
    "money",
    "months_between",
    "percent",
    "period_headline",
    "real_time",
    "tenant_figures",
    "trend_series",
    "trends",
]
