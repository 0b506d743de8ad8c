"""The calculation ledger: canonical records, the per-tenant hash chain, and its check.

Recomputing a record's result needs the value engine, which lives in `roi`; this module
checks everything that does not (hashes, links, order), and `roi.ledger_verification.ledger_verify`
adds the recomputation.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal, InvalidOperation
from json.encoder import c_make_encoder  # type: ignore[attr-defined]
from json.encoder import encode_basestring as _json_string
from typing import Any

import orjson
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from governance.models import GENESIS_HASH, ApiKey, LedgerRecord
from governance.stores import database_store
from governance.tenancy import current_tenant

MAX_CANONICAL_EXPONENT = 40


@dataclass(frozen=True)
class Actor:
    """Who asked for a calculation: a person, an API key, or the system (a scheduled job)."""

    label: str
    user: User | None = None
    api_key: ApiKey | None = None

    @classmethod
    def of_user(cls, user: User) -> Actor:
        return cls(label=f"user:{user.get_username()}", user=user)

    @classmethod
    def of_key(cls, api_key: ApiKey) -> Actor:
        return cls(label=f"api-key:{api_key.prefix}:{api_key.name}", api_key=api_key)

    @classmethod
    def system(cls, job: str) -> Actor:
        return cls(label=f"system:{job}")


def json_ready(value: Any) -> Any:
    """Inputs as the ledger stores them: floats and Decimals become exact numeric strings.

    Databases re-encode JSON numbers (PostgreSQL's jsonb prints 1e16 as
    10000000000000000), which would change the canonical text and break the hash; strings
    survive untouched, and the engine reads numeric strings exactly.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value  # the common cases first, by exact type: a batch record has ~50,000 nodes
    if kind is dict:
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, int | str):  # subclasses too (bool, enums)
        return value
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    return str(value)


