"""Event ingestion and listing: `POST/GET /api/v1/events/<kind>`."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.dateparse import parse_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from governance import roles
from governance.api import TENANT_PARAMETER, TenantAPIView, actor_of, query_of
from governance.requests import TenantApiRequest
from roi import ingestion
from roi.engine.inputs import probed_schema
from roi.event_fields import YEARS_PATTERN
from roi.ingestion.batch import MAX_BATCH
from roi.kinds import KINDS, KindSpec

# What the API shows of an event after the fields its kind declares.
VALUATION_FIELDS = ["value", "valuation", "model_version", "ledger_record", "ledger_item", "received_at", "updated_at"]


def event_serializer(spec: KindSpec) -> type[serializers.ModelSerializer]:
    """The kind's fields as declared, then the columns valuation writes."""
    fields = [*(f.name for f in spec.fields), *spec.outputs, *VALUATION_FIELDS]
    meta = type("Meta", (), {"model": spec.model, "fields": fields})
    return type(f"{spec.model.__name__}Serializer", (serializers.ModelSerializer,), {"Meta": meta})


SERIALIZERS = {kind: event_serializer(spec) for kind, spec in KINDS.items()}


@extend_schema_field(
    {"type": "string", "anyOf": [{"format": "date-time"}, {"format": "date"}], "pattern": YEARS_PATTERN}
)
class TimeBound(serializers.DateTimeField):
    """A time, or a date meaning its whole day in the tenant's time zone (`until=2026-11-02` includes the 2nd)."""

    def __init__(self, *, upper: bool, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)
        self.upper = upper

    def to_internal_value(self, value: Any) -> datetime:
        try:
            day = parse_date(value) if isinstance(value, str) and len(value.strip()) == 10 else None
        except ValueError:  # well formed, but no such day (2026-02-30)
            self.fail("invalid", format="YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss][+HH:MM|-HH:MM|Z]")
        if day is None:
            return super().to_internal_value(value)
        zone = ZoneInfo(self.context["time_zone"])
        return datetime.combine(day + timedelta(days=1) if self.upper else day, time(), tzinfo=zone)


class EventFilters(serializers.Serializer):
    external_id = serializers.CharField(required=False)
    department = serializers.CharField(required=False, allow_blank=True)
    product = serializers.CharField(required=False, allow_blank=True)
    since = TimeBound(upper=False, help_text="From this time; a date is its whole day. Alias: start.")
    until = TimeBound(upper=True, help_text="Before this time; a date is its whole day. Alias: end.")
    # The names api.md gives a period elsewhere (metrics/business-impact?start=&end=): taken
    # as since and until, and documented there only, so the schema offers one name for each.
    ALIASES = {"start": "since", "end": "until"}

    def to_internal_value(self, data: Any) -> Any:
        data = dict(data)
        written: dict[str, str] = {}  # errors name the parameter as the client wrote it
        for alias, name in self.ALIASES.items():
            if alias in data:
                if name in data:
                    raise serializers.ValidationError({alias: [f"Give {name} or {alias}, not both."]})
                data[name] = data.pop(alias)
                written[name] = alias
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            if not isinstance(error.detail, dict):
                raise
            # A serializer's errors are keyed by field name, so str() leaves each key as it is.
            renamed = {written.get(str(key), str(key)): detail for key, detail in error.detail.items()}
            raise serializers.ValidationError(renamed) from None

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if "since" in data and "until" in data and data["since"] > data["until"]:
            raise serializers.ValidationError({"since": ["Must not be after until."]})
        return data


class EventsView(TenantAPIView):
    """POST one event or a list of up to 10,000 (upserted by external_id); GET lists them, newest first."""

    allowed_roles = {"GET": roles.READ, "POST": roles.RECORD_EVENTS}
    kind: str = ""

    def get_serializer_class(self) -> type[serializers.ModelSerializer]:
        return SERIALIZERS[self.kind]

    def get(self, request: TenantApiRequest) -> Response:
        filters = EventFilters(data=query_of(request), context={"time_zone": request.tenant.time_zone})
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        events = KINDS[self.kind].model.objects.order_by("-occurred_at", "-id")
        for name in ("external_id", "department", "product"):
            if name in wanted:
                events = events.filter(**{name: wanted[name]})
        if "since" in wanted:
            events = events.filter(occurred_at__gte=wanted["since"])
        if "until" in wanted:
            events = events.filter(occurred_at__lt=wanted["until"])
        page = self.paginate_queryset(events)
        return self.get_paginated_response(self.get_serializer_class()(page, many=True).data)

    def post(self, request: Request) -> Response:
        try:
            outcome = ingestion.events_ingest(actor=actor_of(request), kind=self.kind, payload=request.data)
        except ingestion.BatchInvalid as invalid:
            raise exceptions.ValidationError(invalid.errors) from None
        return Response(outcome.as_dict(), status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK)


def event_request_schema(kind: str) -> dict[str, Any]:
    """One event object or a batch of them, read off the kind's parser (`roi.kinds`)."""
    event = probed_schema(KINDS[kind].parse)
    batch = {"type": "array", "items": event, "minItems": 1, "maxItems": MAX_BATCH}
    return {"anyOf": [event, batch]}


def events_view(kind: str) -> Any:
    """The view class for one event kind, documented under its own name."""
    serializer = SERIALIZERS[kind]
    name = kind.replace("-", "_")

    def get(self: EventsView, request: TenantApiRequest) -> Response:
        return EventsView.get(self, request)

    def post(self: EventsView, request: Request) -> Response:
        return EventsView.post(self, request)

    filters: list[OpenApiParameter | type[serializers.Serializer]] = [TENANT_PARAMETER, EventFilters]
    return type(
        f"Events_{name}",
        (EventsView,),
        {
            "kind": kind,
            "get": extend_schema(
                operation_id=f"events_{name}_list", responses=serializer(many=True), parameters=filters
            )(get),
            "post": extend_schema(
                operation_id=f"events_{name}_ingest",
                request={"application/json": event_request_schema(kind)},
                responses={200: OpenApiTypes.OBJECT, 201: OpenApiTypes.OBJECT},
                parameters=[TENANT_PARAMETER],
                description="One event object, or a list of up to 10,000; the batch is stored whole or not at all.",
            )(post),
        },
    )
