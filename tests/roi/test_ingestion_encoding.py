"""The batch path's direct JSON writer gives exactly `canonical_json`'s text, which the ledger hashes."""

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from governance.ledger import canonical_json, canonical_json_object

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
@given(st.dictionaries(st.text(max_size=12), value, max_size=8))
def test_canonical_json_object_writes_canonical_json(obj: dict[str, Any]) -> None:
    assert canonical_json_object(obj) == canonical_json(obj)


def test_a_ledger_item_is_written_as_canonical_json() -> None:
    item = {
        "kind": "automation-runs",
        "external_id": 'RUN-"1"\t\\ é 東',
        "method": "automation_value",
        "method_version": 1,
        "figures": "m2-k0",
        "inputs": {"manual_time_equivalent": "900", "execution_time": "30.5", "runs": 3, "public": True, "x": None},
    }
    assert canonical_json_object(item) == canonical_json(item)
    assert canonical_json_object({1: "a"}) == canonical_json({1: "a"})  # a non-string key: the general encoder
