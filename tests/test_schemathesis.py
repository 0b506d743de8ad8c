"""The API against its own OpenAPI schema, fuzzed with schemathesis under a key of each role.

Every operation in `/api/schema/` is called through the WSGI app with generated input, as
each key role, on a tenant with a financial model, events and a ledger record. No answer may
be a 5xx, and every answer must match the schema: a documented status code, content type,
headers and body. Examples run per role are printed and written to
`test-artifacts/schemathesis.txt`, so the size of the run is on record.

Every check schemathesis registers runs, positive and negative: schema-breaking input must be
refused, schema-valid input accepted, but for a 400 naming only a field of a business rule
JSON Schema cannot state (tests/schemathesis_rules.py). The checks that act only in the
coverage or stateful phases (missing required header, unsupported method, use after free,
resource availability) are exercised by the `schemathesis run` CLI (docs/operations.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.test import APIClient
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS as REGISTERED_CHECKS
from schemathesis.checks import load_all_checks
from schemathesis.specs.openapi.checks import positive_data_acceptance

from bizvalue.wsgi import application
from governance.models import Tenant
from tests.governance.test_api import CALCULATION_BODIES, EVENT_BODIES, MATRIX
from tests.schemathesis_rules import positive_data_accepted_but_for_business_rules  # noqa: F401 (registers it)

pytestmark = pytest.mark.django_db

# Bounded so the whole run stays under three minutes on two cores (~4,000 requests).
ALLOWED_EXAMPLES = 15  # valid input, for an operation the role may call
NEGATIVE_EXAMPLES = 6  # input that breaks the schema, for the same operations
REFUSED_EXAMPLES = 2  # the role check answers before the body is read: a few suffice
ROLES = ["viewer", "analyst", "finance_admin", "tenant_admin", "auditor", "ingest"]


def _every_check() -> list[Callable[..., Any]]:
    """Every check schemathesis registers, positive-data acceptance with our business rules."""
    load_all_checks()
    registered = REGISTERED_CHECKS.get_all()
    names = {check.__name__ for check in registered}
    assert {
        "not_a_server_error",
        "negative_data_rejection",
        "positive_data_acceptance",
        "missing_required_header",
        "unsupported_method",
        "use_after_free",
        "ensure_resource_availability",
        "ignored_auth",
        "positive_data_accepted_but_for_business_rules",
    } <= names
    return [check for check in registered if check is not positive_data_acceptance]


CHECKS = _every_check()
ARTIFACT = Path(django_settings.BASE_DIR) / "test-artifacts" / "schemathesis.txt"

SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/", application)
# NUL characters in text are refused by the parsing layer for every field alike (a 400
# naming the field), a rule of the API rather than of any one schema: not generated here.
SCHEMA.config.generation.update(allow_x00=False, codec="utf-8")


def _route(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


ALLOWED = {(method.upper(), _route(path)): roles for method, path, roles, _ in MATRIX}


def _operations() -> list[Any]:
    # Each result is Ok or Err; our own schema has no unresolvable operation, and an Err fails here.
    operations = [result.ok() for result in SCHEMA.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) > 40, "the schema lost its operations"
    return operations


def _fuzz(operation: Any, mode: GenerationMode, examples: int, headers: dict[str, str], counter: list[int]) -> None:
    """Run `examples` generated cases of one operation; raise on the first failing check."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,  # the same cases every run: a failure here is reproducible, not flaky
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        counter[0] += 1
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


@pytest.fixture
def _keep_test_connection() -> Iterator[None]:
    """Django closes the connection at the end of each request; inside the test's transaction that would lose it.

    Django's test client disconnects the same handler; schemathesis calls the real WSGI app, so it is done here.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def acme_with_data(acme: Tenant, acme_model: Any, api_as: Callable[[Tenant, str], APIClient]) -> Tenant:
    """Acme with its financial model, one event of each kind and a ledger record."""
    client = api_as(acme, "analyst")
    for kind, body in EVENT_BODIES.items():
        assert client.post(f"/api/v1/events/{kind}", body, format="json").status_code in {200, 201}
    assert client.post("/api/v1/calculate/roi", CALCULATION_BODIES["roi"], format="json").status_code == 201
    return acme


@pytest.mark.parametrize("role", ROLES)
def test_api_answers_match_the_schema_for_every_role(
    role: str, acme_with_data: Tenant, make_key: Callable[..., str], _keep_test_connection: None
) -> None:
    counter = [0]
    failures = []
    for operation in _operations():
        webhook = "/webhooks/" in operation.path
        if webhook and role != "viewer":
            continue  # webhooks authenticate the sender's signature, not the key: one pass is enough
        # A fresh key per operation: a generated `DELETE /keys/1` may revoke the caller's own key.
        headers = {"Authorization": f"Bearer {make_key(acme_with_data, role)}"}
        # A route the matrix does not know yet is fuzzed in full.
        allowed = webhook or role in ALLOWED.get((operation.method.upper(), _route(operation.path)), {role})
        plan = (
            [(GenerationMode.POSITIVE, ALLOWED_EXAMPLES), (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)]
            if allowed
            else [(GenerationMode.POSITIVE, REFUSED_EXAMPLES)]
        )
        for mode, examples in plan:
            try:
                _fuzz(operation, mode, examples, headers, counter)
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {str(exc)[:2000]}")
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    with ARTIFACT.open("a") as record:
        record.write(f"{role}: {counter[0]} examples, {len(failures)} failing operations\n")
    print(f"schemathesis {role}: {counter[0]} examples")
    assert counter[0] > 100
    assert not failures, "\n\n".join(failures)
