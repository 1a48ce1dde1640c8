from benchmarks.compat.cli import main

main()
