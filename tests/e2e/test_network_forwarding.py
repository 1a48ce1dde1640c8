"""Three `sift serve`, each on a SQLite database of its own: the leader forwards every
document write to the remotes owning its shards, and each index's creation, deletion and
swap to every remote (cluster/forward.py), so a network search
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


def stored(node: SiftProcess, uid: str = "books") -> list[int]:
    """The ids in the node's own database (not its search index)."""
    with node.client() as client:
        answer = client.get(f"/indexes/{uid}/documents",
                            params={"limit": 10000, "fields": "id", "useNetwork": "false"})
    assert answer.status_code == 200, answer.text
    return sorted(d["id"] for d in answer.json()["results"])


def sent_to_all(leader: SiftProcess, uid: int, timeout: float = 30.0) -> dict[str, Any]:
    """The ``remoteTasks`` of the leader's task ``uid`` once every remote took it."""

    def sent() -> dict[str, Any] | None:
        with leader.client() as client:
            remote_tasks = client.get(f"/tasks/{uid}").json()["network"]["remoteTasks"]
        return remote_tasks if all(t["taskUid"] is not None
                                   for t in remote_tasks.values()) else None  # fmt: skip

    return wait_until(sent, timeout)


def remote_tasks_done(leader: SiftProcess, task: dict[str, Any],
                      nodes: dict[str, SiftProcess]) -> dict[str, Any]:  # fmt: skip
    """The remote tasks of the leader's ``task`` once its outbox sent them (right after
    the task: cluster/outbox.py), each finished on its remote as the leader's write."""
    # Finished, the task names every remote, sent already or not yet.
    assert set(task["network"]["remoteTasks"]) == {"ms-01", "ms-02"}, task
    remote_tasks = sent_to_all(leader, task["uid"], timeout=60)
    for name, sent in remote_tasks.items():
        assert sent["error"] is None, sent
        done = finished(nodes[name], sent["taskUid"])
        assert done["status"] == "succeeded", done
        # The remote's task names the leader's, and the network version the leader
        # split its shares under.
        assert done["network"] == {"origin": {
            "remoteName": "ms-00", "taskUid": task["uid"],
            "networkVersion": task["network"]["networkVersion"]}}  # fmt: skip
    return remote_tasks


def network_of(node: SiftProcess) -> dict[str, Any]:
    """The node's GET /network without the remotes' live status."""
    with node.client() as client:
        body = client.get("/network").json()
    for remote in body["remotes"].values():
        remote.pop("status")
    return body


def network_body(nodes: dict[str, SiftProcess]) -> dict[str, Any]:
    """The /network of ``nodes``, ``ms-00`` leading, each remote with the master key."""
    return {
        "leader": "ms-00",
        "remotes": {name: {"url": node.url, "searchApiKey": MASTER_KEY,
                           "writeApiKey": MASTER_KEY} for name, node in nodes.items()},
        "shards": {shard: {"remotes": owners} for shard, owners in SHARDS.items()},
    }  # fmt: skip


def start_network(servers: ServerPool) -> dict[str, SiftProcess]:
    """Three nodes on databases of their own, ``ms-00`` leading."""
    nodes = {name: servers.new(name) for name in NAMES}
    for name, node in nodes.items():
        node.start("--network-self", name)
    topology = network_body(nodes)
    for node in nodes.values():
        with node.client() as client:
            assert client.patch("/experimental-features", json={"network": True}).is_success
            # With a leader, each answers its own networkTopologyChange task.
            assert client.patch("/network", json=topology).status_code == 202
    return nodes


