"""What must hold after a fault run, checked against the tasks and documents that exist.

1. Every acknowledged request has its task (same uid); no request has two tasks.
2. Every task of a request ended `succeeded`, or `failed` with `invalid_document_id` for
   the requests made invalid on purpose; none is left enqueued or processing.
3. Task uids and batch uids are unique: one task per acknowledged uid, and all the tasks
   of a batch uid were started together, on one index (one batch).
4. Each index holds exactly the documents that replaying the committed requests in task
   uid order gives: every document once, with its last committed content.
5. Every node answers the same hits as that state for a fixed query set (every word of
   the vocabulary, and the empty query's count), within a bounded time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa

from benchmarks.faults.nodes import Node
from benchmarks.faults.workload import INDEXES, WORDS, Request


@dataclass
class Verdict:
    failures: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    def fail(self, message: str) -> None:
        if len(self.failures) < 50:  # the first ones say enough
            self.failures.append(message)


def all_tasks(client: httpx.Client) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 1000}
    while True:
        page = client.get("/tasks", params=params).raise_for_status().json()
        tasks += page["results"]
        if page["next"] is None:
            return tasks
        params["from"] = page["next"]


def unfinished(client: httpx.Client) -> int:
    params = {"statuses": "enqueued,processing", "limit": 1}
    return int(client.get("/tasks", params=params).raise_for_status().json()["total"])


def replay(requests: list[Request], task_of: dict[str, dict[str, Any]]) -> dict[str, dict]:
    """index -> id -> document, from the requests that have a succeeded task, in uid order."""
    state: dict[str, dict[str, dict]] = {index: {} for index in INDEXES}
    done = [r for r in requests if task_of.get(r.rid, {}).get("status") == "succeeded"]
    for request in sorted(done, key=lambda r: task_of[r.rid]["uid"]):
        docs = state[request.index]
        for item in request.body:
            if request.kind == "delete":
                docs.pop(str(item), None)
            elif request.kind == "update":
                docs[str(item["id"])] = {**docs.get(str(item["id"]), {}), **item}
            else:
                docs[str(item["id"])] = dict(item)
    return state


def check_tasks(verdict: Verdict, requests: list[Request], tasks: list[dict]) -> dict[str, dict]:
    by_rid: dict[str, list[dict]] = {}
    for task in tasks:
        if task.get("customMetadata"):
            by_rid.setdefault(task["customMetadata"], []).append(task)
    for rid, found in by_rid.items():
        if len(found) > 1:
            verdict.fail(f"request {rid} has {len(found)} tasks: {[t['uid'] for t in found]}")
    task_of = {rid: found[0] for rid, found in by_rid.items()}
    acked = [r.task_uid for r in requests if r.outcome == "acked"]
    if len(set(acked)) != len(acked):
        verdict.fail("two acknowledged requests got the same task uid")
    for request in requests:
        task = task_of.get(request.rid)
        if task is None:
            if request.outcome == "acked":
                verdict.fail(f"acknowledged request {request.rid} (task {request.task_uid}) lost")
            continue
        if request.outcome == "acked" and task["uid"] != request.task_uid:
            verdict.fail(
                f"request {request.rid}: acknowledged as task {request.task_uid}, "
                f"stored as {task['uid']}"
            )
        invalid = request.kind == "invalid"
        want = ("failed", "invalid_document_id") if invalid else ("succeeded", None)
        got = (task["status"], (task.get("error") or {}).get("code"))
        if got != want:
            verdict.fail(
                f"task {task['uid']} ({request.kind}) ended {got}, expected {want}: "
                f"{task.get('error')}"
            )
    for task in tasks:
        if task["status"] in ("enqueued", "processing"):
            verdict.fail(f"task {task['uid']} still {task['status']}")
    verdict.stats["tasks"] = len(tasks)
    verdict.stats["requests_committed"] = len(task_of)
    return task_of


def check_batches(verdict: Verdict, admin: sa.Engine) -> None:
    with admin.connect() as conn:
        merged = conn.execute(
            sa.text(
                "SELECT batch_uid, COUNT(DISTINCT started_at), COUNT(DISTINCT index_uid) "
                "FROM tasks WHERE batch_uid IS NOT NULL GROUP BY batch_uid "
                "HAVING COUNT(DISTINCT started_at) > 1 OR COUNT(DISTINCT index_uid) > 1"
            )
        ).all()
        batches = conn.execute(sa.text("SELECT COUNT(DISTINCT batch_uid) FROM tasks")).scalar()
        epoch = conn.execute(sa.text("SELECT epoch FROM worker_lease WHERE id = 1")).scalar()
        unbatched = conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM tasks WHERE status IN ('succeeded', 'failed') "
                "AND batch_uid IS NULL"
            )
        ).scalar()
    for uid, starts, indexes in merged:
        verdict.fail(f"batch uid {uid} used by {starts} batches ({indexes} indexes)")
    if unbatched:
        verdict.fail(f"{unbatched} processed tasks have no batch uid")
    verdict.stats["batches"] = int(batches or 0)
    verdict.stats["lease_epochs"] = int(epoch or 0)  # times the lease was taken


def check_documents(verdict: Verdict, client: httpx.Client, expected: dict[str, dict]) -> None:
    for index, docs in expected.items():
        listing = client.get(f"/indexes/{index}/documents", params={"limit": 100_000}).json()
        stored = listing["results"]
        ids = [str(d["id"]) for d in stored]
        if len(ids) != len(set(ids)):
            verdict.fail(f"{index}: {len(ids) - len(set(ids))} documents stored twice")
        if set(ids) != set(docs):
            missing, extra = set(docs) - set(ids), set(ids) - set(docs)
            verdict.fail(
                f"{index}: {len(missing)} documents missing (e.g. {sorted(missing)[:5]}),"
                f" {len(extra)} unexpected (e.g. {sorted(extra)[:5]})"
            )
        wrong = [d["id"] for d in stored if docs.get(str(d["id"]), d) != d]
        if wrong:
            verdict.fail(
                f"{index}: {len(wrong)} documents differ from their last committed "
                f"content, e.g. id {wrong[0]}"
            )
    verdict.stats["documents"] = sum(len(d) for d in expected.values())


def answers(client: httpx.Client, index: str) -> dict[str, Any]:
    """The fixed query set's answers: hit ids per word, and the empty query's count."""
    out: dict[str, Any] = {}
    body: dict[str, Any] = {"q": "", "limit": 0}
    out[""] = client.post(f"/indexes/{index}/search", json=body).json().get("estimatedTotalHits")
    for word in WORDS:
        body = {"q": word, "limit": 5000, "attributesToRetrieve": ["id"]}
        hits = client.post(f"/indexes/{index}/search", json=body).json().get("hits", [])
        out[word] = sorted(str(h["id"]) for h in hits)
    return out


def expected_answers(docs: dict[str, dict]) -> dict[str, Any]:
    out: dict[str, Any] = {"": len(docs)}
    for word in WORDS:
        out[word] = sorted(i for i, d in docs.items() if word in str(d.get("title", "")).split())
    return out


def check_search(
    verdict: Verdict, nodes: list[Node], expected: dict[str, dict], timeout: float
) -> None:
    """Every node gives the expected answers within ``timeout`` seconds."""
    wanted = {index: expected_answers(docs) for index, docs in expected.items()}
    began = time.monotonic()
    for node in nodes:
        while True:
            try:
                with node.client(10.0) as client:
                    got = {index: answers(client, index) for index in expected}
            except httpx.TransportError:
                got = {}
            if got == wanted:
                break
            if time.monotonic() - began > timeout:
                wrong = [
                    f"{i}/{w or '(empty)'}"
                    for i in wanted
                    for w in wanted[i]
                    if got.get(i, {}).get(w) != wanted[i][w]
                ]
                verdict.fail(
                    f"node {node.name} still answers differently after {timeout:g} s: {wrong[:8]}"
                )
                break
            time.sleep(0.2)
    verdict.stats["search_converged_s"] = round(time.monotonic() - began, 2)
