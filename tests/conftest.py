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
TESTS = Path(__file__).parent
# Packages whose tests run on one xdist worker, one after another: tests/sync's sources all
# take the replication slot `sift_src` (PostgreSQL: one name per server) and the binlog
# replica id of `src` (MariaDB drops a replica when another connects with its id);
# tests/browser's share one package-scoped server.
ONE_WORKER_PACKAGES = ("sync", "browser")
# Tests that mostly wait, longest first: on a background build of the compiled kernels
# (minutes, niced), then on the servers they start. Under xdist they start first.
WAITING_FIRST = ("unit/engine/test_kernels_aot.py", "e2e/", "sync/", "browser/")
POSTGRES_URL = os.environ.get("SIFT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # before xdist's own schedulers
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under pytest-xdist (scripts/test), a module's tests run on one worker in file order,
    its module-scoped fixtures built once, and so do a whole package of
    ``ONE_WORKER_PACKAGES``: xdist's ``loadfile`` with those packages as one file each."""
    from xdist.scheduler import LoadFileScheduling

    class Scheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]  # tests/<package>/.../test_x.py
            top, package, *rest = path.split("/")
            return f"{top}/{package}" if rest and package in ONE_WORKER_PACKAGES else path

    return Scheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In an xdist worker, the tests that mostly wait (``WAITING_FIRST``) go out first, so
    the other workers' in-process tests fill that time rather than trail after it (every
    worker sorts alike: xdist checks they collected the same list). Without xdist the order
    stays the files'."""
    if hasattr(config, "workerinput"):
        items.sort(key=_waiting_rank)


def _waiting_rank(item: pytest.Item) -> int:
    path = item.path.relative_to(TESTS).as_posix()
    return next(
        (rank for rank, prefix in enumerate(WAITING_FIRST) if path.startswith(prefix)),
        len(WAITING_FIRST),
    )


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
