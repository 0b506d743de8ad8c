"""NUL and lone surrogates sent to every field: every string of every write endpoint's body,
every path parameter, every filter and form field of every page, every string of every
webhook payload. Never a 5xx; a 400 naming the field wherever the text reaches one.

Generated, so a new route cannot forget it: API writes from the role matrix of
tests/governance/test_api.py (its valid bodies) and the OpenAPI document (fields a valid body
leaves out), pages from the URL configuration (tests/test_isolation.py) and their own
forms, webhooks from their stored sample deliveries. PostgreSQL refuses NUL in text where
SQLite stores it; the answers here are the same on both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from html.parser import HTMLParser
from typing import Any

import pytest
from django.utils.http import urlencode

from governance.text import UNSTORABLE_MESSAGE, escaped
from tests.governance.test_api import MATRIX, focus_upload, target  # noqa: F401 (target is a fixture)
from tests.roi.test_webhooks import STORING, arm, deliver, fixture
from tests.test_isolation import PAGE_QUERIES, PAGE_ROUTES, page_path

pytestmark = pytest.mark.django_db

NUL, SURROGATE = "a\u0000b", "a\ud800b"
HOSTILE = {"nul": NUL, "lone_surrogate": SURROGATE}
REFUSED = {NUL: UNSTORABLE_MESSAGE, SURROGATE: UNSTORABLE_MESSAGE}
# A lone surrogate cannot be written in UTF-8, so a URL or a form can only carry its bytes, which
# Django decodes to U+FFFD: storable text, so those requests need only not fail.
SURROGATE_BYTES = "%ED%A0%80"

JSON_WRITES = [(method, path, allowed, body) for method, path, allowed, body in MATRIX if method != "get"]
ROLE_PREFERENCE = ["tenant_admin", "finance_admin", "analyst", "auditor", "ingest", "viewer"]


def leaf_paths(document: Any, path: str = "") -> Iterator[str]:
    """The path of every scalar in `document`, named as errors name fields (governance.parsers)."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield from leaf_paths(value, f"{path}.{key}" if path else key)
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from leaf_paths(value, f"{path}[{index}]" if path else str(index))
    else:
        yield path


def with_leaf(document: Any, path: str, text: str) -> Any:
    """A copy of `document` with the scalar at `path` (from `leaf_paths`) replaced by `text`."""
    head, _, rest = path.replace("[", ".").replace("]", "").partition(".")
    if isinstance(document, list):
        index = int(head)
        return [
            (with_leaf(item, rest, text) if rest else text) if i == index else item for i, item in enumerate(document)
        ]
    if not rest:
        return {**document, head: text}
    return {**document, head: with_leaf(document[head], rest, text)}


@cache
def schema_fields() -> dict[tuple[str, str], frozenset[str]]:
    """Top-level request body fields per (method, path template) in the OpenAPI document."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema.get("components", {}).get("schemas", {})

    def properties(node: dict[str, Any]) -> set[str]:
        if "$ref" in node:
            node = components[node["$ref"].rsplit("/", 1)[-1]]
        found = set(node.get("properties", {}))
        for branch in node.get("oneOf", []) + node.get("anyOf", []) + node.get("allOf", []):
            found |= properties(branch)
        return found

    fields = {}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                fields[(method, path)] = frozenset(properties(content["application/json"]["schema"]))
    return fields


def documented_fields(method: str, path: str) -> frozenset[str]:
    """The documented body fields of a MATRIX row, its `{name}` placeholders matched to the schema's."""
    for (schema_method, schema_path), fields in schema_fields().items():
        if schema_method == method and _same_route(schema_path, path):
            return fields
    return frozenset()


def _same_route(schema_path: str, path: str) -> bool:
    ours, theirs = path.split("/"), schema_path.split("/")
    return len(ours) == len(theirs) and all(
        a == b or (a[:1] == b[:1] == "{") for a, b in zip(ours, theirs, strict=True)
    )


