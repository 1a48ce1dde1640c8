"""Durability under SIGKILL: nothing acknowledged is lost, nothing is applied twice.

A real server is killed with SIGKILL at random moments (while requests are in
flight, while the worker is applying a batch, while idle) and restarted, many
times. The client records every task it got a 202 for. A request cut off by the
kill is "in doubt": it may or may not have been committed. Requests are sent one
at a time, so at most one task per kill is in doubt, and if it was committed it
is exactly the task uid following the last acknowledged one, which identifies
its payload. At the end, replaying the tasks in uid order on a dict gives the
only correct final state, which the server must hold exactly, in SQL and in the
search index.

The seed is printed; rerun a failure with SIFT_KILL9_SEED=<seed>.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest

from tests.e2e.sift_process import ServerPool, SiftProcess

pytestmark = pytest.mark.e2e

INDEX = "durable"
ROUNDS = 8
ID_SPACE = 3000  # few enough ids that tasks keep replacing and merging the same documents
WORDS = ("amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "harbor", "iris", "lumen")


@dataclass
class Request:
    seq: int
    method: str  # POST replaces documents, PUT merges into them
    docs: list[dict[str, Any]]
    uid: int | None = None  # the task uid, once known


@dataclass
class Log:
    acknowledged: list[Request] = field(default_factory=list)
    in_doubt_committed: list[Request] = field(default_factory=list)
    in_doubt_lost: int = 0
    pending_at_restart: list[int] = field(default_factory=list)
    last_uid: int | None = None  # highest task uid known to exist

    def applied(self) -> list[Request]:
        """Every task the server must run, in uid order."""
        every = self.acknowledged + self.in_doubt_committed
        return sorted(every, key=lambda r: r.uid or 0)


def letters(n: int) -> str:
    """A word unique to `n` made only of letters, so the search analyser keeps it whole."""
    word = ""
    n += 26 * 26  # at least three letters
    while n:
        n, digit = divmod(n, 26)
        word += chr(ord("a") + digit)
    return "q" + word


def make_request(rng: random.Random, seq: int) -> Request:
    kind = rng.random()
    if kind < 0.6:
        count, pad = rng.randint(1, 20), rng.randint(0, 100)
    elif kind < 0.9:
        count, pad = rng.randint(50, 400), rng.randint(0, 300)
    else:  # several payload chunks and several worker flushes per task
        count, pad = rng.randint(1000, 2500), rng.randint(800, 1500)
    ids = rng.sample(range(ID_SPACE), min(count, ID_SPACE))
    method = "POST" if rng.random() < 0.7 else "PUT"
    docs: list[dict[str, Any]] = []
    for doc_id in ids:
        if method == "POST":
            docs.append(
                {
                    "id": doc_id,
                    # A word unique to this version of this document, to find it by.
                    "title": f"{rng.choice(WORDS)} {letters(seq * ID_SPACE + doc_id)}",
                    "price": rng.randint(0, 40_000) / 4,
                    "tags": rng.sample(WORDS, rng.randint(0, 3)),
                    "pad": "x" * pad,
                    "rev": seq,
                }
            )
        else:
            docs.append({"id": doc_id, "stock": rng.randint(0, 99), "put": seq})
    return Request(seq, method, docs)


def expected_state(requests: list[Request]) -> dict[str, dict[str, Any]]:
    """Replace or merge, in task order; dict order is first-insertion order, like the API."""
    state: dict[str, dict[str, Any]] = {}
    for request in requests:
        for doc in request.docs:
            key = str(doc["id"])
            if request.method == "PUT" and key in state:
                state[key] = {**state[key], **doc}
            else:
                state[key] = dict(doc)
    return state


def newest_uid(client: httpx.Client) -> int | None:
    results = client.get("/tasks", params={"limit": 1}).raise_for_status().json()["results"]
    return int(results[0]["uid"]) if results else None


def follows(uid: int, last: int | None) -> bool:
    """Whether `uid` is the next task uid after `last` (None: no task yet, any first uid)."""
    return last is None or uid == last + 1


def unfinished(client: httpx.Client) -> int:
    params = {"statuses": "enqueued,processing", "limit": 1}
    return int(client.get("/tasks", params=params).raise_for_status().json()["total"])


def unfinished_on_disk(server: SiftProcess) -> int:
    """Tasks the killed server left enqueued or processing, read from its database before
    the restart (asked of the restarted server, a fast worker has often redone them)."""
    path = server.data_dir / "sift.db"
    if not path.exists():
        return 0
    with sqlite3.connect(path) as conn:
        query = "SELECT count(*) FROM tasks WHERE status IN ('enqueued', 'processing')"
        return int(conn.execute(query).fetchone()[0])


def after_restart(
    client: httpx.Client, log: Log, in_doubt: Request | None, pending: int
) -> None:
    """Settle the previous round's request in doubt, from the task uids that now exist;
    ``pending``: what the kill left unfinished (unfinished_on_disk)."""
    newest = newest_uid(client)
    if newest is not None and newest != log.last_uid:
        lost_or_invented = f"newest task {newest} after {log.last_uid}"
        assert follows(newest, log.last_uid), lost_or_invented
        assert in_doubt is not None, f"task {newest} appeared without any request in flight"
        in_doubt.uid = newest
        log.in_doubt_committed.append(in_doubt)
        log.last_uid = newest
    elif in_doubt is not None:
        log.in_doubt_lost += 1
    log.pending_at_restart.append(pending)


def run_round(
    server: SiftProcess, rng: random.Random, log: Log, seq: int
) -> tuple[int, Request | None]:
    """Send requests one at a time until the kill; returns the next seq and the request in doubt."""
    kill_after = rng.uniform(0.05, 1.0)
    # Some rounds stop sending early, so the kill also lands while only the worker is busy.
    send_for = kill_after if rng.random() < 0.7 else rng.uniform(0.0, kill_after)
    killer = threading.Timer(kill_after, server.kill_nowait)
    started = time.monotonic()
    killer.start()
    in_doubt: Request | None = None
    try:
        with server.client() as client:
            while time.monotonic() - started < send_for and server.alive():
                request = make_request(rng, seq)
                seq += 1
                body = b"\n".join(orjson.dumps(d) for d in request.docs)
                try:
                    response = client.request(
                        request.method,
                        f"/indexes/{INDEX}/documents",
                        content=body,
                        headers={"Content-Type": "application/x-ndjson"},
                    )
                except httpx.TransportError:
                    in_doubt = request
                    break
                assert response.status_code == 202, response.text
                request.uid = int(response.json()["taskUid"])
                assert follows(request.uid, log.last_uid), "task uids must follow each other"
                log.last_uid = request.uid
                log.acknowledged.append(request)
    finally:
        killer.join()
        server.kill()
    return seq, in_doubt


def wait_idle(client: httpx.Client, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while unfinished(client):
        assert time.monotonic() < deadline, "tasks still unfinished"
        time.sleep(0.05)


def all_tasks(client: httpx.Client) -> dict[int, dict[str, Any]]:
    tasks: dict[int, dict[str, Any]] = {}
    params: dict[str, Any] = {"limit": 1000}
    while True:
        page = client.get("/tasks", params=params).raise_for_status().json()
        tasks.update({t["uid"]: t for t in page["results"]})
        if page["next"] is None:
            return tasks
        params["from"] = page["next"]


def test_acknowledged_writes_survive_sigkill(servers: ServerPool) -> None:
    seed = int(os.environ.get("SIFT_KILL9_SEED", time.time_ns() % 1_000_000))
    print(f"kill -9 test: seed {seed} (rerun with SIFT_KILL9_SEED={seed})")
    rng = random.Random(seed)
    server = servers.new()
    began = time.monotonic()
    log = Log()
    seq = 0
    in_doubt: Request | None = None
    for _ in range(ROUNDS):
        pending = unfinished_on_disk(server)
        # Small worker batches: a kill often lands between two flushes of one task.
        server.start("--batch-size", "250")
        with server.client() as client:
            after_restart(client, log, in_doubt, pending)
        seq, in_doubt = run_round(server, rng, log, seq)

    pending = unfinished_on_disk(server)
    server.start("--batch-size", "250")
    with server.client() as client:
        after_restart(client, log, in_doubt, pending)
        wait_idle(client)
        check_final_state(client, log)
    elapsed = time.monotonic() - began
    print(
        f"kill -9 test: {ROUNDS} kills, {len(log.acknowledged)} acknowledged tasks "
        f"({sum(len(r.docs) for r in log.acknowledged)} documents), in doubt: "
        f"{len(log.in_doubt_committed)} committed, {log.in_doubt_lost} not; unfinished tasks "
        f"found at each restart: {log.pending_at_restart}; {elapsed:.1f} s, of which "
        f"{sum(server.start_seconds):.1f} s starting servers"
    )
    # The kills did land while work was pending, so interrupted tasks really reran.
    assert sum(log.pending_at_restart) > 0


def check_final_state(client: httpx.Client, log: Log) -> None:
    tasks = all_tasks(client)
    applied = log.applied()
    assert sorted(tasks) == [r.uid for r in applied], "a task was lost or invented"
    for request in applied:
        task = tasks[request.uid or 0]
        assert task["status"] == "succeeded", task
        assert task["details"] == {
            "receivedDocuments": len(request.docs),
            "indexedDocuments": len(request.docs),
        }, task

    expected = expected_state(applied)
    listing = client.get(f"/indexes/{INDEX}/documents", params={"limit": 10 * ID_SPACE}).json()
    stored = listing["results"]
    assert listing["total"] == len(stored) == len(expected)
    assert [str(d["id"]) for d in stored] == list(expected), "duplicates or wrong order"
    for doc in stored:
        assert doc == expected[str(doc["id"])]

    stats = client.get(f"/indexes/{INDEX}/stats").json()
    assert stats["numberOfDocuments"] == len(expected)
    # The derived search index agrees with SQL: its field distribution counts its own
    # documents (search totals stop at maxTotalHits), and the newest content is searchable.
    assert stats["fieldDistribution"]["id"] == len(expected)
    search = client.post(f"/indexes/{INDEX}/search", json={"q": "", "limit": 0}).json()
    assert search["estimatedTotalHits"] == min(len(expected), 1000)
    replaced = [d for d in expected.values() if "rev" in d]
    for doc in random.Random(len(expected)).sample(replaced, min(20, len(replaced))):
        word = letters(doc["rev"] * ID_SPACE + doc["id"])
        hits = client.post(
            f"/indexes/{INDEX}/search",
            json={"q": word, "limit": 50, "attributesToRetrieve": ["id"]},
        ).json()["hits"]
        assert doc["id"] in {h["id"] for h in hits}, f"{doc['id']} not found by {word}"
