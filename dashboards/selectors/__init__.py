"""What the dashboards show, computed once for the API and the pages alike.

`figures` loads what every figure is computed from (`tenant_figures`, `as_of`); the money
maths (ROI, run-rates, budget variance) and its rounding are the engine's
(`roi.engine.finance`, `roi.engine.money`), the months the fiscal calendar's
(`governance.fiscal`). `executive` the executive overview and the real-time figures;
`trends` the monthly series and the forecast; `comparative` value and cost by department,
product or period with the benchmarks (`costs` its drill-downs); `investments` the
investments overview. The pages, the API, reports and alerts call these as
`selectors.<name>`, so the names they use are re-exported here.
"""

from dashboards.selectors.comparative import ComparativeRefused, benchmarks, breakdown, comparative
from dashboards.selectors.executive import business_value_index, executive_overview, period_headline, real_time
from dashboards.selectors.figures import TenantFigures, tenant_figures
from dashboards.selectors.investments import budget_against_cost, investments_against_case, investments_overview
from dashboards.selectors.trends import forecast, trend_series, trends

__all__ = [
    "ComparativeRefused",
    "TenantFigures",
    "benchmarks",
    "breakdown",
    "budget_against_cost",
    "business_value_index",
    "comparative",
    "executive_overview",
    "forecast",
    "investments_against_case",
    "investments_overview",
    "period_headline",
    "real_time",
    "tenant_figures",
    "trend_series",
    "trends",
]