def json_body_cases(body: Any, method: str, path: str) -> list[tuple[str, Any]]:
    """(field path, body) for every string place: each scalar of the valid body, each documented
    field it leaves out, each field of a one-item batch for event routes, and an unknown field."""
    valid = body if isinstance(body, dict) else {}
    cases: list[tuple[str, Any]] = [(field, valid) for field in leaf_paths(valid)] if valid else []
    cases += [(field, valid) for field in sorted(documented_fields(method, path) - set(valid))]
    cases.append(("unknown_field", valid))
    if path.startswith("/api/v1/events/"):
        cases += [(f"0.{field}", [valid]) for field in valid]
    return cases


def named_as(field: str) -> str:
    """How an error names `field`: a string in a list by its list (`roles[0]` as `roles`)."""
    return re.sub(r"\[\d+\]$", "", field)


def errors_of(response: Any) -> dict[str, Any]:
    is_json = response.content and response["Content-Type"] == "application/json"
    return response.json().get("errors", {}) if is_json else {}


@pytest.mark.parametrize(
    ("method", "path", "allowed", "body"),
    [row for row in JSON_WRITES if not callable(row[3])],
    ids=[f"{m} {p}" for m, p, _, b in JSON_WRITES if not callable(b)],
)
def test_every_string_of_every_json_write_is_refused_by_name(api_as, acme, target, method, path, allowed, body):  # noqa: F811
    # given the endpoint's most able allowed key
    client = api_as(acme, next(role for role in ROLE_PREFERENCE if role in allowed))
    url = path.format(**target)

    for field, document in json_body_cases(body, method, path):
        for text in HOSTILE.values():
            # when the field holds a NUL or a lone surrogate
            hostile = with_leaf(document, field, text)
            # json.dumps writes the surrogate as the escape \ud800, as a hostile client would
            response = getattr(client, method)(url, json.dumps(hostile), content_type="application/json")

            # then it is a 400 naming exactly that field (a route that takes no body may ignore it)
            named = named_as(field)
            assert response.status_code < 500, (field, text, response.status_code, response.content[:300])
            if body is not None or named in errors_of(response):
                assert response.status_code == 400, (field, text, response.status_code, response.content[:300])
                assert response.json()["errors"] == {named: [REFUSED[text]]}, field


@pytest.mark.parametrize("field", ["department_tag", "product_tag", "mode"])
def test_every_form_field_of_the_cost_upload_is_refused_by_name(api_as, acme, field):
    response = api_as(acme, "analyst").post("/api/v1/costs/focus", {**focus_upload(), field: NUL}, format="multipart")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_every_string_path_parameter_of_the_api_is_refused_by_name(api_as, acme, target):  # noqa: F811
    client = api_as(acme, "tenant_admin")
    for method, path, _, body in JSON_WRITES + [row for row in MATRIX if row[0] == "get"]:
        for name in ("member", "tool", "month", "file_format"):
            if f"{{{name}}}" not in path:
                continue
            url = path.format(**(target | {name: "x%00"}))
            response = getattr(client, method)(url, body if isinstance(body, dict) else None, format="json")
            assert response.status_code == 400, (method, url, response.content[:300])
            assert len(response.json()["errors"]) == 1, url


@pytest.mark.parametrize("tool", sorted(STORING))
def test_no_string_of_any_webhook_payload_fails_a_delivery(client, acme, acme_model, make_key, tool):
    # A receiver validates the fields it reads itself (naming every bad one at once, NUL
    # included) and ignores the rest of the tool's payload; so a 400 names the field, and a
    # field it does not read may hold anything.
    credential = arm(acme, tool, make_key)
    payload = fixture(STORING[tool])
    strings = [path for path in leaf_paths(payload) if isinstance(_at(payload, path), str)]
    assert strings

    for field in strings:
        for text in HOSTILE.values():
            response = deliver(client, tool, "acme", with_leaf(payload, field, text), credential)
            assert response.status_code < 500, (field, response.status_code, response.content[:300])
            if response.status_code == 400:
                assert _dotted(field) in errors_of(response), (field, response.content[:300])


