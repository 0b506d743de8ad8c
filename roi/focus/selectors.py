"""Reading imported costs: per month, optionally split by service, department or product."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum

from roi.engine.money import ZERO, money_text
from roi.models import CostImport, CostMonth

BREAKDOWNS = {"service": "service_name", "department": "department", "product": "product"}


def cost_imports_recent(*, limit: int = 10) -> QuerySet[CostImport]:
    """The scope tenant's latest FOCUS imports, newest first."""
    return CostImport.objects.order_by("-imported_at", "-id")[:limit]


def costs_monthly(*, start: date, end: date, by: str | None = None) -> list[dict[str, Any]]:
    """Billed and effective cost per month from `start` to `end` (first days), split `by` a label if asked.

    Months with no costs are left out; a split lists its groups by effective cost, largest first.
    """
    cells = CostMonth.objects.filter(month__gte=start, month__lte=end)
    group = BREAKDOWNS[by] if by else None
    names = ("month", group) if group else ("month",)
    rows = cells.values(*names).annotate(billed=Sum("billed_cost"), effective=Sum("effective_cost")).order_by(*names)
    months: dict[date, dict[str, Any]] = {}
    for row in rows:
        month = months.setdefault(
            row["month"], {"month": f"{row['month']:%Y-%m}", "billed_cost": ZERO, "effective_cost": ZERO}
        )
        month["billed_cost"] += row["billed"]
        month["effective_cost"] += row["effective"]
        if group:
            month.setdefault("groups", []).append(
                {
                    "name": row[group],
                    "billed_cost": money_text(row["billed"]),
                    "effective_cost": money_text(row["effective"]),
                }
            )
    answer = []
    for month in months.values():
        if group:
            month["groups"].sort(key=lambda g: (-Decimal(g["effective_cost"]), g["name"]))
        answer.append(
            month
            | {"billed_cost": money_text(month["billed_cost"]), "effective_cost": money_text(month["effective_cost"])}
        )
    return answer