def canonical_numbers(value: Any) -> Any:
    """`value` with every number written as text in one canonical decimal form ("1000", "12.50").

    The engine reads "1_000", Arabic-Indic digits and " 12 " as 1000 and 12 (Python's
    Decimal does), so the ledger records the number that was read, not the spelling it came
    in: records of the same calculation then read alike, and an auditor's own tools need not
    know Python's number syntax. Other strings (names, times, choices) stay as written.
    """
    if isinstance(value, dict):
        return {key: canonical_numbers(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [canonical_numbers(item) for item in value]
    if isinstance(value, Decimal):
        number = value
    elif not isinstance(value, str) or (value.isascii() and value.isdigit() and value[:1] != "0"):
        return value  # not a number in text, or already canonical digits (the common case)
    else:
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return value
    # Written out in full only within a sane exponent: "1e999999999" would be a billion
    # digits (the engine refuses anything beyond 1e15 whatever its spelling).
    if not number.is_finite() or abs(number.adjusted()) > MAX_CANONICAL_EXPONENT:
        return str(value)  # as spelt (a Decimal as its exact text: the ledger holds JSON)
    return format(number, "f")


# The canonical text: keys sorted, no spaces, UTF-8 as is, no NaN or Infinity.
_CANONICAL_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
# `_CANONICAL_ENCODER.encode` builds this same C encoder on every call; a batch record
# encodes thousands of small objects, so it is built once. No circular-reference markers:
# what the ledger encodes is always a tree.
_C_ENCODE = (
    None
    if c_make_encoder is None
    else c_make_encoder(None, _CANONICAL_ENCODER.default, _json_string, None, ":", ",", True, False, False)
)


def canonical_json(value: Any) -> str:
    if _C_ENCODE is None:
        return _CANONICAL_ENCODER.encode(value)
    return "".join(_C_ENCODE(value, 0))


def canonical_json_many(values: Iterable[Any]) -> list[str]:
    """`canonical_json` of each value, for values without floats (a batch's items and results).

    orjson writes the same text as the standard encoder for strings, integers, booleans,
    null, lists and objects (proved by `tests/roi/test_ingestion_encoding.py`) about six
    times faster, which matters for the 2,000 small objects of a 1,000-event batch. It
    writes floats differently (`1e16` for `1e+16`), so it is only for float-free values,
    as a batch's are (numbers are exact strings there); a value it refuses (an integer
    beyond 64 bits, a lone surrogate, a key that is not a string) goes through
    `canonical_json`. `verify_ledger` rehashes every item with `canonical_json`, so a
    difference could not go unnoticed.
    """
    texts = []
    for value in values:
        try:
            texts.append(orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode())
        except (TypeError, orjson.JSONEncodeError):
            texts.append(canonical_json(value))
    return texts


def canonical_json_spliced(value: Mapping[str, Any], encoded: Mapping[str, str]) -> str:
    """`canonical_json(value)`, taking the canonical JSON of some of its keys from `encoded`.

    The same text, written key by key in sorted order, so a caller that already holds the
    encoding of a large member (a batch's items) need not encode it again.
    """
    return (
        "{"
        + ",".join(
            f"{canonical_json(key)}:{encoded[key] if key in encoded else canonical_json(value[key])}"
            for key in sorted(value)
        )
        + "}"
    )


def record_payload(record: LedgerRecord) -> dict[str, Any]:
    """Everything a record asserts, except its own hash."""
    return {
        "tenant": record.tenant_id,
        "sequence": record.sequence,
        "method": record.method,
        "method_version": record.method_version,
        "model_version": record.model_version,
        "kpi_version": record.kpi_version,
        "inputs": record.inputs,
        "figures": record.figures,
        "result": record.result,
        "currency": record.currency,
        "actor": record.actor,
        "created_at": record.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "previous_hash": record.previous_hash,
    }


def record_hash(record: LedgerRecord, *, encoded: Mapping[str, str] | None = None) -> str:
    """sha256(previous_hash ‖ canonical JSON of the record).

    `encoded` may hold the canonical JSON of some of the record's fields, made beforehand:
    the text hashed is the same, spliced together key by key in sorted order as
    `canonical_json` writes it, so a large batch record is serialised outside the chain lock.
    """
    payload = record_payload(record)
    text = canonical_json_spliced(payload, encoded) if encoded else canonical_json(payload)
    return hashlib.sha256((record.previous_hash + text).encode()).hexdigest()


def export_line(record: LedgerRecord) -> str:
    """One record as a line of the auditor's JSON Lines export: its hashed payload, `id` and `hash`.

    The payload is `record_payload` exactly, so anyone can recompute
    sha256(previous_hash ‖ canonical JSON of the line without `id` and `hash`) with a
    standard JSON library (`bin/verify_ledger_export.py` does) and compare it with `hash`.
    `id` is only there to find the record in the app.
    """
    return canonical_json({"id": record.pk, **record_payload(record), "hash": record.hash})


def ledger_append(
    *,
    actor: Actor,
    method: str,
    method_version: int,
    model_version: int | None,
    kpi_version: int | None,
    inputs: dict[str, Any],
    figures: dict[str, Any],
    result: dict[str, Any],
    encoded: Mapping[str, str] | None = None,
    record_id: int | None = None,
) -> LedgerRecord:
    """Append one record to the scope tenant's chain; concurrent appends queue, never fork.

    `encoded` may give the canonical JSON of `inputs` and/or `result` when the caller has
    already written it (a batch that hashed its items); those values must then already be
    JSON-ready (strings, ints, booleans, None, lists and dicts), as `json_ready` returns them.
    `record_id` is an id the caller reserved in advance (`DatabaseStore.reserve_id`), for rows
    written before the record that refer to it.
    """
    tenant = current_tenant()
    # Made ready and serialised before the chain lock: for a batch record these are large,
    # and the lock should cover only the link to the head.
    given = dict(encoded or {})
    if "inputs" not in given:
        inputs = json_ready(inputs)
        given["inputs"] = canonical_json(inputs)
    if "result" not in given:
        result = json_ready(result)
        given["result"] = canonical_json(result)
    figures = json_ready(figures)
    given["figures"] = canonical_json(figures)
    encoded = given
    store = database_store()
    with transaction.atomic():
        # One append at a time per tenant, to the commit: the head read here stays the head.
        store.lock_tenant(tenant.pk)
        last = LedgerRecord.objects.order_by("-sequence").only("sequence", "hash").first()
        record = LedgerRecord(
            id=record_id,
            tenant=tenant,
            sequence=1 if last is None else last.sequence + 1,
            previous_hash=GENESIS_HASH if last is None else last.hash,
            method=method,
            method_version=method_version,
            model_version=model_version,
            kpi_version=kpi_version,
            inputs=inputs,
            figures=figures,
            result=result,
            currency=tenant.currency,
            actor=actor.label,
            actor_user=actor.user,
            actor_key=actor.api_key,
            created_at=timezone.now(),
        )
        record.hash = record_hash(record, encoded=encoded)
        store.insert_ledger_record(record, encoded)
        return record


@dataclass(frozen=True)
class ChainBreak:
    record_id: int
    sequence: int
    reason: str


def chain_breaks(
    records: Iterable[LedgerRecord], *, previous_hash: str = GENESIS_HASH, sequence: int = 1
) -> list[ChainBreak]:
    """Every record whose hash, link or place in the chain is wrong, in sequence order.

    `previous_hash` and `sequence` are where `records` must start: the genesis for a whole
    chain, or a trusted (anchored) record's hash and the sequence after it for a tail.
    """
    breaks: list[ChainBreak] = []
    expected_previous = previous_hash
    expected_sequence = sequence
    for record in records:
        if record.sequence != expected_sequence:
            breaks.append(
                ChainBreak(
                    record.pk,
                    record.sequence,
                    f"out of place: expected sequence {expected_sequence} (records missing or reordered)",
                )
            )
        if record.previous_hash != expected_previous:
            breaks.append(
                ChainBreak(record.pk, record.sequence, "previous_hash does not match the hash of the record before it")
            )
        if record_hash(record) != record.hash:
            breaks.append(ChainBreak(record.pk, record.sequence, "hash does not match the record's contents (edited)"))
        expected_previous = record.hash
        expected_sequence = record.sequence + 1
    return breaks
