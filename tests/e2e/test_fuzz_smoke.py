"""A seeded fuzz run of a few hundred requests against a real `sift serve`: schemathesis
over the OpenAPI document, then hostile Meilisearch-shaped bodies (the full run is
`python -m benchmarks fuzz`). No 5xx, no connection reset, healthy afterwards."""

from __future__ import annotations

import pytest
from benchmarks.fuzz.run import run

from tests.e2e.sift_process import ServerPool

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_seeded_fuzz_run_finds_no_server_error(servers: ServerPool) -> None:
    server = servers.new()
    server.start()
    report = run(server.url, server.headers, requests_wanted=300, seconds=35, rng_seed=7)
    assert report.requests >= 150, report.summary()
    assert report.five_xx == 0, report.summary()
    assert report.resets == [], report.summary()
    assert report.health == 200