def test_a_leader_forwards_writes_to_remotes_with_their_own_database(
    servers: ServerPool,
) -> None:
    nodes = start_network(servers)
    reference = servers.new("reference")  # one node holding every document
    reference.start()
    leader = nodes["ms-00"]
    write(reference, "POST", "/indexes", {"uid": "books", "primaryKey": "id"})
    # The index's creation reaches every remote, with its primary key.
    task = write(leader, "POST", "/indexes", {"uid": "books", "primaryKey": "id"})
    remote_tasks_done(leader, task, nodes)
    for name in ("ms-01", "ms-02"):
        with nodes[name].client() as client:
            assert client.get("/indexes/books").json()["primaryKey"] == "id", name
    # Settings reach every remote too.
    task = write(leader, "PATCH", "/indexes/books/settings", SETTINGS)
    write(reference, "PATCH", "/indexes/books/settings", SETTINGS)
    remote_tasks_done(leader, task, nodes)
    for name in ("ms-01", "ms-02"):
        with nodes[name].client() as client:
            got = client.get("/indexes/books/settings").json()
        assert sorted(got["filterableAttributes"]) == ["kind", "n"], got
    task = write(leader, "POST", "/indexes/books/documents", documents(0, 400))
    write(reference, "POST", "/indexes/books/documents", documents(0, 400))
    remote_tasks_done(leader, task, nodes)
    partition = Partition(tuple(SHARDS))
    shard_of = {i: partition.shard_of(str(i)) for i in range(400)}
    for name in ("ms-01", "ms-02"):
        owned = {s for s, owners in SHARDS.items() if name in owners}
        assert stored(nodes[name]) == [i for i in range(400) if shard_of[i] in owned], name
    assert stored(leader) == list(range(400))  # the leader's database keeps everything

    gone = list(range(0, 400, 7))
    task = write(leader, "POST", "/indexes/books/documents/delete-batch", gone)
    write(reference, "POST", "/indexes/books/documents/delete-batch", gone)
    sent = remote_tasks_done(leader, task, nodes)
    kept = Counter(shard_of[i] for i in range(400) if i not in gone)
    for name in ("ms-01", "ms-02"):
        assert len(stored(nodes[name])) == sum(
            kept[s] for s, owners in SHARDS.items() if name in owners)

    for query in ({"q": "river stone", "filter": "kind = river"},
                  {"q": "ember harbor", "filter": "n < 250"}, {"q": "", "sort": ["n:asc"]}):
        # The same hits in the same order with the same scores as one node's: equal
        # scores too, by the tie key of their ids (engine/tiebreak.py).
        asked = {**query, "limit": 1000, "showRankingScore": True}
        alone = [(h["id"], h["_rankingScore"]) for h in search(reference, asked)["hits"]]
        for node in nodes.values():
            spanned = search(node, asked)  # useNetwork is on by default: a leader is set
            assert "remoteErrors" not in spanned
            assert alone and [(h["id"], h["_rankingScore"]) for h in spanned["hits"]] == alone
        assert len({score for _, score in alone}) < len(alone)  # the pages do tie
    everything = {"q": "", "limit": 1000, "sort": ["n:asc"]}
    expected = [i for i in range(400) if i not in gone]
    for node in (*nodes.values(), reference):
        assert [h["id"] for h in search(node, everything)["hits"]] == expected

    # The leader retrying a forward (after a crash, or a lost answer) enqueues nothing new:
    # the same deletion, sent again as the leader sent it, gets the task enqueued then.
    remote = nodes["ms-01"]
    first = sent["ms-01"]["taskUid"]
    with sqlite3.connect(leader.data_dir / "sift.db") as conn:
        (database,) = conn.execute(
            "SELECT value FROM meta WHERE key = 'network_database_id'").fetchone()
    # The remote noted the write under its origin: the leader's task and the outbox row
    # (the part) that owed it.
    with sqlite3.connect(remote.data_dir / "sift.db") as conn:
        (key,) = conn.execute("SELECT key FROM meta WHERE key LIKE ?", (
            f"network_origin:{database}:{task['uid']}:ms-00:%",)).fetchone()  # fmt: skip
    part = int(key.rsplit(":", 1)[1])
    headers = {**remote.headers, **Origin("ms-00", task["uid"], database, part).headers()}
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

    # A swap on the leader swaps on every remote: `books` and a new, empty `shelf` trade
    # places (the swap follows the creation through each remote's outbox, in order).
    held = {name: stored(node) for name, node in nodes.items()}
    write(leader, "POST", "/indexes", {"uid": "shelf", "primaryKey": "id"})
    task = write(leader, "POST", "/swap-indexes", [{"indexes": ["books", "shelf"]}])
    remote_tasks_done(leader, task, nodes)
    for name, node in nodes.items():
        assert held[name] and stored(node, "shelf") == held[name] and stored(node) == [], name

    # Deleting the indexes on the leader deletes them on every remote.
    remote_tasks_done(leader, write(leader, "DELETE", "/indexes/books", None), nodes)
    remote_tasks_done(leader, write(leader, "DELETE", "/indexes/shelf", None), nodes)
    for node in nodes.values():
        with node.client() as client:
            assert client.get("/indexes/books").status_code == 404
            assert client.get("/indexes/shelf").status_code == 404


