from benchmarks.ingest.cli import main

main()
