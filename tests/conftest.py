"""Shared fixtures: an app on a temporary SQLite data directory, a task waiter."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sift.app import create_app
from sift.config import load_config

MASTER_KEY = "test-master-key-0123456789"
POSTGRES_URL = os.environ.get("SIFT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def make_client(tmp_path: Path, **overrides: Any) -> TestClient:
    values = {"data_dir": str(tmp_path / "data"), "config_file": str(tmp_path / "none.toml")}
    values.update(overrides)
    return TestClient(create_app(load_config(values, environ={})))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with make_client(tmp_path, master_key=MASTER_KEY) as c:
        c.headers["Authorization"] = f"Bearer {MASTER_KEY}"
        yield c


@pytest.fixture
def open_client(tmp_path: Path) -> Iterator[TestClient]:
    with make_client(tmp_path) as c:
        yield c


def wait_task(client: TestClient, uid: int, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        task = client.get(f"/tasks/{uid}").json()
        if task["status"] in ("succeeded", "failed", "canceled"):
            return task
        if time.monotonic() > deadline:
            raise TimeoutError(f"task {uid} still {task['status']}")
        time.sleep(0.01)


def run_task(client: TestClient, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    response = client.request(method, url, **kwargs)
    assert response.status_code == 202, response.text
    return wait_task(client, response.json()["taskUid"])


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A reachable PostgreSQL, or a visible skip."""
    import sqlalchemy as sa

    from sift.storage.database import normalize_url

    try:
        engine = sa.create_engine(normalize_url(POSTGRES_URL))
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        engine.dispose()
    except Exception as exc:  # any failure to connect means: no PostgreSQL here
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc.__class__.__name__}")
    return POSTGRES_URL


@contextmanager
def fresh_postgres_database(base_url: str, prefix: str) -> Iterator[tuple[Any, str, str]]:
    """A new database on `base_url`'s server, dropped (connections and all) afterwards:
    (an autocommit engine on the server's default database, the database's name, its URL)."""
    import sqlalchemy as sa

    from sift.storage.database import normalize_url

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(normalize_url(base_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin, name, base_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
