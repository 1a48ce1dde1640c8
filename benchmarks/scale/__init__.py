"""`python -m benchmarks scale`: a products index at 10k, 100k and 1M documents."""
