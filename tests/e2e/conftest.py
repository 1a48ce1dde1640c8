"""Fixtures for tests that run real `sift serve` processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.sift_process import ServerPool


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[ServerPool]:
    pool = ServerPool(tmp_path)
    try:
        yield pool
    finally:
        pool.kill_all()
