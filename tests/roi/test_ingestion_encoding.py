"""The ledger's JSON writers give exactly what `json.JSONEncoder` writes.

The ledger hashes this text, so it must never drift from the stdlib's own encoding with
the same options (keys sorted, compact, UTF-8 as is, no NaN): `canonical_json` (its C
encoder built once) for any value, `canonical_json_many` (orjson) for float-free values.
"""

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.ledger import canonical_json, canonical_json_many

REFERENCE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

scalar = st.one_of(
    st.text(),  # any code point, quotes, backslashes, control characters, lone surrogates
    st.integers(),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
)
value: Any = st.recursive(
    scalar,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(value)
def test_canonical_json_is_the_stdlib_encoding(obj: Any) -> None:
    assert canonical_json(obj) == REFERENCE.encode(obj)


def test_a_ledger_item_is_written_as_canonical_json() -> None:
    item = {
        "kind": "automation-runs",
        "external_id": 'RUN-"1"\t\\ é 東',
        "method": "automation_value",
        "method_version": 1,
        "figures": "m2-k0",
        "inputs": {"manual_time_equivalent": "900", "execution_time": "30.5", "runs": 3, "public": True, "x": None},
    }
    assert canonical_json(item) == (
        '{"external_id":"RUN-\\"1\\"\\t\\\\ é 東","figures":"m2-k0","inputs":{"execution_time":"30.5",'
        '"manual_time_equivalent":"900","public":true,"runs":3,"x":null},"kind":"automation-runs",'
        '"method":"automation_value","method_version":1}'
    )
    assert canonical_json({1: "a"}) == REFERENCE.encode({1: "a"})  # a non-string key, as the stdlib writes it


def test_what_json_cannot_hold_is_refused_as_the_stdlib_refuses_it() -> None:
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})
    with pytest.raises(TypeError):
        canonical_json({"x": object()})


# What a batch's items and results are made of: no floats (numbers are exact strings).
plain_scalar = st.one_of(
    st.text(),  # includes control characters, quotes, backslashes, U+2028, lone surrogates
    st.integers(),  # includes integers beyond 64 bits, which orjson refuses
    st.booleans(),
    st.none(),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
)
plain: Any = st.recursive(
    plain_scalar,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=8), children, max_size=5),
        st.dictionaries(st.integers(), children, max_size=3),  # non-string keys: the fallback
    ),
    max_leaves=20,
)


@settings(max_examples=600, deadline=None)
@given(st.lists(plain, max_size=5))
def test_canonical_json_many_is_the_stdlib_encoding_of_each(values: list[Any]) -> None:
    assert canonical_json_many(values) == [REFERENCE.encode(value) for value in values]


def test_canonical_json_many_escapes_as_the_stdlib_does() -> None:
    tricky = {"k": "".join(chr(c) for c in range(0x00, 0x80)) + "\u2028\u2029\ud800 é 東 🙂", "n": 2**70}
    assert canonical_json_many([tricky, {"b": 1, "a": [True, None]}]) == [
        REFERENCE.encode(tricky),
        '{"a":[true,null],"b":1}',
    ]
