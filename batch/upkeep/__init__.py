"""Lake upkeep: compaction, snapshot expiry and orphan-file removal, safe beside loads.

``plans`` is the pure planning; ``compaction`` and ``cleanup`` do the Iceberg I/O;
``commits`` makes their commits safe beside loads; ``files`` reports the layout;
``jobs`` holds the Dagster jobs and schedules.
"""
