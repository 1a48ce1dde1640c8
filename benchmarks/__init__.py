"""Sift's benchmark harnesses: relevance today; speed, load and ingestion later.

Run ``python -m benchmarks --help`` from the repository root.
"""
