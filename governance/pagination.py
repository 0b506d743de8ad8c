"""Limit/offset pagination that refuses a malformed page instead of quietly ignoring it."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

MINIMUMS = {"limit": 1, "offset": 0}


class StrictLimitOffsetPagination(LimitOffsetPagination):
    """DRF's `?limit=&offset=`, but `limit=abc` or `offset=-5` is a 400 naming it.

    DRF falls back to the default page for a value it cannot read, so a client's typo would
    silently answer another page than the one asked for.
    """

    max_limit = 1000  # a larger limit is cut to this, as DRF does: no page of a million rows

    def get_limit(self, request: Request) -> int | None:
        raw = request.query_params.get(self.limit_query_param)
        if raw is None:
            return self.default_limit
        limit = _count(self.limit_query_param, raw, minimum=MINIMUMS["limit"])
        return min(limit, self.max_limit)

    def get_offset(self, request: Request) -> int:
        raw = request.query_params.get(self.offset_query_param)
        return 0 if raw is None else _count(self.offset_query_param, raw, minimum=MINIMUMS["offset"])

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """DRF's two parameters, with the minimums `get_limit`/`get_offset` enforce."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = MINIMUMS[parameter["name"]]
        return parameters


def _count(name: str, raw: str, *, minimum: int) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise exceptions.ValidationError({name: ["A valid integer is required."]}) from None
    if value < minimum:
        raise exceptions.ValidationError({name: [f"Ensure this value is greater than or equal to {minimum}."]})
    return value
