"""Three `sift serve`, each on a SQLite database of its own: the leader forwards every
document write to the remotes owning its shards (cluster/forward.py), so a network search
answers what one node holding everything answers, and a repeated forward changes nothing."""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import Any

import pytest

from sift.cluster.origin import Origin
from sift.engine.partition import Partition
from tests.e2e.sift_process import MASTER_KEY, ServerPool, SiftProcess
from tests.e2e.test_network import SHARDS, documents, search, wait_until

pytestmark = [pytest.mark.e2e]

NAMES = ("ms-00", "ms-01", "ms-02")
SETTINGS = {"sortableAttributes": ["n"], "filterableAttributes": ["n", "kind"]}


def finished(node: SiftProcess, uid: int) -> dict[str, Any]:
    with node.client() as client:
        return wait_until(lambda: (t := client.get(f"/tasks/{uid}").json())["status"] in (
            "succeeded", "failed") and t)  # fmt: skip


def write(node: SiftProcess, method: str, path: str, body: Any) -> dict[str, Any]:
    with node.client() as client:
        answer = client.request(method, path, json=body)
    assert answer.status_code == 202, answer.text
    task = finished(node, answer.json()["taskUid"])
    assert task["status"] == "succeeded", task
    return task


def stored(node: SiftProcess) -> list[int]:
    """The ids in the node's own database (not its search index)."""
    with node.client() as client:
        answer = client.get("/indexes/books/documents", params={"limit": 10000, "fields": "id"})
    assert answer.status_code == 200, answer.text
    return sorted(d["id"] for d in answer.json()["results"])


def remote_tasks_done(task: dict[str, Any], nodes: dict[str, SiftProcess]) -> dict[str, Any]:
    remote_tasks = task["network"]["remoteTasks"]
    assert set(remote_tasks) == {"ms-01", "ms-02"}, task
    for name, sent in remote_tasks.items():
        assert sent["error"] is None, sent
        done = finished(nodes[name], sent["taskUid"])
        assert done["status"] == "succeeded", done
        assert done["network"] == {"origin": {"remoteName": "ms-00", "taskUid": task["uid"]}}
    return remote_tasks


def test_a_leader_forwards_writes_to_remotes_with_their_own_database(
    servers: ServerPool,
) -> None:
    nodes = {name: servers.new(name) for name in NAMES}
    reference = servers.new("reference")  # one node holding every document
    for name, node in nodes.items():
        node.start("--network-self", name)
    reference.start()
    topology = {
        "leader": "ms-00",
        "remotes": {name: {"url": node.url, "searchApiKey": MASTER_KEY,
                           "writeApiKey": MASTER_KEY} for name, node in nodes.items()},
        "shards": {shard: {"remotes": owners} for shard, owners in SHARDS.items()},
    }  # fmt: skip
    for node in nodes.values():
        with node.client() as client:
            assert client.patch("/experimental-features", json={"network": True}).is_success
            assert client.patch("/network", json=topology).status_code == 200
    leader = nodes["ms-00"]
    for node in (leader, reference):
        write(node, "POST", "/indexes", {"uid": "books", "primaryKey": "id"})
    # Settings reach every remote (creating the index there, as a settings update does).
    task = write(leader, "PATCH", "/indexes/books/settings", SETTINGS)
    write(reference, "PATCH", "/indexes/books/settings", SETTINGS)
    remote_tasks_done(task, nodes)
    for name in ("ms-01", "ms-02"):
        with nodes[name].client() as client:
            got = client.get("/indexes/books/settings").json()
        assert sorted(got["filterableAttributes"]) == ["kind", "n"], got
    task = write(leader, "POST", "/indexes/books/documents", documents(0, 400))
    write(reference, "POST", "/indexes/books/documents", documents(0, 400))
    remote_tasks_done(task, nodes)
    partition = Partition(tuple(SHARDS))
    shard_of = {i: partition.shard_of(str(i)) for i in range(400)}
    for name in ("ms-01", "ms-02"):
        owned = {s for s, owners in SHARDS.items() if name in owners}
        assert stored(nodes[name]) == [i for i in range(400) if shard_of[i] in owned], name
    assert stored(leader) == list(range(400))  # the leader's database keeps everything

    gone = list(range(0, 400, 7))
    task = write(leader, "POST", "/indexes/books/documents/delete-batch", gone)
    write(reference, "POST", "/indexes/books/documents/delete-batch", gone)
    remote_tasks_done(task, nodes)
    kept = Counter(shard_of[i] for i in range(400) if i not in gone)
    for name in ("ms-01", "ms-02"):
        assert len(stored(nodes[name])) == sum(
            kept[s] for s, owners in SHARDS.items() if name in owners)

    for query in ({"q": "river stone", "filter": "kind = river"},
                  {"q": "ember harbor", "filter": "n < 250"}, {"q": "", "sort": ["n:asc"]}):
        # The same hits with the same scores as one node's (equal scores may come in
        # another order, as in every network search: tests/e2e/test_network.py).
        asked = {**query, "limit": 1000, "showRankingScore": True}
        alone = {h["id"]: h["_rankingScore"] for h in search(reference, asked)["hits"]}
        for node in nodes.values():
            spanned = search(node, asked)  # useNetwork is on by default: a leader is set
            assert "remoteErrors" not in spanned
            assert alone and {h["id"]: h["_rankingScore"] for h in spanned["hits"]} == alone
    everything = {"q": "", "limit": 1000, "sort": ["n:asc"]}
    expected = [i for i in range(400) if i not in gone]
    for node in (*nodes.values(), reference):
        assert [h["id"] for h in search(node, everything)["hits"]] == expected

    # The leader retrying a forward (after a crash, or a lost answer) enqueues nothing new:
    # the same deletion, sent again as the leader sent it, gets the task enqueued then.
    remote = nodes["ms-01"]
    first = task["network"]["remoteTasks"]["ms-01"]["taskUid"]
    with sqlite3.connect(leader.data_dir / "sift.db") as conn:
        (database,) = conn.execute(
            "SELECT value FROM meta WHERE key = 'network_database_id'").fetchone()
    headers = {**remote.headers, **Origin("ms-00", task["uid"], database).headers()}
    owned = [i for i in gone if "ms-01" in SHARDS[shard_of[i]]]
    with remote.client() as client:
        before = client.get("/tasks", params={"limit": 1}).json()["total"]
        for _ in range(2):
            again = client.post("/indexes/books/documents/delete-batch", json=owned,
                                headers=headers)  # fmt: skip
            assert again.status_code == 202 and again.json()["taskUid"] == first, again.text
        assert client.get("/tasks", params={"limit": 1}).json()["total"] == before
        # A forward naming the remote's own database is a write it has already.
        with sqlite3.connect(remote.data_dir / "sift.db") as conn:
            (own,) = conn.execute(
                "SELECT value FROM meta WHERE key = 'network_database_id'").fetchone()
        same = client.post("/indexes/books/documents/delete-batch", json=owned,
                           headers={**remote.headers, **Origin("ms-00", 1, own).headers()})
        assert same.status_code == 200 and same.json()["sameDatabase"] is True
        assert client.get("/tasks", params={"limit": 1}).json()["total"] == before
