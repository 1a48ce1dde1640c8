"""Ingestion benchmark: how fast one real Sift server takes in a large NDJSON payload.

`python -m benchmarks.ingest` (see ``cli.py`` for the options).
"""