def contents(node: SiftProcess) -> dict[int, str]:
    """Each document's title in the node's own database."""
    with node.client() as client:
        answer = client.get("/indexes/books/documents",
                            params={"limit": 10000, "useNetwork": "false"})
    assert answer.status_code == 200, answer.text
    return {d["id"]: d["title"] for d in answer.json()["results"]}


def test_a_remote_stopped_while_the_leader_writes_gets_every_write_in_order_once_back(
    servers: ServerPool,
) -> None:
    nodes = start_network(servers)
    leader, away = nodes["ms-00"], nodes["ms-02"]
    write(leader, "POST", "/indexes", {"uid": "books", "primaryKey": "id"})
    write(leader, "PATCH", "/indexes/books/settings", SETTINGS)
    expected = {d["id"]: d["title"] for d in documents(0, 300)}
    sent_to_all(leader, write(leader, "POST", "/indexes/books/documents",
                              documents(0, 300))["uid"])  # fmt: skip
    assert away.terminate() == 0

    # While ms-02 is away: new content, a deletion, then some of the deleted ids back
    # (the order matters: the re-addition must not be overtaken by the deletion).
    changed = [{**d, "title": f"second {d['title']}"} for d in documents(0, 300)]
    missed = [write(leader, "POST", "/indexes/books/documents", changed)]
    expected.update({d["id"]: d["title"] for d in changed})
    gone = list(range(0, 300, 3))
    missed.append(write(leader, "POST", "/indexes/books/documents/delete-batch", gone))
    for i in gone:
        del expected[i]
    back = [{**d, "title": f"third {d['title']}"} for d in documents(0, 60)]
    missed.append(write(leader, "POST", "/indexes/books/documents", back))
    expected.update({d["id"]: d["title"] for d in back})
    for task in missed:  # the leader's writes succeed; ms-02's share waits in the outbox
        assert task["network"]["remoteTasks"]["ms-02"]["taskUid"] is None, task
    with leader.client() as client:
        metrics = client.get("/metrics").text
    assert 'sift_network_pending_writes{remote="ms-02"} 3.0' in metrics, metrics

    away.start("--network-self", "ms-02")
    for task in missed:
        remote_tasks_done(leader, task, nodes)
    partition = Partition(tuple(SHARDS))
    for name in ("ms-01", "ms-02"):
        owned = {s for s, owners in SHARDS.items() if name in owners}
        want = {i: t for i, t in expected.items() if partition.shard_of(str(i)) in owned}
        assert contents(nodes[name]) == want, name
    assert contents(leader) == expected
    with leader.client() as client:
        metrics = client.get("/metrics").text
    assert 'sift_network_pending_writes{remote="ms-02"} 0.0' in metrics


def test_the_leaders_network_reaches_every_remote(servers: ServerPool) -> None:
    """Only the leader is sent ``PATCH /network``: each remote gets the same network with
    its own ``self``, also one that was down when it changed (the outbox waits for it)."""
    nodes = {name: servers.new(name) for name in NAMES}
    for name, node in nodes.items():
        node.start("--network-self", name)
        with node.client() as client:
            assert client.patch("/experimental-features", json={"network": True}).is_success
    topology = network_body(nodes)
    leader = nodes["ms-00"]

    def everywhere(shards: dict[str, list[str]]) -> None:
        # Every node shows the same network, its version included: the leader's.
        expected = {**topology, "shards": {s: {"remotes": o} for s, o in shards.items()},
                    "version": network_of(leader)["version"]}  # fmt: skip
        for name, node in nodes.items():
            wait_until(lambda: network_of(node) == {**expected, "self": name}, 30)  # noqa: B023

    with leader.client() as client:
        assert client.patch("/network", json=topology).status_code == 202
    everywhere(SHARDS)
    # A remote refuses a change sent to it rather than to the leader.
    with nodes["ms-01"].client() as client:
        refused = client.patch("/network", json={"shards": {"a": {"remotes": ["ms-01"]}}})
    assert refused.status_code == 400 and refused.json()["code"] == "not_a_leader"
    # A change made while a remote is down reaches it once it is back.
    nodes["ms-02"].terminate()
    moved = {**SHARDS, "c": ["ms-02", "ms-01"]}
    with leader.client() as client:
        changed = client.patch("/network", json={"shards": {"c": {"remotes": moved["c"]}}})
    assert changed.status_code == 202, changed.text
    wait_until(lambda: network_of(nodes["ms-01"])["shards"]["c"] == {"remotes": moved["c"]})
    nodes["ms-02"].start("--network-self", "ms-02")
    everywhere(moved)
