"""Source databases for sync tests: a fresh MariaDB/MySQL database or PostgreSQL database
per test on the local servers, dropped afterwards (with the slots and publications the
test made). Tests skip, with the reason, where a server or its change capture is missing."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import MASTER_KEY, make_client

MYSQL_URL = os.environ.get("SIFT_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306")
POSTGRES_URL = os.environ.get("SIFT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass
class SourceDB:
    kind: str
    url: str  # of the test's own database
    name: str
    execute: Callable[..., Any]  # (sql, args=None) -> rows, autocommit

    def toml(self, tables: str, **extra: str) -> str:
        lines = ["[[sources]]", 'name = "src"', f'url = "{self.url}"']
        lines += [f"{k} = {v}" for k, v in extra.items()]
        return "\n".join(lines) + "\n" + tables


def _mysql(request: pytest.FixtureRequest) -> Iterator[SourceDB]:
    import pymysql
    from sqlalchemy.engine import make_url

    base = make_url(MYSQL_URL)
    try:
        admin = pymysql.connect(host=base.host, port=base.port or 3306, user=base.username,
                                password=base.password or "", autocommit=True)  # fmt: skip
    except pymysql.err.OperationalError as exc:
        pytest.skip(f"MariaDB/MySQL not reachable at {MYSQL_URL}: {exc}")
    with admin.cursor() as cur:
        cur.execute("SELECT @@log_bin, @@binlog_format")
        log_bin, fmt = cur.fetchone()
    if not log_bin or fmt != "ROW":
        admin.close()
        pytest.skip("MariaDB/MySQL binlog is off or not ROW: run scripts/services")
    name = f"sift_src_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
    conn = pymysql.connect(host=base.host, port=base.port or 3306, user=base.username,
                           password=base.password or "", database=name,
                           autocommit=True)  # fmt: skip

    def execute(sql: str, args: Any = None) -> Any:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall()

    try:
        yield SourceDB("mysql", f"{MYSQL_URL}/{name}", name, execute)
    finally:
        conn.close()
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


def _postgres(request: pytest.FixtureRequest) -> Iterator[SourceDB]:
    import psycopg

    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}")
    if admin.execute("SHOW wal_level").fetchone()[0] != "logical":  # type: ignore[index]
        admin.close()
        pytest.skip("PostgreSQL wal_level is not logical: run scripts/services")
    name = f"sift_src_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    conn = psycopg.connect(url, autocommit=True)

    def execute(sql: str, args: Any = None) -> Any:
        cur = conn.execute(sql, args)
        return cur.fetchall() if cur.description else []

    try:
        yield SourceDB("postgresql", url, name, execute)
    finally:
        conn.close()
        for (slot,) in admin.execute(
            "SELECT slot_name FROM pg_replication_slots WHERE database = %s", (name,)
        ).fetchall():
            for _ in range(50):  # a reader may still be letting go of it
                try:
                    admin.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
                    break
                except psycopg.errors.ObjectInUse:
                    time.sleep(0.1)
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def mysql_source(request: pytest.FixtureRequest) -> Iterator[SourceDB]:
    yield from _mysql(request)


@pytest.fixture
def postgres_source(request: pytest.FixtureRequest) -> Iterator[SourceDB]:
    yield from _postgres(request)


@pytest.fixture(params=["mysql", "postgresql"])
def source(request: pytest.FixtureRequest) -> Iterator[SourceDB]:
    yield from (_mysql(request) if request.param == "mysql" else _postgres(request))


def sync_client(tmp_path: Path, toml: str) -> TestClient:
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = tmp_path / "sift.toml"
    config.write_text(toml)
    client = make_client(tmp_path, master_key=MASTER_KEY, config_file=str(config))
    client.headers["Authorization"] = f"Bearer {MASTER_KEY}"
    return client


def documents(client: TestClient, index: str, key: str = "id") -> dict[str, dict[str, Any]]:
    response = client.get(f"/indexes/{index}/documents", params={"limit": 100_000})
    if response.status_code == 404:
        return {}
    return {str(d[key]): d for d in response.json()["results"]}


def eventually(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll until `check` returns a truthy value (or fails on the last try)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout}s: {check}")
        time.sleep(0.05)
