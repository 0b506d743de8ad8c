"""Each kind's spec agrees with its model and the rollup table: what adding a kind must get right."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from roi.ingestion.rollup_deltas import ROLLUP_COLUMNS
from roi.kinds import KINDS
from roi.kinds.contributions import Counted, SecondsBetween, Summed, when
from roi.models import Stream


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_declared_field_and_output_is_a_column_of_the_kind_s_model(kind):
    spec = KINDS[kind]
    columns = {field.name for field in spec.model._meta.get_fields()}

    assert spec.field_names | set(spec.outputs) | {spec.occurred_at} <= columns
    assert spec.occurred_at in spec.field_names


def columns_read(amount, condition):
    """The event columns an amount and its contribution's condition read."""
    names = [name for name, _ in amount.only.equals + condition.equals] + [*amount.only.present, *condition.present]
    if isinstance(amount, Summed):
        names.append(amount.column)
    if isinstance(amount, SecondsBetween):
        names += [amount.end, amount.start]
    return set(names)


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_contribution_names_a_stream_rollup_columns_and_the_model_s_columns(kind):
    spec = KINDS[kind]
    columns = {field.name for field in spec.model._meta.get_fields()}

    for contribution in spec.rollup:
        assert contribution.stream in Stream.values
        for column, amount in contribution.amounts:
            assert column in ROLLUP_COLUMNS
            assert columns_read(amount, contribution.condition) <= columns, column


def test_a_conditional_amount_counts_only_the_events_that_meet_it():
    restored = when(failed=True, present=("restored_at",))
    count = Counted(restored).reader()
    seconds = SecondsBetween(restored, "restored_at", "deployed_at").reader()
    deployed = datetime(2026, 1, 1, tzinfo=UTC)
    event = {"failed": True, "deployed_at": deployed, "restored_at": deployed.replace(minute=2, microsecond=5)}

    assert (count(event), seconds(event)) == (Decimal(1), Decimal("120.000005"))
    assert (count({**event, "failed": False}), seconds({**event, "failed": False})) == (0, 0)
    assert (count({**event, "restored_at": None}), seconds({**event, "restored_at": None})) == (0, 0)
    assert Summed(restored, "value").reader()({**event, "value": None}) == 0
