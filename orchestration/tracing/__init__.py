"""The readers behind `python -m orchestration.trace`: one module per source (Kafka,
PostgreSQL, Temporal, Iceberg), each bounded by a timeout and turning its own failures into
an "unreachable" finding (orchestration/trace_report.py) instead of an exception."""
