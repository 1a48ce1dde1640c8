"""Sync benchmarks: snapshot rows/s, change lag at a sustained rate, kill -9 (docs/sync.md)."""
