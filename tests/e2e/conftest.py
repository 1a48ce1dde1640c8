"""Fixtures for tests that run real `sift serve` processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import fresh_postgres_database
from tests.e2e.sift_process import ServerPool


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[ServerPool]:
    pool = ServerPool(tmp_path)
    try:
        yield pool
    finally:
        pool.kill_all()


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[tuple[sa.Engine, str, str]]:
    """A fresh database on the test PostgreSQL server, dropped afterwards: (an autocommit
    engine on the server's default database, the database's name, its URL)."""
    with fresh_postgres_database(postgres_url, "sift_e2e") as database:
        yield database
