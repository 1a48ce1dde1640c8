"""Shared fixtures: an app on a temporary SQLite data directory, a task waiter."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings

from sift.app import create_app
from sift.config import load_config

# Property tests check answers, never speed: hypothesis' default 200 ms deadline per example
# failed a kernel's test on the shared 2-core machine under load (a 290 ms example).
settings.register_profile("sift", deadline=None)
settings.load_profile("sift")

MASTER_KEY = "test-master-key-0123456789"
POSTGRES_URL = os.environ.get("SIFT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def kernels_build(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """A cache directory (NUMBA_CACHE_DIR) where the compiled kernels are being built, as
    ``sift serve`` starts the build: in a child process, started by a process that exits at
    once (a server stopped within the build's minute): the build carries on without it.
    None without a C compiler (tests/unit/engine/test_kernels_aot.py waits for it)."""
    from sift.engine import kernels_aot

    if kernels_aot.compiler() is None:
        return None
    base = tmp_path_factory.mktemp("numba-cache")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(base), kernels_aot.MODE_ENV: "aot"}
    starter = "from sift.engine import kernels_aot; assert kernels_aot.start_build()"
    subprocess.run([sys.executable, "-c", starter], env=env, check=True, timeout=60)
    return base


@pytest.fixture(scope="session", autouse=True)
def kernels_build_begun(request: pytest.FixtureRequest) -> None:
    """Where test_kernels_aot.py is to run, its build begins with the session: it takes
    minutes of one core (niced), which the tests before that module, mostly waiting on the
    servers they start, leave to it; begun at that module's turn, it was waited on alone."""
    if any(item.path.name == "test_kernels_aot.py" for item in request.session.items):
        request.getfixturevalue("kernels_build")


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


# A bound on a hung task, not a speed check: the local model's hybrid test took 19.8 s of
# the earlier 20 s beside a kernel build on the loaded shared machine (ci1's runs).
def wait_task(client: TestClient, uid: int, timeout: float = 60.0) -> dict[str, Any]:
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