def _dotted(path: str) -> str:
    """`alerts[0].labels` as the receivers name it: `alerts.0.labels`."""
    return path.replace("[", ".").replace("]", "")


def _at(document: Any, path: str) -> Any:
    for part in path.replace("[", ".").replace("]", "").split("."):
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


# --- Pages --------------------------------------------------------------------------------


class FormFields(HTMLParser):
    """The names of a page's form fields, by form method: the filters (GET) and inputs (POST) it offers."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, set[str]] = {"get": set(), "post": set()}
        self._method: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "form":
            self._method = (named.get("method") or "get").lower()
        elif tag in {"input", "select", "textarea"} and self._method and named.get("name") and _typed_in(named):
            self.fields[self._method].add(str(named["name"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._method = None


def _typed_in(named: dict[str, str | None]) -> bool:
    """Whether a control's value is typed in (not a button, a file or the CSRF token)."""
    return named.get("type") not in {"submit", "file"} and named.get("name") != "csrfmiddlewaretoken"


def form_fields(html: str) -> dict[str, set[str]]:
    parser = FormFields()
    parser.feed(html)
    return parser.fields


@pytest.fixture
def page_objects(acme, acme_model, settings, tmp_path):
    """A ledger record and a report of acme, for the pages that show one."""
    from governance.ledger import Actor
    from governance.tenancy import tenant_scope
    from roi.services import calculation_run
    from tests.dashboards.test_reports import stored_report

    settings.MEDIA_ROOT = tmp_path / "media"
    with tenant_scope(acme):
        record = calculation_run(
            actor=Actor.system("test"), method="availability_economics", body={"current_target": 99}
        )
    return record.pk, stored_report(acme).pk


def assert_refused_by_name(response: Any, field: str, text: str = NUL) -> None:
    assert response.status_code == 400, (field, response.status_code)
    assert f"<strong>{escaped(field)}</strong>: {REFUSED[text]}" in response.content.decode(), field


@pytest.mark.parametrize("route", PAGE_ROUTES)
def test_every_filter_form_field_and_path_parameter_of_every_page(route, client, acme, tara, carol, page_objects):
    # given the page open to its member (the tenant admin, or the auditor for the auditor's pages)
    path = page_path(route, acme, *page_objects)
    client.force_login(tara)
    page = client.get(path)
    if page.status_code == 403:
        client.force_login(carol)
        page = client.get(path)
    assert page.status_code == 200, path
    base, _, query = path.partition("?")
    html = b"".join(page.streaming_content).decode() if page.streaming else page.content.decode(errors="replace")
    fields = form_fields(html) if "html" in page["Content-Type"] else {"get": set(), "post": set()}
    filters = fields["get"] | {name for name, _, _ in (p.partition("=") for p in query.split("&")) if name}
    filters |= {name.partition("=")[0] for name in PAGE_QUERIES.get(route, "").lstrip("?").split("&") if name}

    # every filter, the page's own and one it does not know: NUL is a 400 naming it; a surrogate's
    # bytes arrive as U+FFFD and are read like any text
    for name in sorted(filters | {"unknown_filter"}):
        others = "&".join(part for part in query.split("&") if part and not part.startswith(f"{name}="))
        hostile = f"{base}?{others}&{urlencode({name: ''})}".replace(f"{name}=", f"{name}=a%00b")
        assert_refused_by_name(client.get(hostile), name)
        assert client.get(hostile.replace("a%00b", SURROGATE_BYTES)).status_code < 500, name

    # every field of its forms
    for name in sorted(fields["post"]):
        assert_refused_by_name(client.post(base, {name: NUL}), name)
        raw = f"{name}={SURROGATE_BYTES}".encode()
        assert client.post(base, raw, content_type="application/x-www-form-urlencoded").status_code < 500, name

    # every string path parameter
    for converter in ("<str:stream>", "<str:month>", "<str:method>", "<str:file_format>"):
        if converter in route:
            name = converter[5:-1]
            broken = page_path(route.replace(converter, "x%00"), acme, *page_objects).partition("?")[0]
            assert_refused_by_name(client.get(broken), name)
