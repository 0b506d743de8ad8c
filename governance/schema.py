"""OpenAPI descriptions drf-spectacular cannot infer on its own."""

from typing import Any, Literal

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as DrfAutoSchema
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.services import MAX_CUSTOMER_SEGMENT_LENGTH, MAX_CUSTOMER_SEGMENTS


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "governance.auth.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key: `Authorization: Bearer <key>`. One tenant, one role.",
        }


@extend_schema_field(
    {
        "type": "object",
        "description": "Field name (or `detail`, `body`) -> messages; nested objects for nested fields.",
        "additionalProperties": {"oneOf": [{"type": "array", "items": {}}, {"type": "object"}]},
    }
)
class ErrorsField(serializers.JSONField):
    """The `errors` member of the envelope, typed for the schema."""


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "minLength": 1, "maxLength": MAX_CUSTOMER_SEGMENT_LENGTH},
        "maxItems": MAX_CUSTOMER_SEGMENTS,
        "uniqueItems": True,
    }
)
class CustomerSegmentsField(serializers.JSONField):
    """Customer segment labels, passed on as sent: `services.customer_segments_clean` checks them
    (types included), so the API refuses exactly what the command and the admin refuse."""


class StrictCharField(serializers.CharField):
    """A CharField that takes a JSON string only, as the schema says: DRF's would store 12 as "12"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ErrorEnvelopeSerializer(serializers.Serializer):
    """`{"errors": {"<field>": ["<message>", ...]}}`: the body of every API error (governance.errors)."""

    # Shadows Serializer.errors on purpose: the envelope's key is `errors`, and this serializer
    # only describes the schema (it never validates data).
    errors = ErrorsField()  # type: ignore[assignment]


ERROR_RESPONSES: dict[str, str] = {
    "400": "Invalid input, or `X-Tenant` missing for a member of several tenants.",
    "401": "Missing or invalid credentials.",
    "403": "Your role may not do this.",
    "404": "Not found, or not yours (the same answer on purpose).",
    "413": "Request body too large.",
    "503": "The database is unavailable or busy; retry after `Retry-After` seconds.",
}
# Only where a body is parsed: a body in an unsupported media type.
BODY_ERROR_RESPONSES: dict[str, str] = {"415": "Unsupported media type."}


class AutoSchema(DrfAutoSchema):
    """drf-spectacular's AutoSchema plus the error envelope on every operation.

    Every tenant endpoint can answer these codes (authentication, role, tenant resolution),
    so listing them once here keeps the schema honest without repeating them on every view.
    """

    def _get_request_for_media_type(self, serializer: Any, direction: str = "request") -> Any:
        """A body given as a raw JSON Schema (read off a parser) is required when it requires anything."""
        schema, required = super()._get_request_for_media_type(serializer, direction)
        if isinstance(serializer, dict):
            required = any(serializer.get(key) for key in ("required", "anyOf", "oneOf", "allOf"))
        return schema, required

    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        codes = dict(ERROR_RESPONSES)
        if self.method in {"POST", "PUT", "PATCH"}:
            codes |= BODY_ERROR_RESPONSES
        for code, description in codes.items():
            if code not in responses:
                response = self._get_response_for_code(ErrorEnvelopeSerializer, code, direction=direction)
                response["description"] = description
                responses[code] = response
        return responses
