"""Snapshots: the live DuckDB file, its history and what readers query.

``snapshots`` (refresh builds a new snapshot from a validated drop and swaps it in atomically;
history, rollback, the audit log, read-only connections), ``queries`` (the live drop's summary,
filter options, boundaries) and ``drop_diff`` (what changed between two drops).
"""
