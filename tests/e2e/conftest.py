"""Fixtures for tests that run real `sift serve` processes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from sift.storage.database import normalize_url
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
    name = f"sift_e2e_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(normalize_url(postgres_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin, name, postgres_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
