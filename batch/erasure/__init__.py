"""Right to erasure: one customer's rows out of PostgreSQL and every Iceberg table, and the
snapshots and files that still held them (``python -m batch.erase``).

``scopes`` is the pure part (which tables, which rows, which quarantine payloads name the
customer); ``audits`` builds the audit record (pure) and writes it; ``postgres`` and ``lake``
do the deletes; ``runs`` puts the steps in order; ``settings`` reads ERASURE_*.
"""
