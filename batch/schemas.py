"""Iceberg schemas of the bronze tables, derived from the unified event contract.

Each ``PaymentEvent`` field becomes a column of the same name (str -> string,
int -> long, datetime -> timestamptz, dict -> JSON text as in PostgreSQL's jsonb),
required unless the contract allows None. A field added to the contract therefore
appears here, and in the loader's SELECT, without an edit.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, fields
from datetime import datetime

from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import DayTransform
from pyiceberg.types import (
    DoubleType,
    IcebergType,
    IntegerType,
    ListType,
    LongType,
    NestedField,
    StringType,
    TimestamptzType,
)

from contracts import storage
from contracts.events import PaymentEvent

BRONZE_NAMESPACE = "bronze"
SILVER_NAMESPACE = "silver"
GOLD_NAMESPACE = "gold"

# Columns held as jsonb in PostgreSQL and as JSON text in Iceberg.
JSON_TEXT = "json"

_PY_TO_ICEBERG: dict[type, IcebergType] = {
    str: StringType(),
    int: LongType(),
    datetime: TimestamptzType(),
    dict: StringType(),
}

# (name, type, required); type JSON_TEXT is a string column read from jsonb.
Column = tuple[str, IcebergType | str, bool]

# The Iceberg type and whether it is required, of each column that contracts.storage names.
_LAKE_TYPES: dict[str, tuple[IcebergType | str, bool]] = {
    # payment_events, after the unified event's fields
    "fraud_score": (DoubleType(), False),
    "fraud_risk_level": (StringType(), False),
    "fraud_model_version": (StringType(), False),
    "retry_action": (StringType(), False),
    "retry_delay_seconds": (IntegerType(), False),
    "retry_model_version": (StringType(), False),
    "churn_score": (DoubleType(), False),
    "churn_risk_level": (StringType(), False),
    "churn_model_version": (StringType(), False),
    "enrichment_missing": (JSON_TEXT, True),
    "validation_status": (StringType(), True),
    "validation_errors": (JSON_TEXT, True),
    "ingested_at": (TimestamptzType(), True),
    "updated_at": (TimestamptzType(), True),
    # payment_events_quarantine
    "event_id": (StringType(), True),
    "provider": (StringType(), False),
    "provider_event_id": (StringType(), False),
    "source_topic": (StringType(), True),
    "source_partition": (IntegerType(), True),
    "source_offset": (LongType(), True),
    "original_payload": (StringType(), True),
    "payload_encoding": (StringType(), True),
    "error_codes": (ListType(element_id=0, element_type=StringType(), element_required=False),
                    True),
    "errors": (JSON_TEXT, True),
    "review_status": (StringType(), True),
    "reviewer": (StringType(), False),
    "decision_reason": (StringType(), False),
    "corrected_event": (JSON_TEXT, False),
    "quarantined_at": (TimestamptzType(), True),
    "reviewed_at": (TimestamptzType(), False),
    # Added after the table was first made (issue 15), so optional: rows loaded before have
    # none. The sha256 is the original's; the payload beside it is redacted.
    "payload_sha256": (StringType(), False),
    "payload_redaction": (StringType(), False),
}


def lake_columns(names: tuple[str, ...]) -> tuple[Column, ...]:
    """The named columns in the contract's order (field ids follow it: never reorder)."""
    return tuple((name, *_LAKE_TYPES[name]) for name in names)


ENRICHMENT_COLUMNS = lake_columns(storage.ENRICHMENT_COLUMNS + storage.ROW_STAMP_COLUMNS)
QUARANTINE_COLUMNS = lake_columns(tuple(name for name in storage.QUARANTINE_COLUMNS
                                        if name not in storage.LAKE_OMITS_QUARANTINE))


def column_from_contract(name: str, annotation: object) -> Column:
    """Map one contract field's annotation to an Iceberg column."""
    required = True
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        required = len(args) == len(typing.get_args(annotation))
        (annotation,) = args
    base = typing.get_origin(annotation) or annotation
    if base not in _PY_TO_ICEBERG:
        raise TypeError(f"PaymentEvent.{name}: no Iceberg type for {annotation!r}")
    return (name, JSON_TEXT if base is dict else _PY_TO_ICEBERG[base], required)


def contract_columns() -> tuple[Column, ...]:
    hints = typing.get_type_hints(PaymentEvent)
    return tuple(column_from_contract(f.name, hints[f.name]) for f in fields(PaymentEvent))


def build_schema(columns: tuple[Column, ...]) -> Schema:
    nested = []
    next_id = len(columns) + 1
    for field_id, (name, kind, required) in enumerate(columns, start=1):
        iceberg_type = StringType() if kind == JSON_TEXT else kind
        if isinstance(iceberg_type, ListType):
            # List elements need their own id, unique in the schema.
            iceberg_type = ListType(next_id, iceberg_type.element_type,
                                    iceberg_type.element_required)
            next_id += 1
        nested.append(NestedField(field_id, name, iceberg_type, required=required))
    return Schema(*nested, identifier_field_ids=[1])


@dataclass(frozen=True, slots=True)
class BronzeTable:
    """One PostgreSQL table mirrored into an Iceberg bronze table."""

    pg_table: str
    name: str
    columns: tuple[Column, ...]
    partition_column: str

    @property
    def identifier(self) -> tuple[str, str]:
        return (BRONZE_NAMESPACE, self.name)

    @property
    def schema(self) -> Schema:
        return build_schema(self.columns)

    @property
    def partition_spec(self) -> PartitionSpec:
        source = self.schema.find_field(self.partition_column)
        return PartitionSpec(PartitionField(source_id=source.field_id, field_id=1000,
                                            transform=DayTransform(),
                                            name=f"{self.partition_column}_day"))

    def select_list(self) -> str:
        """The SELECT list that reads these columns from PostgreSQL in Iceberg's shape."""
        return ", ".join(f"{name}::text AS {name}" if kind == JSON_TEXT else name
                         for name, kind, _ in self.columns)


PAYMENT_EVENTS = BronzeTable(
    pg_table="payment_events",
    name="payment_events",
    columns=contract_columns() + ENRICHMENT_COLUMNS,
    partition_column="provider_created_at",
)

PAYMENT_EVENTS_QUARANTINE = BronzeTable(
    pg_table="payment_events_quarantine",
    name="payment_events_quarantine",
    columns=QUARANTINE_COLUMNS,
    partition_column="quarantined_at",
)

BRONZE_TABLES = (PAYMENT_EVENTS, PAYMENT_EVENTS_QUARANTINE)
