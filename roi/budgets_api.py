"""The IT budget over the API: read by every role that reads the dashboards, set by finance admins."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from governance import roles
from governance.api import TENANT_PARAMETER, TenantAPIView, actor_of, query_of
from governance.requests import TenantApiRequest
from roi.api import engine_errors_as_400, json_object
from roi.budgets import (
    FIRST_FISCAL_YEAR,
    LAST_FISCAL_YEAR,
    current_fiscal_year,
    it_budget_get,
    it_budget_history,
    it_budget_set,
)
from roi.engine.finance import monthly_budget
from roi.engine.inputs import number_schema
from roi.engine.money import round_money
from roi.models import ItBudget
from roi.services import CHANGE_REASON_SCHEMA

BODY_KEYS = {"fiscal_year", "annual_amount", "change_reason"}


class ItBudgetQuery(serializers.Serializer):
    fiscal_year = serializers.IntegerField(
        min_value=FIRST_FISCAL_YEAR, max_value=LAST_FISCAL_YEAR, required=False, help_text="default: this one"
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def it_budget_data(budget: ItBudget, currency: str) -> dict[str, Any]:
    """The budget in force and every version of it, with who, when, why and what changed."""
    history = [
        {
            "version": version["version"],
            "changed_at": version["changed_at"].isoformat(),
            "changed_by": version["changed_by"],
            "change_reason": version["change_reason"],
            "changes": [
                {"field": c["field"], "old": _text(c["old"]), "new": _text(c["new"])} for c in version["changes"]
            ],
        }
        for version in it_budget_history(fiscal_year=budget.fiscal_year)
    ]
    return {
        "fiscal_year": budget.fiscal_year,
        "currency": currency,
        "annual_amount": str(budget.annual_amount),
        "monthly_amount": str(round_money(monthly_budget(budget.annual_amount))),
        "version": budget.version,
        "changed_at": budget.changed_at.isoformat(),
        "changed_by": history[0]["changed_by"] if history else None,
        "change_reason": budget.change_reason,
        "history": history,
    }


class ItBudgetView(TenantAPIView):
    """One fiscal year's IT budget and its versions; PUT sets it (a new version, with a reason)."""

    allowed_roles = {"GET": roles.READ, "PUT": roles.MANAGE_MODEL}

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        parameters=[TENANT_PARAMETER, ItBudgetQuery],
    )
    def get(self, request: TenantApiRequest) -> Response:
        query = ItBudgetQuery(data=query_of(request))
        query.is_valid(raise_exception=True)
        year = query.validated_data.get("fiscal_year") or current_fiscal_year()
        budget = it_budget_get(fiscal_year=year)
        if budget is None:  # not set yet: an answer, like the KPIs before their first version
            return Response(
                {
                    "fiscal_year": year,
                    "currency": request.tenant.currency,
                    **dict.fromkeys(("annual_amount", "monthly_amount", "version", "changed_at", "changed_by")),
                    "change_reason": None,
                    "history": [],
                }
            )
        return Response(it_budget_data(budget, request.tenant.currency))

    @extend_schema(
        request={
            "application/json": {
                "type": "object",
                "properties": {
                    "fiscal_year": {"type": "integer", "minimum": FIRST_FISCAL_YEAR, "maximum": LAST_FISCAL_YEAR},
                    "annual_amount": number_schema(),
                    "change_reason": CHANGE_REASON_SCHEMA,
                },
                "required": sorted(BODY_KEYS),
                "additionalProperties": False,
            }
        },
        responses=OpenApiTypes.OBJECT,
        parameters=[TENANT_PARAMETER],
        description="Set one fiscal year's budget: `fiscal_year`, `annual_amount` (spread evenly over "
        "its twelve months) and `change_reason`; a new version each time.",
    )
    def put(self, request: TenantApiRequest) -> Response:
        body = json_object(request)
        unknown = sorted(set(body) - BODY_KEYS)
        if unknown:
            raise exceptions.ValidationError({name: ["Unknown field."] for name in unknown})
        with engine_errors_as_400():
            budget = it_budget_set(
                actor=actor_of(request),
                fiscal_year=body.get("fiscal_year"),
                annual_amount=body.get("annual_amount"),
                change_reason=body.get("change_reason", ""),
            )
        return Response(it_budget_data(budget, request.tenant.currency))
