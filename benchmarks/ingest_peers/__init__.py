"""Ingestion across engines: the seeded product corpus of `benchmarks.ingest`, fed to every
engine through its normal ingestion API; docs/s and peak memory per engine."""
