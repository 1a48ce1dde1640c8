"""Two `sift serve` on one PostgreSQL database: a leader that lost its lease never commits.

The two faults of issue #14, reproduced with real processes: the leader's lease connection
is terminated while the process lives (a network blip, a PgBouncer restart, an idle
reaper), and the leader is paused (SIGSTOP) while clients keep writing to the other node.
Before fencing, the first made two leaders that reused batch uids and ran tasks twice, the
second left the other node's tasks enqueued until the leader resumed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.e2e.sift_process import ServerPool, SiftProcess

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

DOCS_PER_TASK = 100
INDEXES = ("alpha", "beta", "gamma")


def _post(node: SiftProcess, index: str, first_id: int) -> int:
    docs = [{"id": first_id + i, "title": f"doc {first_id + i}"} for i in range(DOCS_PER_TASK)]
    with node.client() as client:
        response = client.post(f"/indexes/{index}/documents", json=docs)
    assert response.status_code == 202, response.text
    return int(response.json()["taskUid"])


def _wait_finished(node: SiftProcess, uids: list[int], timeout: float) -> dict[int, dict]:
    deadline = time.monotonic() + timeout
    with node.client() as client:
        while True:
            found = {}
            for start in range(0, len(uids), 500):
                chunk = ",".join(str(u) for u in uids[start : start + 500])
                page = client.get("/tasks", params={"uids": chunk, "limit": 1000}).json()
                found.update({t["uid"]: t for t in page["results"]})
            pending = [u for u in uids if found.get(u, {}).get("status") in (None, "enqueued",
                                                                             "processing")]
            if not pending:
                return found
            if time.monotonic() > deadline:
                statuses = {u: found.get(u, {}).get("status") for u in pending[:10]}
                raise AssertionError(f"{len(pending)} tasks unfinished after {timeout}s: "
                                     f"{statuses}")
            time.sleep(0.1)


def _check(node: SiftProcess, tasks: dict[int, dict], expected: dict[str, int]) -> None:
    failed = [t for t in tasks.values() if t["status"] != "succeeded"]
    assert not failed, f"{len(failed)} tasks did not succeed, e.g. {failed[0]}"
    # A batch is the tasks one worker marked `processing` together: one start time per uid.
    starts: dict[int, set[str]] = {}
    for task in tasks.values():
        starts.setdefault(task["batchUid"], set()).add(task["startedAt"])
    reused = {uid: sorted(s) for uid, s in starts.items() if len(s) > 1}
    assert not reused, f"batch uids used by several batches: {reused}"
    with node.client() as client:
        for index, count in expected.items():
            stats = client.get(f"/indexes/{index}/stats").json()
            assert stats["numberOfDocuments"] == count, (index, stats)


def _lease_sessions(admin: sa.Engine, database: str) -> list[int]:
    """Backends of `database` holding a session advisory lock: the worker lease."""
    with admin.connect() as conn:
        return list(conn.execute(sa.text(
            "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE l.locktype = 'advisory' AND l.granted AND d.datname = :db"
        ), {"db": database}).scalars())  # fmt: skip


def _start_pair(servers: ServerPool, url: str) -> tuple[SiftProcess, SiftProcess]:
    """Node a, leader (started alone, it has run a task), then node b."""
    first = servers.new("a")
    first.start("--database-url", url)
    _wait_finished(first, [_post(first, "warmup", 0)], 60)
    second = servers.new("b")
    second.start("--database-url", url)
    return first, second


def test_a_leader_whose_lease_connection_dies_commits_nothing_more(
    servers: ServerPool, postgres_database: tuple[sa.Engine, str, str]
) -> None:
    admin, name, url = postgres_database
    first, second = _start_pair(servers, url)
    uids: list[int] = []
    expected = {index: 0 for index in INDEXES}
    for n in range(40):
        index = INDEXES[n % len(INDEXES)]
        uids.append(_post((first, second)[n % 2], index, n * DOCS_PER_TASK))
        expected[index] += DOCS_PER_TASK
        if n == 4:
            sessions = _lease_sessions(admin, name)
            assert sessions, "no lease session to terminate"
            with admin.connect() as conn:
                for pid in sessions:
                    conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    tasks = _wait_finished(second, uids, 90)
    _check(second, tasks, expected)
    _check(first, tasks, expected)


def test_a_paused_leader_is_replaced_and_its_late_work_refused(
    servers: ServerPool, postgres_database: tuple[sa.Engine, str, str]
) -> None:
    _, _, url = postgres_database
    first, second = _start_pair(servers, url)
    uids = [_post(first, "alpha", 0)]
    _wait_finished(second, uids, 60)
    writes: list[int] = []

    def write_to_the_leader() -> None:
        # In flight while the leader is paused: answered once it resumes.
        with contextlib.suppress(httpx.TransportError):
            writes.append(_post(first, "beta", 10_000))

    os.kill(first.pid, signal.SIGSTOP)
    try:
        stalled = threading.Thread(target=write_to_the_leader)
        stalled.start()
        paused = [_post(second, "alpha", n * DOCS_PER_TASK) for n in range(1, 4)]
        # The other node takes over within the lease timeout (5 s by default).
        tasks = _wait_finished(second, uids + paused, 30)
    finally:
        os.kill(first.pid, signal.SIGCONT)
    stalled.join(60)
    uids += paused + writes
    uids.append(_post(first, "alpha", 4 * DOCS_PER_TASK))
    tasks = _wait_finished(first, uids, 60)
    expected: dict[str, Any] = {"alpha": 5 * DOCS_PER_TASK}
    if writes:
        expected["beta"] = DOCS_PER_TASK
    _check(first, tasks, expected)
    _check(second, tasks, expected)
