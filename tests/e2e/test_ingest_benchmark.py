"""The ingestion benchmark still runs end to end (on a tiny file, for speed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.ingest.dataset import write_dataset
from benchmarks.ingest.measure import measure

pytestmark = pytest.mark.e2e


def test_the_dataset_is_reproducible(tmp_path: Path) -> None:
    first = write_dataset(tmp_path / "a.ndjson", 500, seed=7).read_bytes()
    again = write_dataset(tmp_path / "b.ndjson", 500, seed=7).read_bytes()
    assert first == again
    assert first.count(b"\n") == 500
    assert write_dataset(tmp_path / "c.ndjson", 500, seed=8).read_bytes() != first


def test_one_measurement(tmp_path: Path) -> None:
    dataset = write_dataset(tmp_path / "products.ndjson", 2000, seed=1)
    run = measure(dataset, 2000, batch_size=500)
    assert run.documents == 2000
    assert run.docs_per_s > 0 and run.task_s > 0
    assert run.rss_peak_mib >= run.rss_start_mib > 0
