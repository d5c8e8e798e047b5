"""The bronze Iceberg schemas agree with the unified event contract."""

import typing
from dataclasses import fields
from datetime import datetime

import pytest
from pyiceberg.transforms import DayTransform
from pyiceberg.types import LongType, StringType, TimestamptzType

from batch.loads import extract_sql
from batch.schemas import (
    PAYMENT_EVENTS,
    PAYMENT_EVENTS_QUARANTINE,
    column_from_contract,
)
from contracts.events import PaymentEvent

COMPATIBLE = {str: StringType(), int: LongType(), datetime: TimestamptzType(),
              dict: StringType()}


def test_every_contract_field_is_a_bronze_column_of_a_compatible_type():
    schema = PAYMENT_EVENTS.schema
    hints = typing.get_type_hints(PaymentEvent)
    for f in fields(PaymentEvent):
        column = schema.find_field(f.name)
        args = [a for a in typing.get_args(hints[f.name]) if a is not type(None)]
        optional = type(None) in typing.get_args(hints[f.name])
        base = args[0] if optional else (typing.get_origin(hints[f.name]) or hints[f.name])
        assert column.field_type == COMPATIBLE[base], f.name
        assert column.required is not optional, f.name


def test_event_id_is_the_identifier_field_of_both_tables():
    for spec in (PAYMENT_EVENTS, PAYMENT_EVENTS_QUARANTINE):
        assert spec.schema.identifier_field_names() == {"event_id"}


@pytest.mark.parametrize(("spec", "column"), [
    (PAYMENT_EVENTS, "provider_created_at"),
    (PAYMENT_EVENTS_QUARANTINE, "quarantined_at"),
])
def test_bronze_tables_are_partitioned_by_day(spec, column):
    (field,) = spec.partition_spec.fields
    assert isinstance(field.transform, DayTransform)
    assert field.source_id == spec.schema.find_field(column).field_id


def test_a_contract_type_without_an_iceberg_mapping_is_refused():
    with pytest.raises(TypeError, match="PaymentEvent.when"):
        column_from_contract("when", float)


def test_the_extract_reads_json_as_text_and_a_half_open_xid_range():
    sql = extract_sql(PAYMENT_EVENTS, 10, 20)
    assert "metadata::text AS metadata" in sql
    assert "lake_xid >= '10'::xid8 AND lake_xid < '20'::xid8" in sql
    assert "(lake_created_xid < '10'::xid8) AS lake_replaces" in sql
