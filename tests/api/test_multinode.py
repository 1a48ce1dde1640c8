"""Several Sift processes (nodes) on one database: one worker, every node searchable."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import MASTER_KEY, fresh_postgres_database, make_client, wait_task


def _eventually(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def _two_nodes(tmp_path: Path, **overrides: Any) -> tuple[TestClient, TestClient]:
    first = make_client(tmp_path, master_key=MASTER_KEY, **overrides)
    second = make_client(tmp_path, master_key=MASTER_KEY, **overrides)
    for c in (first, second):
        c.headers["Authorization"] = f"Bearer {MASTER_KEY}"
    return first, second


def _exercise(a: TestClient, b: TestClient) -> None:
    with a, b:
        _eventually(lambda: any(c.app.state.services.worker.lease.held for c in (a, b)))
        leaders = [c.app.state.services.worker.lease.held for c in (a, b)]
        assert leaders.count(True) == 1
        follower = b if leaders[0] else a
        uid = "idx_" + uuid.uuid4().hex[:8]
        response = follower.post(
            f"/indexes/{uid}/documents", json=[{"id": 1, "title": "shared lighthouse"}]
        )
        task = wait_task(follower, response.json()["taskUid"])
        assert task["status"] == "succeeded"
        for node in (a, b):
            _eventually(
                lambda node=node: (
                    node.post(f"/indexes/{uid}/search", json={"q": "lighthouse"}).status_code == 200
                    and len(
                        node.post(f"/indexes/{uid}/search", json={"q": "lighthouse"}).json()["hits"]
                    )
                    == 1
                )
            )
        wait_task(follower, follower.delete(f"/indexes/{uid}").json()["taskUid"])
        _eventually(
            lambda: (
                a.get(f"/indexes/{uid}/search").status_code == 404
                and b.get(f"/indexes/{uid}/search").status_code == 404
            )
        )


def test_two_nodes_on_one_sqlite_file(tmp_path: Path) -> None:
    _exercise(*_two_nodes(tmp_path))


@pytest.mark.postgres
def test_two_nodes_on_postgresql_with_redis(tmp_path: Path, postgres_url: str) -> None:
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=2).ping()
    except Exception as exc:
        pytest.skip(f"Redis not reachable at 127.0.0.1:6379: {exc.__class__.__name__}")
    with fresh_postgres_database(postgres_url, "sift_nodes") as (_, _, url):
        _exercise(*_two_nodes(tmp_path, database_url=url, redis_url="redis://127.0.0.1:6379/0"))
