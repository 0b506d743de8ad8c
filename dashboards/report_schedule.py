"""Which periodic reports a tenant's schedule makes: its reporting frequency and everything longer."""

from __future__ import annotations

from dashboards.models import ReportKind
from governance.models import ReportingFrequency

# Shortest first: a tenant reporting quarterly still closes its year, so it gets the annual
# assessment too, but no monthly reports nobody asked for.
_BY_LENGTH = (ReportKind.MONTHLY, ReportKind.QUARTERLY, ReportKind.ANNUAL)
_SHORTEST = {
    ReportingFrequency.MONTHLY: ReportKind.MONTHLY,
    ReportingFrequency.QUARTERLY: ReportKind.QUARTERLY,
    ReportingFrequency.ANNUAL: ReportKind.ANNUAL,
}


def scheduled_report_kinds(*, reporting_frequency: str) -> tuple[str, ...]:
    """The report kinds made automatically for a tenant reporting at `reporting_frequency`.

    Monthly makes all three kinds (the behaviour before the setting existed), quarterly the
    quarterly and annual ones, annual only the annual one. Anyone can still make any kind
    on the reports page or through the API: the setting decides the schedule only.
    """
    shortest = _SHORTEST[ReportingFrequency(reporting_frequency)]
    return tuple(kind.value for kind in _BY_LENGTH[_BY_LENGTH.index(shortest) :])
