"""The one allowance the schemathesis runs make: business rules a JSON Schema cannot state.

schemathesis's `positive_data_acceptance` wants every schema-valid request accepted. A few
are refused with a 400 by rules between two fields (`resolved_at` not before `started_at`),
against the clock (a key's `expires_at` in the future, a month not yet begun) or against
the tenant's state (a closed month, a member who exists). `BUSINESS_RULES` lists, per
operation, the fields such a rule names; a 400 naming only those passes, any other refusal
of valid input fails as before.

Used by tests/test_schemathesis.py, and by the CLI as a hooks module (docs/operations.md):

    SCHEMATHESIS_HOOKS=tests.schemathesis_rules schemathesis run URL --checks all \\
        --exclude-checks positive_data_acceptance
"""

from __future__ import annotations

import re
from typing import Any

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

EVENT_KINDS = ("incidents", "automation-runs", "performance-samples", "deployments", "investments")
CALCULATIONS = (
    "roi",
    "incident-prevention",
    "automation-value",
    "performance-impact",
    "customer-experience",
    "competitive-advantage",
    "value-at-risk",
    "availability",
)
# Model and KPI groups are checked together with the rest of the model (weightings sum to 1,
# revenue figures agree within 0.5 %, an override needs its reason).
MODEL_GROUPS = {"revenue_model", "cost_model", "impact_model", "severity_responders", "revenue_profile"}
KPI_GROUPS = {"kpis", "alerts", "attribution_rules"}

BUSINESS_RULES: dict[tuple[str, str], set[str]] = {
    ("GET", "/api/v1/ledger/export.jsonl"): {"until"},  # until before since
    ("GET", "/api/v1/metrics/business-impact"): {"start"},  # start after end
    ("GET", "/api/v1/costs/monthly"): {"start", "end"},  # order, and months not yet begun
    ("GET", "/api/v1/dashboard/comparative"): {"start", "end", "date"},  # order, future, too far back
    ("POST", "/api/v1/events/incidents"): {
        "resolved_at",  # not before started_at
        "estimated_downtime_minutes",  # required when prevented, refused otherwise
        "prevention_confidence",  # only when prevented
    },
    ("POST", "/api/v1/events/deployments"): {"committed_at", "restored_at"},  # not after / before deployed_at
    ("POST", "/api/v1/periods/{month}/close"): {"month"},  # not yet begun, or already closed
    ("POST", "/api/v1/keys"): {"expires_at"},  # in the future
    ("POST", "/api/v1/reports"): {"period"},  # the shape of the kind, a closed period
    ("POST", "/api/v1/costs/focus"): {"file"},  # a FOCUS CSV export, which no JSON Schema describes
    ("PUT", "/api/v1/tenant/settings"): {"require_dual_approval"},  # off only with a single approver
    ("PUT", "/api/v1/config/escalations"): {"recipients", "webhook_url", "webhook_secret"},  # members, hosts
    ("PUT", "/api/v1/config/integrations/{tool}"): {"secret"},  # at least 10 different characters
    ("PUT", "/api/v1/config/it-budget"): {"annual_amount"},  # at most two decimal places
    ("PUT", "/api/v1/config/financial-model"): MODEL_GROUPS,
    ("POST", "/api/v1/config/revenue-model"): MODEL_GROUPS,
    ("PUT", "/api/v1/config/business-kpis"): KPI_GROUPS | MODEL_GROUPS,
}
for _kind in EVENT_KINDS:
    BUSINESS_RULES[("GET", f"/api/v1/events/{_kind}")] = {"since"}  # since after until
    # An external_id twice in one batch; an event in a closed month.
    BUSINESS_RULES.setdefault(("POST", f"/api/v1/events/{_kind}"), set()).update({"external_id", "occurred_at"})
for _method in CALCULATIONS:
    # What-if assumptions are checked with the model in force, like a model change.
    BUSINESS_RULES[("POST", f"/api/v1/calculate/{_method}")] = (
        {"assumptions", "financial_model"} | MODEL_GROUPS | KPI_GROUPS
    )
BUSINESS_RULES[("POST", "/api/v1/calculate/roi")] |= {"benefits"}  # one value per month
# A range needs low <= mode <= high; a benefits list one value per month.
BUSINESS_RULES[("POST", "/api/v1/calculate/value-at-risk")] |= {"benefits", "upfront_cost", "monthly_cost"}
BUSINESS_RULES[("POST", "/api/v1/calculate/value-at-risk")] |= {"monthly_benefit"}


def refused_fields(response: Any) -> set[str]:
    """The fields a 400 names, without a batch index or a nested path ("0.started_at" -> "started_at")."""
    try:
        errors = response.json().get("errors", {})
    except ValueError:
        return set()
    if not isinstance(errors, dict):
        return set()
    return {re.sub(r"^\d+\.", "", str(name)).split(".")[0] for name in errors}


@schemathesis.check
def positive_data_accepted_but_for_business_rules(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis's positive-data acceptance, but a 400 naming only `BUSINESS_RULES` fields passes."""
    if response.status_code == 400:
        fields = refused_fields(response)
        rules = BUSINESS_RULES.get((case.operation.method.upper(), case.operation.path), set())
        if fields and fields <= rules:
            return None
    return positive_data_acceptance(ctx, response, case)
