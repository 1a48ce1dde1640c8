"""Engine speed benchmark: Sift vs Typesense 0.24.1 on the same documents and queries.

`python -m benchmarks.engine_speed` (see ``cli.py`` for the options)."""
