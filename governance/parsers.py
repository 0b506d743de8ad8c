"""The API's JSON parser: bounded body size and nesting depth, answered in the error envelope.

DRF reads a JSON body straight from the request stream, so Django's
DATA_UPLOAD_MAX_MEMORY_SIZE (checked only by `request.body`) never applies to it; and
Python's json module recurses once per nesting level, so a body of a million `[` would end
in a RecursionError, a 500. This parser enforces both limits itself and answers 413 and 400.

Text that no database column can hold is refused here too, naming each field that held it: a
NUL character (PostgreSQL refuses it in text and jsonb, SQLite stores it) and a lone
surrogate (half of a UTF-16 pair, which no UTF-8 encoder can write). Views that read
`request.data` directly would otherwise hand them to the database and answer 500.

JSON numbers with a fraction or an exponent are read as `Decimal`, exactly as written:
through a float, `999999999999999.99` would arrive as `1000000000000000.0` and a rate's
eighteenth digit would be lost, and no float may touch money.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

from governance.text import UNSTORABLE_ESCAPE, escaped, unstorable_reason

# No request body of ours nests beyond 4 levels; 32 leaves room without inviting abuse.
MAX_JSON_DEPTH = 32
BODY = "body"
JSON_SCALARS = frozenset({str, int, Decimal, bool, type(None)})


def _is_utf8(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def body_too_large_message(limit: int | None = None) -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE if limit is None else limit
    return f"The request body exceeds the limit of {limit:,} bytes."


class RequestBodyTooLarge(exceptions.APIException):
    """413 naming the body: DATA_UPLOAD_MAX_MEMORY_SIZE is the API's limit too."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"

    def __init__(self, limit: int | None = None) -> None:
        super().__init__({BODY: [body_too_large_message(limit)]})


def nesting_exceeds(document: Any, max_depth: int) -> bool:
    """Whether `document` nests objects/arrays deeper than `max_depth`; iterative, so it cannot recurse."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if type(node) is dict or isinstance(node, Mapping):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > max_depth:
            return True
        # Scalars never go on the stack, found by exact type: a batch of 10,000 flat events
        # is mostly scalars, and this check is ten times cheaper than pushing each of them.
        below = depth + 1
        for child in children:
            if type(child) not in JSON_SCALARS:
                stack.append((child, below))
    return False


class BoundedJSONParser(JSONParser):
    """DRF's JSONParser with a maximum body size (413) and nesting depth (400), both naming `body`."""

    max_depth = MAX_JSON_DEPTH

    def parse(self, stream: IO[bytes], media_type: str | None = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        limit: int | None = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = parser_context.get("request")
        declared = getattr(request, "META", {}).get("CONTENT_LENGTH") if request is not None else None
        if limit is not None and declared and str(declared).isdigit() and int(declared) > limit:
            raise RequestBodyTooLarge(limit)  # refused before a byte of it is read
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise RequestBodyTooLarge(limit)
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        if not _is_utf8(encoding):
            # JSON is UTF-8 (RFC 8259); a charset such as unicode_escape or utf-7 would turn
            # text the checks below pass into a lone surrogate or NUL after they ran.
            raise exceptions.UnsupportedMediaType(
                media_type or "application/json", detail=f"JSON is read as UTF-8 only; charset={encoding} is refused."
            )
        too_deep = f"JSON nested deeper than {self.max_depth} levels."
        try:
            text = raw.decode(encoding)
            document = json.loads(
                text,
                parse_float=Decimal,
                parse_constant=NonFinite if self.strict else None,
            )
        except RecursionError:
            raise exceptions.ParseError(too_deep) from None
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        if nesting_exceeds(document, self.max_depth):
            raise exceptions.ParseError(too_deep)
        if self.strict and ("NaN" in text or "Infinity" in text):
            non_finite = non_finite_paths(document)
            if non_finite:
                # Still refused as JSON, but the client is told which fields held them.
                raise exceptions.ValidationError(
                    {BODY: [NON_FINITE_BODY]}
                    | {path: [f"{literal} is not a finite number"] for path, literal in non_finite}
                )
        if UNSTORABLE_ESCAPE.search(text):
            unstorable = unstorable_paths(document)
            if unstorable:
                raise exceptions.ValidationError({path: [reason] for path, reason in unstorable})
        return document


NON_FINITE_BODY = "JSON parse error - NaN, Infinity and -Infinity are not JSON numbers."


class NonFinite(str):
    """Stands in for a NaN / Infinity / -Infinity literal while parsing, so its place can be named."""

    __slots__ = ()


def _walk(document: Any) -> Iterator[tuple[str, Any, str | None]]:
    """Each ``(path, value, key)`` of `document`, paths as fields are named in errors: ``field``,
    ``field.sub``, ``field[2]``, and ``0.field`` in a top-level list; `key` is the object key
    that leads to the value, if any."""
    stack: list[tuple[Any, str, str | None]] = [(document, "", None)]
    while stack:
        node, path, key = stack.pop()
        yield path, node, key
        if isinstance(node, dict):
            stack.extend((child, f"{path}.{name}" if path else str(name), name) for name, child in node.items())
        elif isinstance(node, list):
            stack.extend((child, f"{path}[{index}]" if path else str(index), None) for index, child in enumerate(node))


def non_finite_paths(document: Any) -> list[tuple[str, str]]:
    """Each ``(path, literal)`` where a ``NonFinite`` stands."""
    return sorted((path or BODY, str(node)) for path, node, _ in _walk(document) if isinstance(node, NonFinite))


def unstorable_paths(document: Any) -> list[tuple[str, str]]:
    """Each ``(path, reason)`` where a key or a string holds a NUL or a lone surrogate.

    A key that holds one is named with the character escaped, so the error itself can be stored
    and shown; a string in a list by the list (``customer_segments``, ``0.affected_services``).
    """
    found: dict[str, str] = {}
    for path, node, key in _walk(document):
        key_reason = unstorable_reason(key) if key is not None else None
        value_reason = unstorable_reason(node) if isinstance(node, str) else None
        if key_reason or value_reason:
            # A string in a list is named by its list, as serializers name a list field's errors.
            named = LIST_ELEMENT.sub("", path) if value_reason and not key_reason else path
            found[escaped(named) or BODY] = str(key_reason or value_reason)
    return sorted(found.items())


LIST_ELEMENT = re.compile(r"\[\d+\]$")
