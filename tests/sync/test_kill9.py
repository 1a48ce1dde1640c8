"""Sync under SIGKILL: a writer keeps changing a source table while Sift is killed at
random moments and restarted; at the end the index equals the table, content included.

Runs against both MariaDB (binlog) and PostgreSQL (logical replication), a few kills
each, so it stays near a minute; `python -m benchmarks sync --kill9-rounds N` runs the
longer version. The seed is printed; rerun a failure with SIFT_SYNC_KILL9_SEED=<seed>.
"""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.sift_process import ServerPool
from tests.sync.conftest import SourceDB

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROUNDS = int(os.environ.get("SIFT_SYNC_KILL9_ROUNDS", "2"))


class Writer(threading.Thread):
    """Random inserts, updates and deletes, some in multi-row transactions, ~300 rows/s."""

    def __init__(self, source: SourceDB, seed: int) -> None:
        super().__init__(daemon=True)
        self.source = source
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.ids: set[int] = set()
        self.next_id = 0
        self.changes = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.step()
                time.sleep(self.rng.uniform(0, 0.006))
        except BaseException as exc:  # reported by the test
            self.error = exc

    def step(self) -> None:
        rng, execute = self.rng, self.source.execute
        kind = rng.random()
        if kind < 0.35 or len(self.ids) < 20:
            rows = [(self.next_id + i, f"body {rng.randint(0, 10**6)}", rng.randint(0, 99))
                    for i in range(rng.choice((1, 1, 1, 5)))]  # fmt: skip
            self.next_id += len(rows)
            marks = ", ".join(["(%s, %s, %s)"] * len(rows))
            execute(f"INSERT INTO items (id, body, n) VALUES {marks}",
                    [v for row in rows for v in row])  # fmt: skip
            self.ids.update(r[0] for r in rows)
            self.changes += len(rows)
        elif kind < 0.8:
            key = rng.choice(sorted(self.ids))
            execute("UPDATE items SET body = %s, n = n + 1 WHERE id = %s",
                    (f"edit {rng.randint(0, 10**6)}", key))  # fmt: skip
            self.changes += 1
        else:
            key = rng.choice(sorted(self.ids))
            execute("DELETE FROM items WHERE id = %s", (key,))
            self.ids.discard(key)
            self.changes += 1


def _table(source: SourceDB) -> dict[str, dict[str, Any]]:
    rows = source.execute("SELECT id, body, n FROM items")
    return {str(r[0]): {"id": r[0], "body": r[1], "n": r[2]} for r in rows}


def _index(client: httpx.Client) -> dict[str, dict[str, Any]]:
    response = client.get("/indexes/items/documents", params={"limit": 1_000_000})
    if response.status_code != 200:
        return {}
    return {str(d["id"]): d for d in response.json()["results"]}


def test_sync_survives_sigkill(source: SourceDB, tmp_path: Path) -> None:
    seed = int(os.environ.get("SIFT_SYNC_KILL9_SEED", time.time_ns() % 1_000_000))
    print(f"sync kill -9 test ({source.kind}): seed {seed} "
          f"(rerun with SIFT_SYNC_KILL9_SEED={seed})")  # fmt: skip
    rng = random.Random(seed)
    source.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, body VARCHAR(100), n INTEGER)")
    config = tmp_path / "sift.toml"
    config.write_text(source.toml('[[sources.tables]]\ntable = "items"\nindex = "items"\n'))
    pool = ServerPool(tmp_path)
    server = pool.new()
    writer = Writer(source, seed)
    writer.start()
    began = time.monotonic()
    try:
        for _ in range(ROUNDS):
            server.start("--config-file", str(config))
            time.sleep(rng.uniform(0.3, 2.5))
            server.kill()
            assert writer.error is None, writer.error
        writer.stop.set()
        writer.join(10)
        assert writer.error is None, writer.error
        server.start("--config-file", str(config))
        expected = _table(source)
        deadline = time.monotonic() + 60
        with server.client() as client:
            while (found := _index(client)) != expected:
                assert time.monotonic() < deadline, (
                    f"{len(found)} documents, {len(expected)} rows; differing: "
                    f"{sorted(set(found) ^ set(expected))[:10]}"
                )
                time.sleep(0.2)
            failed = client.get("/tasks", params={"statuses": "failed"}).json()["total"]
            assert failed == 0
    finally:
        writer.stop.set()
        pool.kill_all()
    print(f"sync kill -9 test ({source.kind}): {ROUNDS} kills, {writer.changes} row changes, "
          f"{len(expected)} rows at the end, {time.monotonic() - began:.1f} s, of which "
          f"{sum(server.start_seconds):.1f} s starting servers")  # fmt: skip
