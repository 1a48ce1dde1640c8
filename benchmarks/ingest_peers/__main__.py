"""`python -m benchmarks.ingest_peers` (see ``cli.py`` for the options)."""

from benchmarks.ingest_peers.cli import main

main()
