from benchmarks.engine_speed.cli import main

main()
