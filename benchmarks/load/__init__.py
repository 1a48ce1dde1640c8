"""Speed benchmarks: single-client query latency and HTTP throughput under load.

Run with `python -m benchmarks load [--smoke]`; see docs/benchmarks/speed.md, "Speed"."""
