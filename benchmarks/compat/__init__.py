"""Run the Meilisearch Python SDK's own test suite against a real Sift process.

``python -m benchmarks.compat`` fetches the SDK's sdist (its tests and datasets ship
inside it), installs it into a separate cached virtualenv, starts ``sift serve`` on
127.0.0.1:7700 with master key ``masterKey`` and prints pass/fail/skip per API area.
"""
